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
