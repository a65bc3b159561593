"""Statistics: pure functions returning tidy DataFrames (tests, effects, bootstrap, survival,
cluster-robust regression, few-cluster inference, time series, power, weights) and the verdict
rules."""
