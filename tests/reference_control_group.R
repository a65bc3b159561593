# Reference values for tests/test_did.py. Run: Rscript tests/reference_control_group.R
# (R 4.x with sandwich, lmtest, car).
suppressPackageStartupMessages({library(sandwich); library(lmtest); library(car)})
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

# A small panel: 8 units x 6 periods, units 1-3 treated from period 4.
unit <- rep(1:8, each = 6); period <- rep(1:6, times = 8)
treated <- as.numeric(unit <= 3); post <- as.numeric(period >= 4)
e <- c(0.3, -0.5, 0.1, 0.8, -0.2, 0.4, -0.7, 0.2, 0.5, -0.1, 0.3, -0.4, 0.6, -0.3, 0.2, -0.6,
       0.1, 0.9, -0.2, 0.4, -0.8, 0.3, 0.5, -0.1, 0.2, -0.4, 0.7, -0.5, 0.0, 0.3, -0.3, 0.6,
       -0.2, 0.1, -0.6, 0.4, 0.5, -0.1, 0.2, -0.7, 0.3, 0.0, -0.4, 0.8, -0.3, 0.1, 0.2, -0.5)
y <- 10 + 0.5 * unit + 0.3 * period - 2 * treated * post + e
d <- data.frame(y, unit, period, treated, post)
fit <- lm(y ~ treated * post, data = d)
V <- vcovCL(fit, cluster = ~unit, type = "HC1")
p("did coef", coef(fit)); p("did HC1 cluster se", sqrt(diag(V)))
ct <- coeftest(fit, vcov. = V, df = 7)
p("did t, p (df = G - 1 = 7)", c(ct["treated:post", 3], ct["treated:post", 4]))
tw <- lm(y ~ factor(unit) + factor(period) + treated:post, data = d)
Vt <- vcovCL(tw, cluster = ~unit, type = "HC1")
p("twfe coef, se", c(coef(tw)["treated:post"], sqrt(Vt["treated:post", "treated:post"])))
d$rel <- ifelse(d$treated == 1, d$period - 4, NA)
for (k in c(-3, -2, 0, 1, 2)) d[[paste0("ev", k + 3)]] <- as.numeric(!is.na(d$rel) & d$rel == k)
es <- lm(y ~ factor(unit) + factor(period) + ev0 + ev1 + ev3 + ev4 + ev5, data = d)
Ve <- vcovCL(es, cluster = ~unit, type = "HC1")
p("event coef (k = -3, -2, 0, 1, 2)", coef(es)[c("ev0", "ev1", "ev3", "ev4", "ev5")])
p("event se", sqrt(diag(Ve))[c("ev0", "ev1", "ev3", "ev4", "ev5")])
lh <- linearHypothesis(es, c("ev0 = 0", "ev1 = 0"), vcov. = Ve, test = "F")
p("pre-trend F (lead terms), unadjusted df", c(lh$F[2]))

# ANCOVA for a randomized trial: post ~ group + pre
pre <- c(3.8, 4.1, 3.5, 4.0, 3.9, 3.6, 4.2, 3.7, 3.9, 4.0, 3.6, 3.8, 4.1, 3.7, 3.9, 3.5)
grp <- rep(c("control", "coached"), each = 8)
postv <- c(3.9, 4.0, 3.6, 4.1, 3.8, 3.7, 4.2, 3.8, 4.2, 4.3, 3.9, 4.1, 4.4, 4.0, 4.2, 3.8)
a <- lm(postv ~ factor(grp, levels = c("control", "coached")) + pre)
p("ancova coef (group), se, t, p", summary(a)$coefficients[2, ])
p("car::Anova type II F (group, pre)", Anova(a, type = 2)$`F value`[1:2])
