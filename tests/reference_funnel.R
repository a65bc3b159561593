# Reference values for tests/test_funnel.py, in base R only (no package): Spiegelhalter (2005),
# "Funnel plots for comparing institutional performance", Stat Med 24:1185-1202.
# Run: Rscript tests/reference_funnel.R   (R 4.2.2)
options(digits = 15)

n <- c(50, 80, 120, 200, 250, 300, 400, 500, 800, 1000)
x <- c(4, 14, 10, 30, 20, 51, 38, 70, 84, 130)
t0 <- sum(x) / sum(n)                      # pooled target
y <- x / n
s <- sqrt(t0 * (1 - t0) / n)

# exact binomial limit with Spiegelhalter's interpolation (appendix)
exact <- function(p, n, t0) {
  r <- qbinom(p, n, t0)
  (r - (pbinom(r, n, t0) - p) / dbinom(r, n, t0)) / n
}
cat("target", t0, "\n")
for (p in c(0.001, 0.025, 0.975, 0.999)) cat("exact", p, exact(p, n, t0), "\n")
cat("normal 99.8 upper", t0 + qnorm(0.999) * s, "\n")

z <- (y - t0) / s
q <- quantile(z, c(0.1, 0.9))              # type 7, as numpy's default
zw <- pmin(pmax(z, q[1]), q[2])
phi <- mean(zw^2)
k <- length(z)
cat("z", z, "\n")
cat("phi", phi, "stat", k * phi, "crit", qchisq(0.95, k - 1), "\n")
w <- 1 / s^2
tau2 <- max(0, (k * phi - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))
cat("tau2", tau2, "\n")
cat("z_adj multiplicative", z / sqrt(phi), "\n")
cat("z_adj additive", (y - t0) / sqrt(s^2 + tau2), "\n")
cat("additive 99.8 upper", t0 + qnorm(0.999) * sqrt(s^2 + tau2), "\n")
cat("multiplicative 99.8 upper", t0 + qnorm(0.999) * sqrt(phi) * s, "\n")

# Poisson rate, exact interpolated limits: exposure 12.5 (e.g. thousand tickets), rate 3.2
e <- c(2.5, 12.5, 40)
pexact <- function(p, e, t0) {
  r <- qpois(p, e * t0)
  (r - (ppois(r, e * t0) - p) / dpois(r, e * t0)) / e
}
cat("poisson exact 0.001", pexact(0.001, e, 3.2), "\n")
cat("poisson exact 0.999", pexact(0.999, e, 3.2), "\n")
