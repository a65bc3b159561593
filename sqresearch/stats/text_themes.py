"""Complaint themes: NMF on TF-IDF over this week's and the baseline's (masked, tokenised)
texts, k chosen by a stated rule, each theme with its top terms, volume, change and quotes.

One model is fitted to both periods, so a theme means the same in each. TF-IDF is scikit-learn's
(smooth idf, l2-normalised rows, terms in at least ``min_df`` documents); NMF uses
``init="nndsvda"`` and the given ``seed`` (scikit-learn ``NMF``; Lee & Seung 2001).

The rule for k (``choose_k``, after Greene, O'Callaghan & Cunningham 2014, "How many topics?
Stability analysis for topic models"): for each k in ``k_range`` the model is refitted on five
random 80 % subsamples of the documents (seeded); each subsample's themes are matched one to one
to the full fit's (Hungarian algorithm) by the Jaccard similarity of their top ``n_terms`` terms,
and the k with the highest mean similarity is kept (the larger on ties within 1e-9: a split
that is just as stable is finer). Too few themes merge unrelated ones, too many split one
arbitrarily: either way the subsamples disagree. The selection table also shows the mean NPMI
coherence of the top terms (Bouma 2009; Röder et al. 2015, boolean documents) and the
reconstruction error; coherence alone is not the rule: it rises with k as themes narrow
(benchmarks/calibration_text.py: it found 5 planted themes in 60 % of seeds, stability 100 %).

A document belongs to a theme when the theme holds at least ``share`` of its NMF weight. A
theme's change is its share of this week's documents minus its share of the baseline's, with
Newcombe's hybrid score interval and the two-proportion z-test (``proportions.two_proportions``,
R ``prop.test(correct = FALSE)``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from sqresearch.stats.proportions import two_proportions
from sqresearch.stats.text_mask import MASK_TOKEN

QUOTE_CHARS = 140


@dataclass(frozen=True)
class Themes:
    """``themes``: one row per theme (``theme``, ``label``, ``terms``, ``volume_week``,
    ``n_week``, ``share_week``, ``volume_base``, ``n_base``, ``share_base``, ``change``,
    ``ci_low``, ``ci_high``, ``z``, ``p``); ``terms``: theme, rank, term, weight;
    ``examples``: theme, rank, doc, weight, quote; ``selection``: k, coherence, error;
    ``doc_theme``: per document its main theme (−1 below ``share``) and that share."""

    k: int
    rule: str
    themes: pd.DataFrame
    terms: pd.DataFrame
    examples: pd.DataFrame
    selection: pd.DataFrame
    doc_theme: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.themes


def _identity(doc):
    return doc


def tfidf(docs: list[list[str]], min_df: int = 2):
    """The TF-IDF matrix of tokenised documents and its terms."""
    vec = TfidfVectorizer(analyzer=_identity, min_df=min_df)
    x = vec.fit_transform(docs)
    return x, vec.get_feature_names_out()


def fit_nmf(x, k: int, seed: int):
    """W (documents × themes), H (themes × terms) and the reconstruction error."""
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=1000, tol=1e-5)
    with warnings.catch_warnings():  # a k far from the data's may stop at max_iter: no noise
        warnings.simplefilter("ignore", ConvergenceWarning)
        w = model.fit_transform(x)
    return w, model.components_, float(model.reconstruction_err_)


def npmi_coherence(h: np.ndarray, present: np.ndarray, n_terms: int = 10) -> np.ndarray:
    """Per theme, the mean NPMI over pairs of its top terms, from boolean document occurrence
    ``present`` (documents × terms): NPMI = log(p_ij / (p_i p_j)) / −log p_ij, −1 when the
    pair never meets."""
    n_docs = present.shape[0]
    out = []
    for row in h:
        top = np.argsort(-row, kind="stable")[:n_terms]
        occ = present[:, top].astype(float)
        p = occ.mean(axis=0)
        joint = (occ.T @ occ) / n_docs
        vals = []
        for a in range(len(top)):
            for b in range(a + 1, len(top)):
                pij = joint[a, b]
                if pij == 0:
                    vals.append(-1.0)
                elif pij == 1:
                    vals.append(1.0)
                else:
                    vals.append(np.log(pij / (p[a] * p[b])) / -np.log(pij))
        out.append(float(np.mean(vals)) if vals else np.nan)
    return np.array(out)


def _top_sets(h: np.ndarray, n_terms: int) -> list[set]:
    return [set(np.argsort(-row, kind="stable")[:n_terms].tolist()) for row in h]


def agreement(ref: list[set], other: list[set]) -> float:
    """Mean Jaccard similarity of two sets of themes' top terms, themes matched one to one to
    maximise it (Hungarian algorithm)."""
    sim = np.array([[len(a & b) / len(a | b) for b in other] for a in ref])
    rows, cols = linear_sum_assignment(-sim)
    return float(sim[rows, cols].mean())


def choose_k(x, present: np.ndarray, k_range=(2, 8), seed: int = 15, n_terms: int = 10,
             resamples: int = 5, fraction: float = 0.8) -> pd.DataFrame:
    """The selection table: ``k``, ``stability`` (mean top-term agreement of the themes of
    ``resamples`` random ``fraction`` subsamples of the documents with those of all of them),
    ``coherence`` (mean NPMI), ``error`` (NMF reconstruction error) and ``chosen``."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    subsets = [np.sort(rng.choice(n, size=int(fraction * n), replace=False))
               for _ in range(resamples)]
    rows = []
    for k in range(k_range[0], k_range[1] + 1):
        if k >= min(x.shape):
            break
        _, h, err = fit_nmf(x, k, seed)
        ref = _top_sets(h, n_terms)
        stab = np.mean([agreement(ref, _top_sets(fit_nmf(x[s], k, seed)[1], n_terms))
                        for s in subsets])
        rows.append((k, float(stab), float(np.mean(npmi_coherence(h, present, n_terms))), err))
    sel = pd.DataFrame(rows, columns=["k", "stability", "coherence", "error"])
    if sel.empty:
        raise ValueError("too few documents or terms for two themes")
    best = sel["stability"].max()
    sel["chosen"] = sel["k"] == sel.loc[sel["stability"] >= best - 1e-9, "k"].max()
    return sel


def quote(text: str, chars: int = QUOTE_CHARS) -> str:
    """A masked text shortened to about ``chars`` characters at a word or mask-token boundary,
    with '…' when cut (a mask token is never cut in half)."""
    s = " ".join(str(text).split())
    if len(s) <= chars:
        return s
    cut = chars
    for m in MASK_TOKEN.finditer(s):
        if m.start() < cut < m.end():
            cut = m.start()
    space = s.rfind(" ", 0, cut)
    if space > chars // 2:
        cut = space
    return s[:cut].rstrip(" ,，.。") + "…"


def themes(docs: list[list[str]], week, masked_texts: list[str], k: int | None = None,
           k_range=(2, 8), seed: int = 15, share: float = 0.3, n_terms: int = 10,
           n_examples: int = 3, min_df: int = 2, alpha: float = 0.05) -> Themes:
    """Themes of this week's and the baseline's complaints.

    Parameters
    ----------
    docs : tokenised masked texts (``text_terms.tokenise``), this week's and the baseline's
    week : boolean per document, True for this week
    masked_texts : the same documents' masked texts (the quotes)
    k : number of themes; None: chosen by the rule of the module docstring over ``k_range``
    seed : NMF's random_state
    share : a document counts for a theme holding at least this share of its weight
    n_terms : top terms per theme (also those scored for coherence)
    n_examples : quotes per theme: this week's documents of highest weight on it
    """
    week = np.asarray(week, bool)
    if len(docs) != len(week) or len(docs) != len(masked_texts):
        raise ValueError("docs, week and masked_texts must have one entry per document")
    keep = np.array([len(d) > 0 for d in docs])
    x, vocab = tfidf([d for d, ok in zip(docs, keep, strict=True) if ok], min_df)
    present = (x > 0).toarray()
    sel = choose_k(x, present, k_range, seed, n_terms) if k is None else pd.DataFrame(
        {"k": [k], "stability": [np.nan], "coherence": [np.nan], "error": [np.nan],
         "chosen": [True]})
    k = int(sel.loc[sel["chosen"], "k"].iloc[0])
    rule = ("given" if sel["stability"].isna().all() else
            f"k in {k_range[0]}..{k_range[1]} whose themes' top {n_terms} terms are the most "
            "stable over 80% subsamples (Greene et al. 2014)")
    w_kept, h, _ = fit_nmf(x, k, seed)
    w = np.zeros((len(docs), k))
    w[keep] = w_kept
    total = w.sum(axis=1)
    frac = np.divide(w, total[:, None], out=np.zeros_like(w), where=total[:, None] > 0)
    main = np.where(frac.max(axis=1) >= share, frac.argmax(axis=1), -1)
    term_rows, theme_rows, example_rows = [], [], []
    n_week, n_base = int(week.sum()), int((~week).sum())
    for t in range(k):
        top = np.argsort(-h[t], kind="stable")[:n_terms]
        term_rows += [(t + 1, r + 1, vocab[j], float(h[t, j])) for r, j in enumerate(top)]
        member = frac[:, t] >= share
        vw, vb = int((member & week).sum()), int((member & ~week).sum())
        test = two_proportions(vb, n_base, vw, n_week, alpha).iloc[0] if n_week and n_base \
            else None
        theme_rows.append({
            "theme": t + 1, "label": " / ".join(vocab[top[:3]]),
            "terms": ", ".join(vocab[top]), "volume_week": vw, "n_week": n_week,
            "share_week": vw / n_week if n_week else np.nan, "volume_base": vb,
            "n_base": n_base, "share_base": vb / n_base if n_base else np.nan,
            "change": test["estimate"] if test is not None else np.nan,
            "ci_low": test["ci_low"] if test is not None else np.nan,
            "ci_high": test["ci_high"] if test is not None else np.nan,
            "z": test["statistic"] if test is not None else np.nan,
            "p": test["p_value"] if test is not None else np.nan})
        cand = np.flatnonzero(week & member)
        best = cand[np.lexsort((cand, -w[cand, t]))][:n_examples]
        example_rows += [(t + 1, r + 1, int(d), float(w[d, t]), quote(masked_texts[d]))
                         for r, d in enumerate(best)]
    return Themes(
        k=k, rule=rule, themes=pd.DataFrame(theme_rows),
        terms=pd.DataFrame(term_rows, columns=["theme", "rank", "term", "weight"]),
        examples=pd.DataFrame(example_rows, columns=["theme", "rank", "doc", "weight", "quote"]),
        selection=sel,
        doc_theme=pd.DataFrame({"theme": np.where(main >= 0, main + 1, -1),
                                "share": frac.max(axis=1)}))
