# Reference values for tests/test_compare.py and tests/test_its.py.
# Run: Rscript tests/reference_before_after.R  (R 4.x with survival, sandwich, lmtest)
suppressPackageStartupMessages({library(survival); library(sandwich); library(lmtest)})
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

before <- c(14.2, 9.8, 22.5, 11.1, 17.9, 13.4, 25.7, 10.2, 16.8, 12.5, 19.3, 15.1)
after  <- c(10.4, 8.1, 15.2, 9.9, 12.7, 11.8, 7.4, 13.6, 9.2, 14.1)
t1 <- t.test(after, before)
p("t.test(after, before): t, df, p, ci", c(t1$statistic, t1$parameter, t1$p.value, t1$conf.int))
t2 <- t.test(log(after), log(before))
p("exp(t.test(log(after), log(before))$conf.int), ratio",
  c(exp(t2$conf.int), exp(mean(log(after)) - mean(log(before)))))
w1 <- wilcox.test(after, before)
p("wilcox.test(after, before): W, p", c(w1$statistic, w1$p.value))
w1b <- wilcox.test(c(after, 10.2), before)  # a tie: normal approximation with correction
p("wilcox.test(c(after, 10.2), before): W, p", c(w1b$statistic, w1b$p.value))

ub <- c(3.1, 2.8, 4.0, 3.5, 2.2, 3.9, 3.3, 2.7, 3.6, 3.0)   # unit means before
ua <- c(3.6, 3.0, 4.4, 3.4, 2.9, 4.3, 3.9, 2.9, 3.8, 3.7)   # the same units after
t3 <- t.test(ua, ub, paired = TRUE)
p("t.test(ua, ub, paired=TRUE): t, df, p, ci", c(t3$statistic, t3$parameter, t3$p.value,
                                                t3$conf.int))
w2 <- wilcox.test(ua, ub, paired = TRUE)
p("wilcox.test(ua, ub, paired=TRUE): V, p", c(w2$statistic, w2$p.value))

pt <- prop.test(c(412, 380), c(500, 500), correct = FALSE)
p("prop.test(c(412,380), c(500,500), correct=FALSE): X2, p", c(pt$statistic, pt$p.value))
mb <- c(1,1,0,1,0,0,1,1,0,1,1,0,0,1,0,1,1,0,1,0)
ma <- c(1,1,1,1,1,0,1,1,1,1,0,1,1,1,0,1,1,1,1,1)
m <- mcnemar.test(table(factor(mb, 0:1), factor(ma, 0:1)))
p("mcnemar.test: X2, p", c(m$statistic, m$p.value))

sd <- survdiff(Surv(time, status) ~ x, data = aml)
p("survdiff(Surv(time, status) ~ x, aml): chisq, obs, exp",
  c(sd$chisq, sd$obs, sd$exp))

p("power.t.test(n=40, sd=1, power=0.8, tol=1e-12)$delta", power.t.test(n = 40, sd = 1, power = 0.8, tol = 1e-12)$delta)
p("power.t.test(n=25, sd=2, power=0.8, type='paired', tol=1e-12)$delta",
  power.t.test(n = 25, sd = 2, power = 0.8, type = "paired", tol = 1e-12)$delta)
p("power.prop.test(n=300, p1=0.7, power=0.8, tol=1e-12)$p2",
  power.prop.test(n = 300, p1 = 0.7, power = 0.8, tol = 1e-12)$p2)

p("p.adjust(c(0.01,0.04,0.03,0.20,0.001), 'holm')",
  p.adjust(c(0.01, 0.04, 0.03, 0.20, 0.001), "holm"))

# Interrupted time series with Newey-West errors
set.seed(1)
y <- c(50.2, 51.8, 49.5, 52.3, 53.1, 51.0, 54.2, 52.8, 53.9, 55.1, 54.0, 56.3, 55.2, 56.8,
       48.1, 47.5, 46.9, 47.8, 46.2, 45.9, 46.8, 45.1, 44.7, 45.6, 44.0, 43.8, 44.5, 43.1)
tt <- seq_along(y) - 1; post <- as.numeric(tt >= 14); since <- (tt - 14) * post
fit <- lm(y ~ tt + post + since)
V <- NeweyWest(fit, lag = 3, prewhite = FALSE, adjust = FALSE)
p("its coef", coef(fit)); p("its NW se (lag 3, no prewhite, no adjust)", sqrt(diag(V)))
ct <- coeftest(fit, vcov. = V, df = Inf)
p("its z p-values", ct[, 4])
