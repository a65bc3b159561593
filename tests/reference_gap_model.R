# Reference values for tests/test_servqual.py. Run: Rscript tests/reference_gap_model.R
# (R 4.x with psych).
suppressPackageStartupMessages(library(psych))
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

X <- matrix(c(5, 6, 5, 7,  4, 4, 5, 5,  6, 7, 6, 6,  3, 4, 3, 4,  5, 5, 6, 6,
              6, 6, 7, 7,  2, 3, 3, 2,  4, 5, 4, 4,  5, 4, 5, 6,  7, 7, 6, 7),
            ncol = 4, byrow = TRUE, dimnames = list(NULL, c("a", "b", "c", "d")))
a <- alpha(X, warnings = FALSE)
p("psych::alpha(X)$total$raw_alpha", a$total$raw_alpha)
p("psych::alpha(X)$item.stats$r.drop", a$item.stats$r.drop)
p("psych::alpha(X)$alpha.drop$raw_alpha", a$alpha.drop$raw_alpha)
if (!is.null(a$feldt)) p("psych::alpha(X)$feldt (lower, upper)",
                         c(a$feldt$lower.ci, a$feldt$upper.ci))
cat("psych version", as.character(packageVersion("psych")), "\n")
E <- c(6.1, 5.8, 6.5, 6.0, 5.5, 6.8, 6.2, 5.9, 6.4, 6.0)
P <- c(5.2, 5.9, 5.1, 5.5, 5.0, 6.0, 5.4, 5.8, 5.3, 5.6)
t <- t.test(P, E, paired = TRUE)
p("t.test(P, E, paired = TRUE): t, p, ci", c(t$statistic, t$p.value, t$conf.int))

# Confirmatory factor analysis of the demo survey's perception items (lavaan, ML with the
# Wishart likelihood, as semopy's MLW objective).
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("data/servqual_survey.csv")
P <- d[, sprintf("P_q%02d", 1:22)]
names(P) <- sprintf("q%02d", 1:22)
model <- "tangibles =~ q01 + q02 + q03 + q04
reliability =~ q05 + q06 + q07 + q08 + q09
responsiveness =~ q10 + q11 + q12 + q13
assurance =~ q14 + q15 + q16 + q17
empathy =~ q18 + q19 + q20 + q21 + q22"
fit <- cfa(model, data = P, estimator = "ML", likelihood = "wishart")
p("lavaan cfa (wishart): chisq, df, cfi, rmsea, srmr",
  fitMeasures(fit, c("chisq", "df", "cfi", "rmsea", "srmr")))

# ---- measurement-grade gap model (tests/test_reliability.py) ---------------------------------
suppressPackageStartupMessages(library(semTools))
E <- d[, sprintf("E_q%02d", 1:22)]; names(E) <- sprintf("q%02d", 1:22)
G <- P - E
dims <- list(tangibles = 1:4, reliability = 5:9, responsiveness = 10:13, assurance = 14:17,
             empathy = 18:22)
omega_ml <- function(X) {  # one-factor ML CFA, std.lv = TRUE: (sum lambda)^2 / (... + sum theta)
  m <- paste("f =~", paste(names(X), collapse = " + "))
  f <- cfa(m, data = X, std.lv = TRUE, estimator = "ML")
  pe <- parameterEstimates(f)
  lam <- pe$est[pe$op == "=~"]; th <- pe$est[pe$op == "~~" & pe$lhs != "f"]
  c(sum(lam)^2 / (sum(lam)^2 + sum(th)), compRelSEM(f, obs.var = FALSE)[["f"]])
}
for (dn in names(dims)) for (m in c("E", "P", "G")) {
  X <- get(m)[, dims[[dn]]]
  p(sprintf("omega %s %s (own formula, compRelSEM(obs.var = FALSE))", dn, m), omega_ml(X))
}
# difference-score reliability from alpha: psych::alpha raw_alpha of E and P, dimension means
for (dn in names(dims)) {
  i <- dims[[dn]]
  e <- rowMeans(E[, i]); pp <- rowMeans(P[, i])
  ree <- alpha(E[, i], warnings = FALSE)$total$raw_alpha
  rpp <- alpha(P[, i], warnings = FALSE)$total$raw_alpha
  r <- cor(e, pp); se <- sd(e); sp <- sd(pp)
  rdd <- (sp^2 * rpp + se^2 * ree - 2 * r * sp * se) / (sp^2 + se^2 - 2 * r * sp * se)
  p(sprintf("difference reliability %s: r_EE, r_PP, r_PE, r_DD", dn), c(ree, rpp, r, rdd))
}
# HTMT of the perception dimensions: base-R closed form and semTools::htmt
R <- abs(cor(P))
ht <- function(a, b) mean(R[a, b]) / sqrt(mean(R[a, a][upper.tri(R[a, a])]) *
                                          mean(R[b, b][upper.tri(R[b, b])]))
H <- outer(seq_along(dims), seq_along(dims), Vectorize(function(i, j) ht(dims[[i]], dims[[j]])))
p("HTMT closed form (lower triangle by column)", H[lower.tri(H)])
hs <- htmt(model, data = P, htmt2 = FALSE)  # Henseler 2015 (htmt2 = TRUE: geometric means)
p("semTools::htmt(htmt2 = FALSE) (lower triangle by column)", hs[lower.tri(hs)])
# CFA: robust ML (Satorra-Bentler), per-factor omega and AVE
fm <- cfa(model, data = P, estimator = "MLM")
p("lavaan cfa MLM: chisq, chisq.scaled, scaling factor, pvalue.scaled",
  fitMeasures(fm, c("chisq", "chisq.scaled", "chisq.scaling.factor", "pvalue.scaled")))
fw <- cfa(model, data = P, estimator = "ML", likelihood = "wishart")
# obs.var = FALSE: the model-implied item variances in the denominators (the definitions used
# here); the default obs.var = TRUE divides by the observed variances instead
p("semTools::compRelSEM(wishart fit, obs.var = FALSE)", compRelSEM(fw, obs.var = FALSE))
p("semTools::AVE(wishart fit, obs.var = FALSE)", AVE(fw, obs.var = FALSE))
# Johnson's relative weights (closed form) of the perception dimension scores, and the
# SERVQUAL vs SERVPERF regressions
Pd <- sapply(dims, function(i) rowMeans(P[, i])); Ed <- sapply(dims, function(i) rowMeans(E[, i]))
Gd <- Pd - Ed
y <- d$overall_satisfaction
rw <- function(X, y) {
  Rxx <- cor(X); rxy <- cor(X, y)
  e <- eigen(Rxx); L <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
  b <- solve(L, rxy); as.vector((L^2) %*% b^2)
}
p("relative weights (P dims)", rw(Pd, y))
p("R^2 (P dims)", summary(lm(y ~ Pd))$r.squared)
a <- lm(y ~ Gd); b <- lm(y ~ Pd)
p("lm SERVQUAL: r.squared, adj.r.squared", c(summary(a)$r.squared, summary(a)$adj.r.squared))
p("lm SERVPERF: r.squared, adj.r.squared", c(summary(b)$r.squared, summary(b)$adj.r.squared))
n <- length(y)
m <- dnorm(resid(a), 0, sqrt(mean(resid(a)^2)), log = TRUE) -
     dnorm(resid(b), 0, sqrt(mean(resid(b)^2)), log = TRUE)
z <- sum(m) / (sqrt(n) * sqrt(mean((m - mean(m))^2)))
p("Vuong z, p", c(z, 2 * pnorm(-abs(z))))
ja <- summary(lm(y ~ Gd + fitted(b)))$coefficients["fitted(b)", c(3, 4)]
jb <- summary(lm(y ~ Pd + fitted(a)))$coefficients["fitted(a)", c(3, 4)]
p("J test: fitted(SERVPERF) added to SERVQUAL t, p; fitted(SERVQUAL) added to SERVPERF t, p",
  c(ja, jb))
