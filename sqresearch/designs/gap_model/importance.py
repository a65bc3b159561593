"""Where the gap matters: the zone of tolerance, stated and derived importance with the
importance–performance quadrants, improvement priorities, and segment comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.stats import compare
from sqresearch.stats.relative_weights import relative_weights

QUADRANTS = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}


def importance(p_dim: pd.DataFrame, points: pd.DataFrame | None, overall: pd.Series | None
               ) -> pd.DataFrame:
    """Stated importance (mean points / 100), derived importance (Johnson's relative weights of
    the dimension P scores for overall satisfaction, as shares of R², so they sum to 1; the raw
    weight — the part of R² — in ``derived_r2``, the standardized OLS coefficient in ``beta``),
    performance (mean P) and the importance–performance quadrant for each."""
    dims = list(p_dim.columns)
    out = pd.DataFrame({"dimension": dims, "performance": p_dim.mean().to_numpy()})
    if points is not None:
        out["stated"] = (points[dims].mean() / 100).to_numpy()
    if overall is not None:
        data = pd.concat([overall.rename("_overall"), p_dim], axis=1)
        rw = relative_weights(data, "_overall", dims).summary()
        out["derived"] = rw["share"].to_numpy()
        out["derived_r2"] = rw["weight"].to_numpy()
        out["beta"] = rw["beta"].to_numpy()
    perf_high = out["performance"] >= out["performance"].mean()
    for col in ("stated", "derived"):
        if col in out:
            imp_high = out[col] >= out[col].mean()
            out[f"quadrant_{col}"] = [QUADRANTS[(i, ph)] for i, ph in
                                      zip(imp_high, perf_high, strict=True)]
    return out


def priorities(gaps: pd.DataFrame, imp: pd.DataFrame) -> pd.DataFrame:
    """Dimensions ranked by shortfall × importance (stated, else derived, else equal):
    priority = max(−gap, 0) × weight; the gap's CI is its Holm-level CI."""
    g = gaps.set_index("dimension")
    i = imp.set_index("dimension")
    basis = "stated" if "stated" in i else ("derived" if "derived" in i else "equal")
    weight = i[basis] if basis != "equal" else pd.Series(1 / len(g), index=g.index)
    out = pd.DataFrame({"gap": g["gap"], "ci_level": g["ci_level"], "ci_low": g["holm_ci_low"],
                        "ci_high": g["holm_ci_high"], "importance": weight, "basis": basis})
    out["priority"] = (-out["gap"]).clip(lower=0) * out["importance"]
    out = out.sort_values("priority", ascending=False, kind="mergesort")
    out = out.rename_axis("dimension").reset_index()
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def segment_tests(g_dim: pd.DataFrame, groups: dict[str, pd.Series], alpha: float
                  ) -> pd.DataFrame:
    """Dimension gaps compared across each segment: Welch (two levels: the difference of the
    second level's mean minus the first's, with its CI) or one-way ANOVA; Holm across the
    dimensions within each segment. ``means`` holds the mean gap per level."""
    import pingouin as pg

    rows = []
    for seg, labels in groups.items():
        data = g_dim.assign(_seg=labels.astype(str))
        levels = sorted(data["_seg"].dropna().unique())
        for dim in g_dim.columns:
            d = data[[dim, "_seg"]].dropna()
            row = {"segment": seg, "dimension": dim, "levels": levels,
                   "means": d.groupby("_seg")[dim].mean().to_dict(),
                   "difference": np.nan, "ci_low": np.nan, "ci_high": np.nan}
            if len(levels) == 2:
                r = compare.welch(d[d._seg == levels[0]][dim], d[d._seg == levels[1]][dim],
                                  alpha).iloc[0]
                row |= {"test": "Welch t", "statistic": r.statistic, "p_value": r.p_value,
                        "difference": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high}
            else:
                a = pg.anova(data=d, dv=dim, between="_seg").iloc[0]
                row |= {"test": "one-way ANOVA F", "statistic": a["F"], "p_value": a["p_unc"]}
            row["n"] = len(d)
            rows.append(row)
    cols = ["segment", "dimension", "test", "statistic", "p_value", "difference", "ci_low",
            "ci_high", "n", "levels", "means"]
    out = pd.DataFrame(rows, columns=cols)
    out["p_holm"] = np.nan
    for idx in out.groupby("segment").groups.values():
        out.loc[idx, "p_holm"] = compare.holm(out.loc[idx, "p_value"])
    return out


def posthoc(g_dim: pd.DataFrame, groups: dict[str, pd.Series]) -> pd.DataFrame:
    """Pairwise Welch tests between the levels of segments with more than two levels
    (pingouin ``pairwise_tests``, Holm-adjusted within each dimension)."""
    import pingouin as pg

    frames = []
    for seg, labels in groups.items():
        data = g_dim.assign(_seg=labels.astype(str))
        if data["_seg"].nunique() <= 2:
            continue
        for dim in g_dim.columns:
            t = pg.pairwise_tests(data=data[[dim, "_seg"]].dropna(), dv=dim, between="_seg",
                                  parametric=True, correction=True, padjust="holm")
            frames.append(t[["A", "B", "T", "p_unc", "p_corr"]].assign(segment=seg,
                                                                       dimension=dim))
    cols = ["segment", "dimension", "A", "B", "T", "p_unc", "p_corr"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
