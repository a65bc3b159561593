"""The checks of ``io.data`` as engine expressions, for ``io.lazy``: a role column typed (text
cast only where it reads as the type, on every engine), its bad rows and missing-value codes
flagged, other columns typed as ``values.typed`` would type them, and text timestamps that need
the in-memory reader's rules found."""

from __future__ import annotations

import contextvars

from sqresearch.io.data import _TRUE, Role
from sqresearch.io.schemas import DataSource

#: the engine the expressions being built will run on (for ``try_cast``)
_BACKEND: contextvars.ContextVar[str] = contextvars.ContextVar("backend", default="duckdb")


def strip(col):
    """``col.strip()`` where the value starts or ends with a character at or below U+0020, else
    the value as it is: every character an engine's strip removes is one (Ibis strips
    ``string.whitespace``; Spark's trim, spaces), so the result is the same, and the test costs
    a fraction of the trim with a set of characters (in DuckDB, 10 million short values: a
    copy 2.5 s, the trim 7 s, the test and copy 2.9 s)."""
    import ibis

    edge = ((col.ascii_str() <= 32) | (col.right(1).ascii_str() <= 32)).fill_null(False)
    return ibis.ifelse(edge, col.strip(), col)


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The table needs the in-memory reader; ``str(exc)`` says why."""


def keep_types(t, kept: list[str], src: DataSource) -> dict[str, tuple[str, str, int]]:
    """Each other column's type as ``values.typed`` chooses it: (kind, how, non-empty rows).
    Declared types are taken; text columns become numbers when every value is one.

    A text column declared text or category, or holding a value that is not a number (one row
    found is enough: the engine stops there), is text without a pass over the table; its
    non-empty rows are then counted with the caller's own pass (``None`` in their place)."""
    aggs, text_cols = {}, set()
    for c in kept:
        col = t[c]
        if col.type().is_string() and (src.types.get(c) in ("category", "text") or (
                src.types.get(c) is None and _holds_text(t, c, src))):
            text_cols.add(c)
        elif col.type().is_string():
            text = strip(col)
            text = text.replace(",", ".") if src.decimal == "," else text
            filled = (text != "").fill_null(False)
            num = try_cast(text, "float64")
            aggs[f"f_{c}"] = trues(filled)
            aggs[f"n_{c}"] = trues(filled & num.notnull())
            aggs[f"w_{c}"] = trues((filled & (num == num.round())).fill_null(False))
        else:
            aggs[f"f_{c}"] = col.count()
            num = as_float(col) if col.type().is_numeric() else None
            aggs[f"w_{c}"] = (trues((num == num.round()).fill_null(False))
                              if num is not None else col.count())
            aggs[f"n_{c}"] = col.count()
    got = t.aggregate(**aggs).to_pandas().iloc[0].fillna(0).astype(int) if aggs else {}
    out = {}
    for c in kept:
        declared = src.types.get(c)
        if c in text_cols:
            out[c] = ("text", f"{declared} (declared)" if declared else
                      "text (inferred: not every value is a number)", None)
            continue
        filled, numbers, whole = got[f"f_{c}"], got[f"n_{c}"], got[f"w_{c}"]
        numeric_type = t[c].type().is_numeric() and not t[c].type().is_boolean()
        if declared in ("category", "text"):
            out[c] = ("text", f"{declared} (declared)", filled)
        elif numeric_type:
            kind = declared or ("integer" if whole == filled else "number")
            out[c] = (kind, f"{kind} (from the file)", filled)
        elif declared is None and (filled == 0 or numbers < filled):
            out[c] = ("text", "text (inferred: not every value is a number)", filled)
        else:
            kind = declared or ("integer" if whole == filled else "number")
            how = "declared" if declared else "inferred: every value is a number"
            if numbers < filled:
                raise Fallback(f"column {c} holds values that are not numbers")
            out[c] = (kind, f"{kind} ({how})", numbers)
    return out


def _holds_text(t, c: str, src: DataSource) -> bool:
    """Whether column ``c`` has a non-empty value the engine does not read as a number."""
    text = strip(t[c])
    text = text.replace(",", ".") if src.decimal == "," else text
    probe = t.filter(((text != "") & try_cast(text, "float64").isnull()).fill_null(False))
    return len(probe.select(c).limit(1).to_pandas()) > 0


def keep_value(col, kind: str, src: DataSource):
    import ibis

    if kind == "text":
        text = strip(col.cast("string"))
        return ibis.ifelse(text == "", ibis.null("string"), text)
    if col.type().is_string():
        text = strip(col)
        col = try_cast(text.replace(",", ".") if src.decimal == "," else text, "float64")
    return col.cast("int64" if kind == "integer" else "float64")


def typed(col, spec: Role, src: DataSource, role: str, names, dtype):
    """(typed value, bad-row flag, missing-code flag or None) of one role column."""
    import ibis

    text_in = dtype.is_string()
    empty = col.isnull() | (strip(col.cast("string")) == "") if text_in else col.isnull()
    if spec.kind == "timestamp":
        if not text_in and getattr(dtype, "timezone", None) is not None:
            raise Fallback(f"time-zone-aware timestamps ({role}) are converted in memory")
        value = try_cast(strip(col), "timestamp") if text_in else col.cast("timestamp")
        return value, ibis.literal(False), None
    if spec.kind in ("score", "count"):
        if text_in:
            text = strip(col)
            if src.decimal == ",":
                text = text.replace(",", ".")
            num = try_cast(text, "float64")
        else:
            num = as_float(col)
        codes = src.missing_codes.get(role, [])
        coded = num.isin([float(c) for c in codes]).fill_null(False) if codes else None
        if coded is not None:
            num = ibis.ifelse(coded, ibis.null("float64"), num)
        whole = spec.integer or spec.kind == "count"
        ok = num.isnull() | (num == num.round()) if whole else ibis.literal(True)
        ok = ok & (num.isnull() | ((num >= 0) if spec.kind == "count" else
                                   ((num >= spec.low) & (num <= spec.high))))
        unparsed = num.isnull() & ~empty
        if coded is not None:
            unparsed = unparsed & ~coded
        return num, (~ok.fill_null(True)) | unparsed, coded
    if spec.kind == "bool":
        if text_in:
            low = strip(col).lower()
            value = ibis.cases((low.isin(sorted(_TRUE)), 1.0),
                               (low.isin(["false", "f", "no", "n", "0", "0.0"]), 0.0),
                               else_=ibis.null("float64"))
        else:
            num = as_float(col)
            value = ibis.ifelse(num.isin([0.0, 1.0]), num, ibis.null("float64"))
        return value, value.isnull() & ~empty, None
    if spec.kind == "id":
        text = strip(col.cast("string"))
        text = ibis.ifelse(text == "", ibis.null("string"), text)
        return text, text.isnull(), None
    return strip(col.cast("string")), ibis.literal(False), None  # "" kept, as in io.data


#: a UTC offset or zone letter at the end of a timestamp written as text
_OFFSET = r"([+-][0-9]{2}(:?[0-9]{2})?|Z|UTC)$"


#: what a number and an ISO 8601 timestamp look like as text (for engines without TRY_CAST)
_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_ISO = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
        r"([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?)?$")


def try_cast(text, to: str):
    """``text`` cast to ``to`` where it reads as one, else NULL, on every engine: PostgreSQL
    has no TRY_CAST (Ibis compiles it to CAST, which fails the query), so the text is checked
    against the shape of a number or an ISO 8601 timestamp first."""
    import ibis

    backend = _BACKEND.get()
    if backend in ("duckdb", "spark"):
        return text.try_cast(to)
    shape = _NUMBER if to.startswith("float") else _ISO
    return ibis.ifelse(text.re_search(shape), text, ibis.null("string")).cast(to)


def as_float(col):
    """A number or boolean column as float64 (true 1, false 0; PostgreSQL casts no boolean)."""
    import ibis

    if col.type().is_boolean():
        return ibis.cases((col, 1.0), (~col, 0.0), else_=ibis.null("float64"))
    return col.cast("float64")


def trues(flag):
    """How many rows a boolean expression holds for (PostgreSQL cannot cast booleans to
    integers, so the sum is over a CASE)."""
    return flag.ifelse(1, 0).sum()


def odd_stamp(col):
    """A timestamp written as text that does not read as ISO 8601 without an offset (such
    rows need the in-memory reader's rules and messages)."""
    text = strip(col)
    return ((text != "") & (try_cast(text, "timestamp").isnull() | text.re_search(_OFFSET))
            ).fill_null(False)
