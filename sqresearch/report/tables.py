"""Tables for people: units, sensible rounding, intervals, escaped text."""

from __future__ import annotations

import math
import re

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


def plural(noun: str) -> str:
    """'visit' -> 'visits', 'enquiry' -> 'enquiries', 'case' -> 'cases', 'box' -> 'boxes'."""
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "sh", "ch", "x", "z")) else "s")


def in_words_of(text: str, noun: str) -> str:
    """A KPI definition written for tickets, in the study's own word for a row (a visit)."""
    if noun == "ticket":
        return text
    text = re.sub(r"\btickets\b", plural(noun), text)
    return re.sub(r"\bticket\b", noun, text)


def kpi_by_level(tidy: pd.DataFrame, labels: dict[str, str] | None = None,
                 level: str = "level") -> pd.DataFrame:
    """Groups as rows, KPIs as columns, each cell the point estimate: the readable shape when
    there are many groups (twelve branches do not fit side by side with their intervals)."""
    labels = labels or {}
    tidy = tidy.assign(cell=[fmt(r.estimate, r.unit) for r in tidy.itertuples()],
                       KPI=[labels.get(k, lab) for k, lab in zip(tidy["kpi"], tidy["label"],
                                                                 strict=True)])
    wide = tidy.pivot(index="group", columns="KPI", values="cell")
    wide = wide.reindex(columns=list(dict.fromkeys(tidy["KPI"])))
    wide = wide.reindex(list(dict.fromkeys(tidy["group"])))
    return wide.rename_axis(None, axis=1).rename_axis(level.capitalize()).reset_index()


def html(df: pd.DataFrame, caption: str = "", classes: str = "") -> str:
    """A plain, escaped HTML table with an optional caption. Columns whose cells are numbers
    (plain or formatted: '87.3 %', '+2.1 min (0.4 to 3.9)', 'p < 0.001') are right-aligned
    (class ``sqr-num``), text columns left-aligned; raw floats get one number of decimals per
    column, integers thousands separators."""
    cols = [" · ".join(str(c) for c in col) if isinstance(col, tuple) else str(col)
            for col in df.columns]
    cells = [_column_text(df.iloc[:, j]) for j in range(df.shape[1])]
    numeric = [_numeric_column(c) for c in cells]
    head = [' class="sqr-num"' if num else "" for num in numeric]
    cls = " ".join(["sqr-table", *([classes] if classes else [])])
    out = [f'<table class="{_escape(cls)}">']
    if caption:
        out.append(f"<caption>{_escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f"<th{num}>{_escape(c)}</th>" for c, num in zip(cols, head,
                                                                         strict=True))
        + "</tr></thead><tbody>")
    for i in range(df.shape[0]):
        out.append("<tr>" + "".join(f"<td{_td_class(col[i], num)}>{_escape(col[i])}</td>"
                                    for col, num in zip(cells, numeric, strict=True)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_NOWRAP = 16  # characters: a short number never breaks inside ('−32.9 %', 'p = 0.002')


def _td_class(text: str, numeric: bool) -> str:
    if not numeric:
        return ""
    return ' class="sqr-num sqr-nowrap"' if len(text) <= _NOWRAP else ' class="sqr-num"'
_EMPTY = {"", _DASH, "—", "-", "n/a", "not available"}
_NUMBER = re.compile(
    r"^(p\s*[=<>]\s*|\d+(\.\d+)?\s*%:\s*)?([<>≤≥~≈×±]\s*)?[+\-−]?\s*\d[\d,.\u202f ]*(e[+\-−]?\d+)?"
    r"\s*(%|[a-z]{1,8}( [a-z]{1,6})?)?\s*(\(.*\)|to\s+[+\-−]?\d.*)?$", re.I)
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([ T].*)?$|^\d{4}-W\d{2}$")


def _numeric_column(cells: list[str]) -> bool:
    """True when every non-empty cell reads as a number (dates and periods are text)."""
    filled = [c.strip() for c in cells if c.strip() not in _EMPTY]
    return bool(filled) and all(_NUMBER.match(c) and not _DATE.match(c) for c in filled)


def _column_text(col: pd.Series) -> list[str]:
    """Every cell of a column as text; floats share one number of decimals per column."""
    values = [v.item() if hasattr(v, "item") and not isinstance(v, pd.Timestamp) else v
              for v in col.tolist()]
    floats = [v for v in values if isinstance(v, float) and math.isfinite(v)]
    decimals = None
    if floats and all(isinstance(v, float) or _missing(v) for v in values):
        if all(v == int(v) for v in floats):
            decimals = 0
        else:
            top = max(abs(v) for v in floats) or 1.0
            decimals = min(4, max(0, 2 - math.floor(math.log10(top))))
    return [_cell(v, decimals) for v in values]


def _missing(v) -> bool:
    try:
        return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
    except (TypeError, ValueError):
        return False


def _cell(v, decimals: int | None) -> str:
    if hasattr(v, "item") and not isinstance(v, pd.Timestamp):  # a numpy scalar
        v = v.item()
    if isinstance(v, list | tuple | set):
        return ", ".join(_cell(x, None) for x in v)
    if _missing(v):
        return _DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:,.{decimals}f}" if decimals is not None else f"{v:.3g}"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.strftime("%Y-%m-%d %H:%M")
    return str(v)


def _escape(text: str) -> str:
    from html import escape

    return escape(str(text), quote=True)
