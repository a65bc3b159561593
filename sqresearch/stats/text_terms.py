"""Complaint text as terms: one tokeniser for Chinese and English, and the terms that rose or
fell this week against the baseline.

:func:`tokenise` reads masked texts (``text_mask.mask`` first: nothing personal is counted).
Chinese runs are segmented by jieba (its own bundled dictionary, an optional user dictionary;
nothing is downloaded; its cache sits in the system temp folder, its log is silenced), Latin
words are lower-cased; numbers, punctuation, mask tokens and stop words are dropped. The same
texts always give the same tokens.

:func:`keyness` is the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi &
Quinn 2008, "Fightin' words", Political Analysis 16(4), eq. 16-22): for term w with counts
y_w^i this week and y_w^j in the baseline, totals n^i, n^j, prior α_w and α0 = Σ α_w,

    δ̂_w = log[(y_w^i + α_w) / (n^i + α0 − y_w^i − α_w)]
          − log[(y_w^j + α_w) / (n^j + α0 − y_w^j − α_w)]
    σ²(δ̂_w) ≈ 1/(y_w^i + α_w) + 1/(y_w^j + α_w),    z_w = δ̂_w / σ(δ̂_w),

with α_w = α0 × (pooled share of w), α0 the pooled total unless given (the pooled corpus as the
background, their section 3.5). Beside it Dunning's (1993) log-likelihood G² = 2 Σ O ln(O/E) of
the term's 2 × 2 table (R: ``2 * sum(O * log(O / E))`` with E from ``chisq.test(O)$expected``;
scipy ``chi2_contingency(O, correction=False, lambda_="log-likelihood")``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.text_mask import MASK_TOKEN, normalise


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: English stop words (function words and complaint filler)
STOP_EN = _words("""
a about after again all also am an and any are as at be because been before being but by can
could did do does doing don't for from had has have having he her here him his how i i'm if in
into is it it's its just me more most my no not now of on once only or other our out over own
please really same she should so some still such than thank thanks that the their them then
there these they this those through to too until up very was we were what when where which
while who why will with would you your yours hi hello dear get got
""")
#: Chinese stop words (particles, pronouns, connectives)
STOP_ZH = _words("""
的 了 是 我 你 他 她 它 们 我们 你们 他们 在 有 和 与 就 不 也 都 很 这 那 还 又 被 把 给 让
吗 呢 吧 啊 呀 么 什么 怎么 一个 没有 已经 还是 但是 因为 所以 如果 而且 然后 可以 这个 那个 自己
我的 一直 到 说 要 对 等 请 您 好 着 过 会 能 上 下 后 里 个 次 才 再 却 为 为什么 而 及 或
从 向 啦 哦 嗯 地 得 之 其 该
""")
STOP_WORDS = STOP_EN | STOP_ZH
_CJK_RUN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_PIECES = re.compile(f"({_CJK_RUN})|([a-z][a-z0-9]*(?:['’][a-z]+)*)")
#: jieba's dictionary cache, outside the project
CACHE_DIR = Path(tempfile.gettempdir()) / "sqresearch-jieba"


class TextSettingsError(ValueError):
    """A user dictionary that cannot be read, with the fix."""


@contextlib.contextmanager
def _quiet():
    """jieba logs its loading to stderr at DEBUG and may import a deprecated module: silence
    both for the call."""
    log = logging.getLogger("jieba")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


@lru_cache(maxsize=4)
def segmenter(user_dict: str | None = None):
    """A jieba tokenizer initialised from its bundled dictionary (cached in ``CACHE_DIR``), with
    the user dictionary (jieba's format: ``word [frequency] [tag]`` per line) added."""
    with warnings.catch_warnings():  # its import may touch a deprecated module
        warnings.simplefilter("ignore")
        import jieba  # sets its logger to DEBUG on import: quieted below
    with _quiet():
        tk = jieba.Tokenizer()
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tk.tmp_dir = str(CACHE_DIR)
        tk.initialize()
        if user_dict:
            path = Path(user_dict)
            if not path.is_file():
                raise TextSettingsError(
                    f"the user dictionary {user_dict!r} is not a file; give the path of a "
                    "UTF-8 text file with one word per line (optionally its frequency and tag)")
            try:
                tk.load_userdict(str(path))
            except (UnicodeDecodeError, ValueError) as err:
                raise TextSettingsError(
                    f"the user dictionary {user_dict!r} cannot be read ({err}); save it as "
                    "UTF-8 with one word per line (optionally its frequency and tag)") from None
    return tk


def tokens(text: str, user_dict: str | None = None,
           stop_words: Iterable[str] = STOP_WORDS, hmm: bool = True) -> list[str]:
    """The terms of one (masked) text, in order: jieba words of its Chinese runs, lower-cased
    Latin words (a letter, then letters or digits); stop words and mask tokens dropped."""
    stop = stop_words if isinstance(stop_words, frozenset | set) else frozenset(stop_words)
    s = MASK_TOKEN.sub(" ", normalise(text)).lower()
    out: list[str] = []
    tk = None
    for m in _PIECES.finditer(s):
        if m.group(1):
            tk = tk or segmenter(user_dict)
            with _quiet():
                out.extend(w for w in tk.cut(m.group(1), HMM=hmm) if w not in stop)
        elif len(m.group(2)) > 1 and m.group(2) not in stop:
            out.append(m.group(2).replace("’", "'"))
    return out


def tokenise(texts: Iterable[str], user_dict: str | None = None,
             stop_words: Iterable[str] | None = None, extra_stop_words: Iterable[str] = (),
             hmm: bool = True) -> list[list[str]]:
    """:func:`tokens` of each text. ``stop_words`` replaces the built-in list (``STOP_WORDS``),
    ``extra_stop_words`` adds to it (a study's own filler words)."""
    stop = frozenset(STOP_WORDS if stop_words is None else stop_words) | frozenset(
        w.lower() for w in extra_stop_words)
    return [tokens(t, user_dict, stop, hmm) for t in texts]


def counts(docs: Iterable[list[str]]) -> pd.Series:
    """Term -> occurrences over the documents (sorted by term)."""
    c = Counter(w for d in docs for w in d)
    return pd.Series(c, dtype=float).sort_index()


def log_likelihood(a, b, n_a: float, n_b: float) -> np.ndarray:
    """Dunning's G² for each term: counts ``a`` of n_a and ``b`` of n_b tokens (2 × 2 table
    [[a, b], [n_a − a, n_b − b]]), 0 ln 0 = 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    obs = np.stack([a, b, n_a - a, n_b - b])
    total = n_a + n_b
    rows = np.stack([a + b, a + b, total - a - b, total - a - b])
    cols = np.array([n_a, n_b, n_a, n_b])[:, None]
    exp = rows * cols / total
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(obs > 0, obs * np.log(obs / exp), 0.0)
    return 2 * terms.sum(axis=0)


def keyness(week: pd.Series, base: pd.Series, alpha0: float | None = None,
            min_count: int = 3) -> pd.DataFrame:
    """Terms of this week against the baseline by the log-odds ratio with an informative
    Dirichlet prior (module docstring).

    Parameters
    ----------
    week, base : term -> count (:func:`counts`)
    alpha0 : the prior's total weight; None: the pooled total (α_w = pooled count of w)
    min_count : terms seen fewer times in both periods together are left out (after the
        totals are taken)

    Returns
    -------
    DataFrame sorted by |z| (largest first, then term): ``term``, ``count_week``,
    ``count_base``, ``delta`` (δ̂, log-odds ratio week vs baseline), ``se``, ``z``, ``p``
    (two-sided normal), ``g2`` (Dunning's log-likelihood), ``direction`` ("rose" / "fell").
    """
    t = pd.concat([week.rename("count_week"), base.rename("count_base")], axis=1).fillna(0.0)
    n_i, n_j = float(t["count_week"].sum()), float(t["count_base"].sum())
    if n_i == 0 or n_j == 0:
        raise ValueError("keyness needs terms in both this week and the baseline")
    pooled = t["count_week"] + t["count_base"]
    a0 = float(pooled.sum()) if alpha0 is None else float(alpha0)
    a = a0 * pooled / pooled.sum()
    yi, yj = t["count_week"], t["count_base"]
    delta = (np.log((yi + a) / (n_i + a0 - yi - a)) - np.log((yj + a) / (n_j + a0 - yj - a)))
    se = np.sqrt(1 / (yi + a) + 1 / (yj + a))
    out = pd.DataFrame({"term": t.index.astype(str), "count_week": yi.to_numpy(),
                        "count_base": yj.to_numpy(), "delta": delta.to_numpy(),
                        "se": se.to_numpy()})
    out["z"] = out["delta"] / out["se"]
    out["p"] = 2 * stats.norm.sf(out["z"].abs())
    out["g2"] = log_likelihood(out["count_week"], out["count_base"], n_i, n_j)
    out["direction"] = np.where(out["delta"] > 0, "rose", "fell")
    out = out[pooled.to_numpy() >= min_count]
    order = np.lexsort((out["term"].to_numpy(), -out["z"].abs().to_numpy()))
    return out.iloc[order].reset_index(drop=True)
