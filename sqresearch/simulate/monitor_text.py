"""Complaint texts of the weekly monitor's demo tickets: Chinese and English (≈ 60/40), an
emerging Chinese theme and a fading English one, and fake personal data in a share of texts.

Themes and sentences are those of ``simulate.complaints`` (refund, waiting, login, fees) with
two new ones: ``payment_crash`` (Chinese only: the app crashes or freezes on payment; every
sentence holds 支付 or 付款) and ``password_reset`` (English only; every sentence holds
"password reset"). The two login sentences that would blur them (the Chinese one with 闪退, the
English ones with "password") are left out, so each theme's marker occurs in its own texts
only. The personal data are those ``stats.text_mask`` must find: e-mail addresses, the
customer's own Chinese mobile number (plain, 3-4-4 or +86), international numbers, resident
ID numbers with a valid ISO 7064 MOD 11-2 check character, bank-card numbers with a valid Luhn
digit and order numbers ``ORD-`` + 10 digits. No names: the table has no name column that could
declare them. The values put in each text are returned beside it, so tests can prove that
masking finds every one.
"""

from __future__ import annotations

import numpy as np

from sqresearch.io.personal import cn_id_check_digit
from sqresearch.simulate.complaints import NEUTRAL, SENTENCES, _card, _email

#: theme -> language -> sentences
POOL = {theme: {"zh": [s for s in langs["zh"] if "闪退" not in s],
                "en": [s for s in langs["en"] if "password" not in s]}
        for theme, langs in SENTENCES.items()}
POOL["payment_crash"] = {"zh": [
    "点击支付以后APP直接闪退", "付款页面卡住不动，转了半天", "支付的时候闪退了三次，订单也没付成功",
    "付款页面一直卡住，只能重新下单", "一到支付页面就闪退，根本付不了钱"], "en": []}
POOL["password_reset"] = {"zh": [], "en": [
    "the password reset link never arrives", "the password reset email expired before I could "
    "use it", "tried the password reset three times and I am still locked out",
    "the password reset page says my account does not exist",
    "password reset keeps sending me back to the start"]}
#: the ordinary themes (weights) outside the two planted ones
BASE_THEMES = {"refund": 1.0, "waiting": 1.0, "login": 1.0, "fees": 0.6}
#: the ticket category a complaint of each theme is filed under
THEME_CATEGORY = {"refund": "refund", "waiting": "other", "login": "login", "fees": "billing",
                  "payment_crash": "billing", "password_reset": "login"}
#: sentences carrying personal data; each placeholder is one kind of value
PII_SENTENCES = {
    "zh": ["我的手机{phone}，邮箱{email}", "卡号{card}，身份证{id}", "订单号{order}，请尽快处理",
           "我在国外，电话{intl}", "订单{order}，联系电话{phone}", "身份证号{id}，邮箱{email}"],
    "en": ["call me on {phone} or mail {email}", "my card {card} was charged, ID {id}",
           "order {order} is affected", "I am abroad, reach me at {intl}",
           "email {email} about order {order}", "my bank card {card}, phone {phone}"]}
#: each placeholder's kind, as ``stats.text_mask.TOKENS`` names it
PII_KIND = {"phone": "phone", "intl": "phone", "email": "email", "card": "card", "id": "id",
            "order": "order"}
_INTL = ["+44 20 {4} {4}", "+1 {3} 555 {4}", "+65 {4} {4}", "+852 {4} {4}", "+61 4{2} {3} {3}",
         "0049 30 {4} {4}"]
_REGIONS = ["110105", "310104", "440305", "510107", "330106"]


def _digits(rng, k: int) -> str:
    return "".join(map(str, rng.integers(0, 10, k)))


def intl_phone(rng) -> str:
    """An international number written with + or 00 (UK, US, Singapore, Hong Kong, Australia,
    Germany)."""
    form = _INTL[rng.integers(0, len(_INTL))]
    for k in (4, 3, 2):
        while f"{{{k}}}" in form:
            form = form.replace(f"{{{k}}}", _digits(rng, k), 1)
    return form


def resident_id(rng) -> str:
    """An 18-character resident ID (region, birth date, sequence) with its check character."""
    born = np.datetime64("1955-01-01") + np.timedelta64(int(rng.integers(0, 18000)), "D")
    first = f"{_REGIONS[rng.integers(0, len(_REGIONS))]}{str(born).replace('-', '')}" \
            f"{rng.integers(0, 1000):03d}"
    return first + cn_id_check_digit(first)


def written_mobile(rng, mobile: str) -> str:
    """The customer's mobile as a customer writes it: plain, 3-4-4 with spaces, or +86."""
    form = rng.integers(0, 3)
    if form == 1:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    return f"+86 {mobile}" if form == 2 else mobile


def complaint_text(rng, theme: str, lang: str, mobile: str, cfg: dict) -> tuple[str, dict]:
    """One complaint of ``theme`` written mainly in ``lang``: one or two theme sentences, maybe
    one of the same theme in the other language (``mixed_share``), maybe a neutral one, maybe
    (``pii_share``) a sentence with personal data. Returns the text and the values embedded
    (placeholder -> value)."""
    pool = POOL[theme][lang]
    picks = rng.choice(len(pool), size=1 + int(rng.random() < 0.5), replace=False)
    parts = [pool[j] for j in picks]
    other = POOL[theme]["en" if lang == "zh" else "zh"]
    if other and rng.random() < cfg["mixed_share"]:
        parts.append(other[rng.integers(0, len(other))])
    if rng.random() < 0.4:
        parts.append(NEUTRAL[lang][rng.integers(0, len(NEUTRAL[lang]))])
    values = {}
    if rng.random() < cfg["pii_share"]:
        template = PII_SENTENCES[lang][rng.integers(0, len(PII_SENTENCES[lang]))]
        make = {"phone": lambda: written_mobile(rng, mobile), "intl": lambda: intl_phone(rng),
                "email": lambda: _email(rng, lang), "card": lambda: _card(rng),
                "id": lambda: resident_id(rng), "order": lambda: "ORD-" + _digits(rng, 10)}
        values = {k: make[k]() for k in PII_KIND if "{" + k + "}" in template}
        parts.insert(int(rng.integers(0, len(parts) + 1)), template.format(**values))
    sep, end = ("，", "。") if lang == "zh" else (". ", ".")
    return sep.join(parts) + end, values


def complaints_for(rng, payment_share, reset_share, mobiles, cfg: dict) -> dict[str, list]:
    """Texts for complaints, one per element of the arrays: ``payment_share`` (the chance that
    a complaint is of the emerging Chinese theme), ``reset_share`` (the chance that an English
    complaint is a password-reset one), ``mobiles`` (the customer's mobile). Returns lists
    ``lang``, ``theme``, ``text`` and the personal values embedded (``pii_<placeholder>``,
    '' where none)."""
    names, w = list(BASE_THEMES), np.array(list(BASE_THEMES.values()))
    out = {k: [] for k in ["lang", "theme", "text"] + [f"pii_{p}" for p in PII_KIND]}
    for pay, pw, mobile in zip(payment_share, reset_share, mobiles, strict=True):
        lang = "zh" if rng.random() < cfg["zh_share"] else "en"
        u = rng.random()
        if lang == "zh" and u < pay / cfg["zh_share"]:
            theme = "payment_crash"
        elif lang == "en" and u < pw:
            theme = "password_reset"
        else:
            theme = names[rng.choice(len(names), p=w / w.sum())]
        text, values = complaint_text(rng, theme, lang, mobile, cfg)
        out["lang"].append(lang)
        out["theme"].append(theme)
        out["text"].append(text)
        for p in PII_KIND:
            out[f"pii_{p}"].append(values.get(p, ""))
    return out
