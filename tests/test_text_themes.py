"""Complaint text themes: masking (per kind, hostile text), checksums against published
examples, the bilingual tokeniser, keyness against its closed form, NMF themes recovering planted
ones, determinism, and jieba offline."""

from __future__ import annotations

import math
import socket
import time

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from sqresearch.simulate.complaints import complaints, luhn_digit, planted_corpus
from sqresearch.stats import text_terms
from sqresearch.stats.text_mask import (
    MaskSettingsError,
    cn_id_ok,
    luhn_ok,
    mask,
    mask_column,
    masked_counts,
)
from sqresearch.stats.text_terms import TextSettingsError, counts, keyness, tokenise, tokens
from sqresearch.stats.text_themes import MATCH, project, quote, themes, unit_themes

ORDER = r"ORD-?\d{11,14}"


# --- checksums: published examples --------------------------------------------------------------

def test_luhn_against_published_examples():
    # ISO/IEC 7812-1 annex B / Wikipedia "Luhn algorithm": 7992739871 has check digit 3
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert luhn_digit("7992739871") == "3"
    # the test card numbers the card schemes publish
    assert luhn_ok("4111 1111 1111 1111") and luhn_ok("5555-5555-5555-4444")
    assert luhn_ok("378282246310005")  # American Express test number
    assert not luhn_ok("4111111111111112") and not luhn_ok("")


def test_resident_id_check_character_iso7064():
    # GB 11643-1999's worked example: 11010519491231002X
    assert cn_id_ok("11010519491231002X") and cn_id_ok("11010519491231002x")
    assert not cn_id_ok("110105194912310021") and not cn_id_ok("1101051949123100")


# --- masking per kind ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("mail jo.doe+x@example.co.uk now", "mail ‹email› now"),
    ("邮箱wang_1@qq.com谢谢", "邮箱‹email›谢谢"),
    ("手机13800138000请回电", "手机‹phone›请回电"),
    ("call +86 138 0013 8000 or 0086-138-0013-8000", "call ‹phone› or ‹phone›"),
    ("uk +44 20 7946 0958, us +1 415-555-2671", "uk ‹phone›, us ‹phone›"),
    ("身份证11010519491231002X。", "身份证‹id›。"),
    ("wrong check 110105194912310021 still id-shaped", "wrong check ‹id› still id-shaped"),
    ("card 4111 1111 1111 1111 and 5555-5555-5555-4444", "card ‹card› and ‹card›"),
    ("卡号6222021234567894", "卡号‹card›"),
    ("order ORD-13800138000 shipped", "order ‹order› shipped"),
])
def test_mask_each_kind(text, expected):
    assert luhn_ok("6222021234567894")
    assert mask(text, order=ORDER) == expected


@pytest.mark.parametrize("text", [
    "ref 4111111111111112 failed",      # 16 digits failing Luhn: not a card
    "paid 1,234.50 on 2026-01-15 at 10:30, ticket T000123, 3 times",
    "version 12345 and code 987654",     # short numbers stay
    "receipt 20260115103001",            # a timestamp-like 14 digits failing Luhn
])
def test_mask_leaves_what_is_not_personal(text):
    assert mask(text) == text


def test_phone_inside_an_order_number_is_the_order():
    assert mask("订单ORD13800138000未发货", order=ORDER) == "订单‹order›未发货"
    assert mask("订单ORD13800138000未发货") == "订单ORD13800138000未发货"  # no pattern: a code
    with pytest.raises(MaskSettingsError, match="order-number pattern"):
        mask("x", order="ORD-(\\d+")


def test_declared_personal_values_and_the_column_helper():
    frame = pd.DataFrame({"text": ["我是王伟，投诉排队", "John Smith here; johnsmithy stays",
                                   None],
                          "customer_name": ["王伟", "john smith", "A"]})
    out = mask_column(frame, "text", ["customer_name"])
    assert out.tolist() == ["我是‹name›,投诉排队", "‹name› here; johnsmithy stays", ""]
    got = masked_counts(out).set_index("kind")
    assert got.loc["name", "occurrences"] == 2 and got.loc["email", "texts"] == 0


# --- hostile text ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("jo\u200b.doe@exa\u200dmple.org", "‹email›"),                   # zero-width inside
    ("wang＠example．com", "‹email›"),                                 # full-width @ and .
    ("手机１３８００１３８０００", "手机‹phone›"),                        # full-width digits
    ("\u202e13800138000\u202c", "‹phone›"),                             # RTL override around
    ("1\u200b3800138000", "‹phone›"),                                   # zero-width between
    ("卡 4111\u00ad1111 1111 1111", "卡 ‹card›"),                        # soft hyphen
    ("<b>wang@example.com</b><script>13800138000</script>",
     "<b>‹email›</b><script>‹phone›</script>"),
])
def test_hostile_text_does_not_bypass_masking(text, expected):
    assert mask(text) == expected


def test_very_long_hostile_text_is_masked_whole_and_fast():
    for s in ["a." * 100_000, "1 " * 50_000, "x@" * 50_000, "+1 " * 30_000]:
        start = time.perf_counter()
        mask(s)
        assert time.perf_counter() - start < 5  # linear patterns (quadratic took minutes)
    long = "投诉" * 50_000 + " 13800138000 " + "a" * 10_000 + " wang@example.com"
    assert mask(long).endswith("‹phone› " + "a" * 10_000 + " ‹email›")


def test_simulated_complaints_leave_no_personal_value():
    df = complaints(seed=7, n=400, pii_share=0.6)
    out = mask_column(df, "text", ["customer_name"])
    assert (df["card"] != "").sum() > 20 and (df["national_id"] != "").sum() > 20
    assert all(luhn_ok(c) for c in df["card"] if c) and all(cn_id_ok(i) for i in
                                                            df["national_id"] if i)
    flat = [t.replace(" ", "").replace("-", "") for t in out]
    for col in ["email", "phone", "card", "national_id", "customer_name"]:
        for value, text, compact in zip(df[col], out, flat, strict=True):
            digits = value.replace(" ", "").replace("-", "").replace("+", "")
            assert not value or (value not in text and digits[-8:] not in compact), (col, text)


# --- tokens -------------------------------------------------------------------------------------

def test_tokens_of_a_mixed_sentence():
    text = "APP登录失败，退款还没到账！Refund please, the app crashes 3 times ‹email›."
    assert tokens(text) == ["app", "登录", "失败", "退款", "没到", "账", "refund", "app",
                            "crashes", "times"]
    assert tokens("我要投诉客服排队太久") == ["我要", "投诉", "客服", "排队", "太久"]


def test_user_dictionary_and_stop_words(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("到账 1000 v\n", encoding="utf-8")
    text = "退款还没到账 refund please"
    assert tokenise([text], user_dict=str(words)) == [["退款", "没", "到账", "refund"]]
    assert tokenise([text], extra_stop_words=["退款", "REFUND"]) == [["没到", "账"]]
    assert tokenise([text], stop_words=[]) == [["退款", "还", "没到", "账", "refund", "please"]]
    with pytest.raises(TextSettingsError, match="not a file"):
        tokenise([text], user_dict=str(tmp_path / "missing.txt"))


def test_jieba_loads_offline_and_quietly(tmp_path, monkeypatch, capfd):
    def refuse(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(text_terms, "CACHE_DIR", tmp_path / "cache")
    text_terms.segmenter.cache_clear()
    try:
        assert tokens("排队太久") == ["排队", "太久"]
    finally:
        text_terms.segmenter.cache_clear()
    assert list((tmp_path / "cache").iterdir())  # its cache went to the temp folder given
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# --- keyness ------------------------------------------------------------------------------------

def test_keyness_log_odds_with_informative_dirichlet_prior_by_hand():
    week = pd.Series({"退款": 30.0, "排队": 10.0, "login": 10.0})
    base = pd.Series({"退款": 20.0, "排队": 40.0, "login": 40.0})
    out = keyness(week, base, alpha0=10.0, min_count=0).set_index("term")
    n_i, n_j, a0 = 50.0, 100.0, 10.0
    pooled = {"退款": 50.0, "排队": 50.0, "login": 50.0}
    for term in pooled:
        a = a0 * pooled[term] / 150.0
        yi, yj = week[term], base[term]
        delta = (math.log((yi + a) / (n_i + a0 - yi - a))
                 - math.log((yj + a) / (n_j + a0 - yj - a)))      # Monroe et al. eq. 16
        se = math.sqrt(1 / (yi + a) + 1 / (yj + a))                 # eq. 20
        assert out.loc[term, "delta"] == pytest.approx(delta, rel=1e-12)
        assert out.loc[term, "z"] == pytest.approx(delta / se, rel=1e-12)   # eq. 22
    # 退款: 30/50 this week vs 20/100: log((30+a)/(30-a+…)) − … by hand, a = 10/3
    a = 10 / 3
    assert out.loc["退款", "delta"] == pytest.approx(
        math.log((30 + a) / (60 - 30 - a)) - math.log((20 + a) / (110 - 20 - a)), rel=1e-12)
    assert out.loc["退款", "direction"] == "rose" and out.loc["排队", "direction"] == "fell"
    assert out.index[0] == "退款"  # largest |z| first


def test_g2_against_scipy_log_likelihood_and_closed_form():
    week = pd.Series({"refund": 30.0, "queue": 10.0, "login": 7.0})
    base = pd.Series({"refund": 20.0, "queue": 40.0, "login": 33.0})
    out = keyness(week, base, min_count=0).set_index("term")
    for term in week.index:
        table = np.array([[week[term], base[term]],
                          [week.sum() - week[term], base.sum() - base[term]]])
        g2, _, _, _ = stats.chi2_contingency(table, correction=False,
                                             lambda_="log-likelihood")
        assert out.loc[term, "g2"] == pytest.approx(g2, rel=1e-10)
    # refund: O = [[30, 20], [17, 73]], E from the margins; R: 2 * sum(O * log(O / E))
    o = np.array([[30, 20], [17, 73]], float)
    e = o.sum(1)[:, None] * o.sum(0)[None, :] / o.sum()
    assert out.loc["refund", "g2"] == pytest.approx(2 * (o * np.log(o / e)).sum(), rel=1e-12)


def test_keyness_finds_the_emerging_theme():
    df = complaints(seed=3, n=900, last_week={"refund": 4.0, "login": 0.3})
    docs = tokenise(mask_column(df, "text", ["customer_name"]))
    wk = (df["week"] == df["week"].max()).to_numpy()
    out = keyness(counts([d for d, w in zip(docs, wk, strict=True) if w]),
                  counts([d for d, w in zip(docs, wk, strict=True) if not w]))
    top = out.head(5)
    assert (top["direction"] == "rose").all() and {"退款", "refund"} <= set(top["term"])
    lowest = out.nsmallest(8, "z")
    assert (lowest["direction"] == "fell").all()
    assert {"登录", "login", "password", "密码"} & set(lowest["term"])


# --- themes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed, planted", [(1, 3), (2, 3), (3, 4)])
def test_the_rule_for_k_finds_the_planted_themes(seed, planted):
    names = ("refund", "waiting", "login", "fees")[:planted]
    df = planted_corpus(seed=seed, n=300, themes=names)
    docs = tokenise(df["text"])
    wk = np.arange(len(df)) % 5 == 0
    got = themes(docs, wk, df["text"].tolist(), seed=seed)
    assert got.k == planted and "stable" in got.rule
    sel = got.selection.set_index("k")
    assert sel["stability"].idxmax() == planted
    # each planted theme is one fitted theme: a contingency table that is a permutation
    table = pd.crosstab(df["theme"], got.doc_theme["theme"])
    assert (table.max(axis=1) / table.sum(axis=1) > 0.9).all()
    assert table.idxmax(axis=1).nunique() == planted


# Three vocabularies, no word shared, and filler words shared by all: a baseline of themes A and
# B (half each), a recent period of C in a share ``new`` of its documents and A (a share
# ``a_recent`` of the rest) or B. Each document draws 8 words from its theme's vocabulary, or
# with probability 0.25 a filler word. (benchmarks/calibration_themes.py uses it too.)
VOCAB = {"A": ["queue", "hold", "waited", "hour", "hotline", "busy", "line", "agent",
               "transfer", "callback"],
         "B": ["refund", "money", "returned", "bank", "days", "amount", "credited", "cancelled",
               "weeks", "still"],
         "C": ["payment", "crash", "checkout", "frozen", "spinner", "button", "declined", "pay",
               "screen", "stuck"]}
FILLER = ["please", "again", "today", "really", "help", "thanks"]


def three_vocabularies(seed: int, new: float, n_base: int = 400, n_recent: int = 100,
                       a_recent: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for recent, n in ((False, n_base), (True, n_recent)):
        for _ in range(n):
            u, v = rng.random(), rng.random()
            theme = "C" if recent and u < new else ("A" if v < (a_recent if recent else 0.5)
                                                    else "B")
            doc = [FILLER[rng.integers(len(FILLER))] if rng.random() < 0.25 else
                   VOCAB[theme][rng.integers(10)] for _ in range(8)]
            rows.append((recent, theme, doc))
    return pd.DataFrame(rows, columns=["recent", "theme", "doc"])


def test_k_auto_recovers_a_theme_that_appears_only_in_recent_weeks():
    """C is a quarter of the recent documents and 5 % of all: the pooled rule alone finds A and
    B (k = 2); the recent period's own fit finds C, which matches neither (cosine < MATCH) and
    rose from nothing, so k = 3 and each planted theme is exactly one fitted theme (k in 2..6
    to keep the test short; benchmarks/calibration_themes.py runs 2..8 over many seeds)."""
    df = three_vocabularies(3, new=0.25)
    got = themes(df["doc"].tolist(), df["recent"], [" ".join(d) for d in df["doc"]],
                 k_range=(2, 6), seed=3)
    assert got.k == 3 and got.selection.loc[got.selection["chosen"], "k"].iloc[0] == 2
    table = pd.crosstab(df["theme"], got.doc_theme["theme"])
    assert (table.max(axis=1) == table.sum(axis=1)).all()  # every document in its own theme
    assert table.idxmax(axis=1).nunique() == 3
    c = got.themes.set_index("theme").loc[table.loc["C"].idxmax()]
    assert c["fitted_on"] == "recent period" and set(c["terms"].split(", ")[:8]) <= set(
        VOCAB["C"])
    assert c["volume_base"] == 0 and c["volume_week"] == (df["theme"] == "C").sum()
    assert c["change"] == pytest.approx(c["volume_week"] / 100) and c["ci_low"] > 0
    e = got.emerging[got.emerging["added"]]
    assert len(e) == 1 and e["similarity"].iloc[0] < MATCH and e["p_holm"].iloc[0] < 1e-6
    assert (got.emerging.loc[~got.emerging["added"], "similarity"] >= MATCH).all()  # A, B
    assert got.recent_selection is not None and got.recent_selection["chosen"].sum() == 1


def test_k_auto_adds_nothing_when_nothing_emerged():
    df = three_vocabularies(1, new=0.0)
    got = themes(df["doc"].tolist(), df["recent"], [" ".join(d) for d in df["doc"]],
                 k_range=(2, 6), seed=1)
    assert got.k == 2 and not got.emerging["candidate"].any() and "0 added" in got.rule
    assert (got.themes["fitted_on"] == "both periods").all()


def test_projection_is_nonnegative_least_squares_and_unit_themes_keep_w_h():
    rng = np.random.default_rng(4)
    x = rng.random((12, 7)) * (rng.random((12, 7)) < 0.6)
    w, h = rng.random((12, 3)), rng.random((3, 7)) + 0.1
    w1, h1 = unit_themes(w, h)
    np.testing.assert_allclose(w1 @ h1, w @ h, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(h1, axis=1), 1.0, rtol=1e-12)
    got = project(x, h1)
    # R: nnls::nnls(t(H), x_i) per document; here scipy's Lawson–Hanson active set
    ref = np.array([optimize.nnls(h1.T, row)[0] for row in x])
    np.testing.assert_allclose(got, ref, atol=1e-4)  # coordinate descent stops at tol 1e-6
    loss, best = (np.linalg.norm(x - got @ h1, axis=1), np.linalg.norm(x - ref @ h1, axis=1))
    np.testing.assert_allclose(loss, best, rtol=1e-8)
    assert (got >= 0).all()


def test_themes_volume_change_quotes_and_determinism():
    df = complaints(seed=5, n=700, mixed_share=1.0, last_week={"refund": 4.0})
    masked = mask_column(df, "text", ["customer_name"])
    docs = tokenise(masked)
    wk = (df["week"] == df["week"].max()).to_numpy()
    got = themes(docs, wk, masked.tolist(), k=3, seed=5)
    again = themes(docs, wk, masked.tolist(), k=3, seed=5)
    pd.testing.assert_frame_equal(got.themes, again.themes)
    pd.testing.assert_frame_equal(got.examples, again.examples)
    refund = got.themes[got.themes["terms"].str.contains("退款")].iloc[0]
    assert refund["change"] > 0 and refund["ci_low"] > 0  # the planted rise, outside chance
    t = got.themes.iloc[0]
    assert t["share_week"] == pytest.approx(t["volume_week"] / t["n_week"])
    assert t["change"] == pytest.approx(t["share_week"] - t["share_base"])
    assert (got.examples.groupby("theme").size() <= 3).all()
    assert got.examples["quote"].str.len().max() <= 141
    assert all(wk[d] for d in got.examples["doc"])
    shown = " ".join(got.examples["quote"]) + " ".join(got.themes["terms"])
    for col in ["email", "phone", "card", "national_id", "customer_name"]:
        assert not any(v and v in shown for v in df[col])
    assert (df.equals(complaints(seed=5, n=700, mixed_share=1.0, last_week={"refund": 4.0})))


def test_quote_never_cuts_a_mask_token():
    text = "退款" * 67 + "‹phone› and more words after it"
    q = quote(text, 140)
    assert q.endswith("…") and "‹ph" not in q.replace("‹phone›", "")
    assert quote("short ‹email› text") == "short ‹email› text"


def test_masking_is_idempotent_and_jieba_caches_outside_the_project():
    df = complaints(seed=11, n=120, pii_share=0.8)
    once = mask_column(df, "text", ["customer_name"])
    assert [mask(t) for t in once] == once.tolist()
    from conftest import ROOT

    assert ROOT.resolve() not in text_terms.CACHE_DIR.resolve().parents
