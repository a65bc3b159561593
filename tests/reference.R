# Reference values for tests/test_reference_stats.py. Run: Rscript tests/reference.R
# (R 4.x with the 'survival' package). CI never runs this file: the printed numbers are pasted
# into the tests with the R call beside them.
suppressPackageStartupMessages(library(survival))
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

# Wilson score interval
p("prop.test(37, 50, correct=FALSE)$conf.int", prop.test(37, 50, correct = FALSE)$conf.int)
p("prop.test(0, 20, correct=FALSE)$conf.int", prop.test(0, 20, correct = FALSE)$conf.int)
p("prop.test(412, 500, correct=FALSE, conf.level=0.9)$conf.int",
  prop.test(412, 500, correct = FALSE, conf.level = 0.9)$conf.int)

# Exact Poisson rate per 1,000
p("poisson.test(17, 2345)$conf.int * 1000", poisson.test(17, 2345)$conf.int * 1000)
p("poisson.test(0, 500)$conf.int * 1000", poisson.test(0, 500)$conf.int * 1000)

# t interval and quantiles (type 7)
x <- c(12.1, 3.4, 8.8, 25.0, 7.7, 5.5, 14.2, 9.9, 31.6, 2.2, 6.1, 18.4)
p("t.test(x)$conf.int", t.test(x)$conf.int)
p("quantile(x, c(0.5, 0.9), type = 7)", quantile(x, c(0.5, 0.9), type = 7))
p("sd(x)", sd(x))

# order-statistic ranks for the median / p90 CI, n = 12 and n = 200
p("qbinom(c(0.025, 0.975), 12, 0.5)", qbinom(c(0.025, 0.975), 12, 0.5))
p("qbinom(c(0.025, 0.975), 200, 0.9)", qbinom(c(0.025, 0.975), 200, 0.9))

# Kaplan-Meier median with log CI (survival::aml)
fit <- survfit(Surv(time, status) ~ 1, data = aml)
p("aml time", aml$time); p("aml status", aml$status)
p("quantile(survfit(Surv(time,status)~1, aml), 0.5)", unlist(quantile(fit, 0.5)))
fit2 <- survfit(Surv(c(1, 2, 3, 4), c(1, 1, 1, 1)) ~ 1)
p("median of all-events 1:4", unlist(quantile(fit2, 0.5)))
fit3 <- survfit(Surv(c(5, 8, 12, 20, 20, 30, 41, 50), c(1, 0, 1, 1, 0, 1, 0, 0)) ~ 1)
p("km3 surv", fit3$surv); p("km3 lower", fit3$lower); p("km3 upper", fit3$upper)
p("km3 median", unlist(quantile(fit3, 0.5)))

# NPS and its standard error
s <- c(10, 9, 9, 8, 7, 6, 10, 3, 9, 7, 0, 10, 8, 9, 5)
pr <- mean(s >= 9); de <- mean(s <= 6)
p("nps, se", c(100 * (pr - de), 100 * sqrt(((pr + de) - (pr - de)^2) / length(s))))

# AHP: principal eigenvector and consistency ratio
ahp <- function(A, RI) {
  e <- eigen(A); k <- which.max(Re(e$values)); w <- abs(Re(e$vectors[, k])); w <- w / sum(w)
  lam <- Re(e$values[k]); n <- nrow(A); ci <- (lam - n) / (n - 1)
  c(w, lam, ci, ci / RI)
}
A3 <- matrix(c(1, 1/2, 1/3, 2, 1, 1/2, 3, 2, 1), 3, byrow = TRUE)
p("ahp(A3): w1..w3, lambda, CI, CR", ahp(A3, 0.58))
A4 <- matrix(c(1, 5, 3, 7, 1/5, 1, 1/3, 3, 1/3, 3, 1, 5, 1/7, 1/3, 1/5, 1), 4, byrow = TRUE)
p("ahp(A4): w1..w4, lambda, CI, CR", ahp(A4, 0.90))
B4 <- matrix(c(1, 9, 1/9, 5, 1/9, 1, 7, 1/3, 9, 1/7, 1, 3, 1/5, 3, 1/3, 1), 4, byrow = TRUE)
p("ahp(B4 inconsistent): w1..w4, lambda, CI, CR", ahp(B4, 0.90))

# Entropy weights: 5 units x 3 indicators, the second lower-is-better
X <- matrix(c(12, 0.71, 4.1,  8, 0.65, 4.3,  15, 0.80, 3.9,  10, 0.74, 4.0,  9, 0.69, 4.4),
            5, byrow = TRUE)
higher <- c(FALSE, TRUE, TRUE)
Z <- X
for (j in 1:3) {
  z <- (X[, j] - min(X[, j])) / (max(X[, j]) - min(X[, j]))
  Z[, j] <- if (higher[j]) z else 1 - z
}
P <- sweep(Z, 2, colSums(Z), "/")
E <- -colSums(ifelse(P > 0, P * log(P), 0)) / log(nrow(X))
p("entropy weights", (1 - E) / sum(1 - E))
