"""What an interrupted time series returns (``ItsResult``: coefficients, the series with its
counterfactual and band, the cumulative and end effects, notes), the Ljung–Box check of the
residuals that both models report, and the note on an effect that fades (``_fading``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.stats.its_calendar import _date_of


@dataclass
class ItsResult:
    """What ``interrupted_time_series`` returns.

    coefficients: term, label, estimate, se, t, df, p_value, ci_low, ci_high, z (= t, old name)
    series: date, t, observed, fitted, counterfactual, pi_low, pi_high, post, washout
    ljung_box: statistic, lag, p_value, text; cumulative / end: estimate, se, ci_low, ci_high, ...
    """

    coefficients: pd.DataFrame
    series: pd.DataFrame
    lags: int | None
    lag_rule: str
    seasonal: str
    n: int
    freq: str = "week"
    df: float = math.inf
    ljung_box: dict = field(default_factory=dict)
    cumulative: dict = field(default_factory=dict)
    end: dict = field(default_factory=dict)
    fading: bool = False
    fading_text: str = ""
    model: str = "segmented"
    t0: int = 0
    t0_date: pd.Timestamp | None = None
    alpha: float = 0.05
    notes: list[str] = field(default_factory=list)
    errors: str = "ar1"
    phi: float | None = None

    def term(self, name: str) -> pd.Series:
        return self.coefficients.set_index("term").loc[name]

    def summary(self) -> pd.DataFrame:
        """The coefficient table (tidy)."""
        return self.coefficients

    def effects(self) -> pd.DataFrame:
        """Level change, slope change (segmented model), cumulative effect and the effect at the
        last post period, one row each, with CI and p-value."""
        rows = []
        if self.model == "segmented":
            for term in ("post", "since"):
                r = self.term(term)
                rows.append({"effect": "level change" if term == "post" else "slope change",
                             "label": r.label, "estimate": r.estimate, "se": r.se,
                             "statistic": r.t, "df": r.df, "p_value": r.p_value,
                             "ci_low": r.ci_low, "ci_high": r.ci_high, "periods": np.nan})
        for name, d in (("average effect", self.cumulative.get("average")),
                        ("cumulative effect", self.cumulative), ("effect at the end", self.end)):
            if not d:
                continue
            rows.append({"effect": name, "label": d["label"], "estimate": d["estimate"],
                         "se": d["se"], "statistic": d["statistic"], "df": self.df,
                         "p_value": d["p_value"], "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                         "periods": d.get("periods", 1)})
        return pd.DataFrame(rows)


def ljung_box(resid: np.ndarray, lag: int | None = None) -> dict:
    """Ljung–Box test on residuals in time order; lag = min(10, floor(n/5)) unless given."""
    from statsmodels.stats.diagnostic import acorr_ljungbox

    resid = np.asarray(resid, float)
    resid = resid[np.isfinite(resid)]
    lag = max(1, min(10, len(resid) // 5)) if lag is None else lag
    out = acorr_ljungbox(resid, lags=[lag], return_df=True)
    q, p = float(out["lb_stat"].iloc[0]), float(out["lb_pvalue"].iloc[0])
    if p < 0.05:
        text = (f"Ljung–Box Q = {q:.2f} on {lag} lags (p = {p:.2g}): the residuals are "
                "autocorrelated; the Newey–West errors allow for it, but with strong "
                "autocorrelation in a short series the intervals may still be too narrow.")
    else:
        text = (f"Ljung–Box Q = {q:.2f} on {lag} lags (p = {p:.2g}): no residual "
                "autocorrelation detected at 5 % (the test has little power on short series).")
    return {"statistic": q, "lag": lag, "p_value": p, "text": text}


def _signed(v: float) -> str:
    return f"{v:+.3g}"


def _fading(b2: float, b3: float, s_last: float, unit: str, t0_date, freq: str,
            end: dict, show=_signed) -> tuple[bool, str]:
    if not (b2 * b3 < 0 and s_last > 0):
        return False, ""
    cross = -b2 / b3  # periods after T0 where the implied effect reaches zero
    if s_last < cross / 2:
        return False, ""
    if s_last >= cross:
        where = (f"crosses zero about {cross:.0f} {unit}s after the intervention "
                 f"(around {_date_of(round(cross), t0_date, freq):%Y-%m-%d})")
    else:
        where = f"has shrunk to {show(end['estimate'])} by the last period"
    return True, (f"The slope change ({show(b3)} per {unit}) runs against the level change "
                  f"({show(b2)}): on the point estimates the implied effect {where}, so the jump "
                  f"may be fading. Judge the lasting effect by the effect at the end "
                  f"({show(end['estimate'])}, CI {show(end['ci_low'])} to "
                  f"{show(end['ci_high'])}), not by the level change.")
