"""The instrument's measurement quality: Cronbach's α with Feldt's CI, McDonald's ω and item
analysis per dimension and measure (E, P, gap), the reliability of the gap as a difference
score, and the confirmatory factor analysis of the P items (robust ML: Satorra–Bentler scaled
χ²; ω, AVE and HTMT per factor)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd

from sqresearch.stats import reliability as rel
from sqresearch.stats import satorra_bentler, servqual

ALPHA_BAR = 0.7


def _blocks(instrument: pd.DataFrame, measures: dict[str, pd.DataFrame]):
    for dim, part in instrument.groupby("dimension", sort=False):
        for measure, block in measures.items():
            yield dim, measure, block[list(part["item"])]


def reliability(instrument: pd.DataFrame, measures: dict[str, pd.DataFrame], alpha: float
                ) -> pd.DataFrame:
    """Per dimension and measure: α, its Feldt CI, McDonald's ω (one-factor ML, see
    ``stats.reliability``), n (complete rows), k, and the 0.7 flag (on α)."""
    rows = []
    for dim, measure, block in _blocks(instrument, measures):
        a = servqual.cronbach_alpha(block, alpha)
        rows.append({"dimension": dim, "measure": measure, **a,
                     "omega": rel.omega_total(block),
                     "flag": "ok" if a["alpha"] >= ALPHA_BAR else f"below {ALPHA_BAR:g}"})
    return pd.DataFrame(rows)


def difference_reliability(instrument: pd.DataFrame, e: pd.DataFrame, p: pd.DataFrame,
                           table: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: the reliability of the gap score P − E (the difference of the dimension
    means) from the reliabilities of E and P (α, and ω) and their correlation, on the rows that
    answered every E and P item of the dimension; the gap items' own α beside it."""
    r = table.set_index(["dimension", "measure"])
    rows = []
    for dim, part in instrument.groupby("dimension", sort=False):
        items = list(part["item"])
        both = e[items].notna().all(axis=1) & p[items].notna().all(axis=1)
        es, ps = e.loc[both, items].mean(axis=1), p.loc[both, items].mean(axis=1)
        row = {"dimension": dim}
        for kind in ("alpha", "omega"):
            d = rel.difference_score_reliability(es, ps, r.loc[(dim, "E"), kind],
                                                 r.loc[(dim, "P"), kind])
            row |= {"sd_E": d["sd_E"], "sd_P": d["sd_P"], "r_PE": d["r_PE"], "n": d["n"],
                    f"E_{kind}": d["r_EE"], f"P_{kind}": d["r_PP"], f"gap_{kind}": d["r_DD"]}
        row["gap_items_alpha"] = r.loc[(dim, "gap"), "alpha"]
        row["lower_than_both"] = row["gap_alpha"] < min(row["E_alpha"], row["P_alpha"])
        rows.append(row)
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
    RMSEA (N − 1), SRMR and the standardized loadings; robust ML: the Satorra–Bentler scaled
    χ² (as ``lavaan::cfa(estimator = "MLM")``) for items that are ordinal, not normal; per
    factor ω (composite reliability) and AVE; the HTMT matrix of the factors.

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
    for k in ("loadings", "factors"):
        out[k] = pd.DataFrame(out[k])
    out["htmt"] = pd.DataFrame(out["htmt"]["data"], index=out["htmt"]["index"],
                               columns=out["htmt"]["columns"])
    return out


def _cfa_main() -> None:
    """``python -m sqresearch.designs.gap_model.measurement``: the CFA of JSON on stdin."""
    args = json.loads(sys.stdin.read())
    frames = [pd.DataFrame(args[k]["data"], index=args[k]["index"], columns=args[k]["columns"])
              for k in ("p", "i")]
    res = _cfa(*frames)
    for k in ("loadings", "factors"):
        res[k] = res[k].to_dict(orient="list")
    res["htmt"] = res["htmt"].to_dict(orient="split")
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
    sb = satorra_bentler.satorra_bentler(data[model.vars["observed"]].to_numpy(dtype=float),
                                         model.calc_sigma()[0], _jacobian(model),
                                         float(s["chi2"]), float(df))
    factors = _factors(est, dims)
    blocks = {d: list(part["item"]) for d, part in instrument.groupby("dimension", sort=False)}
    return {"cfi": cfi, "rmsea": rmsea, "srmr": srmr, "chi2": float(chi2), "df": float(df),
            "n": n, "chi2_ml": sb.chi2, "chi2_scaled": sb.chi2_scaled, "scaling": sb.scaling,
            "p_scaled": sb.p_value_scaled, "loadings": loadings.reset_index(drop=True),
            "factors": factors, "htmt": rel.htmt(data, blocks)}


def _jacobian(model) -> np.ndarray:
    """∂ vech Σ(θ) / ∂θ at the estimate, by central differences (step 1e-6)."""
    theta = np.array(model.param_vals, dtype=float)
    p = len(model.vars["observed"])
    rows, cols = satorra_bentler.vech_indices(p)
    out = np.empty((len(rows), len(theta)))
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = 1e-6
        model.update_matrices(theta + step)
        hi = model.calc_sigma()[0][rows, cols]
        model.update_matrices(theta - step)
        out[:, j] = (hi - model.calc_sigma()[0][rows, cols]) / 2e-6
    model.update_matrices(theta)
    return out


def _factors(est: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Per factor, from the unstandardized estimates (λ√ψ, ψ the factor variance): ω =
    (Σλ)² / ((Σλ)² + Σθ), AVE = Σλ² / (Σλ² + Σθ), and √AVE (R ``semTools::compRelSEM`` and
    ``AVE`` with ``obs.var = FALSE``)."""
    rows = []
    for d in dims:
        ld = est[(est["op"] == "~") & (est["rval"] == d)]
        psi = float(est[(est["op"] == "~~") & (est["lval"] == d) & (est["rval"] == d)]
                    ["Estimate"].iloc[0])
        theta = est[(est["op"] == "~~") & est["lval"].isin(ld["lval"]) &
                    (est["lval"] == est["rval"])]["Estimate"].astype(float)
        lam = ld["Estimate"].astype(float) * math.sqrt(psi)
        a = rel.ave(lam, theta)
        rows.append({"dimension": d, "items": len(ld),
                     "omega": rel.composite_reliability(lam, theta), "ave": a,
                     "sqrt_ave": math.sqrt(a)})
    return pd.DataFrame(rows)


#: Henseler et al. (2015): HTMT above 0.85 questions discriminant validity (0.90 for
#: conceptually close dimensions, as SERVQUAL's are)
HTMT_BAR = 0.85


def fits(c: dict) -> bool:
    """The usual guides: CFI ≥ 0.90, RMSEA ≤ 0.08, SRMR ≤ 0.08."""
    return c["cfi"] >= 0.9 and c["rmsea"] <= 0.08 and c["srmr"] <= 0.08


if __name__ == "__main__":
    _cfa_main()
