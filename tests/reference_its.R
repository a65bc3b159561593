# Reference values for tests/test_its.py (and the ITS test in tests/test_compare.py).
# Run: Rscript tests/reference_its.R   (R 4.2, nlme 3.1, sandwich, lmtest)
suppressMessages({library(nlme); library(sandwich); library(lmtest)})
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

# A weekly series on calendar time: Mondays from 2025-01-06, weeks 9 and 30 missing (gaps),
# intervention Wednesday 2025-06-04 (week 21), washout 2025-06-02 .. 2025-06-22 (weeks 21-23)
# dropped from the fit, so T0 = week 24 (2025-06-23).
t <- c(0:8, 10:29, 31:47)
y <- c(19.21, 20.22, 18.66, 21.50, 22.04, 21.49, 21.41, 22.14, 21.99, 23.22, 23.57, 23.23,
       23.16, 23.46, 22.87, 22.90, 23.92, 23.68, 22.38, 22.77, 24.09, 23.73, 23.68, 21.96,
       23.51, 21.62, 22.96, 20.95, 21.59, 22.70, 23.10, 23.62, 21.88, 22.83, 22.10, 21.97,
       22.99, 23.89, 23.71, 22.94, 22.59, 24.88, 25.11, 25.51, 27.32, 25.24)
w <- c(152, 179, 85, 139, 137, 147, 199, 159, 216, 85, 188, 207, 172, 230, 146, 207, 80, 86,
       207, 219, 163, 200, 132, 196, 159, 128, 94, 107, 224, 238, 136, 89, 120, 137, 192, 196,
       197, 130, 140, 170, 177, 146, 110, 203, 163, 233)
d <- data.frame(t, y, w)
d$post <- as.numeric(d$t >= 24); d$since <- (d$t - 24) * d$post
d$s1 <- sin(2 * pi * d$t / 52.18); d$c1 <- cos(2 * pi * d$t / 52.18)
f <- d[!(d$t %in% 21:23), ]          # the fit rows (washout out)
n <- nrow(f); post <- f[f$post == 1, ]
p("n", n)

# --- 1. default: GLS with AR(1) errors on calendar t, phi by REML ---
g <- gls(y ~ t + post + since, data = f, correlation = corAR1(form = ~ t), method = "REML")
phi <- coef(g$modelStruct$corStruct, unconstrained = FALSE)
p("ar1 phi (REML)", phi)
# the same model at that phi held fixed (separates the optimiser's tolerance from the algebra)
g <- gls(y ~ t + post + since, data = f, method = "REML",
         correlation = corAR1(phi, form = ~ t, fixed = TRUE))
tt <- summary(g)$tTable; k <- length(coef(g)); V <- vcov(g)
p("ar1 coef", tt[, 1]); p("ar1 se", tt[, 2]); p("ar1 t", tt[, 3]); p("ar1 p (df = n - k)", tt[, 4])
p("ar1 sigma", g$sigma)
lb <- Box.test(resid(g, type = "normalized"), lag = min(10, floor(n / 5)), type = "Ljung-Box")
p("ar1 Ljung-Box Q, lag, p", c(lb$statistic, lb$parameter, lb$p.value))
X0 <- cbind(1, post$t, 0, 0)                       # counterfactual rows: post = since = 0
cf <- drop(X0 %*% coef(g)); q <- qt(0.975, n - k)
half <- q * sqrt(rowSums((X0 %*% V) * X0) + g$sigma^2)
p("ar1 counterfactual (post rows)", cf); p("ar1 band half-width", half)
cc <- c(0, 0, nrow(post), sum(post$since))          # cumulative effect = sum(b2 + b3 * since)
est <- sum(cc * coef(g)); se <- sqrt(drop(t(cc) %*% V %*% cc))
p("ar1 cumulative est, se, lo, hi", c(est, se, est - q * se, est + q * se))
ce <- c(0, 0, 1, max(post$since))
est <- sum(ce * coef(g)); se <- sqrt(drop(t(ce) %*% V %*% ce))
p("ar1 end est, se, lo, hi", c(est, se, est - q * se, est + q * se))

# --- 2. with one yearly harmonic pair and weights (variance proportional to 1/w) ---
g2 <- gls(y ~ t + post + since + s1 + c1, data = f, method = "REML",
          correlation = corAR1(form = ~ t), weights = varFixed(~ 1 / w))
phi2 <- coef(g2$modelStruct$corStruct, unconstrained = FALSE)
p("ar1 fourier:1 weighted phi", phi2)
g2 <- gls(y ~ t + post + since + s1 + c1, data = f, method = "REML",
          correlation = corAR1(phi2, form = ~ t, fixed = TRUE), weights = varFixed(~ 1 / w))
tt2 <- summary(g2)$tTable
p("ar1 fourier:1 weighted coef", tt2[, 1]); p("ar1 fourier:1 weighted se", tt2[, 2])
p("ar1 fourier:1 weighted p", tt2[, 4])

# --- 3. errors = "newey-west": lm + NeweyWest(adjust = TRUE) + coeftest(df = n - k) ---
fit <- lm(y ~ t + post + since, data = f)
L <- floor(4 * (n / 100)^(2 / 9)); p("NW lag", L)
VN <- NeweyWest(fit, lag = L, prewhite = FALSE, adjust = TRUE)
ct <- coeftest(fit, vcov. = VN, df = n - k)
p("nw coef", ct[, 1]); p("nw se", ct[, 2]); p("nw t", ct[, 3]); p("nw p", ct[, 4])
lbn <- Box.test(resid(fit), lag = min(10, floor(n / 5)), type = "Ljung-Box")
p("nw Ljung-Box Q, lag, p", c(lbn$statistic, lbn$parameter, lbn$p.value))
cfn <- drop(X0 %*% coef(fit))
halfn <- q * sqrt(rowSums((X0 %*% VN) * X0) + summary(fit)$sigma^2)
p("nw band half-width", halfn)
# without season terms the counterfactual is the pre-period-only line
pre <- lm(y ~ t, data = f[f$post == 0, ])
p("max |cf - predict(lm_pre, interval = 'prediction')[, 'fit']|",
  max(abs(cfn - predict(pre, newdata = post, interval = "prediction")[, "fit"])))
est <- sum(cc * coef(fit)); se <- sqrt(drop(t(cc) %*% VN %*% cc))
p("nw cumulative est, se", c(est, se))
p("nw sum(observed - cf) over post", sum(post$y - cfn))

# --- 4. the 28-week series of tests/test_compare.py (no gaps), old call with lags = 3 ---
y4 <- c(50.2, 51.8, 49.5, 52.3, 53.1, 51.0, 54.2, 52.8, 53.9, 55.1, 54.0, 56.3, 55.2, 56.8,
        48.1, 47.5, 46.9, 47.8, 46.2, 45.9, 46.8, 45.1, 44.7, 45.6, 44.0, 43.8, 44.5, 43.1)
tt4 <- seq_along(y4) - 1; post4 <- as.numeric(tt4 >= 14); since4 <- (tt4 - 14) * post4
fit4 <- lm(y4 ~ tt4 + post4 + since4)
V4 <- NeweyWest(fit4, lag = 3, prewhite = FALSE, adjust = TRUE)
ct4 <- coeftest(fit4, vcov. = V4, df = 28 - 4)
p("compare28 NW se (adjust = TRUE)", ct4[, 2]); p("compare28 p (df = 24)", ct4[, 4])
