"""Read and check study parameters before any kernel starts.

``load(path)`` parses a study's YAML file, checks it against the schema of its ``study_type`` and
returns the typed parameters, or raises :class:`~sqresearch.io.errors.ParamsError` listing *every*
problem with its key, line and fix. ``from_namespace`` does the same for parameters injected into
a template notebook by papermill, so a plain ``papermill`` run fails with the same message.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sqresearch.io import paths
from sqresearch.io.errors import ParamsError, Problem
from sqresearch.io.schemas import (
    STUDY_TYPES,
    BeforeAfterParams,
    ControlGroupParams,
    ScorecardParams,
    StudyBase,
)
from sqresearch.io.yaml_files import _line_index, parse_yaml, read_text

_FIXES = {
    "missing": "add this key.",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD.",
    "date_parsing": "write dates as YYYY-MM-DD.",
    "date_type": "write dates as YYYY-MM-DD.",
    "datetime_from_date_parsing": "write timestamps as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.",
    "datetime_parsing": "write timestamps as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.",
    "datetime_type": "write timestamps as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.",
    "time_parsing": "write times as HH:MM.",
    "string_pattern_mismatch": "use lower-case letters, digits and underscores, starting with a "
                               "letter.",
    "float_parsing": "give a number.",
    "float_type": "give a number.",
    "int_parsing": "give a whole number.",
    "int_type": "give a whole number.",
    "int_from_float": "give a whole number.",
    "bool_parsing": "write true or false.",
    "bool_type": "write true or false.",
    "string_type": "give text (quote it in YAML if it looks like a number or date).",
    "dict_type": "give a mapping (key: value lines).",
    "list_type": "give a list (lines starting with '- ').",
    "greater_than": "give a larger value.",
    "greater_than_equal": "give a larger value.",
    "less_than": "give a smaller value.",
    "less_than_equal": "give a smaller value.",
    "too_short": "give more entries.",
    "too_long": "give fewer entries.",
}


def load(path: str | Path) -> StudyBase:
    """Parse and validate one study's YAML file; raise ParamsError listing every problem."""
    path = paths.resolve(path)
    source = paths.display(path)
    if not path.is_file():
        raise ParamsError(source, Problem("file", "does not exist.",
                                          "check the path; study files live in params/."))
    text = read_text(path, source)
    try:
        mapping, node = parse_yaml(text)
    except (RecursionError, ValueError) as exc:  # nesting thousands deep, a 5,000-digit number
        what = ("nests too deeply" if isinstance(exc, RecursionError) else
                str(exc).split(";")[0].lower())
        raise ParamsError(source, Problem("file", f"is not a study file: it {what}." if
                                          isinstance(exc, RecursionError) else
                                          f"holds a value that cannot be read ({what}).",
                                          "start from a file in params/ as an example.")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        what = getattr(exc, "problem", None) or str(exc)
        fix = ("write the values out in full." if "alias" in what else
               "keep one of them." if "twice" in what else
               "check indentation, colons and quotes there.")
        raise ParamsError(source, Problem(where, f"is not valid YAML ({what}).", fix)) from None
    return validate(mapping, source, _line_index(node))


def from_namespace(namespace: dict[str, Any], study_type: str, injected: set[str] | None = None,
                   source: str = "notebook parameters") -> StudyBase:
    """Validate the parameters living as variables in a template notebook.

    ``injected`` is the set of names that appeared after the template's first cell; any that is
    not a declared parameter of the study type is rejected (papermill itself only warns).
    """
    model = STUDY_TYPES[study_type]
    mapping = {k: namespace[k] for k in model.model_fields if k in namespace}
    problems = []
    if mapping.get("study_type", study_type) != study_type:
        problems.append(Problem("key 'study_type'", f"is {mapping['study_type']!r}, but this "
                                f"template runs {study_type!r} studies.",
                                f"use notebooks/{mapping['study_type']}.ipynb for that study."))
        mapping["study_type"] = study_type
    for name in sorted((injected or set()) - set(model.model_fields)):
        problems.append(_unknown_key_problem((name,), model, None))
    try:
        params = validate(mapping, source)
    except ParamsError as exc:
        problems += exc.problems
    if problems:
        raise ParamsError(source, problems)
    return params


PAPERMILL_HEADER = "# Parameters"  # the first line of the cell papermill injects


def injected_names(history) -> set[str] | None:
    """The names papermill's injected-parameters cell assigned, read from IPython's input
    history (``In``), or None when no cell was injected (the template run as it is, e.g. "Run
    all" in JupyterLab)."""
    import ast

    for source in reversed(list(history or [])):
        if source.split("\n", 1)[0].strip() == PAPERMILL_HEADER:
            tree = ast.parse(source)
            return {t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
    return None


def from_notebook(namespace: dict[str, Any], study_type: str, names: set[str]) -> StudyBase:
    """``from_namespace`` for a template: ``names`` are those its parameters cell and papermill's
    injected cell defined (IPython's own names are ignored).

    When papermill injected parameters (``sqr run``, or plain ``papermill -f params/x.yaml``), only
    the injected names are the study's: a key the study leaves out takes the schema's default,
    never the demo value the template's parameters cell holds. Without an injected cell the
    parameters cell is the study (the template's demo)."""
    ipython = {"In", "Out", "exit", "quit", "get_ipython", "open"}
    declared = {n for n in names if not n.startswith("_")} - ipython
    given = injected_names(namespace.get("In"))
    if given is None:
        return from_namespace(namespace, study_type, declared)
    model = STUDY_TYPES[study_type]
    keep = {k: namespace[k] for k in given if k in namespace}
    keep.setdefault("study_type", namespace.get("study_type", study_type))
    unknown = given - set(model.model_fields)
    return from_namespace(keep, study_type, unknown | (given & set(model.model_fields)))


def validate(mapping: Any, source: str, lines: dict[tuple, int] | None = None) -> StudyBase:
    """Check a parsed mapping against the schema of its ``study_type``."""
    lines = lines or {}
    if not isinstance(mapping, dict):
        raise ParamsError(source, Problem("file", "must be a YAML mapping of key: value lines.",
                                          "start from a file in params/ as an example."))
    study_type = mapping.get("study_type")
    if not isinstance(study_type, str) or study_type not in STUDY_TYPES:
        known = ", ".join(sorted(STUDY_TYPES))
        what = ("is missing." if study_type is None
                else f"is {shown(study_type)}, which is not a study type.")
        raise ParamsError(source, Problem(_where(("study_type",), lines), what,
                                          suggest(str(study_type), STUDY_TYPES) or
                                          f"set study_type to one of: {known}."))
    model = STUDY_TYPES[study_type]
    problems: list[Problem] = []
    try:
        params = model.model_validate(mapping)
    except ValidationError as exc:
        problems = [_problem(err, model, lines) for err in exc.errors()]
        raise ParamsError(source, problems) from None
    problems += [Problem(_where(loc, lines), what, fix) for loc, what, fix in _cross_checks(params)]
    if problems:
        raise ParamsError(source, problems)
    return params


# ---------------------------------------------------------------------------------------------
# checks that span several keys


def _cross_checks(params: StudyBase) -> list[tuple[tuple, str, str]]:
    from sqresearch import kpi  # the KPI catalogue lives with the KPI engine

    out: list[tuple[tuple, str, str]] = []
    data = getattr(params, "data", None)
    if data is not None:
        path = paths.resolve(data.path) if data.path is not None else None
        why = paths.outside_data_dirs(path) if path is not None else None
        if path is None:
            pass  # a table on an engine: checked when it is read (sqr validate)
        elif why:
            what, _, fix = why.partition(" Fix: ")
            out.append((("data", "path"), f"{shown(data.path, 160)} {what.rstrip('.')}.",
                        fix.rstrip(".") + "."))
        elif not path.is_file():
            out.append((("data", "path"), f"file {shown(data.path, 160)} does not exist.",
                        "give a path relative to the project root, e.g. data/tickets.csv."))
        for i, seg in enumerate(getattr(params, "segments", [])):
            if seg in data.personal:
                out.append((("segments", i), f"{seg!r} is declared personal data.",
                            "personal columns are never shown: remove it from segments."))
        for role in data.columns:
            if role not in kpi.ROLE_NAMES:
                out.append((("data", "columns", role), f"{role!r} is not a column role.",
                            suggest(role, kpi.ROLE_NAMES) or
                            f"roles are: {', '.join(kpi.ROLE_NAMES)}."))
    known = kpi.known_kpis(params)
    refs: list[tuple[tuple, str]] = []
    refs += [(("targets", i, "kpi"), t.kpi) for i, t in enumerate(getattr(params, "targets", []))]
    charts = getattr(params, "control_charts", [])
    refs += [(("control_charts", i), k) for i, k in enumerate(charts)]
    if isinstance(params, ScorecardParams):
        refs += [(("labels", k), k) for k in params.labels]
        if params.index is not None:
            if params.index.table is None:  # with a table, indicators name its columns
                refs += [(("index", "indicators", i, "kpi"), ind.kpi)
                         for i, ind in enumerate(params.index.indicators)]
            out += _weights_checks(params.index)
        if charts and params.baseline is None:
            out.append((("baseline",), "control charts need a baseline window for their "
                        "limits.", "add baseline: {start: YYYY-MM-DD, end: YYYY-MM-DD}."))
    if isinstance(params, BeforeAfterParams):
        from sqresearch.kpi.metrics import BUILTIN

        if params.its is not None:
            refs += [(("its", "metrics", i), k) for i, k in enumerate(params.its.metrics)]
        out += _metric_checks(params, set(BUILTIN) | {f"sla_{s.name}" for s in params.sla})
    if isinstance(params, ControlGroupParams):
        out += _metric_checks(params, known)
    if params.study_type == "monitor":
        out += _monitor_checks(params)
    for loc, name in refs:
        if name not in known:
            out.append((loc, f"{name!r} is not a KPI of this study.",
                        suggest(name, known) or f"KPIs are: {', '.join(sorted(known))}."))
    return out


def _monitor_checks(p) -> list[tuple[tuple, str, str]]:
    """A monitor's metrics, drift metrics, ranking and playbook refer to metrics it can compute
    (``kpi.metrics.BUILTIN`` or its SLAs) and to its segments."""
    from sqresearch.kpi.metrics import BUILTIN

    known = set(BUILTIN) | {f"sla_{s.name}" for s in p.sla}
    out = []
    refs = [(("metrics", i), m) for i, m in enumerate(p.metrics)]
    refs += [(("playbook", i, "metric"), x.metric) for i, x in enumerate(p.playbook)]
    for loc, name in refs:
        if name not in known:
            out.append((loc, f"{name!r} is not a metric the monitor can compute.",
                        suggest(name, known) or f"metrics are: {', '.join(sorted(known))}."))
    for i, m in enumerate(p.drift):
        if m not in p.metrics:
            out.append((("drift", i), f"{m!r} is not one of the monitored metrics "
                        f"{p.metrics}.", "add it to metrics, or drop it from drift."))
    if p.ranking is not None:
        if p.ranking.by not in p.segments:
            out.append((("ranking", "by"), f"{p.ranking.by!r} is not a segment.",
                        f"use one of the segments {p.segments}."))
        if p.ranking.metric not in known or BUILTIN.get(p.ranking.metric, None) is not None \
                and BUILTIN[p.ranking.metric].type not in ("binary", "continuous"):
            out.append((("ranking", "metric"), f"{p.ranking.metric!r} cannot be ranked on a "
                        "funnel plot.", "use a share (fcr, reopen, complaint, csat_top2, "
                        "sla_<name>) or a score (csat, ces)."))
    return out


def _metric_checks(p, builtin: set[str]) -> list[tuple[tuple, str, str]]:
    """Metric names, goals and labels refer to metrics the study has."""
    custom = [m.name for m in p.custom_metrics]
    out = []
    for i, name in enumerate(p.metrics):
        if name not in builtin:
            out.append((("metrics", i), f"{name!r} is not a built-in metric.",
                        suggest(name, builtin) or f"built-in metrics: {', '.join(sorted(builtin))}"
                        "; compare other columns with custom_metrics."))
    ticket_table = getattr(p, "ticket_table", True)  # only then are the built-ins available
    for i, name in enumerate(custom):
        if (ticket_table and name in builtin) or custom.index(name) != i:
            out.append((("custom_metrics", i, "name"), f"{name!r} is already a metric name.",
                        "give each metric its own name."))
    chosen = set(p.metrics) | set(custom)
    for i, g in enumerate(p.goals):
        if g.metric not in chosen:
            out.append((("goals", i, "metric"), f"{g.metric!r} is not one of the study's metrics.",
                        suggest(g.metric, chosen) or "add it to metrics first."))
    for k in p.labels:
        if k not in chosen:
            out.append((("labels", k), f"{k!r} is not one of the study's metrics.",
                        suggest(k, chosen) or "label only metrics the study compares."))
    named = [(("primary", i), k) for i, k in enumerate(p.primary or [])]
    named += [(("sesoi", k), k) for k in p.sesoi]
    named += [(("guardrails", i), k) for i, k in enumerate(p.guardrails)]
    for loc, k in named:
        if k not in chosen:
            out.append((loc, f"{k!r} is not one of the study's metrics.",
                        suggest(k, chosen) or f"the metrics are: {', '.join(sorted(chosen))}."))
    if p.primary is not None and not p.primary:
        out.append((("primary",), "the confirmatory family is empty.",
                    "name at least one metric, or leave the key out (all metrics)."))
    return out


def _weights_checks(index) -> list[tuple[tuple, str, str]]:
    names = [ind.kpi for ind in index.indicators]
    w = index.weights
    out = []
    if w.method == "expert":
        if not w.values:
            return [(("index", "weights", "values"), "expert weights need values.",
                     "give values: {kpi: weight, ...} for every indicator.")]
        if set(w.values) != set(names):
            out.append((("index", "weights", "values"),
                        f"names {sorted(w.values)} do not match the indicators {sorted(names)}.",
                        "give one weight per indicator."))
        total = sum(w.values.values())
        if not (abs(total - 1) < 1e-9 or abs(total - 100) < 1e-7):
            out.append((("index", "weights", "values"), f"weights sum to {total:g}.",
                        "make them sum to 1 (or 100)."))
    if w.method == "ahp":
        from sqresearch.stats.pairwise import parse_matrix
        if w.matrix is None:
            return [(("index", "weights", "matrix"), "AHP needs a pairwise comparison matrix.",
                     "give matrix: one row per indicator, e.g. [1, 3, '1/5'].")]
        try:
            parse_matrix(w.matrix, len(names))
        except ValueError as exc:
            out.append((("index", "weights", "matrix"), str(exc),
                        "a_ij > 0, a_ii = 1 and a_ji = 1/a_ij, rows in indicator order."))
    return out


# ---------------------------------------------------------------------------------------------
# pydantic errors -> problems


def _problem(err: dict, model: type[BaseModel], lines: dict[tuple, int]) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        return _unknown_key_problem(loc, model, lines)
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in allowed.replace(" or ", ",").split(",") if o.strip()]
        fix = suggest(str(err.get("input")), options) or f"use one of: {allowed}."
        return Problem(_where(loc, lines), f"{shown(err.get('input'))} is not allowed.", fix)
    what = err["msg"].rstrip(".") + "."
    if kind == "string_pattern_mismatch" and "\\x00" in str(err.get("ctx", {}).get("pattern")):
        return Problem(_where(loc, lines), f"{shown(err.get('input'))} holds control characters "
                       "(a NUL byte, an escape sequence or a line break where one line is "
                       "expected).", "remove them; write plain text.")
    if kind in ("string_too_long", "string_too_short"):
        n = err.get("ctx", {}).get("max_length") or err.get("ctx", {}).get("min_length")
        return Problem(_where(loc, lines), f"{shown(err.get('input'))} has "
                       f"{len(str(err.get('input'))):,} characters.",
                       f"use at most {n:,}." if kind == "string_too_long" else "fill it in.")
    if kind != "missing" and "input" in err and not isinstance(err["input"], dict | list):
        what = f"{shown(err['input'])}: {what}"
    if kind == "value_error":  # our validators write "what | fix"
        what, _, fix = err["msg"].removeprefix("Value error, ").partition(" | ")
        return Problem(_where(loc, lines), what.rstrip(".") + ".", fix)
    return Problem(_where(loc, lines), what, _FIXES.get(kind, ""))


def _unknown_key_problem(loc: tuple, model: type[BaseModel], lines) -> Problem:
    allowed = _fields_at(model, loc[:-1])
    fix = suggest(str(loc[-1]), allowed) or (
        f"remove it; allowed keys here: {', '.join(allowed)}." if allowed else "remove it.")
    return Problem(_where(loc, lines or {}), "unknown key.", fix)


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the (nested) model found at ``loc``."""
    ann: Any = model
    for part in loc:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel) and part in ann.model_fields:
            ann = ann.model_fields[part].annotation
        else:  # a list index or a dict key: step into the container's item type
            args = typing.get_args(ann)
            ann = args[-1] if args else None
    ann = _unwrap(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return list(ann.model_fields)
    return []


def _unwrap(ann: Any) -> Any:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(ann) if isinstance(a, type) and
                  issubclass(a, BaseModel)]
        return models[0] if models else ann
    return ann


def suggest(word: str, options) -> str:
    """'did you mean …?' for the closest option, or ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def shown(value, limit: int = 60) -> str:
    """A value from an input file, as a message shows it: its repr (control characters made
    visible), cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(str(value)):,} characters)"


def _where(loc: tuple, lines: dict[tuple, int]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    key = f"key '{name}'" if name else "file"
    for n in range(len(loc), 0, -1):  # the nearest line we know
        if loc[:n] in lines:
            return f"{key} (line {lines[loc[:n]]})"
    return key
