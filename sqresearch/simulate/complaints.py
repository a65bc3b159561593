"""Bilingual complaint texts around planted themes, with fake personal data embedded.

Each complaint is one or two sentences of its theme (Chinese or English), sometimes a neutral
sentence, and — for a share of them — a sentence carrying fake personal data: the customer's
name, an e-mail address, a Chinese mobile number (plain, spaced or with +86), a bank-card
number with a valid Luhn digit, a resident ID with a valid check character. The values are
returned in their own columns so tests can prove none survives masking. Seeded (NumPy PCG64):
the same seed gives the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.io.personal import cn_id_check_digit

SENTENCES = {
    "refund": {
        "zh": ["我申请的退款已经两周了还没有到账", "退款一直没有处理，钱什么时候退回来",
               "要求尽快退款，订单取消了钱还没退", "退款审核太慢了，退回的金额也不对",
               "退货以后退款迟迟不到账"],
        "en": ["my refund has not arrived after two weeks", "please process the refund and return "
               "my money", "the refund amount is wrong and the money is still missing",
               "cancelled the order but no refund yet", "refund request rejected without reason"],
    },
    "waiting": {
        "zh": ["电话排队等了一个小时还没人接", "门店排队时间太长，等待太久",
               "热线一直排队，等了半天也没有接通", "排队的人太多，窗口只开了一个",
               "在线客服排队要等四十分钟"],
        "en": ["waited in the queue for over an hour", "the hold time on the hotline is far "
               "too long", "long queue at the branch and only one counter open",
               "queue on the phone for forty minutes before anyone answered",
               "the waiting time in the chat queue is ridiculous"],
    },
    "login": {
        "zh": ["登录不上去，一直提示密码错误", "验证码收不到，无法登录账户",
               "APP登录失败，闪退好几次", "重置密码以后还是登录失败", "账号被锁定，登录不了"],
        "en": ["cannot log in to the app, password error every time", "the verification code "
               "never arrives so login fails", "login page crashes after the update",
               "account locked after password reset, cannot sign in", "app login keeps failing"],
    },
    "fees": {
        "zh": ["每个月多扣了手续费", "账单上有不明扣费", "年费收取不合理，没有提前通知"],
        "en": ["an unexpected fee on my bill", "charged a monthly fee nobody told me about",
               "the annual fee was charged twice"],
    },
}
NEUTRAL = {"zh": ["希望你们重视", "这已经是第二次了", "非常失望", "麻烦处理一下"],
           "en": ["this is the second time", "very disappointed", "hope you fix this soon",
                  "thanks for looking into it"]}
NAMES = {"zh": ["王伟", "李娜", "张敏", "刘洋", "陈静"],
         "en": ["John Smith", "Mary Jones", "Peter Brown", "Anna Miller", "David Clark"]}
PII_SENTENCES = {"zh": ["我是{name}，手机{phone}，邮箱{email}", "我的卡号{card}，身份证{id}",
                        "请联系{name}，电话{phone}"],
                 "en": ["This is {name}, call me on {phone} or mail {email}",
                        "my card {card} was used, id {id}", "{name} here, phone {phone}"]}


def luhn_digit(body: str) -> str:
    """The Luhn check digit to append to ``body``."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def _phone(rng) -> str:
    digits = "1" + str(rng.integers(3, 10)) + "".join(map(str, rng.integers(0, 10, 9)))
    form = rng.integers(0, 4)
    if form == 1:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if form == 2:
        return f"+86 {digits}"
    if form == 3:
        return f"0086-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return digits


def _card(rng) -> str:
    body = "62" + "".join(map(str, rng.integers(0, 10, 13)))
    card = body + luhn_digit(body)
    return " ".join(card[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.5 else card


def _national_id(rng) -> str:
    born = pd.Timestamp("1950-01-01") + pd.Timedelta(days=int(rng.integers(0, 20000)))
    first = f"110105{born:%Y%m%d}{rng.integers(0, 1000):03d}"
    return first + cn_id_check_digit(first)


def _email(rng, lang: str) -> str:
    user = ["wang", "li", "zhang", "john", "mary", "anna"][rng.integers(0, 6)]
    return f"{user}{rng.integers(10, 999)}@example.{'cn' if lang == 'zh' else 'com'}"


def complaints(seed: int = 15, n: int = 600, themes: dict[str, float] | None = None,
               zh_share: float = 0.5, mixed_share: float = 0.3, pii_share: float = 0.3,
               neutral_share: float = 0.4,
               start: str = "2026-01-05", weeks: int = 13,
               last_week: dict[str, float] | None = None) -> pd.DataFrame:
    """``n`` complaints spread evenly over ``weeks`` weeks from ``start``.

    ``mixed_share``: the share of complaints that add a sentence of the same theme in the other
    language (customers switch languages; without it a theme's Chinese and English complaints
    share no word and no model can join them). ``themes``: theme -> weight (default refund,
    waiting and login equally); ``last_week``: theme -> multiplier of its weight in the last
    week (an emerging or fading theme).

    Returns a DataFrame: ``ticket_id``, ``created``, ``week`` (the ISO week start, a date),
    ``lang`` (zh/en), ``theme``, ``text``, and the personal values embedded (empty where none):
    ``customer_name``, ``email``, ``phone``, ``card``, ``national_id``.
    """
    rng = np.random.default_rng(seed)
    themes = themes or {"refund": 1.0, "waiting": 1.0, "login": 1.0}
    names = list(themes)
    base_w = np.array([themes[t] for t in names], float)
    bump = np.array([(last_week or {}).get(t, 1.0) for t in names], float)
    t0 = pd.Timestamp(start)
    rows = []
    for i in range(n):
        week = i * weeks // n
        w = base_w * (bump if week == weeks - 1 else 1.0)
        theme = names[rng.choice(len(names), p=w / w.sum())]
        lang = "zh" if rng.random() < zh_share else "en"
        pool = SENTENCES[theme][lang]
        picks = rng.choice(len(pool), size=1 + int(rng.random() < 0.5), replace=False)
        parts = [pool[j] for j in picks]
        if rng.random() < mixed_share:  # code-switching: one sentence in the other language
            other = SENTENCES[theme]["en" if lang == "zh" else "zh"]
            parts.append(other[rng.integers(0, len(other))])
        if rng.random() < neutral_share:
            parts.append(NEUTRAL[lang][rng.integers(0, len(NEUTRAL[lang]))])
        pii = {"customer_name": NAMES[lang][rng.integers(0, 5)], "email": "", "phone": "",
               "card": "", "national_id": ""}
        if rng.random() < pii_share:
            template = PII_SENTENCES[lang][rng.integers(0, len(PII_SENTENCES[lang]))]
            values = {"name": pii["customer_name"], "phone": _phone(rng),
                      "email": _email(rng, lang), "card": _card(rng), "id": _national_id(rng)}
            parts.insert(int(rng.integers(0, len(parts) + 1)), template.format(**values))
            for key, col in (("phone", "phone"), ("email", "email"), ("card", "card"),
                             ("id", "national_id")):
                if "{" + key + "}" in template:
                    pii[col] = values[key]
        sep = "，" if lang == "zh" else ". "
        text = sep.join(parts) + ("。" if lang == "zh" else ".")
        created = t0 + pd.Timedelta(days=7 * week + float(rng.uniform(0, 7)))
        rows.append({"ticket_id": f"C{i + 1:05d}", "created": created.floor("min"),
                     "week": (t0 + pd.Timedelta(days=7 * week)).date(), "lang": lang,
                     "theme": theme, "text": text, **pii})
    return pd.DataFrame(rows)


#: each planted theme's words in both languages (for :func:`planted_corpus`)
KEYWORDS = {
    "refund": ["退款", "到账", "退回", "金额", "退货", "refund", "money", "returned", "amount",
               "cancelled"],
    "waiting": ["排队", "等待", "热线", "窗口", "接通", "queue", "waited", "hold", "counter",
                "hour"],
    "login": ["登录", "密码", "验证码", "账号", "闪退", "login", "password", "verification",
              "locked", "crashes"],
    "fees": ["手续费", "扣费", "年费", "账单", "收取", "fee", "charged", "bill", "annual",
             "monthly"],
    "delivery": ["快递", "包裹", "送货", "地址", "延误", "parcel", "courier", "delivery", "late",
                 "tracking"],
}
FILLER = ["客服", "处理", "问题", "希望", "失望", "customer", "service", "problem", "again",
          "disappointed"]


def planted_corpus(seed: int = 15, n: int = 300, themes: tuple[str, ...] = ("refund", "waiting",
                   "login"), words: int = 8, filler: float = 0.25) -> pd.DataFrame:
    """A bag-of-words corpus whose only structure is the planted themes (the generative model
    of a topic model): each document draws ``words`` words, each from its theme's bilingual
    ``KEYWORDS`` or, with probability ``filler``, from the shared ``FILLER`` words. Columns:
    ``theme``, ``text`` (the words joined by spaces)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        theme = themes[i % len(themes)]
        pick = [FILLER[rng.integers(0, len(FILLER))] if rng.random() < filler else
                KEYWORDS[theme][rng.integers(0, len(KEYWORDS[theme]))] for _ in range(words)]
        rows.append({"theme": theme, "text": " ".join(pick)})
    return pd.DataFrame(rows)
