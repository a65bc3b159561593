# Reference values for the coaching_trial demo (data/coaching_trial.csv): the ANCOVA the
# control-group study's verdicts rest on. Run: Rscript tests/reference_coaching_trial.R
library(sandwich)
library(lmtest)
d <- read.csv("data/coaching_trial.csv")
pre <- subset(d, period == "pre")
post <- subset(d, period == "post")
w <- merge(pre, post, by = c("agent_id", "arm", "team", "tenure_years"), suffixes = c("_pre", "_post"))
w$treated <- as.numeric(w$arm == "coached")
show <- function(fit, term, levels) {
  v <- vcovHC(fit, type = "HC2")
  ct <- coeftest(fit, vcov = v, df = fit$df.residual)
  cat(sprintf("%s estimate %.15g se %.15g t %.15g p %.15g df %d\n", term, ct[term, 1], ct[term, 2],
              ct[term, 3], ct[term, 4], fit$df.residual))
  for (lev in levels) {
    ci <- coefci(fit, parm = term, vcov = v, df = fit$df.residual, level = lev)
    cat(sprintf("  level %.15g: %.15g %.15g\n", lev, ci[1], ci[2]))
  }
  cl <- summary(fit)$coefficients[term, ]
  cat(sprintf("  classical: estimate %.15g se %.15g p %.15g\n", cl[1], cl[2], cl[4]))
}
# CSAT: lm(post ~ treated + pre + tenure_years)
fit_csat <- lm(csat_mean_post ~ treated + csat_mean_pre + tenure_years, data = w)
show(fit_csat, "treated", c(0.95, 0.975, 0.9, 0.95))
# handle time on the log scale
fit_aht <- lm(log(handle_time_min_post) ~ treated + log(handle_time_min_pre) + tenure_years, data = w)
show(fit_aht, "treated", c(0.95, 0.975, 0.9))
