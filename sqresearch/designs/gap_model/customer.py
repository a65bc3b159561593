"""The customer gap (gap 5): paired E–P comparisons per item and per dimension, the dimension
verdicts, and the overall SERVQUAL / SERVPERF scores. Pure functions on respondent tables."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.stats import compare, servqual, verdicts
from sqresearch.stats.describe import mean_ci

#: The shared verdict words read for a gap (P − E compared with no gap, not before vs after).
GAP_WORDS = {"improved": "exceeds expectations", "worsened": "falls short of expectations",
             "equivalent": "meets expectations (equivalent)", "not worse": "not worse",
             "inconclusive": "inconclusive"}
SCORES = (("unweighted", "SERVQUAL (unweighted)"),
          ("weighted", "SERVQUAL (weighted by importance points)"),
          ("servperf", "SERVPERF (perceptions only)"))


def paired(e: pd.DataFrame, p: pd.DataFrame, names, alpha: float) -> pd.DataFrame:
    """Per column: mean E and P over the respondents who answered both, the gap P − E with its
    paired t CI and SE, the Wilcoxon signed-rank p, n, and Holm over the columns."""
    rows = []
    for name in names:
        t = compare.paired_t(e[name], p[name], alpha).iloc[0]
        w = compare.wilcoxon_signed_rank(e[name], p[name], alpha).iloc[0]
        both = e[name].notna() & p[name].notna()
        d = (p[name] - e[name])[both]
        rows.append({"name": name, "E": e[name][both].mean(), "P": p[name][both].mean(),
                     "gap": t.estimate, "se": float(d.std(ddof=1) / math.sqrt(len(d)))
                     if len(d) > 1 else math.nan, "ci_low": t.ci_low, "ci_high": t.ci_high,
                     "t": t.statistic, "df": len(d) - 1, "p_value": t.p_value,
                     "wilcoxon_p": w.p_value, "n": int(t.n_before)})
    out = pd.DataFrame(rows)
    out["p_holm"] = compare.holm(out["p_value"])
    return out


def item_gaps(e: pd.DataFrame, p: pd.DataFrame, instrument: pd.DataFrame, alpha: float
              ) -> pd.DataFrame:
    """Per item: the paired comparison, with the item's dimension and wording."""
    out = paired(e, p, list(instrument["item"]), alpha)
    return instrument[["item", "dimension", "wording"]].merge(
        out, left_on="item", right_on="name").drop(columns="name")


def dimension_gaps(e_dim: pd.DataFrame, p_dim: pd.DataFrame, alpha: float, sesoi: float
                   ) -> pd.DataFrame:
    """Per dimension: the paired comparison and the verdict. The dimensions are the
    confirmatory family: Holm across them, each CI at its Holm step's level, and a gap whose
    CI lies within ± ``sesoi`` meets expectations."""
    out = paired(e_dim, p_dim, list(e_dim.columns), alpha).rename(columns={"name": "dimension"})
    rows = pd.DataFrame({
        "inference": [verdicts.wald(r.gap, r.se, r.n - 1, "paired_t", "paired t of P − E")
                      for r in out.itertuples()],
        "direction": "higher", "margin": sesoi, "guardrail": False, "family": "confirmatory"})
    judged = verdicts.judge_family(rows, alpha)
    out["ci_level"] = judged["ci_level"].to_numpy()
    out["holm_ci_low"] = judged["ci_low"].to_numpy()
    out["holm_ci_high"] = judged["ci_high"].to_numpy()
    out["verdict"] = judged["verdict"].map(GAP_WORDS).to_numpy()
    return out


def scores(g_dim: pd.DataFrame, p_dim: pd.DataFrame, points: pd.DataFrame | None,
           alpha: float) -> pd.DataFrame:
    """SERVQUAL (unweighted; weighted by importance points) and SERVPERF: the mean over the
    respondents with a score on every dimension, with its t interval."""
    per = servqual.servqual(g_dim, points)
    per["servperf"] = p_dim.mean(axis=1, skipna=False)
    rows = []
    for col, name in SCORES:
        if col in per:
            m, lo, hi, n = mean_ci(per[col], alpha)
            rows.append({"score": name, "key": col, "mean": m, "ci_low": lo, "ci_high": hi,
                         "n": n})
    return pd.DataFrame(rows)
