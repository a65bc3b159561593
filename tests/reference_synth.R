# Reference values for tests/test_synth.py. Run: Rscript tests/reference_synth.R
# (R 4.x with quadprog). Base R plus quadprog::solve.QP for every simplex-constrained fit.
suppressPackageStartupMessages(library(quadprog))
options(digits = 15)
p <- function(name, x) cat(name, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

# argmin ||a w - b||^2 + ridge ||w||^2 over w >= 0, sum(w) = 1
simplex <- function(a, b, ridge = 0) {
  J <- ncol(a)
  solve.QP(crossprod(a) + ridge * diag(J), drop(crossprod(a, b)), cbind(1, diag(J)),
           c(1, rep(0, J)), meq = 1)$solution
}

# --- synthetic control: 1 treated unit (row 1, i = 2.5) + 6 donors, 10 pre-periods, 3 post ---
units <- c(2.5, 0:5); periods <- 1:13; T0 <- 10
Y <- outer(units, periods, function(i, t) 10 + 0.5 * i + 0.3 * t * (1 + 0.1 * i) +
             sin(1.7 * i + 0.9 * t) +
             ((3 * i + 7 * t + i * t) %% 11 - 5) / 10)
Y[1, 11:13] <- Y[1, 11:13] + 2
pre <- periods <= T0
sc <- function(i, donors) {
  w <- simplex(t(Y[donors, pre, drop = FALSE]), Y[i, pre])
  gap <- Y[i, ] - drop(w %*% Y[donors, , drop = FALSE])
  list(w = w, gap = gap, pre = sqrt(mean(gap[pre]^2)), post = sqrt(mean(gap[!pre]^2)))
}
f <- sc(1, 2:7)
p("sc weights", f$w)
p("sc gap", f$gap)
p("sc pre, post rmspe, effect", c(f$pre, f$post, mean(f$gap[!pre])))
# placebo in space, donor pool = the other donors (treated left out)
ratio <- c(f$post / f$pre, sapply(2:7, function(j) {
  g <- sc(j, setdiff(2:7, j)); g$post / g$pre }))
p("placebo ratios (treated first)", ratio)
p("placebo rank, p", c(sum(ratio >= ratio[1]), sum(ratio >= ratio[1]) / 7))
# covariates, each rescaled to the pooled cross-unit SD of the pre-period outcomes
X <- cbind(cos(units), (units - 2)^2)
s_y <- sqrt(mean(apply(Y[, pre], 2, var)))
Z <- scale(X) * s_y
wc <- simplex(rbind(t(Y[2:7, pre]), t(Z[2:7, ])), c(Y[1, pre], Z[1, ]))
p("sc weights with covariates", wc)

# --- synthetic DiD: 10 controls (rows 1-10) + 2 treated, 6 pre-periods, 3 post ---
N0 <- 10; N1 <- 2; T0 <- 6; T1 <- 3
u <- 1:(N0 + N1); tt <- 1:(T0 + T1)
S <- outer(u, tt, function(i, t) 5 + 0.4 * i + 0.2 * t * (1 + 0.05 * i) + cos(1.3 * i + 0.7 * t) +
  ((5 * i + 3 * t + 2 * i * t) %% 13 - 6) / 10)
S[(N0 + 1):(N0 + N1), (T0 + 1):(T0 + T1)] <- S[(N0 + 1):(N0 + N1), (T0 + 1):(T0 + T1)] + 1.5
co_pre <- S[1:N0, 1:T0]
co_post <- rowMeans(S[1:N0, (T0 + 1):(T0 + T1)])
tr_pre <- colMeans(S[(N0 + 1):(N0 + N1), 1:T0])
tr_post <- mean(S[(N0 + 1):(N0 + N1), (T0 + 1):(T0 + T1)])
sigma <- sd(apply(co_pre, 1, diff))
zeta_o <- (N1 * T1)^(1 / 4) * sigma; zeta_l <- 1e-6 * sigma
A <- scale(t(co_pre), scale = FALSE)          # centred over time: the intercept omega_0
omega <- simplex(A, tr_pre - mean(tr_pre), ridge = zeta_o^2 * T0)
B <- scale(co_pre, scale = FALSE)             # centred over units: the intercept lambda_0
lambda <- simplex(B, co_post - mean(co_post), ridge = zeta_l^2 * N0)
tau <- (tr_post - sum(lambda * tr_pre)) - sum(omega * (co_post - co_pre %*% lambda))
p("sdid sigma, zeta_omega", c(sigma, zeta_o))
p("sdid omega", omega)
p("sdid lambda", lambda)
p("sdid tau", tau)
did <- (tr_post - mean(tr_pre)) - (mean(co_post) - mean(co_pre))
p("plain DiD (uniform weights)", did)
