# Reference values for tests/test_staggered.py. Run: Rscript tests/reference_staggered.R
# (base R only: glm, lm). The doubly robust DiD for panel data (Sant'Anna & Zhao 2020, as in
# DRDID::drdid_panel) written out with glm() and lm(), its influence function, and the TWFE
# coefficient with its CR1 (HC1) cluster-robust standard error computed by hand.
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

# A deterministic panel: 36 units x 5 periods; cohorts 3 and 4 (9 units each), 18 never treated.
N <- 36; T <- 5
unit <- rep(1:N, each = T); period <- rep(1:T, times = N)
cohort_of <- c(3, 4, 0, 0)[(1:N - 1) %% 4 + 1]
g <- cohort_of[unit]
x1 <- sin(1.3 * unit) + 0.4 * (g > 0) + 0.05 * period * cos(unit)
x2 <- cos(2.1 * unit)
D <- as.numeric(g > 0 & period >= g)
y <- 0.2 * (unit %% 5) + 0.7 * period + 0.3 * x1 * period + 0.5 * sin(0.9 * unit * period) +
  D * (1 + 0.5 * (period - g))
Y <- matrix(y, N, T, byrow = TRUE); X1 <- matrix(x1, N, T, byrow = TRUE)

dr <- function(dy, D, X) {
  n <- length(dy); int.cov <- cbind(1, X)
  ps <- glm(D ~ -1 + int.cov, family = binomial(),
            control = glm.control(epsilon = 1e-15, maxit = 200))
  ps.fit <- as.vector(fitted(ps)); H <- vcov(ps) * n
  reg <- coef(lm(dy ~ -1 + int.cov, subset = D == 0))
  out <- as.vector(int.cov %*% reg); r <- dy - out
  w1 <- D; w0 <- ps.fit * (1 - D) / (1 - ps.fit)
  eta1 <- mean(w1 * r) / mean(w1); eta0 <- mean(w0 * r) / mean(w0)
  alr.ols <- ((1 - D) * r * int.cov) %*% solve(crossprod((1 - D) * int.cov, int.cov) / n)
  alr.ps <- ((D - ps.fit) * int.cov) %*% H
  inf.t <- (w1 * (r - eta1) - alr.ols %*% colMeans(w1 * int.cov)) / mean(w1)
  inf.c <- (w0 * (r - eta0) + alr.ps %*% colMeans(w0 * (r - eta0) * int.cov) -
              alr.ols %*% colMeans(w0 * int.cov)) / mean(w0)
  list(att = eta1 - eta0, inf = as.vector(inf.t - inf.c))
}

# ATT(g, t) with base period b; the comparison: never treated, or also cohorts later than
# max(t, b) ("notyet"). Covariates x1 (at the base period) and x2. IF rescaled to all N units.
cell <- function(gg, t, b, notyet = FALSE) {
  comp <- if (notyet) (cohort_of == 0) | (cohort_of > max(t, b) & cohort_of != gg) else
    cohort_of == 0
  s <- (cohort_of == gg) | comp
  fit <- dr(Y[s, t] - Y[s, b], as.numeric(cohort_of[s] == gg), cbind(X1[s, b], x2[(1:N)[s] * T]))
  psi <- fit$inf * N / sum(s)
  c(fit$att, sqrt(sum(psi^2)) / N)
}
cells <- rbind(c(3, 2, 1), c(3, 3, 2), c(3, 4, 2), c(3, 5, 2),
               c(4, 2, 1), c(4, 3, 2), c(4, 4, 3), c(4, 5, 3))
for (k in 1:nrow(cells)) {
  v <- cell(cells[k, 1], cells[k, 2], cells[k, 3])
  p(sprintf("dr never g=%d t=%d b=%d: att, se_if", cells[k, 1], cells[k, 2], cells[k, 3]), v)
}
for (k in c(2, 3, 5, 6)) {
  v <- cell(cells[k, 1], cells[k, 2], cells[k, 3], notyet = TRUE)
  p(sprintf("dr notyet g=%d t=%d b=%d: att, se_if", cells[k, 1], cells[k, 2], cells[k, 3]), v)
}

# TWFE: y ~ factor(unit) + factor(period) + D, CR1 by unit: G/(G-1) (n-1)/(n-k) sandwich.
fit <- lm(y ~ factor(unit) + factor(period) + D)
Xm <- model.matrix(fit); e <- resid(fit); n <- nrow(Xm); k <- ncol(Xm)
B <- solve(crossprod(Xm)); S <- rowsum(Xm * e, unit)
V <- B %*% crossprod(S) %*% B * N / (N - 1) * (n - 1) / (n - k)
p("twfe D coef, CR1 se", c(coef(fit)["D"], sqrt(V["D", "D"])))
