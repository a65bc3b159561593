"""The SERVQUAL gap model's measurement core: instrument, scores, reliability, gaps.

The instrument is data (items → dimensions, reverse-coded items), read from a CSV; the default
is a 22-item, five-dimension instrument worded for this project (``instruments/servqual22.csv``).
Conventions (shared/domain.md §4): item gap = P − E; a respondent's dimension score is the mean
of that dimension's answered items when at least ``min_share`` of them are answered; unweighted
SERVQUAL = mean of the dimension gaps; weighted SERVQUAL = Σ (points/100) × dimension gap.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_INSTRUMENT = Path(__file__).resolve().parents[1] / "instruments" / "servqual22.csv"
DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")


def read_instrument(path: str | Path | None = None) -> pd.DataFrame:
    """item, dimension, wording, reverse (bool) — one row per item."""
    df = pd.read_csv(path or DEFAULT_INSTRUMENT, dtype={"item": str, "dimension": str})
    if "wording" not in df:  # optional: the item id stands in for the wording
        df["wording"] = df["item"]
    df["wording"] = df["wording"].fillna(df["item"]).astype(str)
    df["reverse"] = df.get("reverse", False)
    df["reverse"] = df["reverse"].astype(str).str.lower().isin(["true", "1", "yes"])
    return df


def instrument_problems(instrument: pd.DataFrame, min_items: int = 2) -> list[str]:
    """What is wrong with an instrument: unassigned or duplicate items, thin dimensions."""
    out = []
    missing = instrument["dimension"].isna() | (instrument["dimension"].astype(str).str.strip()
                                                == "")
    for item in instrument.loc[missing, "item"]:
        out.append(f"item {item!r} is mapped to no dimension")
    dup = instrument["item"][instrument["item"].duplicated()]
    out += [f"item {i!r} is listed twice" for i in dup.unique()]
    sizes = instrument[~missing].groupby("dimension")["item"].size()
    out += [f"dimension {d!r} has {k} item(s); at least {min_items} are needed"
            for d, k in sizes.items() if k < min_items]
    return out


def reverse_code(items: pd.DataFrame, instrument: pd.DataFrame, scale: tuple[int, int]
                 ) -> pd.DataFrame:
    """x → low + high − x for the instrument's reverse-coded items."""
    out = items.copy()
    low, high = scale
    for item in instrument.loc[instrument["reverse"], "item"]:
        if item in out:
            out[item] = low + high - out[item]
    return out


def dimension_scores(items: pd.DataFrame, instrument: pd.DataFrame, min_share: float = 0.5
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Respondent × dimension means of the answered items, NaN where fewer than ``min_share``
    of the dimension's items were answered; and a count table of those NaNs per dimension."""
    scores, counts = {}, []
    for dim, part in instrument.groupby("dimension", sort=False):
        cols = [i for i in part["item"] if i in items]
        answered = items[cols].notna().sum(axis=1)
        enough = answered >= math.ceil(min_share * len(cols))
        scores[dim] = items[cols].mean(axis=1).where(enough)
        counts.append({"dimension": dim, "items": len(cols), "respondents": len(items),
                       "too_few_answers": int((~enough).sum())})
    return pd.DataFrame(scores, index=items.index), pd.DataFrame(counts)


def servqual(dimension_gaps: pd.DataFrame, points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per respondent: unweighted SERVQUAL (mean of dimension gaps) and, with importance points
    (respondent × dimension, summing to 100), the weighted score Σ points/100 × gap."""
    out = pd.DataFrame({"unweighted": dimension_gaps.mean(axis=1, skipna=False)},
                       index=dimension_gaps.index)
    if points is not None:
        w = points[dimension_gaps.columns] / 100
        out["weighted"] = (w * dimension_gaps).sum(axis=1, min_count=len(dimension_gaps.columns))
    return out


def cronbach_alpha(items: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Cronbach's α on complete rows with Feldt's CI (R ``psych::alpha``: raw_alpha, feldt).

    Notes
    -----
    α = k/(k − 1) · (1 − Σ s_i² / s_total²); Feldt: 1 − (1 − α) · F quantiles with
    (n − 1, (n − 1)(k − 1)) degrees of freedom.
    """
    x = items.dropna().to_numpy(dtype=float)
    n, k = x.shape
    if k < 2 or n < 3:
        return {"alpha": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": n, "k": k}
    value = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    df1, df2 = n - 1, (n - 1) * (k - 1)
    from scipy import stats  # here: loading a survey needs no scipy

    lo = 1 - (1 - value) * stats.f.ppf(1 - alpha / 2, df1, df2)
    hi = 1 - (1 - value) * stats.f.ppf(alpha / 2, df1, df2)
    return {"alpha": value, "ci_low": lo, "ci_high": hi, "n": n, "k": k}


def item_analysis(items: pd.DataFrame) -> pd.DataFrame:
    """Per item: corrected item-total correlation (psych ``r.drop``) and α if the item is
    deleted (psych ``alpha.drop``), on complete rows."""
    x = items.dropna()
    rows = []
    for col in x.columns:
        rest = x.drop(columns=col)
        rows.append({"item": col, "r_drop": float(np.corrcoef(x[col], rest.sum(axis=1))[0, 1]),
                     "alpha_if_deleted": cronbach_alpha(rest)["alpha"]})
    return pd.DataFrame(rows)


def zone_of_tolerance(perceived: pd.Series, adequate: pd.Series, desired: pd.Series
                      ) -> pd.DataFrame:
    """Dimension means of P, adequate and desired levels with MSA = P − adequate (< 0: below the
    zone) and MSS = P − desired (> 0: above it)."""
    df = pd.DataFrame({"perceived": perceived, "adequate": adequate, "desired": desired})
    df["msa"] = df["perceived"] - df["adequate"]
    df["mss"] = df["perceived"] - df["desired"]
    df["position"] = np.select([df["msa"] < 0, df["mss"] > 0], ["below the zone",
                                                                 "above the zone"],
                               "inside the zone")
    return df.rename_axis("dimension").reset_index()


def straight_liners(answers: pd.DataFrame) -> pd.Series:
    """Respondents who gave the same answer to every item they answered (at least 5)."""
    answered = answers.notna().sum(axis=1)
    return (answers.nunique(axis=1) == 1) & (answered >= 5)


#: How respondents with unanswered E or P items enter the analysis (``missing`` param).
MISSING_RULES = ("complete_case", "available_case")


def complete_cases(expectations: pd.DataFrame, perceptions: pd.DataFrame) -> pd.Series:
    """True for respondents who answered every E and every P item (listwise deletion)."""
    return expectations.notna().all(axis=1) & perceptions.notna().all(axis=1)


def respondents_used(e_dim: pd.DataFrame, p_dim: pd.DataFrame, total: int) -> pd.DataFrame:
    """Per dimension: respondents in the survey, respondents with both an E and a P dimension
    score (the n of that dimension's gap), and those left out; a last row ``all`` counts the
    respondents with a gap on every dimension (the n of the SERVQUAL score)."""
    both = e_dim.notna() & p_dim.notna()
    rows = [{"dimension": d, "respondents": total, "used": int(both[d].sum())}
            for d in e_dim.columns]
    rows.append({"dimension": "all", "respondents": total, "used": int(both.all(axis=1).sum())})
    out = pd.DataFrame(rows)
    out["left_out"] = out["respondents"] - out["used"]
    return out
