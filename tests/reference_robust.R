# Reference values for tests/test_robust.py (sqresearch.robust).
#
# Run: Rscript tests/reference_robust.R
# Verified with R 4.2, sandwich 3.0.2, clubSandwich 0.5.8, lmtest.
#
# The data are deterministic formulas (no random numbers), rebuilt identically in the Python
# test, so both languages fit the same numbers.

suppressMessages({
  library(sandwich)
  library(clubSandwich)
})

p17 <- function(label, x) {
  cat(label, ": ", paste(sprintf("%.17g", as.numeric(x)), collapse = ", "), "\n", sep = "")
}

report <- function(name, fit, g, constraints = list(), two_way = NULL) {
  cat("=====", name, "\n")
  p17("coef", coef(fit))
  # one-way CR1 = sandwich HC1: G/(G-1) * (N-1)/(N-K)
  v1 <- vcovCL(fit, cluster = g, type = "HC1")
  p17("vcovCL HC1 (row-major)", t(v1))
  # CR2 (Bell-McCaffrey), working model identity
  v2 <- vcovCR(fit, cluster = g, type = "CR2")
  p17("vcovCR CR2 (row-major)", t(as.matrix(v2)))
  ct <- coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")
  p17("coef_test CR2 Satterthwaite df", ct$df_Satt)
  p17("coef_test CR2 Satterthwaite p", ct$p_Satt)
  if (!is.null(two_way)) {
    v12 <- vcovCL(fit, cluster = two_way, type = "HC1")
    p17("vcovCL two-way HC1 (row-major)", t(v12))
  }
  for (nm in names(constraints)) {
    cm <- constrain_zero(constraints[[nm]], coefs = coef(fit))
    htz <- Wald_test(fit, constraints = cm, vcov = "CR2", cluster = g, test = "HTZ")
    p17(paste0("Wald_test HTZ [", nm, "] Fstat, df_denom, p"),
        c(htz$Fstat, htz$df_denom, htz$p_val))
    nf <- Wald_test(fit, constraints = cm, vcov = "CR1S", cluster = g, test = "Naive-F")
    p17(paste0("Wald_test CR1S Naive-F [", nm, "] Fstat, df_denom, p"),
        c(nf$Fstat, nf$df_denom, nf$p_val))
  }
}

# --- Case A: G = 6 unequal clusters, cluster-level before/after dummy ----------------------
sizes <- c(3, 5, 8, 4, 10, 6)
g <- rep(seq_along(sizes), sizes)
i <- seq_along(g)
a <- data.frame(g = g, shift = i %% 4 + 1, x = sin(i), post = as.numeric(g >= 4))
a$y <- 2 + 0.5 * a$x + 0.3 * a$post + cos(1.3 * a$g) + 0.7 * sin(2.1 * i + 0.5)
fit_a <- lm(y ~ x + post, data = a)
report("A", fit_a, a$g, constraints = list("x,post" = c("x", "post")),
       two_way = ~ g + shift)

# --- Case B: G = 12, case-mix dummies, cluster-level treatment, two-way with agent --------
sizes <- c(7, 12, 5, 9, 15, 6, 11, 8, 4, 13, 10, 9)
g <- rep(seq_along(sizes), sizes)
i <- seq_along(g)
b <- data.frame(g = g, agent = (7 * i) %% 9 + 1, treat = as.numeric(g %% 2 == 0),
                email = as.numeric(i %% 3 == 1), phone = as.numeric(i %% 3 == 2),
                priority = as.numeric(i %% 5 == 0), x = cos(0.7 * i))
b$y <- 10 + 1.5 * b$treat + 0.8 * b$phone - 0.4 * b$email + 2 * b$priority + 0.6 * b$x +
  sin(1.9 * b$g) + 0.9 * sin(3.7 * i) + 0.3 * cos(1.1 * b$agent)
fit_b <- lm(y ~ treat + email + phone + priority + x, data = b)
report("B", fit_b, b$g,
       constraints = list("email,phone" = c("email", "phone"),
                          "treat,email,phone,priority" = c("treat", "email", "phone",
                                                           "priority")),
       two_way = ~ g + agent)

# design effect of y in case B: one-way ANOVA ICC with Donner's n0
av <- anova(lm(y ~ factor(g), data = b))
msb <- av[["Mean Sq"]][1]
msw <- av[["Mean Sq"]][2]
n_g <- as.numeric(table(b$g))
n0 <- (sum(n_g) - sum(n_g^2) / sum(n_g)) / (length(n_g) - 1)
icc <- (msb - msw) / (msb + (n0 - 1) * msw)
p17("B design effect: MSB, MSW, n0, ICC, deff", c(msb, msw, n0, icc, 1 + (n0 - 1) * icc))

# --- Case C: G = 8, a singleton cluster and dummies that one cluster alone determines -----
# (eigenvalues of I - H_gg equal to 0: clubSandwich's pseudo-inverse square root)
sizes <- c(1, 6, 4, 9, 5, 7, 3, 8)
g <- rep(seq_along(sizes), sizes)
i <- seq_along(g)
cc <- data.frame(g = g, s1 = as.numeric(g == 1), s2 = as.numeric(g == 2),
                 post = as.numeric(g >= 5), x = sin(0.9 * i)^2)
cc$y <- 3 + 0.5 * cc$post + cc$x + cc$s2 + 0.4 * cos(2.3 * cc$g) + 0.5 * sin(1.7 * i)
fit_c <- lm(y ~ post + x + s1 + s2, data = cc)
report("C", fit_c, cc$g, constraints = list("post,x" = c("post", "x")))
