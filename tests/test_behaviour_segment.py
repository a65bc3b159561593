"""The behaviour segment (kpi/behaviour_segment.py): customers clustered by their ticket history
as a derived segment, wired as customer_type is. On tickets of planted behaviour groups
(simulate/behaviour.py) the groups are recovered through a scorecard's loader, the labels do not
depend on the file's row order, the scorecard's KPIs by behaviour equal a pandas groupby of the
labelled tickets, the engine path (one aggregate query, labels joined back in DuckDB) gives the
in-memory KPIs, the features from counts equal ``customer_features``, and user errors name the
key and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import demo_params, write_params
from sklearn.metrics import adjusted_rand_score

from sqresearch.designs.before_after.study import BeforeAfter
from sqresearch.designs.scorecard import Scorecard
from sqresearch.designs.scorecard.load import load as load_scorecard
from sqresearch.io import params
from sqresearch.io.errors import DataError, ParamsError
from sqresearch.kpi import behaviour_pushdown as bp
from sqresearch.kpi import behaviour_segment as bs
from sqresearch.simulate.behaviour import behaviour_tickets
from sqresearch.stats.behaviour_features import customer_features

SIZES = {"frequent callers": 80, "self-service users": 80, "complainers": 80}


@pytest.fixture(scope="module")
def planted():
    """Tickets of three planted groups with a first-response clock, and each ticket's group."""
    tickets, truth = behaviour_tickets(seed=7, sizes=SIZES)
    rng = np.random.default_rng(7)
    tickets["first_response"] = tickets["created"] + pd.to_timedelta(
        rng.exponential(45, len(tickets)).round(), unit="min")
    group = tickets["customer_id"].map(truth.set_index("customer_id")["group"])
    return tickets, group.set_axis(tickets["ticket_id"].astype(str))  # ids are read as text


def study_params(folder, tickets: pd.DataFrame, name: str = "tickets.csv", **behaviour) -> dict:
    data = folder / name
    tickets.to_csv(data, index=False)
    return {"study_type": "scorecard", "study_id": "behaviour_demo", "title": "By behaviour",
            "seed": 11, "data": {"path": str(data), "columns": {
                "created": "created", "first_response": "first_response",
                "complaint": "complaint", "customer_id": "customer_id"},
                "personal": {"customer_id": "pseudonymise"}},
            "periods": "quarter", "segments": ["behaviour"],
            "behaviour": {"self_service": "self_service", **behaviour}}


def loaded(folder, mapping: dict, name: str = "study.yaml"):
    path = write_params(folder, mapping, name)
    return load_scorecard(params.load(path), str(path))


@pytest.fixture(scope="module")
def labelled(planted, tmp_path_factory):
    folder = tmp_path_factory.mktemp("behaviour")
    table = loaded(folder, study_params(folder, planted[0]))
    return folder, table


def test_the_planted_groups_are_recovered_and_named(planted, labelled):
    _, group = planted
    _, table = labelled
    got = table.frame.set_index("ticket_id")["behaviour"]
    profiled = got[got != bs.FEW]
    assert len(profiled) > 0.95 * len(got)  # nearly every planted customer has 3+ tickets
    assert adjusted_rand_score(group[profiled.index], profiled) >= 0.8
    # each planted group is (mostly) one segment, named from its own features
    main = pd.crosstab(group[profiled.index], profiled).idxmax(axis=1)
    assert main.nunique() == 3
    assert "frequent contacts" in main["frequent callers"]
    assert "complainers" in main["complainers"]
    assert "self-service users" in main["self-service users"]
    head = next(n for n in table.notes if n.startswith("Behaviour segments (segment"))
    assert "k = 3: best silhouette" in head and "seed 11" in head
    assert "mean bootstrap adjusted Rand index" in head
    for name in main:
        owner = planted[0].set_index(planted[0]["ticket_id"].astype(str))["customer_id"]
        size = owner[profiled.index[(profiled == name).to_numpy()]].nunique()
        assert any(n.startswith(f"Behaviour segment '{name}': {size:,} customers")
                   for n in table.notes), name


def test_labels_do_not_depend_on_row_order(planted, labelled):
    folder, table = labelled
    shuffled = planted[0].sample(frac=1.0, random_state=3)
    again = loaded(folder, study_params(folder, shuffled, "shuffled.csv"), "shuffled.yaml")
    want = table.frame.set_index("ticket_id")["behaviour"].sort_index()
    got = again.frame.set_index("ticket_id")["behaviour"].sort_index()
    pd.testing.assert_series_equal(got, want)  # the same seed: the same labels, in words


def test_scorecard_kpis_by_behaviour_equal_a_pandas_groupby(planted, tmp_path):
    path = write_params(tmp_path, study_params(tmp_path, planted[0], k=3))
    study = Scorecard(params.load(path), str(path))
    t = study.by_segment["behaviour"].set_index(["kpi", "group"])["estimate"]
    frame = study.frame
    by = frame.groupby("behaviour")
    minutes = (frame["first_response"] - frame["created"]).dt.total_seconds() / 60
    for label, part in by:
        assert t["contacts", label] == len(part)
        assert t["complaints_per_1000", label] == pytest.approx(
            1000 * part["complaint"].mean(), rel=1e-12)
        assert t["frt_median", label] == pytest.approx(minutes[part.index].median(), rel=1e-12)
    assert set(t.loc["contacts"].index) == set(frame["behaviour"])


def test_the_engine_path_gives_the_in_memory_kpis(planted, tmp_path):
    from sqresearch.kpi.tickets import for_study

    folder, got = tmp_path, {}
    for engine in ("memory", "pushdown"):
        p = study_params(folder, planted[0], k=3)
        p["data"]["engine"] = engine
        path = write_params(folder, p, f"{engine}.yaml")
        study = params.load(path)
        table = load_scorecard(study, str(path))
        got[engine] = for_study(study, table).kpi_table("behaviour")
        assert sum(n.startswith("Behaviour segment") for n in table.notes) >= 4
    pd.testing.assert_frame_equal(got["memory"], got["pushdown"], rtol=1e-9)


def test_features_from_counts_equal_customer_features(planted):
    tickets = planted[0]
    cut = pd.Timestamp("2027-01-01")
    want = customer_features(tickets, "customer_id", "created", "channel",
                             self_service="self_service", complaint="complaint", cut=cut)
    counts = tickets.groupby(["customer_id", "channel"]).agg(
        n=("ticket_id", "size"), first=("created", "min"), self_service=("self_service", "sum"),
        complaint=("complaint", "sum")).reset_index().rename(columns={"customer_id": "customer"})
    got = bp.features_from_counts(counts, cut)
    pd.testing.assert_frame_equal(got, want.rename_axis("customer"), check_dtype=False,
                                  check_names=False, rtol=1e-12)


def test_before_after_splits_by_behaviour(tmp_path):
    p = demo_params("chatbot_launch")
    p["segments"] = ["behaviour"]
    p["data"].setdefault("columns", {})["customer_id"] = "customer_id"
    p["behaviour"] = {"k": 2}
    p["bootstrap"] = {"resamples": 200}  # the intervals are not what is tested here
    path = write_params(tmp_path, p)
    study = BeforeAfter(params.load(path), str(path))
    levels = set(study.frame["behaviour"])
    assert bs.FEW in levels and len(levels - {bs.FEW, bs.UNKNOWN}) == 2
    segments = {s for s in study.effects["segment"] if s.startswith("behaviour=")}
    assert segments and segments <= {f"behaviour={v}" for v in levels}


def test_without_a_customer_id_the_message_names_the_key_and_the_fix(tmp_path, planted):
    p = study_params(tmp_path, planted[0].drop(columns="customer_id"))
    del p["data"]["columns"]["customer_id"]
    p["data"]["personal"] = {}
    with pytest.raises(DataError) as err:
        loaded(tmp_path, p)
    text = str(err.value)
    assert "key 'segments' (behaviour)" in text and "needs the customer_id role" in text
    assert "map it in data.columns" in text and "Traceback" not in text


def test_too_few_customers_is_a_clear_message(tmp_path, planted):
    tickets = planted[0]
    few = tickets[tickets["customer_id"].isin(tickets["customer_id"].unique()[:15])]
    with pytest.raises(DataError) as err:
        loaded(tmp_path, study_params(tmp_path, few))
    text = str(err.value)
    assert "key 'segments' (behaviour)" in text
    assert "15 customers have at least 3 tickets; the behaviour segment needs 24 to try up " \
           "to 8 segments" in text
    assert "lower behaviour.min_contacts or behaviour.k" in text


def test_params_and_features_errors(tmp_path, planted):
    p = study_params(tmp_path, planted[0], k=9)
    with pytest.raises(ParamsError) as err:
        params.load(write_params(tmp_path, p))
    assert "neither auto nor a number of segments from 2 to 8" in str(err.value)
    p = study_params(tmp_path, planted[0].drop(columns="complaint"),
                     features=["complaint_share", "channel_mix"])
    del p["data"]["columns"]["complaint"]
    p["behaviour"].pop("self_service")
    with pytest.raises(DataError) as err:
        loaded(tmp_path, p)
    assert "key 'behaviour.features' (complaint_share)" in str(err.value)
    assert "the complaint role in data.columns" in str(err.value)
    p = study_params(tmp_path, planted[0], channel="medium")
    with pytest.raises(DataError) as err:
        loaded(tmp_path, p)
    # the reader names the missing column and the file's columns before anything is derived
    assert "column 'medium'" in str(err.value) and "the file has: ticket_id" in str(err.value)


def test_control_group_splits_tickets_by_behaviour(tmp_path):
    """The segment's parts are its tickets in every unit, not a unit-level column (the effects
    themselves run the demo's randomization inference: 40 s, left to the e2e runs)."""
    from sqresearch.designs.control_group.sensitivity import without_derived
    from sqresearch.designs.control_group.study import ControlGroup

    p = demo_params("branch_queueing")
    p["segments"] = ["region", "behaviour"]
    p["data"]["columns"]["customer_id"] = "customer_ref"
    p["data"]["personal"] = {"customer_ref": "pseudonymise"}
    p["behaviour"] = {"channel": "service", "k": 2}
    path = write_params(tmp_path, p)
    study = ControlGroup(params.load(path), str(path))
    assert "behaviour" not in study.units.columns and "region" in study.units.columns
    parts = dict(study._segment_parts("behaviour"))
    assert set(parts) == set(study.frame["behaviour"]) and len(parts) == 3  # 2 + too few
    for level, part in parts.items():
        assert (part["behaviour"] == level).all() and part["_unit"].nunique() == 12
    assert sum(len(part) for part in parts.values()) == len(study.frame)
    assert without_derived(study.params.segments) == ["region"]  # sensitivity's clusters


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_engine_twins_on_duckdb_and_postgres(engine, planted, request):
    """One aggregate query gives the in-memory features; the labels joined back in the engine
    are the in-memory ticket labels (a customer without a label: too few contacts; no id:
    unknown)."""
    from sqresearch.io.schema_parts import Behaviour
    from tests.support.postgres import engine_table

    tickets = planted[0].head(1500).copy()
    tickets.loc[tickets.index[:5], "customer_id"] = None
    tickets["self_service"] = tickets["self_service"].map({True: "yes", False: "No "})
    spec, cut = Behaviour(self_service="self_service"), pd.Timestamp("2026-09-01")
    want = bs._features_frame(tickets, spec, cut, complaint=True)
    con, t = engine_table(engine, f"behaviour_{engine}", tickets, request)
    try:
        got = bp.features_expr(t, spec, cut, True, "test")
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_names=False,
                                      rtol=1e-12)
        ids = want.index[::2]
        labels = pd.Series(np.where(np.arange(len(ids)) % 3 == 0, "a", "b"), index=ids)
        joined = bp.join_labels(t, labels).select("ticket_id", bs.SEGMENT).to_pandas()
        expect = bs.ticket_labels(tickets["customer_id"], labels).set_axis(
            tickets["ticket_id"])
        got_labels = joined.set_index("ticket_id")[bs.SEGMENT].reindex(expect.index)
        assert got_labels.tolist() == expect.tolist()
        assert {"a", "b", bs.FEW, bs.UNKNOWN} == set(expect)
    finally:
        con.disconnect()
