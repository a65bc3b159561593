"""The complaint text of the monitor: masked at load (``data.personal: mask``), tokenised
(jieba for Chinese runs, words for Latin), terms that rose or fell against the baseline
(log-odds with an informative Dirichlet prior, Monroe et al. 2008) and NMF themes fitted on
the recent and the baseline texts together (``stats.text_themes``). With ``themes: auto`` the
number of themes is the pooled texts' most stable k plus any theme of the recent weeks' own fit
that no pooled theme covers and whose share rose (an emerging complaint, rare in the pooled
texts because the baseline holds four times as many weeks); the rule is stated in the report
beside the themes table (``Themes.rule``) and every step is seeded with the study's seed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sqresearch.designs.monitor.weekly import cell_mask
from sqresearch.stats import text_terms, text_themes
from sqresearch.stats.multiplicity import holm

MIN_DOCS = 20  # texts a period needs before terms or themes are compared


@dataclass(frozen=True)
class TextResult:
    """``terms``: keyness table (rose/fell, Holm-adjusted p); ``themes``: stats.text_themes
    result or None; ``docs``: one row per text (week, recent flag, cell columns, theme,
    quote); ``note``: why something was not computed."""

    recent: list[str]
    base: list[str]
    terms: pd.DataFrame | None
    themes: text_themes.Themes | None
    docs: pd.DataFrame
    note: str = ""

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"recent_weeks": f"{self.recent[0]}..{self.recent[-1]}",
                              "baseline_weeks": f"{self.base[0]}..{self.base[-1]}"
                              if self.base else "", "texts_recent": int(self.docs["recent"]
                                                                        .sum()),
                              "texts_baseline": int((~self.docs["recent"]).sum()),
                              "themes": self.themes.k if self.themes else 0,
                              "emerging_themes": int((self.themes.themes["fitted_on"]
                                                      == "recent period").sum())
                              if self.themes else 0,
                              "note": self.note}])


def analyse(frame: pd.DataFrame, spec, recent: list[str], base: list[str], segments: list[str],
            seed: int, user_dict: str | None = None) -> TextResult:
    """Terms and themes of the ``recent`` weeks' texts against the ``base`` weeks' texts."""
    col = spec.column
    rows = frame[frame[col].notna() & frame["week"].isin([*recent, *base])]
    rows = rows[rows[col].astype(str).str.strip() != ""]
    texts = rows[col].astype(str).tolist()
    is_recent = rows["week"].isin(recent).to_numpy()
    docs = text_terms.tokenise(texts, user_dict, extra_stop_words=spec.stop_words)
    table = rows[["week", *segments]].assign(recent=is_recent, quote=[
        text_themes.quote(t) for t in texts]).reset_index(drop=True)
    n_recent, n_base = int(is_recent.sum()), int((~is_recent).sum())
    if min(n_recent, n_base) < MIN_DOCS:
        return TextResult(recent, base, None, None, table.assign(theme=-1),
                          f"{n_recent} recent and {n_base} baseline texts: terms and themes "
                          f"need at least {MIN_DOCS} in each.")
    recent_docs = [d for d, r in zip(docs, is_recent, strict=True) if r]
    base_docs = [d for d, r in zip(docs, is_recent, strict=True) if not r]
    terms = text_terms.keyness(text_terms.counts(recent_docs), text_terms.counts(base_docs))
    terms["p_holm"] = holm(terms["p"].to_numpy())
    k = None if spec.themes == "auto" else int(spec.themes)
    th = text_themes.themes(docs, is_recent, [t for t in table["quote"]], k=k, seed=seed)
    table["theme"] = th.doc_theme["theme"].to_numpy()
    return TextResult(recent, base, terms, th, table)


def cell_themes(result: TextResult, cell: str, week: str, n_quotes: int = 3) -> dict:
    """The themes of one cell's texts this week and up to ``n_quotes`` masked quotes."""
    d = result.docs
    mine = d[cell_mask(d, cell) & (d["week"] == week)]
    out = {"texts": len(mine), "themes": [], "quotes": mine["quote"].head(n_quotes).tolist()}
    if result.themes is None or mine.empty:
        return out
    labels = result.themes.themes.set_index("theme")["label"]
    counts = mine.loc[mine["theme"] > 0, "theme"].value_counts()
    out["themes"] = [f"{labels[t]} ({c})" for t, c in counts.sort_index()
                     .sort_values(ascending=False, kind="mergesort").items()][:3]
    best = mine.assign(_t=mine["theme"].isin(counts.index[:1])).sort_values(
        "_t", ascending=False, kind="mergesort")
    out["quotes"] = best["quote"].head(n_quotes).tolist()
    return out
