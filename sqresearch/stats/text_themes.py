"""Complaint themes: NMF on TF-IDF over this week's and the baseline's (masked, tokenised)
texts, k chosen by a stated rule, each theme with its top terms, volume, change and quotes.

One model is fitted to both periods, so a theme means the same in each. TF-IDF is scikit-learn's
(smooth idf, l2-normalised rows, terms in at least ``min_df`` documents); NMF uses
``init="nndsvda"`` and the given ``seed`` (scikit-learn ``NMF``; Lee & Seung 2001).

The rule for k has two steps, both seeded (the study's ``seed``) and deterministic.

1. Pooled themes (``choose_k``, after Greene, O'Callaghan & Cunningham 2014, "How many
   topics? Stability analysis for topic models"): for each k in ``k_range`` the model is
   refitted on five random 80 % subsamples of the documents (seeded); each subsample's themes
   are matched one to one to the full fit's (Hungarian algorithm) by the Jaccard similarity of
   their top ``n_terms`` terms, and the k with the highest mean similarity is kept (the larger
   on ties within 1e-9: a split that is just as stable is finer). Too few themes merge
   unrelated ones, too many split one arbitrarily: either way the subsamples disagree. The
   selection table also shows the mean NPMI coherence of the top terms (Bouma 2009; Röder et
   al. 2015, boolean documents) and the reconstruction error; coherence alone is not the rule:
   it rises with k as themes narrow (benchmarks/calibration_text.py: it found 5 planted themes
   in 60 % of seeds, stability 100 %).
2. Emerging themes (``recent_candidates``, ``emerging_themes``): the baseline holds most of the
   pooled documents (12 weeks against 3), so a theme that is new in the recent weeks is rare in
   the pooled corpus and NMF folds its terms into other themes (the monitor demo: the planted
   payment-crash theme, 5 % of the pooled texts, at every k in 4..9). The recent period's own
   texts are therefore fitted too, k by the same rule (the window themes of Greene & Cross
   2017, "Exploring the political agenda of the European Parliament using a dynamic topic
   modeling approach", Political Analysis 25:77). A recent theme is a candidate when its
   term-weight vector has cosine below ``MATCH`` = 0.3 with every pooled theme (cos² < 0.09:
   less than a tenth of its squared weight lies along any pooled theme; on the demo the
   emerging theme's largest cosine is 0.14–0.19 and the English half of the bilingual refund
   theme's 0.45–0.49, the recent themes a pooled one also holds ≥ 0.85). Every document's
   weights are then solved again on the pooled themes and the candidates together, all of
   unit length (non-negative least squares, H fixed: each theme means what its own fit
   found), and a candidate is kept only when its share of the recent documents rose against
   the baseline's: two-proportion z-test, Holm-adjusted over the candidates, at ``alpha``,
   with a positive change. The weights are solved once more on the kept ones if some were
   dropped. A recent theme that another theme already covers in the baseline as well has no
   significant rise and is dropped, so k grows only for a genuinely distinct, growing theme
   (benchmarks/calibration_themes.py: how often a theme is added when nothing emerged, how
   often a planted one is found). A fading theme needs no such step: the baseline dominates
   the pooled fit, which keeps it while it lasts.

Themes are scaled to unit length (``unit_themes``), and a document belongs to a theme when the
theme holds at least ``share`` of its NMF weight. A theme's change is its share of this week's
documents minus its share of the baseline's, with Newcombe's hybrid score interval and the
two-proportion z-test (``proportions.two_proportions``, R ``prop.test(correct = FALSE)``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF, non_negative_factorization
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from sqresearch.stats.multiplicity import holm
from sqresearch.stats.proportions import two_proportions
from sqresearch.stats.text_mask import MASK_TOKEN

QUOTE_CHARS = 140
MATCH = 0.3  # cosine below which a recent theme matches no pooled theme (cos² < 0.09)
MIN_RECENT = 20  # recent documents needed before the recent period is fitted on its own
EMERGING_COLUMNS = ["recent_theme", "terms", "similarity", "candidate", "change", "ci_low",
                    "ci_high", "p", "p_holm", "added"]


@dataclass(frozen=True)
class Themes:
    """``themes``: one row per theme (``theme``, ``label``, ``terms``, ``volume_week``,
    ``n_week``, ``share_week``, ``volume_base``, ``n_base``, ``share_base``, ``change``,
    ``ci_low``, ``ci_high``, ``z``, ``p``); ``terms``: theme, rank, term, weight;
    ``examples``: theme, rank, doc, weight, quote; ``selection``: k, stability, coherence,
    error, chosen (the pooled fit); ``doc_theme``: per document its main theme (−1 below
    ``share``) and that share; ``emerging``: the recent period's own themes (``recent_theme``,
    ``terms``, ``similarity``: largest cosine with a pooled theme, ``candidate``, the test of
    its rise with the candidates added: ``change``, ``ci_low``, ``ci_high``, ``p``,
    ``p_holm``, ``added``);
    ``recent_selection``: the recent fit's table like ``selection`` (None when not fitted).
    ``themes`` has ``fitted_on``: "both periods" or "recent period" (an added theme)."""

    k: int
    rule: str
    themes: pd.DataFrame
    terms: pd.DataFrame
    examples: pd.DataFrame
    selection: pd.DataFrame
    doc_theme: pd.DataFrame
    emerging: pd.DataFrame
    recent_selection: pd.DataFrame | None = None

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


def _unit(h: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(h, axis=1, keepdims=True)
    return np.divide(h, norm, out=np.zeros_like(h), where=norm > 0)


def _shares(w: np.ndarray) -> np.ndarray:
    """Each document's NMF weights as shares of its total weight (0 where it has none)."""
    total = w.sum(axis=1)
    return np.divide(w, total[:, None], out=np.zeros_like(w), where=total[:, None] > 0)


def _expand(w: np.ndarray, keep: np.ndarray) -> np.ndarray:
    out = np.zeros((len(keep), w.shape[1]))
    out[keep] = w
    return out


def change(member: np.ndarray, week: np.ndarray, alpha: float = 0.05) -> dict:
    """A theme's volume and share in each period and the change of its share (this week −
    baseline): Newcombe's hybrid score CI and the two-proportion z-test
    (``proportions.two_proportions``, R ``prop.test(correct = FALSE)``)."""
    n_week, n_base = int(week.sum()), int((~week).sum())
    vw, vb = int((member & week).sum()), int((member & ~week).sum())
    test = two_proportions(vb, n_base, vw, n_week, alpha).iloc[0] if n_week and n_base \
        else None
    return {"volume_week": vw, "n_week": n_week,
            "share_week": vw / n_week if n_week else np.nan, "volume_base": vb,
            "n_base": n_base, "share_base": vb / n_base if n_base else np.nan,
            "change": test["estimate"] if test is not None else np.nan,
            "ci_low": test["ci_low"] if test is not None else np.nan,
            "ci_high": test["ci_high"] if test is not None else np.nan,
            "z": test["statistic"] if test is not None else np.nan,
            "p": test["p_value"] if test is not None else np.nan}


def unit_themes(w: np.ndarray, h: np.ndarray):
    """The same factorisation with unit-length themes: H's rows divided by their l2 norms, W's
    columns multiplied by them (W H unchanged), so that a document's weights on different
    themes, and so its shares, are on one scale."""
    norm = np.linalg.norm(h, axis=1)
    norm = np.where(norm > 0, norm, 1.0)
    return w * norm[None, :], h / norm[:, None]


def project(x, h: np.ndarray) -> np.ndarray:
    """W of ``x`` on the fixed themes ``h`` (unit-length rows): the non-negative least-squares
    weights, scikit-learn ``non_negative_factorization(update_H=False)`` (coordinate descent,
    deterministic)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        w, _, _ = non_negative_factorization(x, H=h, n_components=h.shape[0], update_H=False,
                                             max_iter=1000, tol=1e-6)
    return w


def recent_candidates(x, recent, h: np.ndarray, k_range=(2, 8), seed: int = 15,
                      n_terms: int = 10):
    """The recent period's own themes (k by ``choose_k`` on its documents alone) and each one's
    largest cosine with a pooled theme (rows of ``h``): (H, similarities, selection table), or
    None when the recent period has fewer than ``MIN_RECENT`` documents."""
    rows = np.flatnonzero(np.asarray(recent, bool))
    if rows.size < MIN_RECENT:
        return None
    xr = x[rows]
    sel = choose_k(xr, (xr > 0).toarray(), k_range, seed, n_terms)
    _, hr, _ = fit_nmf(xr, int(sel.loc[sel["chosen"], "k"].iloc[0]), seed)
    return hr, (_unit(hr) @ _unit(h).T).max(axis=1), sel


def emerging_themes(x, vocab, week: np.ndarray, keep: np.ndarray, w: np.ndarray,
                    h: np.ndarray, k_range=(2, 8), seed: int = 15, n_terms: int = 10,
                    share: float = 0.3, alpha: float = 0.05):
    """Step 2 of the rule for k (module docstring). ``x``: TF-IDF of the documents with tokens
    (``keep``), ``w``, ``h`` their pooled fit; ``week``: per document (all of them).

    Returns W (documents with tokens) and H, the pooled themes followed by the added ones (the
    pooled fit itself when none is added), the number of themes added, the ``emerging`` table
    (columns ``EMERGING_COLUMNS``, one row per recent theme) and the recent fit's selection
    table (None when the recent period was too small to fit)."""
    found = recent_candidates(x, week[keep], h, k_range, seed, n_terms)
    if found is None:
        return w, h, 0, pd.DataFrame(columns=EMERGING_COLUMNS), None
    hr, sim, rsel = found
    k0, cand = h.shape[0], np.flatnonzero(sim < MATCH)
    tests, added = {}, []
    if cand.size:
        h2 = np.vstack([h, _unit(hr[cand])])
        frac = _shares(_expand(project(x, h2), keep))
        tests = {c: change(frac[:, k0 + j] >= share, week, alpha) for j, c in enumerate(cand)}
        p_holm = dict(zip(cand, holm([tests[c]["p"] for c in cand]), strict=True))
        added = [c for c in cand if p_holm[c] <= alpha and tests[c]["change"] > 0]
        for c in cand:
            tests[c]["p_holm"] = p_holm[c]
        if added:
            h = np.vstack([h, _unit(hr[added])])
            w = project(x, h)
    rows = []
    for i, row in enumerate(hr):
        t = tests.get(i, {})
        rows.append({"recent_theme": i + 1,
                     "terms": ", ".join(vocab[np.argsort(-row, kind="stable")[:n_terms]]),
                     "similarity": float(sim[i]), "candidate": bool(sim[i] < MATCH),
                     **{c: t.get(c, np.nan) for c in EMERGING_COLUMNS[4:9]},
                     "added": i in added})
    return w, h, len(added), pd.DataFrame(rows, columns=EMERGING_COLUMNS), rsel


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
    week : boolean per document, True for this week (the recent period)
    masked_texts : the same documents' masked texts (the quotes)
    k : number of themes; None: chosen by the two-step rule of the module docstring over
        ``k_range`` (the pooled themes plus any emerging ones)
    seed : NMF's random_state and the subsamples' seed
    share : a document counts for a theme holding at least this share of its weight
    n_terms : top terms per theme (also those scored for coherence and stability)
    n_examples : quotes per theme: this week's documents of highest weight on it
    alpha : level of the change intervals and of the test that keeps an emerging theme
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
    k0 = int(sel.loc[sel["chosen"], "k"].iloc[0])
    w_kept, h = unit_themes(*fit_nmf(x, k0, seed)[:2])
    added, emerging, recent_sel = 0, pd.DataFrame(columns=EMERGING_COLUMNS), None
    if k is None:
        w_kept, h, added, emerging, recent_sel = emerging_themes(
            x, vocab, week, keep, w_kept, h, k_range, seed, n_terms, share, alpha)
        rule = (f"k in {k_range[0]}..{k_range[1]} whose themes' top {n_terms} terms are the "
                f"most stable over 80% subsamples (Greene et al. 2014), fitted to both "
                f"periods' texts ({k0} themes); plus each theme of the recent weeks' own fit "
                f"(same rule) that matches no pooled theme (cosine < {MATCH}) and whose share "
                f"rose against the baseline (two-proportion z-test, Holm over the "
                f"{int(emerging['candidate'].sum())} such themes, α = {alpha:g}): {added} "
                f"added" + (f" (theme {', '.join(str(k0 + 1 + i) for i in range(added))})"
                            if added else ""))
    else:
        rule = "given"
    k = k0 + added
    w = _expand(w_kept, keep)
    frac = _shares(w)
    main = np.where(frac.max(axis=1) >= share, frac.argmax(axis=1), -1)
    term_rows, theme_rows, example_rows = [], [], []
    for t in range(k):
        top = np.argsort(-h[t], kind="stable")[:n_terms]
        term_rows += [(t + 1, r + 1, vocab[j], float(h[t, j])) for r, j in enumerate(top)]
        member = frac[:, t] >= share
        theme_rows.append({"theme": t + 1, "label": " / ".join(vocab[top[:3]]),
                           "terms": ", ".join(vocab[top]), **change(member, week, alpha),
                           "fitted_on": "both periods" if t < k0 else "recent period"})
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
                                "share": frac.max(axis=1)}),
        emerging=emerging, recent_selection=recent_sel)
