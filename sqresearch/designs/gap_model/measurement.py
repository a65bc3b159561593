"""The instrument's measurement quality: Cronbach's α with Feldt's CI and item analysis per
dimension and measure (E, P, gap), and the confirmatory factor analysis of the P items."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd

from sqresearch.stats import servqual

ALPHA_BAR = 0.7


def _blocks(instrument: pd.DataFrame, measures: dict[str, pd.DataFrame]):
    for dim, part in instrument.groupby("dimension", sort=False):
        for measure, block in measures.items():
            yield dim, measure, block[list(part["item"])]


def reliability(instrument: pd.DataFrame, measures: dict[str, pd.DataFrame], alpha: float
                ) -> pd.DataFrame:
    """Per dimension and measure: α, its Feldt CI, n (complete rows), k, and the 0.7 flag."""
    rows = []
    for dim, measure, block in _blocks(instrument, measures):
        a = servqual.cronbach_alpha(block, alpha)
        rows.append({"dimension": dim, "measure": measure, **a,
                     "flag": "ok" if a["alpha"] >= ALPHA_BAR else f"below {ALPHA_BAR:g}"})
    return pd.DataFrame(rows)


def item_reliability(instrument: pd.DataFrame, measures: dict[str, pd.DataFrame]
                     ) -> pd.DataFrame:
    """Per item and measure: corrected item-total r and α if the item is deleted."""
    frames = [servqual.item_analysis(block).assign(dimension=dim, measure=measure)
              for dim, measure, block in _blocks(instrument, measures)]
    return pd.concat(frames, ignore_index=True)


#: semopy orders variables through sets, so its fit differs in the last digits with Python's
#: hash seed; the CFA runs where that seed is fixed, so every run gives the same bytes
CFA_HASH_SEED = "0"


def cfa(perceptions: pd.DataFrame, instrument: pd.DataFrame) -> dict:
    """Confirmatory factor analysis of the perception items (semopy, ML with the Wishart
    likelihood, as R ``lavaan::cfa(likelihood = "wishart")``) on complete rows: χ², df, CFI,
    RMSEA (N − 1), SRMR and the standardized loadings.

    Deterministic whatever the caller's hash seed: when PYTHONHASHSEED is not CFA_HASH_SEED
    (plain papermill, JupyterLab) the fit runs in a child Python with it fixed, as ``sqr run``'s
    kernels have it, so every way of running a study gives the same numbers."""
    if os.environ.get("PYTHONHASHSEED") == CFA_HASH_SEED:
        return _cfa(perceptions, instrument)
    payload = json.dumps({"p": perceptions.to_dict(orient="split"),
                          "i": instrument.to_dict(orient="split")})
    done = subprocess.run([sys.executable, "-m", __name__], input=payload, text=True,
                          capture_output=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": CFA_HASH_SEED})
    out = json.loads(done.stdout)  # floats round-trip exactly through json
    out["loadings"] = pd.DataFrame(out["loadings"])
    return out


def _cfa_main() -> None:
    """``python -m sqresearch.designs.gap_model.measurement``: the CFA of JSON on stdin."""
    args = json.loads(sys.stdin.read())
    frames = [pd.DataFrame(args[k]["data"], index=args[k]["index"], columns=args[k]["columns"])
              for k in ("p", "i")]
    res = _cfa(*frames)
    res["loadings"] = res["loadings"].to_dict(orient="list")
    sys.stdout.write(json.dumps(res))


def _cfa(perceptions: pd.DataFrame, instrument: pd.DataFrame) -> dict:
    import semopy

    data = perceptions.dropna()
    dims = list(dict.fromkeys(instrument["dimension"]))
    spec = "\n".join(f"{d} =~ " + " + ".join(part["item"]) for d, part in
                     instrument.groupby("dimension", sort=False))
    model = semopy.Model(spec)
    model.fit(data)  # ML, Wishart objective
    s = semopy.calc_stats(model).iloc[0]
    n = len(data)
    # semopy scales its χ² by N; the Wishart likelihood (and lavaan's) uses N − 1
    chi2, df = s["chi2"] * (n - 1) / n, s["DoF"]
    chi2_b, df_b = s["chi2 Baseline"] * (n - 1) / n, s["DoF Baseline"]
    cfi = 1 - max(chi2 - df, 0) / max(chi2_b - df_b, chi2 - df, 1e-12)
    rmsea = math.sqrt(max(chi2 - df, 0) / (df * (n - 1)))
    cov = model.mx_cov  # the sample covariance the model was fitted to
    sd = np.sqrt(np.diag(cov))
    resid = (cov - model.calc_sigma()[0]) / np.outer(sd, sd)
    srmr = float(np.sqrt(np.mean(resid[np.tril_indices_from(resid)] ** 2)))
    est = model.inspect(std_est=True)
    loadings = est[(est["op"] == "~") & est["rval"].isin(dims)][
        ["rval", "lval", "Est. Std"]].rename(columns={"rval": "dimension", "lval": "item",
                                                      "Est. Std": "loading"})
    return {"cfi": cfi, "rmsea": rmsea, "srmr": srmr, "chi2": float(chi2), "df": float(df),
            "n": n, "loadings": loadings.reset_index(drop=True)}


def fits(c: dict) -> bool:
    """The usual guides: CFI ≥ 0.90, RMSEA ≤ 0.08, SRMR ≤ 0.08."""
    return c["cfi"] >= 0.9 and c["rmsea"] <= 0.08 and c["srmr"] <= 0.08


if __name__ == "__main__":
    _cfa_main()
