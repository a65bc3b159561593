"""Indicator weights (expert, AHP, entropy) and the composite service-quality index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.stats.pairwise import parse_matrix

#: Saaty's random consistency index RI(n), n = 1…15.
SAATY_RI = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57,
            1.59)
CR_LIMIT = 0.10


@dataclass(frozen=True)
class AhpResult:
    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    n: int

    @property
    def consistent(self) -> bool:
        return self.n <= 2 or self.cr <= CR_LIMIT

    def summary(self, names) -> pd.DataFrame:
        return pd.DataFrame({"indicator": list(names), "weight": self.weights})


def ahp(matrix) -> AhpResult:
    """AHP weights: the normalised principal eigenvector of the comparison matrix.

    Notes
    -----
    CI = (λmax − n)/(n − 1); CR = CI / RI(n) with Saaty's RI. CR > 0.10 means the judgements are
    inconsistent and should be revised (reported, not raised).
    """
    m = np.asarray(parse_matrix(matrix), dtype=float)
    n = m.shape[0]
    values, vectors = np.linalg.eig(m)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    lam = float(values[k].real)
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = SAATY_RI[n - 1] if n <= len(SAATY_RI) else SAATY_RI[-1]
    cr = ci / ri if ri > 0 else 0.0
    return AhpResult(w, lam, ci, cr, n)


def entropy_weights(x, higher_is_better) -> np.ndarray:
    """Entropy weights for an m units × k indicators matrix.

    Notes
    -----
    Each indicator is min-max normalised respecting its direction; p_ij = x_ij / Σ_i x_ij;
    e_j = −(1/ln m) Σ_i p_ij ln p_ij with 0·ln 0 = 0; w_j = (1 − e_j) / Σ_j (1 − e_j).
    An indicator equal across units (no information) gets weight 0.
    """
    x = np.asarray(x, dtype=float)
    m = x.shape[0]
    if m < 2:
        raise ValueError("entropy weights need at least two units")
    z = minmax(x, higher_is_better)
    col = z.sum(axis=0)
    p = np.divide(z, col, out=np.zeros_like(z), where=col > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(m)
    e = np.where(col > 0, e, 1.0)
    d = 1 - e
    if d.sum() <= 0:
        raise ValueError("no indicator varies across units: entropy weights are undefined")
    return d / d.sum()


def minmax(x, higher_is_better) -> np.ndarray:
    """Scale each column to 0…1, 1 the best unit (reversed for lower-is-better columns)."""
    x = np.asarray(x, dtype=float)
    hib = np.broadcast_to(np.asarray(higher_is_better, dtype=bool), (x.shape[1],))
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    z = (x - lo) / span
    z = np.where(hib, z, 1 - z)
    return np.where(hi > lo, z, 0.0)


@dataclass
class CompositeIndex:
    """The index per unit with the weights and normalised scores behind it."""

    scores: pd.DataFrame  # unit, index (0-100), rank, one normalised column per indicator
    weights: pd.DataFrame  # indicator, direction, weight
    method: str
    ahp: AhpResult | None = None

    def summary(self) -> pd.DataFrame:
        return self.scores


def composite_index(values: pd.DataFrame, directions: dict[str, str], method: str,
                    expert: dict[str, float] | None = None, matrix=None) -> CompositeIndex:
    """Composite index = 100 × Σ_j w_j z_ij over min-max normalised indicators z (best unit 1).

    ``values`` has one row per unit (index = unit) and one column per indicator.
    """
    names = list(directions)
    x = values[names].to_numpy(dtype=float)
    if np.isnan(x).any():
        missing = [f"{u}/{c}" for u, c in zip(*np.where(np.isnan(x)), strict=True)]
        raise ValueError(f"indicator values missing for {missing[:5]}")
    hib = [directions[n] == "higher" for n in names]
    result = None
    if method == "expert":
        w = np.array([expert[n] for n in names], dtype=float)
        w = w / w.sum()
    elif method == "ahp":
        result = ahp(matrix)
        w = result.weights
    else:
        w = entropy_weights(x, hib)
    z = minmax(x, hib)
    scores = pd.DataFrame(z, columns=names, index=values.index)
    scores.insert(0, "index", 100 * z @ w)
    scores.insert(1, "rank", scores["index"].rank(ascending=False, method="min").astype(int))
    scores = scores.rename_axis("unit").reset_index().sort_values(["rank", "unit"])
    weights = pd.DataFrame({"indicator": names, "direction": [directions[n] for n in names],
                            "weight": w})
    return CompositeIndex(scores.reset_index(drop=True), weights, method, result)


# --- uncertainty of the index ----------------------------------------------------------------
#: How a bootstrap resample turns one per-ticket column into an indicator value.
#: ("mean", scale) or ("quantile", q); R type-7 quantiles are numpy's "linear".
Aggregate = tuple[str, float]


def batch_scores(x: np.ndarray, higher_is_better, weights) -> np.ndarray:
    """100 × Σ_j w_j z_ij for a stack of indicator tables ``x`` (…, units, indicators).

    Each table is min-max normalised on its own, as :func:`minmax` does for one table.
    """
    x = np.asarray(x, dtype=float)
    hib = np.asarray(higher_is_better, dtype=bool)
    lo, hi = np.nanmin(x, axis=-2, keepdims=True), np.nanmax(x, axis=-2, keepdims=True)
    varies = hi > lo
    z = (x - lo) / np.where(varies, hi - lo, 1.0)
    z = np.where(hib, z, 1 - z)
    z = np.where(varies, z, 0.0)
    return 100 * z @ np.asarray(weights, dtype=float)


def _aggregate(v: np.ndarray, how: Aggregate) -> np.ndarray:
    kind, arg = how
    import warnings

    with warnings.catch_warnings():  # an all-missing resample gives NaN, counted by the caller
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "mean":
            return arg * np.nanmean(v, axis=-1)
        return np.nanquantile(v, arg, axis=-1, method="linear")


def resample_indicators(columns: dict[str, list[np.ndarray]], how: dict[str, Aggregate],
                        resamples: int, seed: int, chunk: int = 250) -> np.ndarray:
    """Indicator values of every unit in ``resamples`` bootstrap resamples.

    ``columns[name][u]`` holds unit u's per-ticket values of indicator ``name`` (NaN where the
    ticket does not count). Tickets are resampled with replacement within each unit, the same
    draw for every indicator of that unit, so indicators keep their correlation.

    Returns an array (resamples, units, indicators).
    """
    names = list(columns)
    units = len(columns[names[0]])
    rng = np.random.default_rng(seed)
    out = np.empty((resamples, units, len(names)))
    for u in range(units):
        n = len(columns[names[0]][u])
        for start in range(0, resamples, chunk):
            stop = min(start + chunk, resamples)
            idx = rng.integers(0, n, size=(stop - start, n))
            for j, name in enumerate(names):
                out[start:stop, u, j] = _aggregate(columns[name][u][idx], how[name])
    return out


@dataclass
class IndexUncertainty:
    """Bootstrap distribution of every unit's index score and rank (weights held fixed)."""

    units: list[str]
    point: np.ndarray  # index score per unit on the full data
    draws: np.ndarray  # (resamples, units) index scores; rows with a missing value dropped
    resamples: int
    alpha: float

    @property
    def ranks(self) -> np.ndarray:
        from scipy.stats import rankdata

        return rankdata(-self.draws, method="min", axis=1).astype(int)

    def intervals(self) -> pd.DataFrame:
        """unit, index, index_low, index_high (percentile), rank, rank_low, rank_high."""
        q = [self.alpha / 2, 1 - self.alpha / 2]
        s = np.quantile(self.draws, q, axis=0)
        r = np.quantile(self.ranks, q, axis=0, method="inverted_cdf").astype(int)
        rank = pd.Series(self.point).rank(ascending=False, method="min").astype(int)
        out = pd.DataFrame({"unit": self.units, "index": self.point, "index_low": s[0],
                            "index_high": s[1], "rank": rank.to_numpy(), "rank_low": r[0],
                            "rank_high": r[1]})
        return out.sort_values(["rank", "unit"]).reset_index(drop=True)

    def neighbours(self) -> pd.DataFrame:
        """Each unit against the next-ranked one: the index difference with its percentile
        interval and whether the two are told apart (the interval excludes 0)."""
        order = self.intervals()
        pos = {u: i for i, u in enumerate(self.units)}
        q = [self.alpha / 2, 1 - self.alpha / 2]
        rows = []
        for a, b in zip(order["unit"].iloc[:-1], order["unit"].iloc[1:], strict=True):
            d = self.draws[:, pos[a]] - self.draws[:, pos[b]]
            lo, hi = np.quantile(d, q)
            rows.append({"higher": a, "lower": b,
                         "difference": self.point[pos[a]] - self.point[pos[b]],
                         "diff_low": lo, "diff_high": hi,
                         "share_higher": float(np.mean(d > 0)),
                         "distinguishable": bool(lo > 0 or hi < 0)})
        return pd.DataFrame(rows, columns=["higher", "lower", "difference", "diff_low",
                                           "diff_high", "share_higher", "distinguishable"])


def index_uncertainty(columns: dict[str, list[np.ndarray]], how: dict[str, Aggregate],
                      units: list[str], higher_is_better, weights, resamples: int, seed: int,
                      alpha: float = 0.05) -> IndexUncertainty:
    """Percentile-bootstrap intervals for the composite index of each unit and its rank.

    Tickets are resampled within each unit (:func:`resample_indicators`); in every resample the
    indicators are min-max normalised again and combined with the *fixed* weights (entropy or
    AHP weights are not re-estimated), so the intervals reflect sampling noise in the indicator
    values, not uncertainty in the weights. Resamples in which a unit has no value for an
    indicator (too few tickets) are dropped.
    """
    x = resample_indicators(columns, how, resamples, seed)
    keep = ~np.isnan(x).any(axis=(1, 2))
    draws = batch_scores(x[keep], higher_is_better, weights)
    full = np.array([[_aggregate(columns[n][u], how[n]) for n in columns]
                     for u in range(len(units))])
    point = batch_scores(full, higher_is_better, weights)
    return IndexUncertainty(list(units), point, draws, int(keep.sum()), alpha)
