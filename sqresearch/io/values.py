"""Values of columns that are not timestamps: numbers written with a decimal comma, and the type
of a column that is not a role (segments, covariates, units, periods), declared or inferred."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

DECIMAL_COMMA = re.compile(r"(?<![\d,])\d+,\d+(?![\d,])")


def decimal_point(text: pd.Series, decimal: str) -> pd.Series:
    """Numbers written with a decimal comma (3,5) as Python reads them (3.5)."""
    return text.str.replace(",", ".", regex=False) if decimal == "," else text


def typed(col: pd.Series, declared: str | None, decimal: str = "."
          ) -> tuple[pd.Series, np.ndarray, str]:
    """A non-role column with its type: (values, bad-row mask, how the type was chosen).

    Declared ``number``/``integer`` columns must parse (bad values are reported); ``category``
    and ``text`` stay text. Undeclared columns become numbers when every non-empty value is one
    (so a covariate never turns into a factor by accident), else stay text."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and \
            declared not in ("category", "text"):
        num = col.astype(float)
        whole = bool(np.all(np.isnan(num) | (num == np.round(num))))
        kind = declared or ("integer" if whole else "number")
        if kind == "integer" and whole:
            return num.astype("Int64"), np.zeros(len(col), dtype=bool), f"{kind} (from the file)"
        bad = ~np.isnan(num.to_numpy()) & (num != np.round(num)).to_numpy() \
            if kind == "integer" else np.zeros(len(col), dtype=bool)
        return num, bad, f"{kind} (from the file)"
    text = col.astype("string").str.strip()
    text = text.mask(text == "")
    if declared in ("category", "text"):
        return text, np.zeros(len(col), dtype=bool), f"{declared} (declared)"
    num = pd.to_numeric(decimal_point(text, decimal).str.replace(r"^\+", "", regex=True),
                        errors="coerce")
    filled = text.notna().to_numpy()
    bad = filled & num.isna().to_numpy()
    if declared is None:
        if not filled.any() or bad.any():
            return text, np.zeros(len(col), dtype=bool), "text (inferred: not every value is " \
                "a number)"
        declared_how = "inferred: every value is a number"
    else:
        declared_how = "declared"
    whole = bool(np.all(num.isna() | (num == np.round(num))))
    if declared == "integer":
        bad |= filled & ~num.isna().to_numpy() & (num != np.round(num)).to_numpy()
    kind = declared or ("integer" if whole else "number")
    if kind == "integer" and not bad.any():
        return num.astype("Int64"), bad, f"integer ({declared_how})"
    return num.astype(float), bad, f"{kind} ({declared_how})"
