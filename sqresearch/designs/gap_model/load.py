"""Gap-model inputs: the instrument, the survey (with its checks and flags), the management
survey, the standards and promises tables, and the KPI data for gaps 3 and 4."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch import kpi
from sqresearch.io import params as params_mod
from sqresearch.io import paths
from sqresearch.io.data import InputFile, LoadedTable, Role, load_table
from sqresearch.io.errors import DataError, Problem, examples
from sqresearch.io.files import read_raw, sha256
from sqresearch.io.schemas import REQUIRED_TICKET_ROLES, GapModelParams
from sqresearch.stats import servqual


@dataclass
class GapInputs:
    survey: LoadedTable
    instrument: pd.DataFrame
    management: LoadedTable | None
    standards: pd.DataFrame | None
    promises: pd.DataFrame | None
    kpi_tickets: tuple | None  # (prepared tickets, KPI context) of kpi_data
    other_files: list[InputFile]  # every input besides the survey, for the manifest

    @cached_property
    def kpis(self) -> pd.DataFrame | None:
        """The KPI engine's overall table on kpi_data (computed when first asked for: loading
        and validating need no statistics)."""
        return None if self.kpi_tickets is None else kpi.kpi_table(*self.kpi_tickets)


def _instrument(p: GapModelParams, source: str) -> pd.DataFrame:
    path = paths.resolve(p.instrument) if p.instrument else servqual.DEFAULT_INSTRUMENT
    if not path.is_file():
        raise DataError(source, Problem("key 'instrument'", f"file {p.instrument!r} does not "
                                        "exist.", "give a CSV with item, dimension, wording, "
                                        "reverse, or leave the key out for the default."))
    instrument = servqual.read_instrument(path)
    problems = servqual.instrument_problems(instrument)
    if problems:
        raise DataError(f"{source} (instrument {paths.display(path)})",
                        [Problem("instrument", what + ".", "every item needs a dimension; "
                                 "every dimension at least two items.") for what in problems])
    return instrument


def _columns(p: GapModelParams, item: str) -> dict[str, str]:
    cols = {"E": p.expectation_prefix + item, "P": p.perception_prefix + item}
    if p.adequate_prefix:
        cols["A"] = p.adequate_prefix + item
    if p.desired_prefix:
        cols["D"] = p.desired_prefix + item
    return cols


def load(p: GapModelParams, source: str) -> GapInputs:
    """Read and check the survey and the provider-side inputs."""
    instrument = _instrument(p, source)
    header = set(read_raw(p.data, source, limit=0).columns)
    problems = []
    for item in instrument["item"]:
        cols = _columns(p, item)
        if cols["E"] in header and cols["P"] not in header:
            problems.append(Problem(f"column {cols['E']!r}", f"has no matching {cols['P']!r}.",
                                    "add the perception column, or remove the item from the "
                                    "instrument."))
        elif cols["P"] in header and cols["E"] not in header:
            problems.append(Problem(f"column {cols['P']!r}", f"has no matching {cols['E']!r}.",
                                    "add the expectation column, or remove the item from the "
                                    "instrument."))
    if problems:
        raise DataError(source, problems)
    lo, hi = p.scale
    roles = {c: Role("score", lo, hi, integer=True) for item in instrument["item"]
             for c in _columns(p, item).values()}
    dims = list(dict.fromkeys(instrument["dimension"]))
    if p.importance_prefix:
        roles |= {p.importance_prefix + d: Role("score", 0, 100) for d in dims}
    if p.overall:
        roles[p.overall] = Role("score", lo, hi, integer=True)
    if p.respondent_id:
        roles[p.respondent_id] = Role("id")
    checks = (_points_check(p, dims),) if p.importance_prefix else ()
    survey = load_table(p.data, roles, tuple(roles), tuple(p.segments), checks, source)
    _flag(survey, p, instrument)
    management = None
    if p.management:
        m_roles = {p.expectation_prefix + i: Role("score", lo, hi, integer=True)
                   for i in instrument["item"]}
        management = load_table(p.management, m_roles, tuple(m_roles), (), (),
                                f"{source} (management)")
    standards = _table(p.standards, ["dimension", "standard"], source, "standards", dims, p)
    promises = _table(p.promises, ["promise", "kpi", "op", "target"], source, "promises", dims, p)
    files = [management.source] if management else []
    for src, t in ((p.standards, standards), (p.promises, promises)):
        if src is not None:
            path = paths.resolve(src.path)
            files.append(InputFile(paths.display(path), sha256(path), len(t), "csv"))
    tickets = None
    if p.kpi_data is not None:
        t = load_table(p.kpi_data, kpi.ticket_roles(p), REQUIRED_TICKET_ROLES, (),
                       (kpi.ticket_checks,), f"{source} (kpi_data)")
        files.append(t.source)
        tickets = kpi.prepare_table(p, t)
    return GapInputs(survey, instrument, management, standards, promises, tickets, files)


def _points_check(p: GapModelParams, dims: list[str]):
    cols = [p.importance_prefix + d for d in dims]

    def check(frame: pd.DataFrame):
        total = frame[cols].sum(axis=1, min_count=len(cols))
        return [("importance points do not sum to 100", cols[0],
                 (total.notna() & ((total - 100).abs() > 0.5)).to_numpy())]

    return check


def _flag(survey: LoadedTable, p: GapModelParams, instrument: pd.DataFrame) -> None:
    answers = survey.frame[[c for i in instrument["item"] for k, c in _columns(p, i).items()
                            if k in "EP"]]
    straight = servqual.straight_liners(answers)
    survey.flag(straight, "straight-liner (same answer to every item)", "E_/P_ items")
    key = survey.frame[p.respondent_id] if p.respondent_id else answers.astype(str).agg("|".join,
                                                                                        axis=1)
    survey.flag(key.duplicated(keep="first"), "duplicate respondent", p.respondent_id or
                "all answers")


def _table(src, required: list[str], source: str, key: str, dims: list[str],
           p: GapModelParams) -> pd.DataFrame | None:
    if src is None:
        return None
    path = paths.resolve(src.path)
    if not path.is_file():
        raise DataError(source, Problem(f"key '{key}.path'", f"file {src.path!r} does not exist.",
                                        "give a CSV path relative to the project root."))
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = [Problem(f"{key} table", f"has no column {c!r}.", f"columns needed: {required}.")
                for c in required if c not in df]
    if not problems:
        known = kpi.known_kpis(p)
        empty = pd.Series("", index=df.index)
        dim, name, op = (df.get(c, empty) for c in ("dimension", "kpi", "op"))
        for bad, column, what, fix in [
                ((dim != "") & ~dim.isin(dims), "dimension", "dimension(s) not in the "
                 "instrument", lambda v: params_mod.suggest(v, dims) or f"dimensions: {dims}."),
                ((name != "") & ~name.isin(known), "kpi", "not a KPI", lambda v:
                 params_mod.suggest(v, known) or "see the KPI catalogue in the README."),
                ((name != "") & ~op.isin([">=", "<="]), "op", "op must be >= or <=",
                 lambda v: "write the comparison as >= or <=.")]:
            if bad.any():
                rows = np.flatnonzero(bad.to_numpy())
                col = df.get(column, empty)
                problems.append(Problem(f"{key} table, column {column!r}", f"{what}: " +
                                        examples([f"line {i + 2}" for i in rows[:5]],
                                                 [col.iloc[i] for i in rows[:5]], rows.size) +
                                        ".", fix(col.iloc[rows[0]])))
    if problems:
        raise DataError(f"{source} ({src.path})", problems)
    return df
