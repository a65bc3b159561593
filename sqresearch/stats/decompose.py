"""Mix-versus-rate decomposition of a change in an aggregate KPI across sub-segments (Kitagawa
1955, "Components of a difference between two rates", JASA 50:1168–1194; the two-factor case of
Das Gupta 1993, "Standardization and decomposition of rates: a user's manual", US Census Bureau
P23-186).

An aggregate KPI is a share-weighted average of its sub-segments' values (e.g. channels):
R = Σ_i c_i v_i with c_i = n_i / Σ n the segment's share of volume. Between baseline (0) and the
current period (1), with midpoint weights c̄_i = (c0_i + c1_i)/2 and v̄_i = (v0_i + v1_i)/2,

    R1 − R0 = Σ_i c̄_i (v1_i − v0_i)  +  Σ_i v̄_i (c1_i − c0_i)
            =      rate effect        +       mix effect

exactly (c1v1 − c0v0 = c̄Δv + v̄Δc term by term), with no interaction residual. Per segment the
rate part is c̄_i Δv_i. The mix part is reported centred, (v̄_i − R̄) Δc_i with
R̄ = (R0 + R1)/2: Σ Δc_i = 0, so centring leaves the total mix effect unchanged, and a segment's
mix part then reads "volume moved into a slower-than-average segment" (the uncentred v̄_i Δc_i
would credit every growing segment with a large positive part whatever its level).

Durations (``scale="log"``): v_i are segment geometric means, decomposed on the log scale
(log GM = Σ c_i mean log d_i); ``exp`` of each part is a multiplicative factor, and
exp(rate) × exp(mix) = GM1 / GM0.

A segment seen in one period only has no value in the other; its value there is taken as equal
to the one seen, so its rate part is 0 and all of its change is mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io.errors import DataError, Problem

SCALES = ("linear", "log")


class DecompositionDataError(DataError):
    """A table the mix-versus-rate decomposition cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> DecompositionDataError:
    return DecompositionDataError("mix-versus-rate decomposition", Problem(where, what, fix))


@dataclass(frozen=True)
class Decomposition:
    """``table``: segment, n_base, n_current, share_base, share_current, value_base,
    value_current, rate_part, mix_part, contribution (rate_part + mix_part); on the log scale
    the value columns are geometric means and the parts are in log units."""

    table: pd.DataFrame
    scale: str
    baseline: float  # aggregate KPI (geometric mean when scale="log")
    current: float
    total: float  # current − baseline (difference of logs when scale="log")
    rate_effect: float
    mix_effect: float

    @property
    def driver(self) -> str:
        """"rate" or "mix": the larger of the two effects in absolute size."""
        return "rate" if abs(self.rate_effect) >= abs(self.mix_effect) else "mix"

    @property
    def top_segment(self):
        """The segment contributing most in the direction of the total change."""
        t = self.table
        return t["segment"].iloc[int(np.argmax(np.sign(self.total or 1) * t["contribution"]))]

    @property
    def method(self) -> str:
        where = "log scale (geometric means)" if self.scale == "log" else "linear scale"
        return f"Kitagawa (1955) mix-vs-rate decomposition with midpoint weights, {where}"

    def summary(self) -> pd.DataFrame:
        """One row: scale, baseline, current, total, rate_effect, mix_effect, driver,
        top_segment, ratio columns (exp of total/rate/mix; NaN on the linear scale), method."""
        log = self.scale == "log"
        return pd.DataFrame([{
            "scale": self.scale, "baseline": self.baseline, "current": self.current,
            "total": self.total, "rate_effect": self.rate_effect, "mix_effect": self.mix_effect,
            "driver": self.driver, "top_segment": self.top_segment,
            "total_ratio": np.exp(self.total) if log else np.nan,
            "rate_ratio": np.exp(self.rate_effect) if log else np.nan,
            "mix_ratio": np.exp(self.mix_effect) if log else np.nan, "method": self.method}])


def kitagawa(table: pd.DataFrame, segment: str, n_base: str, n_current: str, value_base: str,
             value_current: str, *, scale: str = "linear") -> Decomposition:
    """Decompose from one row per segment: volumes (ticket counts, the weights) and the
    segment's KPI value in each period (a mean or rate; a geometric mean when ``scale="log"``).
    A value may be missing (NaN) where its period's volume is 0."""
    if scale not in SCALES:
        raise _fail(f"scale must be one of {SCALES}, not {scale!r}", "use 'linear' or 'log'")
    cols = [segment, n_base, n_current, value_base, value_current]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise _fail(f"no column(s) {missing}; the table has {list(table.columns)}",
                    "name the segment, volume and value columns", "columns")
    if table[segment].duplicated().any():
        raise _fail("a segment appears on more than one row", "one row per segment",
                    f"column '{segment}'")
    seg = table[segment].to_numpy()
    n0, n1 = (pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
              for c in (n_base, n_current))
    v0, v1 = (pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
              for c in (value_base, value_current))
    for c, n in ((n_base, n0), (n_current, n1)):
        if np.isnan(n).any() or (n < 0).any() or n.sum() <= 0:
            raise _fail("volumes must be counts ≥ 0 with a positive total",
                        "fix the volume column", f"column '{c}'")
    for c, n, v in ((value_base, n0, v0), (value_current, n1, v1)):
        bad = (n > 0) & np.isnan(v)
        if bad.any():
            raise _fail(f"no value for segments {seg[bad].tolist()[:5]} that have volume",
                        "give every segment with tickets a value", f"column '{c}'")
    if scale == "log":
        for c, n, v in ((value_base, n0, v0), (value_current, n1, v1)):
            if ((n > 0) & ~(v > 0)).any():
                raise _fail("geometric means must be > 0 on the log scale",
                            "drop zero durations or use scale='linear'", f"column '{c}'")
        v0, v1 = np.log(v0), np.log(v1)
    v0 = np.where(n0 > 0, v0, v1)  # a segment seen once: no rate change, all mix
    v1 = np.where(n1 > 0, v1, v0)
    if np.isnan(v0).any():
        raise _fail("a segment has no volume in either period", "drop it",
                    f"column '{segment}'")
    c0, c1 = n0 / n0.sum(), n1 / n1.sum()
    r0, r1 = float(c0 @ v0), float(c1 @ v1)
    rate = (c0 + c1) / 2 * (v1 - v0)
    mix = ((v0 + v1) / 2 - (r0 + r1) / 2) * (c1 - c0)
    out = pd.DataFrame({"segment": seg, "n_base": n0, "n_current": n1, "share_base": c0,
                        "share_current": c1,
                        "value_base": np.exp(v0) if scale == "log" else v0,
                        "value_current": np.exp(v1) if scale == "log" else v1,
                        "rate_part": rate, "mix_part": mix, "contribution": rate + mix})
    back = np.exp if scale == "log" else float
    return Decomposition(out, scale, float(back(r0)), float(back(r1)), r1 - r0,
                         float(rate.sum()), float(mix.sum()))


def decompose(data: pd.DataFrame, segment: str, value: str, period: str, baseline, current, *,
              scale: str = "linear") -> Decomposition:
    """Decompose from one row per ticket: ``period`` holds ``baseline`` or ``current`` (other
    rows are ignored), ``value`` the KPI (a 0/1 flag for a rate; a duration > 0 for
    ``scale="log"``, decomposed as geometric means)."""
    missing = [c for c in (segment, value, period) if c not in data.columns]
    if missing:
        raise _fail(f"no column(s) {missing}; the table has {list(data.columns)}",
                    "name the segment, value and period columns", "columns")
    d = data.loc[data[period].isin([baseline, current]), [segment, value, period]].copy()
    d[value] = pd.to_numeric(d[value], errors="coerce")
    if d[value].isna().any():
        raise _fail(f"{int(d[value].isna().sum())} missing or non-numeric values",
                    "drop or fix those rows", f"column '{value}'")
    for p in (baseline, current):
        if not (d[period] == p).any():
            raise _fail(f"no rows for period {p!r}", "choose periods present in the data",
                        f"column '{period}'")
    if scale == "log":
        if (d[value] <= 0).any():
            raise _fail(f"{int((d[value] <= 0).sum())} values ≤ 0 cannot be logged",
                        "drop zero durations or use scale='linear'", f"column '{value}'")
        d[value] = np.log(d[value])
    g = d.groupby([segment, period])[value].agg(["size", "mean"]).unstack(period)
    table = pd.DataFrame({
        "segment": g.index, "n0": g[("size", baseline)].fillna(0).to_numpy(),
        "n1": g[("size", current)].fillna(0).to_numpy(),
        "v0": g[("mean", baseline)].to_numpy(), "v1": g[("mean", current)].to_numpy()})
    if scale == "log":
        table[["v0", "v1"]] = np.exp(table[["v0", "v1"]])
    return kitagawa(table, "segment", "n0", "n1", "v0", "v1", scale=scale)
