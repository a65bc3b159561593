# Reference values for tests/test_compare.py (Hodges–Lehmann, McNemar/Tango, log-rank, RMST,
# ANCOVA with HC2 and Lin's estimator) and tests/test_survival.py.
# Run: Rscript tests/reference_smallfix.R   (R 4.2; packages survival, sandwich, lmtest, car)
suppressPackageStartupMessages({
  library(survival); library(sandwich); library(lmtest); library(car)
})
options(digits = 15, warn = -1)
show <- function(label, x) cat(label, ":", sprintf("%.15g", x), "\n")
hl <- function(w) c(w$estimate, w$conf.int)

# --- Hodges–Lehmann with Mann–Whitney -------------------------------------------------------
before <- c(14.2, 9.8, 22.5, 11.1, 17.9, 13.4, 25.7, 10.2, 16.8, 12.5, 19.3, 15.1)
after <- c(10.4, 8.1, 15.2, 9.9, 12.7, 11.8, 7.4, 13.6, 9.2, 14.1)
show("exact", hl(wilcox.test(after, before, conf.int = TRUE)))
show("exact 90%", hl(wilcox.test(after, before, conf.int = TRUE, conf.level = 0.9)))
# with a tie: normal approximation; tol.root = 1e-12 gives the limit of R's root search
show("ties ci", wilcox.test(c(after, 10.2), before, conf.int = TRUE, tol.root = 1e-12)$conf.int)
show("ties ci default tol", wilcox.test(c(after, 10.2), before, conf.int = TRUE)$conf.int)
show("ties median(outer)", median(outer(c(after, 10.2), before, "-")))
w <- wilcox.test(c(1.5, 2.7), c(0.3, 1.1, 2.2), conf.int = TRUE)
show("tiny exact", c(hl(w), attr(w$conf.int, "conf.level")))
lb <- ((1:60 * 37) %% 101) / 4
la <- ((1:55 * 53) %% 97) / 4 - 3
w <- wilcox.test(la, lb, conf.int = TRUE, tol.root = 1e-12)
show("large", c(w$statistic, w$p.value, w$conf.int, median(outer(la, lb, "-"))))

# --- Hodges–Lehmann with the signed-rank test -----------------------------------------------
ub <- c(3.1, 2.8, 4.0, 3.5, 2.2, 3.9, 3.3, 2.7, 3.6, 3.0)
ua <- c(3.6, 3.0, 4.4, 3.4, 2.9, 4.3, 3.9, 2.9, 3.8, 3.7)
w <- wilcox.test(ua, ub, paired = TRUE, conf.int = TRUE, tol.root = 1e-12)
show("paired ties", c(w$estimate, w$conf.int))
dx <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
dy <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29)
show("paired exact", hl(wilcox.test(dx, dy, paired = TRUE, conf.int = TRUE)))
pb <- ((1:70 * 31) %% 89) / 5
pa <- pb + (((1:70 * 17) %% 23) - 8) / 4
w <- wilcox.test(pa, pb, paired = TRUE, conf.int = TRUE, tol.root = 1e-12)
d <- (pa - pb)[pa != pb]
wa <- outer(d, d, "+") / 2
show("paired large", c(w$statistic, w$p.value, w$conf.int, median(wa[!lower.tri(wa)])))
w <- wilcox.test(c(0.5, 1, 1, 2), c(0, 0, 0, 0), paired = TRUE, conf.int = TRUE,
                 tol.root = 1e-12)
show("paired tiny (alpha widened)", c(w$conf.int, attr(w$conf.int, "conf.level")))

# --- McNemar without correction, Tango's score CI by an independent route -------------------
# The restricted MLE is found numerically (optimize) rather than by Tango's closed form, and the
# limits by uniroot on score = +-z.
tango <- function(g, l, n, conf = 0.95) {
  z <- qnorm(1 - (1 - conf) / 2)
  xlogy <- function(k, p) if (k == 0) 0 else k * log(p)
  score <- function(delta) {
    ll <- function(q) xlogy(g, q + delta) + xlogy(l, q) + xlogy(n - g - l, 1 - 2 * q - delta)
    q <- optimize(ll, c(max(0, -delta), (1 - delta) / 2), maximum = TRUE,
                  tol = 1e-15)$maximum
    (g - l - n * delta) / sqrt(n * (2 * q + delta * (1 - delta)))
  }
  est <- (g - l) / n
  c(uniroot(function(d) score(d) - z, c(-1 + 1e-12, est), tol = 1e-14)$root,
    uniroot(function(d) score(d) + z, c(est, 1 - 1e-12), tol = 1e-14)$root)
}
mb <- c(1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0)
ma <- c(1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1)
m <- mcnemar.test(table(factor(mb, 0:1), factor(ma, 0:1)), correct = FALSE)
show("mcnemar uncorrected", c(m$statistic, m$p.value))
show("tango 7,1,20", tango(7, 1, 20))
show("tango 20,40,160", tango(20, 40, 160))
show("tango 7,1,21 90%", tango(7, 1, 21, 0.9))
show("tango 0,3,30", tango(0, 3, 30))

# --- log-rank -------------------------------------------------------------------------------
s <- survdiff(Surv(time, status) ~ x, data = aml)
show("aml survdiff", c(s$chisq, s$obs, s$exp))
t7 <- c(1, 2, 3, 4, 5, 6, 7, 2, 8)
e7 <- c(1, 0, 1, 1, 0, 1, 1, 1, 1)
g7 <- c("a", "b", "a", "b", "c", "b", "a", "c", "a")
s <- survdiff(Surv(t7, e7) ~ g7)
show("3 groups, lone case at risk at the end", c(s$chisq, s$obs, s$exp))

# --- RMST -----------------------------------------------------------------------------------
rm <- function(t, e, tau) summary(survfit(Surv(t, e) ~ 1), rmean = tau)$table[c("rmean", "se(rmean)")]
m1 <- aml[aml$x == "Maintained", ]
m0 <- aml[aml$x == "Nonmaintained", ]
show("rmst maintained tau 45", rm(m1$time, m1$status, 45))
show("rmst nonmaintained tau 45", rm(m0$time, m0$status, 45))
show("rmst maintained tau 23 (an event time)", rm(m1$time, m1$status, 23))
show("rmst maintained tau 200 (beyond the data)", rm(m1$time, m1$status, 200))
show("rmst tied times tau 30", rm(c(5, 8, 12, 20, 20, 30, 41, 50), c(1, 0, 1, 1, 0, 1, 0, 0), 30))
show("rmst all events tau 4", rm(c(1, 2, 3, 4), c(1, 1, 1, 1), 4))

# --- ANCOVA: HC2 and Lin (2013) -------------------------------------------------------------
pre <- c(3.8, 4.1, 3.5, 4.0, 3.9, 3.6, 4.2, 3.7, 3.9, 4.0, 3.6, 3.8, 4.1, 3.7, 3.9, 3.5)
post <- c(3.9, 4.0, 3.6, 4.1, 3.8, 3.7, 4.2, 3.8, 4.2, 4.3, 3.9, 4.1, 4.4, 4.0, 4.2, 3.8)
treat <- rep(c(0, 1), each = 8)
x <- ((1:16 * 7) %% 11) / 10
ct <- function(fit) coeftest(fit, vcov = vcovHC(fit, type = "HC2"),
                             df = fit$df.residual)["treat", ]
fit <- lm(post ~ treat + pre)
show("ancova HC2", ct(fit))
fit <- lm(post ~ treat + pre + x)
show("ancova + x HC2", ct(fit))
show("ancova + x type II F", Anova(fit, type = 2)[c("treat", "pre"), "F value"])
fit <- lm(post ~ treat * I(pre - mean(pre)))
show("lin HC2", ct(fit))
fit <- lm(post ~ treat * (I(pre - mean(pre)) + I(x - mean(x))))
show("lin + x HC2", ct(fit))
