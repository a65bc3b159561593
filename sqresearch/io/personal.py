"""The personal-data guard: columns that look personal, by name or by content, and text masking.

``data.personal`` drops or pseudonymises the columns a study declares. This module finds the ones
it did not declare: :func:`findings` looks at a column's name (e-mail, phone, name, address,
national id, date of birth, a customer or user identifier — in English or Chinese, whatever the
case and separators) and at a bounded, evenly spaced sample of its values (e-mail addresses,
phone numbers, national-id-like numbers, free text, and — over the whole column — identifiers
whose values are almost all distinct). It returns what it found as a tidy table of counts, never
the values themselves. :func:`guard` turns the findings for the columns a study uses into
problems (a ``DataError``, exit 2) unless the column is declared ``personal`` or listed under
``allow_personal`` with a reason. :func:`mask_text` replaces e-mail addresses, phone numbers and
id-like numbers in a text by ``<e-mail>``, ``<phone>`` and ``<id>``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date

import numpy as np
import pandas as pd

from sqresearch.io.errors import Problem

#: values of a column whose content is checked (evenly spaced over the non-empty ones)
SAMPLE = 1000
#: a text column is an identifier when at least this share of its values are distinct (and they
#: are not short unit codes such as A001) …
DISTINCT_SHARE = 0.9
#: … over at least this many non-empty values
DISTINCT_MIN = 30
#: a column is free text when at least this share of its sampled values are prose
PROSE_SHARE = 0.25

# --- names ------------------------------------------------------------------------------------

#: a column's whole (normalised) name -> what it looks like
_CORE = {
    "e-mail addresses": {"email", "e_mail", "mail", "emailaddress", "mailaddress",
                         "email_addr", "emailadresse", "courriel"},
    "phone numbers": {"phone", "telephone", "tel", "mobile", "mobile_phone", "mobilephone",
                      "cellphone", "cell_phone", "msisdn", "fax", "phonenumber",
                      "mobilenumber", "whatsapp", "telefon", "telefono", "handy"},
    "names of people": {"name", "first_name", "last_name", "firstname", "lastname", "surname",
                        "given_name", "givenname", "family_name", "familyname", "full_name",
                        "fullname", "middle_name", "maiden_name", "nickname", "username",
                        "display_name", "forename", "vorname", "nachname", "nom", "prenom"},
    "addresses": {"address", "addr", "street", "street_address", "postcode", "post_code",
                  "postal_code", "postalcode", "zip", "zipcode", "zip_code", "ip", "ip_address",
                  "ipaddress", "adresse", "direccion"},
    "national id, passport or account numbers": {
        "ssn", "social_security", "social_security_number", "national_id", "nationalid",
        "national_insurance", "national_insurance_number", "nino", "passport", "passport_id",
        "id_card", "idcard", "identity_card", "identity_number", "id_number", "idnumber",
        "id_no", "tax_id", "iban", "credit_card", "creditcard", "card_number", "cardnumber",
        "bank_account", "personnummer", "dni", "nif", "cpf", "aadhaar", "license_number",
        "driving_licence", "driver_license"},
    "dates of birth": {"birth_date", "birthdate", "date_of_birth", "dob", "birthday",
                       "birth_day", "geburtsdatum"},
}
#: whose: leading words that keep the name's meaning ("customer_email" is an e-mail column)
_WHOSE = {"customer", "client", "contact", "caller", "user", "agent", "employee", "staff",
          "patient", "respondent", "person", "member", "guest", "visitor", "owner", "requester",
          "requestor", "reporter", "assignee", "manager", "applicant", "holder", "cardholder",
          "subscriber", "consumer", "buyer", "passenger", "citizen", "student", "home", "work",
          "private", "personal", "primary", "secondary", "billing", "shipping", "delivery",
          "mailing", "postal", "main", "alt", "alternate", "other", "my", "your", "raw"}
#: trailing words that keep the name's meaning ("phone_no", "email_address", "email_2")
_TAIL = {"no", "nr", "nbr", "num", "number", "address", "addr", "adresse", "raw", "clean", "text",
         "value"}
#: words a concatenated name may end with ("customeremail", "homephone")
_ENDINGS = {"email": "e-mail addresses", "phone": "phone numbers", "name": "names of people",
            "passport": "national id, passport or account numbers",
            "address": "addresses", "birthday": "dates of birth", "surname": "names of people",
            "firstname": "names of people", "lastname": "names of people",
            "fullname": "names of people"}
_JOINED = _WHOSE | {"tele", "mobile", "cell", "contact", "e", "ip", "mail", "street", "given",
                    "family", "full"}
#: people whose identifiers are personal ("customer_id"; not agents, branches or teams)
_PEOPLE = {"customer", "client", "user", "member", "patient", "caller", "subscriber",
           "consumer", "guest", "visitor", "passenger", "citizen", "buyer", "person", "requester",
           "requestor", "applicant", "student", "cardholder", "policyholder", "accountholder"}
_ID_WORDS = {"id", "ref", "reference", "no", "nr", "nbr", "num", "number", "key", "code", "uid",
             "uuid", "guid"}
#: Chinese (and Japanese) words in a name
_CJK_WORDS = {"姓名": "names of people", "名字": "names of people", "客户名": "names of people",
              "联系人": "names of people", "电话": "phone numbers", "手机": "phone numbers",
              "联系方式": "phone numbers", "邮箱": "e-mail addresses", "邮件": "e-mail addresses",
              "电邮": "e-mail addresses", "身份证": "national id, passport or account numbers",
              "证件号": "national id, passport or account numbers",
              "护照": "national id, passport or account numbers",
              "银行卡": "national id, passport or account numbers",
              "地址": "addresses", "住址": "addresses", "出生日期": "dates of birth",
              "生日": "dates of birth", "氏名": "names of people"}


def _tokens(name: str) -> list[str]:
    """A column name as lower-case words: 'CustomerEMail' -> ['customer', 'email'],
    'e-Mail Adresse' -> ['e', 'mail', 'adresse']."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return [t for t in re.split(r"[^0-9a-z]+", text.lower()) if t]


def name_reason(name: str) -> str | None:
    """What a column's name says it holds ('e-mail addresses', 'phone numbers', 'identifiers of
    people' for 'customer_id' or 'user_ref' — not for agents, branches or tickets), or None."""
    text = unicodedata.normalize("NFKC", str(name))
    for word, what in _CJK_WORDS.items():
        if word in text:
            return what
    words = _tokens(name)
    if not words:
        return None
    head = 0
    while head < len(words) - 1 and words[head] in _WHOSE:
        head += 1
    tail = len(words)
    while tail > head + 1 and (words[tail - 1] in _TAIL or words[tail - 1].isdigit()):
        tail -= 1
    candidates = {"_".join(words), "_".join(words[head:]), "_".join(words[:tail]),
                  "_".join(words[head:tail])}
    for what, names in _CORE.items():
        if candidates & names:
            return what
    last = words[tail - 1]
    for ending, what in _ENDINGS.items():
        if last.endswith(ending) and last[:-len(ending)] in _JOINED:
            return what
    joined = "_".join(words)
    for person in _PEOPLE:
        if joined == person or any(joined in (f"{person}_{w}", f"{person}{w}") for w in _ID_WORDS):
            return "identifiers of people"
    return None


# --- content ----------------------------------------------------------------------------------

#: the look-behind starts a match only where a run of address characters starts: linear in
#: the text's length even on hostile input (thousands of dots and letters without an @)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@"
                    r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
#: phone numbers: international (+…, or 00 and a separator), Chinese mobiles (optionally +86),
#: numbers with a trunk prefix and a separator (010-12345678, 030 1234567, (020) 7946 0958) and
#: North American ones ((555) 123-4567, 555.123.4567); 8 to 15 digits in all
_PHONE_FORMS = (r"(?:\+\d{1,3}|00[1-9]\d{0,2}[ \-.])(?:[ \-.]?\(?\d{1,5}\)?){1,6}",
                r"(?:(?:\+|00)?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}",
                r"\(?0\d{1,4}\)?[ \-]\d{3,8}(?:[ \-]\d{2,5}){0,2}",
                r"\(\d{3}\) ?\d{3}[ \-.]\d{4}|\d{3}[ \-.]\d{3}[ \-.]\d{4}")
_PHONES = [re.compile(f) for f in _PHONE_FORMS]
_DATE = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}(?:[ T].*)?")
_CN_ID = re.compile(r"(?<![0-9])(\d{6})(\d{8})(\d{3})([0-9Xx])(?![0-9A-Za-z])")
_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)")
_NINO = re.compile(r"(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?"
                   r"[A-D](?![A-Za-z0-9])")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?")
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_LETTERS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?。！？…]\s*[\"'”’)]?\s*$")


def _cn_id_ok(m: re.Match) -> bool:
    """A Chinese resident identity number: a valid birth date and the ISO 7064 check digit."""
    digits = m.group(0).upper()
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    return cn_id_check_digit(digits[:17]) == digits[17]


def cn_id_check_digit(first17: str) -> str:
    """The check character of a Chinese resident identity number (GB 11643-1999, ISO 7064
    MOD 11-2) from its first 17 digits: '0'-'9' or 'X' (11010519491231002 -> 'X')."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, _CN_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def is_email(value: str) -> bool:
    return _EMAIL.search(value) is not None


def is_phone(value: str) -> bool:
    v = value.strip()
    if _DATE.fullmatch(v) or not any(p.fullmatch(v) for p in _PHONES):
        return False
    digits = sum(c.isdigit() for c in v)
    return 8 <= digits <= 15


def is_national_id(value: str) -> bool:
    """A Chinese resident id (valid date and check digit), a US social security number, a UK
    national insurance number or an IBAN (valid check digits), anywhere in the value."""
    if any(_cn_id_ok(m) for m in _CN_ID.finditer(value)):
        return True
    if _SSN.search(value) or _NINO.search(value):
        return True
    v = value.strip()
    return bool(_IBAN.fullmatch(v)) and _iban_ok(v)


def words(value: str) -> float:
    """Words in a text: letter runs, counting two CJK characters as a word."""
    cjk = len(_CJK.findall(value))
    return len(_LETTERS.findall(_CJK.sub(" ", value))) + cjk / 2


def is_prose(value: str) -> bool:
    """Free text: a sentence of three words or more, or six words or more."""
    n = words(value)
    return n >= 6 or (n >= 3 and _SENTENCE_END.search(value) is not None)


_CONTENT = (("e-mail", is_email, "look like e-mail addresses"),
            ("phone", is_phone, "look like phone numbers"),
            ("national id", is_national_id, "look like national id or account numbers"),
            ("free text", is_prose, "are free text (sentences or six words and more)"))
#: the checks an identifier role (ticket or customer key) gets: it is meant to be distinct
#: and never shown, so only its name (not as a person's id) and the direct patterns count
_KEY_CHECKS = ("e-mail", "phone", "national id")


def _as_text(col: pd.Series) -> pd.Series:
    """Non-empty values as text (whole numbers without '.0')."""
    col = col[col.notna()]
    if pd.api.types.is_float_dtype(col):
        col = col[np.isfinite(col.astype(float))]
        return col.map(lambda v: f"{v:.0f}" if float(v).is_integer() else repr(float(v)))
    text = col.astype(str).str.strip()
    return text[text != ""]


def _is_text(col: pd.Series, text: pd.Series, declared: str | None) -> bool:
    """A text column (``text``: a sample of its non-empty values): declared category/text, or
    not every value is a number."""
    if declared in ("category", "text"):
        return True
    if declared in ("number", "integer") or not (pd.api.types.is_object_dtype(col) or
                                                 pd.api.types.is_string_dtype(col)):
        return False
    if text.empty:
        return False
    num = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    return bool(num.isna().any())


_CODE = re.compile(r"[A-Za-z]{0,4}[-_]?\d{1,8}")


def _short_codes(values: pd.Series) -> bool:
    """Mostly short unit codes (A001, B-07, P12, 4711): a unit table's units are distinct by
    design and such codes name agents, branches or stores, not people."""
    return bool(values.str.fullmatch(_CODE).mean() >= 0.5) if len(values) else True


def sample(values: pd.Series, size: int = SAMPLE) -> pd.Series:
    """At most ``size`` values, evenly spaced over the column (deterministic)."""
    if len(values) <= size:
        return values
    at = np.unique(np.linspace(0, len(values) - 1, size).round().astype(int))
    return values.iloc[at]


def findings(frame: pd.DataFrame, columns: dict[str, str], types: dict[str, str] | None = None,
             size: int = SAMPLE) -> pd.DataFrame:
    """The columns of ``frame`` that look personal, and why.

    Parameters
    ----------
    frame : the table as read
    columns : column -> ``"shown"`` (every check) or ``"key"`` (an identifier role, distinct
        by design: its name and the e-mail, phone and national-id patterns only)
    types : declared column types (``data.types``)
    size : values sampled per column for the content checks

    Returns
    -------
    DataFrame with one row per finding: ``column``, ``check`` (name, e-mail, phone, national id,
    free text, identifier), ``matches`` (values that matched; 0 for the name),
    ``sampled`` (values looked at; 0 for the name) and ``reason`` (in words). Never the values.
    """
    types = types or {}
    rows = []
    for col, use in columns.items():
        if col not in frame.columns:
            continue
        what = name_reason(col)
        if what:
            rows.append((col, "name", 0, 0, f"its name says it holds {what}"))
        present = frame[col][frame[col].notna()]
        values = _as_text(sample(present, size))
        n = len(values)
        for check, test, said in _CONTENT:
            if n == 0 or (use == "key" and check not in _KEY_CHECKS):
                continue
            hits = int(sum(test(v) for v in values))
            need = max(1, math.ceil(PROSE_SHARE * n)) if check == "free text" else 1
            if hits >= need:
                of = f"{n} sampled values" if n < len(present) else f"{n} values"
                rows.append((col, check, hits, n, f"{hits} of {of} {said}"))
        if use == "shown" and n >= DISTINCT_MIN and _is_text(frame[col], values, types.get(col)) \
                and values.nunique() >= DISTINCT_SHARE * n and not _short_codes(values):
            text = _as_text(present)  # the sample is mostly distinct: count the whole column
            distinct = int(text.nunique())
            if distinct >= DISTINCT_SHARE * len(text):
                rows.append((col, "identifier", distinct, len(text),
                             f"{distinct} of {len(text)} values are distinct (an identifier of "
                             "single records or people, not a group)"))
    return pd.DataFrame(rows, columns=["column", "check", "matches", "sampled", "reason"])


def guard(raw: pd.DataFrame, src, roles: dict[str, tuple[str, str]], keep) -> list[Problem]:
    """Problems for the undeclared columns a study reads that look personal.

    ``roles`` maps the file's role columns to their role and kind: a text role (the Pareto
    category) is shown and gets every check; identifier roles (ticket, customer or respondent
    keys) are meant to be distinct, so they get the name and the e-mail, phone and national-id
    checks; parsed roles (timestamps, scores, flags) cannot carry text and are not checked.
    ``keep`` are the other columns the study names (segments, filters, units, clusters,
    covariates …): every check. Columns declared ``personal`` or ``allow_personal`` pass."""
    skip = set(src.personal) | set(src.allow_personal)
    uses = {col: "shown" if kind == "text" else "key" for col, (_, kind) in roles.items()
            if kind in ("text", "id", "key")}
    uses |= {col: "shown" for col in keep}
    uses = {c: u for c, u in uses.items() if c not in skip}
    found = findings(raw, uses, src.types)
    how = {col: f"it is read as the role {role!r}" for col, (role, _) in roles.items()}
    how |= {col: "the study uses it (as a segment, filter, unit, cluster or another column it "
                 "names)" for col in keep}
    return [refusal(col, group["reason"].tolist(), src.where, how[col])
            for col, group in found.groupby("column", sort=False)]


def _key(column: str) -> str:
    """A column name as a YAML mapping key: bare when it can be, else double-quoted."""
    return column if re.fullmatch(r"[^\W\d]\w*", column) else json.dumps(column,
                                                                          ensure_ascii=False)


def refusal(column: str, reasons: list[str], path: str, how: str) -> Problem:
    """The message for one refused column: where, why it looks personal, and the three fixes."""
    c = _key(str(column))
    return Problem(f"column {str(column)!r} in {path}",
                   f"looks like personal data ({'; '.join(reasons)}); {how}, but it is not "
                   "declared personal.",
                   f"declare it under data.personal: {{{c}: pseudonymise}} to have it replaced "
                   f"by a keyed pseudonym, or {{{c}: drop}} (and stop using it); or, if it may "
                   f"be published, list it under data.allow_personal: {{{c}: 'the reason'}} — "
                   "the reason is printed in the report.")


def provenance(src) -> list[dict]:
    """What was done to personal data, per column: dropped, pseudonymised, or allowed with the
    study's reason (for the report and results.json)."""
    done = {"drop": "dropped", "pseudonymise": "pseudonymised", "mask": "masked"}
    rows = [{"column": c, "handling": done[p], "reason": ""} for c, p in src.personal.items()]
    rows += [{"column": c, "handling": "allowed", "reason": r}
             for c, r in src.allow_personal.items()]
    return rows


# --- masking ----------------------------------------------------------------------------------

_MASK_ID = [_CN_ID, _SSN, _NINO,
            re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?"
                       r"(?![A-Za-z0-9])"),  # IBAN-like
            re.compile(r"(?<!\d)\d{4}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,3})?(?!\d)")]  # card-like
_MASK_PHONE = re.compile(r"(?<![A-Za-z0-9+])(?:" + "|".join(_PHONE_FORMS) + r")(?![A-Za-z0-9])")
_LONG_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?<!\d[.,])\d{9,}(?![A-Za-z0-9])(?![.,]\d)")


#: shared with ``stats.text_mask`` (typed masks for complaint text)
EMAIL = _EMAIL
PHONE = _MASK_PHONE


def phone_digits_ok(match: re.Match) -> bool:
    """A phone-shaped match holds 8 to 15 digits (E.164 allows 15)."""
    return 8 <= sum(c.isdigit() for c in match.group(0)) <= 15


def mask_text(s, long_numbers: bool = True) -> str:
    """A free text safe to quote: e-mail addresses become ``<e-mail>``, phone numbers
    ``<phone>``, national-id-, account- and card-like numbers (and, with ``long_numbers``, any
    other run of nine digits or more) ``<id>``. Dates, times, amounts and short numbers are
    kept."""
    if s is None or (not isinstance(s, str) and bool(pd.isna(s))):
        return ""
    text = _EMAIL.sub("<e-mail>", str(s))
    for pattern in _MASK_ID:
        text = pattern.sub("<id>", text)
    text = _MASK_PHONE.sub(lambda m: "<phone>" if phone_digits_ok(m) else m.group(0), text)
    return _LONG_NUMBER.sub("<id>", text) if long_numbers else text
