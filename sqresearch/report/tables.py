"""Tables for people: units, sensible rounding, intervals, escaped text."""

from __future__ import annotations

import math

import pandas as pd

_DASH = "–"
OPS = {">=": "≥", "<=": "≤"}


def fmt(value, unit: str = "") -> str:
    """One number as a reader wants it: '87.3 %', '12.4 min', '+32', '4,512'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _DASH
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "points":
        return f"{value:+.1f}"
    if unit == "contacts":
        return f"{value:,.0f}"
    if unit in ("min", "h", "business h"):
        digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 1 else 2)
        return f"{value:,.{digits}f} {unit}"
    if unit == "score":
        return f"{value:.2f}"
    if unit == "per 1,000":
        return f"{value:.1f}"
    return f"{value:.3g}"


def fmt_p(p: float, resamples: int | None = None) -> str:
    """'p = 0.012', 'p < 0.001'; a bootstrap p of 0 reads 'p < 1/B'."""
    if resamples and p == 0:
        return f"p < {1 / resamples:.2g}"
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def signed(value: float, unit: str = "") -> str:
    """A change with its sign, the way every verdict table shows it: '+4.2 %', '−0.13',
    '+3.5 points', '−2.1 min'; 'unbounded' for an infinite CI limit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _DASH
    if math.isinf(value):
        return "unbounded"
    sign = "−" if value < 0 else "+"
    size = abs(value)
    if unit in ("%", "points"):
        return f"{sign}{size:.1f} {unit}" if unit == "points" else f"{sign}{size:.1f} %"
    if unit in ("min", "h", "business h"):
        return sign + fmt(size, unit)
    digits = 2 if size >= 0.1 or size == 0 else 3
    return f"{sign}{size:.{digits}f}" + (f" {unit}" if unit not in ("", "score") else "")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'no caveats', '1 caveat', '3 caveats'."""
    word = noun if n == 1 else (plural or noun + "s")
    return f"no {word}" if n == 0 else f"{n:,} {word}"


def fmt_ci(lo, hi, unit: str = "") -> str:
    if all(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lo, hi)):
        return ""
    lo_s = fmt(lo, unit) if not _nan(lo) else "?"
    hi_s = fmt(hi, unit) if not _nan(hi) else "not reached"
    strip = (" business h", " min", " h", " %")  # longest first
    for suffix in strip:  # the unit once, after the upper end
        if lo_s.endswith(suffix) and hi_s.endswith(suffix):
            lo_s = lo_s[: -len(suffix)]
            break
    return f"{lo_s} to {hi_s}"


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_estimate(est, lo, hi, unit) -> str:
    ci = fmt_ci(lo, hi, unit)
    return f"{fmt(est, unit)} ({ci})" if ci else fmt(est, unit)


def kpi_wide(tidy: pd.DataFrame, labels: dict[str, str] | None = None,
             order: list[str] | None = None) -> pd.DataFrame:
    """KPIs as rows, groups as columns, each cell 'estimate (CI)'; an 'n' row is not added —
    the caption says the intervals' level."""
    labels = labels or {}
    tidy = tidy.assign(cell=[fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit)
                             for r in tidy.itertuples()],
                       KPI=[labels.get(k, lab) for k, lab in zip(tidy["kpi"], tidy["label"],
                                                                 strict=True)])
    wide = tidy.pivot(index=["kpi", "KPI"], columns="group", values="cell")
    kpis = order or list(dict.fromkeys(tidy["kpi"]))
    wide = wide.reindex([k for k in kpis if k in wide.index.get_level_values(0)], level=0)
    return wide.droplevel(0).rename_axis(None, axis=1).reset_index()


def html(df: pd.DataFrame, caption: str = "") -> str:
    """A plain, escaped HTML table with an optional caption."""
    body = df.to_html(index=False, na_rep=_DASH, escape=True, border=0,
                      classes="sqr-table")
    if caption:
        body = body.replace("<thead>", f"<caption>{_escape(caption)}</caption><thead>", 1)
    return body


def _escape(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
