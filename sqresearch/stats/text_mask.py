"""Personal data masked out of complaint text before anything is counted or shown.

:func:`mask` replaces, in this order, e-mail addresses by ``‹email›``, order numbers (a pattern
the study gives) by ``‹order›``, Chinese resident-ID-shaped numbers by ``‹id›``, bank-card
numbers (13 to 19 digits, groups of three or more separated by a space or dash, passing the Luhn
check) by ``‹card›``, phone numbers (Chinese mobiles with or without +86 / 0086 and separators,
international numbers written with + or 00, trunk and North-American forms; 8 to 15 digits) by
``‹phone›`` and the values of the row's declared personal columns (a customer's name) by
``‹name›``. Order numbers go first, so a phone-shaped run inside an order number is one
``‹order›``; cards go before phones, so no card group is read as a trunk phone number.

The text is first normalised: NFKC (full-width digits ０-９, ＠ and ＋ become ASCII, so they
cannot hide a number) and zero-width, soft-hyphen and bidirectional control characters removed
(they cannot split an address). Every pattern is linear in the text's length, so a very long or
hostile text is masked whole, never cut first (a cut could leave half an address).

The e-mail and phone patterns and the ISO 7064 MOD 11-2 check are those of
``io/personal.py`` (the personal-data guard and ``mask_text``), shared, not copied.
References: Luhn, US patent 2,950,048 (1960), ISO/IEC 7812-1 annex B; GB 11643-1999 (ISO 7064
MOD 11-2) for the resident identity number's check character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from sqresearch.io.personal import EMAIL, PHONE, cn_id_check_digit, phone_digits_ok

TOKENS = {"email": "‹email›", "order": "‹order›", "id": "‹id›", "phone": "‹phone›",
          "card": "‹card›", "name": "‹name›"}
#: a mask token in a text (the tokeniser drops them)
MASK_TOKEN = re.compile("‹(?:" + "|".join(TOKENS) + ")›")
#: zero-width characters, soft hyphen, Mongolian vowel separator, bidi marks and controls, BOM
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                       "\u2066-\u2069\ufeff]")
#: an 18-character resident ID: region (6), birth date YYYYMMDD, sequence (3), check (digit or
#: X), optionally spaced 6-8-4; masked whether or not the check character is right
ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])\d{6} ?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
                       r"(?:0[1-9]|[12]\d|3[01]) ?\d{3}[0-9Xx](?![0-9A-Za-z])")
#: a run of digit groups separated by single spaces or dashes (candidates for a card)
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z+])\d+(?:[ \-]\d+)*(?![0-9A-Za-z])")
_GROUP = re.compile(r"\d+")
CARD_DIGITS = (13, 19)
#: digits in each group of a card written with separators at least (4-4-4-4, 4-6-5, 6-13 …)
CARD_GROUP = 3
#: a personal value shorter than this is not masked (a one-letter initial would mask every
#: occurrence of that letter)
MIN_NAME = 2


class MaskSettingsError(ValueError):
    """An order-number pattern that is not a regular expression, with the fix."""


def luhn_ok(number: str) -> bool:
    """The Luhn (mod 10) check of a card number's digits (separators ignored):
    ``luhn_ok("4111 1111 1111 1111")`` is True, ``luhn_ok("4111 1111 1111 1112")`` False."""
    digits = [int(c) for c in number if c.isdigit()]
    if not digits:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def cn_id_ok(number: str) -> bool:
    """An 18-character resident ID whose last character is its ISO 7064 MOD 11-2 check
    (the published example 11010519491231002X is valid)."""
    s = number.replace(" ", "").upper()
    return (len(s) == 18 and s[:17].isascii() and s[:17].isdigit()
            and cn_id_check_digit(s[:17]) == s[17])


def normalise(text) -> str:
    """NFKC, then zero-width, soft-hyphen and bidi control characters removed; None/NaN -> ''."""
    if text is None or (not isinstance(text, str) and bool(pd.isna(text))):
        return ""
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", str(text)))


def order_regex(pattern: str | None) -> re.Pattern | None:
    """The study's order-number pattern compiled (None: no order numbers masked)."""
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise MaskSettingsError(
            f"the order-number pattern {pattern!r} is not a regular expression ({err}); write "
            r"it as a Python regular expression, e.g. 'ORD-?\d{10}'") from None


def _cards(run: re.Match) -> str:
    """A run of digit groups with every group-aligned span of 13-19 digits (groups of three
    digits or more) that passes Luhn replaced by ``‹card›`` (longest span first, left to
    right)."""
    text = run.group(0)
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(text)]
    out, at, i = [], 0, 0
    while i < len(groups):
        spans, n, j = [], 0, i
        while (j < len(groups) and groups[j][1] - groups[j][0] >= CARD_GROUP
               and n + groups[j][1] - groups[j][0] <= CARD_DIGITS[1]):
            n += groups[j][1] - groups[j][0]
            if n >= CARD_DIGITS[0]:
                spans.append(j)
            j += 1
        found = next((j for j in reversed(spans)
                      if luhn_ok(text[groups[i][0]:groups[j][1]])), None)
        if found is None:
            i += 1
            continue
        out += [text[at:groups[i][0]], TOKENS["card"]]
        at = groups[found][1]
        i = found + 1
    return "".join(out) + text[at:]


def _names_regex(names: Iterable) -> re.Pattern | None:
    values = {normalise(v).strip() for v in names if v is not None}
    values = sorted((v for v in values if len(v) >= MIN_NAME), key=lambda v: (-len(v), v))
    if not values:
        return None
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, values)) +
                      r")(?![A-Za-z0-9])", re.IGNORECASE)


def mask(text, order: str | re.Pattern | None = None, names: Iterable = ()) -> str:
    """A text with its personal data replaced by typed tokens (see the module docstring).

    Parameters
    ----------
    text : the free text (None/NaN give '')
    order : the order-number pattern (a regular expression, or compiled), or None
    names : values of the row's declared personal columns, masked where they occur exactly
        (case-insensitive; Latin values only as whole words); values under two characters
        are skipped
    """
    s = normalise(text)
    s = EMAIL.sub(TOKENS["email"], s)
    pattern = order_regex(order) if isinstance(order, str | None) else order
    if pattern is not None:
        s = pattern.sub(TOKENS["order"], s)
    s = ID_SHAPED.sub(TOKENS["id"], s)
    s = _DIGIT_RUN.sub(_cards, s)
    s = PHONE.sub(lambda m: TOKENS["phone"] if phone_digits_ok(m) else m.group(0), s)
    named = _names_regex(names)
    return named.sub(TOKENS["name"], s) if named is not None else s


def mask_column(frame: pd.DataFrame, text: str, personal: Iterable[str] = (),
                order: str | None = None) -> pd.Series:
    """``frame[text]`` masked row by row, each row's own values of the ``personal`` columns
    masked as ``‹name›``."""
    pattern = order_regex(order)
    cols = list(personal)
    rows = frame[cols].itertuples(index=False, name=None) if cols else ((),) * len(frame)
    return pd.Series([mask(t, pattern, names) for t, names in zip(frame[text], rows,
                                                                    strict=True)],
                     index=frame.index, name=text, dtype=object)


def masked_counts(texts: Iterable[str]) -> pd.DataFrame:
    """How much was masked, per kind: ``kind``, ``token``, ``occurrences``, ``texts`` (texts
    holding at least one) — for the report's data-protection note, never the values."""
    texts = list(texts)
    rows = []
    for kind, token in TOKENS.items():
        hits = [t.count(token) for t in texts]
        rows.append((kind, token, sum(hits), sum(h > 0 for h in hits)))
    return pd.DataFrame(rows, columns=["kind", "token", "occurrences", "texts"])
