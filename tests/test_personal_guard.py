"""The personal-data guard: undeclared columns that look personal — by name (e-mail, phone, name,
national id … in English or Chinese) or by content (e-mail addresses, phone numbers, national-id
numbers, free text, identifiers) — are refused wherever a study reads them (segment, filter,
Pareto, unit, cluster, adjust_for, an identifier or category role): exit 2 naming the file, the
column, why, and the fixes. ``allow_personal`` with a reason lets a column through and prints the
reason; declared ``personal`` columns pass; unused columns never reach the frame; free text is
masked; no personal value reaches report.html, results.json or the executed notebook."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, params_with, write_params

from sqresearch.io import data, personal
from sqresearch.io.schemas import DataSource

FIXES = ["data.personal", "pseudonymise", "data.allow_personal", "printed in the report"]

# --- values of each kind, made here independently of the module under test --------------------

_CN_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643-1999: W_i = 2^(i-1) mod 11


def cn_id(region: str, born: str, seq: int) -> str:
    """A Chinese resident identity number with its ISO 7064 MOD 11-2 check character."""
    body = f"{region}{born}{seq:03d}"
    r = (12 - sum(int(d) * w for d, w in zip(body, _CN_WEIGHTS, strict=True)) % 11) % 11
    return body + ("X" if r == 10 else str(r))


def emails(n: int) -> list[str]:
    return [f"person.{i % 997}@mail.example.com" for i in range(n)]


def phones(n: int) -> list[str]:
    forms = ["+86 138 {a:04d} {b:04d}", "139{a:04d}{b:04d}", "010-{a:04d}{b:04d}",
             "+49 30 {a:04d}{b:03d}", "(555) 123-{a:04d}"]
    return [forms[i % 5].format(a=(37 * i) % 10000, b=i % 1000) for i in range(n)]


def national_ids(n: int) -> list[str]:
    return [cn_id("110105", f"19{50 + i % 50:02d}{1 + i % 12:02d}{1 + i % 28:02d}", i % 1000)
            for i in range(n)]


def prose(n: int) -> list[str]:
    texts = ["I waited two hours and nobody called me back.", "Great service, thank you!",
             "The app crashed twice while I was paying my bill.", "Ok.",
             "Please stop sending me the same survey every week."]
    return [texts[i % 5] for i in range(n)]


def serials(n: int) -> list[str]:
    """Opaque record tokens, all distinct (not short codes like A001)."""
    return [hashlib.sha1(str(i).encode()).hexdigest()[:12] for i in range(n)]


def test_the_test_ids_follow_the_standard():
    # the example of GB 11643-1999 itself, and one more published valid number
    assert cn_id("110105", "19491231", 2) == "11010519491231002X"
    assert cn_id("440524", "18800101", 1) == "440524188001010014"


# --- unit tests of the detection --------------------------------------------------------------

@pytest.mark.parametrize("name, what", [
    ("email", "e-mail"), ("E-Mail", "e-mail"), ("customerEmail", "e-mail"),
    ("e-Mail Adresse", "e-mail"),
    ("Customer E-mail Address", "e-mail"), ("mail", "e-mail"), ("邮箱", "e-mail"),
    ("phone", "phone"), ("Tel", "phone"), ("mobile_no", "phone"), ("telephone", "phone"),
    ("手机号", "phone"), ("客户电话", "phone"),
    ("name", "names"), ("first name", "names"), ("LastName", "names"), ("customer_name", "names"),
    ("agent_name", "names"), ("姓名", "names"),
    ("address", "addresses"), ("home_address", "addresses"), ("ip_address", "addresses"),
    ("SSN", "national id"), ("national-id", "national id"), ("Passport No", "national id"),
    ("id_card", "national id"), ("身份证号", "national id"), ("date_of_birth", "birth"),
    ("customer_id", "identifiers of people"), ("UserID", "identifiers of people"),
    ("client_ref", "identifiers of people"),
])
def test_names_that_look_personal(name, what):
    assert what in (personal.name_reason(name) or ""), name


@pytest.mark.parametrize("name", [
    "agent_id", "agent", "branch", "branch_name", "team_name", "team", "ticket_id", "visit_id",
    "respondent_id", "contact_id", "category", "channel", "region", "segment", "tenure_years",
    "period", "arm", "week", "complaint_type", "mobile_app", "hotel", "filename", "headphone",
    "customer_type", "service", "priority",
])
def test_names_that_do_not(name):
    assert personal.name_reason(name) is None, name


def test_content_patterns():
    assert all(map(personal.is_email, emails(20)))
    assert all(map(personal.is_phone, phones(20)))
    assert all(map(personal.is_national_id, national_ids(20)))
    assert all(map(personal.is_national_id, ["123-45-6789", "AB 12 34 56 C",
                                             "GB82 WEST 1234 5698 7654 32",
                                             "DE89370400440532013000"]))
    wrong = "11010519491231002X"[:-1] + "1"  # a wrong check character
    not_ids = [wrong, "110105194913310025", "GB82 WEST 1234 5698 7654 33", "T000123"]
    assert not any(map(personal.is_national_id, not_ids))
    codes = ["A001", "B01", "tier1_north", "T000123", "01-02-2026", "2026-01-15", "01/02/2026",
             "3.6", "12.345.678", "00012345", "0-10", "+5", "1 234 567", "login", "P07"]
    assert not any(personal.is_phone(c) or personal.is_email(c) for c in codes)
    assert [personal.is_prose(t) for t in prose(5)] == [True, True, True, False, True]
    assert not any(map(personal.is_prose, ["Billing and payments", "login", "账户登录问题",
                                           "Problem with the mobile app"]))
    assert personal.is_prose("客服态度很差，等了两个小时才有人回复我。")


def test_findings_are_tidy_counts_never_values():
    n = 1200
    frame = pd.DataFrame({"contact": emails(n), "hotline": phones(n), "doc": national_ids(n),
                          "remark": prose(n), "ref": serials(n),
                          "agent": [f"A{i % 40:03d}" for i in range(n)],
                          "wait": [i * 0.37 for i in range(n)],
                          "team": ["north", "south", "east"] * (n // 3)})
    frame["unit"] = [f"A{i:04d}" for i in range(n)]  # a unit table's distinct short codes
    found = personal.findings(frame, {c: "shown" for c in frame})
    assert list(found.columns) == ["column", "check", "matches", "sampled", "reason"]
    assert set(zip(found["column"], found["check"], strict=True)) == {
        ("contact", "e-mail"), ("hotline", "phone"), ("hotline", "identifier"),
        ("doc", "national id"), ("doc", "identifier"), ("remark", "free text"),
        ("ref", "identifier")}  # 997 distinct e-mails in 1200 values: not an identifier
    row = found.set_index("column").loc["contact"]
    assert (row["matches"], row["sampled"]) == (1000, 1000)  # a bounded sample
    assert row["reason"] == "1000 of 1000 sampled values look like e-mail addresses"
    ref = found.set_index("column").loc["ref"]
    assert (ref["matches"], ref["sampled"]) == (n, n)  # distinctness over the whole column
    text = found.to_string()
    assert "@" not in text and "138" not in text and "110105" not in text
    # an identifier role is distinct by design: only its name and the direct patterns count
    keys = personal.findings(frame, {"ref": "key", "remark": "key", "contact": "key"})
    assert keys["column"].tolist() == ["contact"]


def test_mask_text():
    doc = national_ids(1)[0]
    text = (f"Mail jo.doe@example.org or call +86 138 0013 8000 / 010-12345678 / (555) "
            f"123-4567; id {doc}, ssn 123-45-6789, card 4111 1111 1111 1111, order 123456789012. "
            "Seen 2026-01-15 at 10:30, paid 1,234.50 EUR, ticket T000123, 3 times.")
    assert personal.mask_text(text) == (
        "Mail <e-mail> or call <phone> / <phone> / <phone>; id <id>, ssn <id>, card <id>, "
        "order <id>. Seen 2026-01-15 at 10:30, paid 1,234.50 EUR, ticket T000123, 3 times.")
    assert personal.mask_text("手机13800138000，邮箱 wang@example.cn") == \
        "手机<phone>，邮箱 <e-mail>"
    assert personal.mask_text(None) == "" and personal.mask_text(float("nan")) == ""
    # offending values in messages keep long numbers (a compact timestamp), never a phone
    assert personal.mask_text("20260101123456 or 13800138000", long_numbers=False) == \
        "20260101123456 or <phone>"


# --- refused where a study reads it: exit 2, the words, the fixes ------------------------------

def study(tmp_path, demo: str, add: dict | None = None, data: dict | None = None,
          rows=None, **changes):
    """A demo study with columns added to a copy of its data file and ``data`` keys changed."""
    def edit(df):
        df = rows(df) if rows else df
        return df.assign(**{c: make(len(df)) for c, make in (add or {}).items()})

    params_with(tmp_path, demo, rows=edit, **changes)  # writes the edited data.csv
    p = demo_params(demo) | changes
    p["data"] = {**p["data"], "path": str(tmp_path / "data.csv"), **(data or {})}
    return write_params(tmp_path, p)


def _undeclare(demo: str, *columns: str) -> dict:
    return {"personal": {c: v for c, v in demo_params(demo)["data"].get("personal", {}).items()
                         if c not in columns}}


def _as(column, fn):
    return lambda df: df.assign(**{column: fn(len(df))})


CASES = [
    ("name: customer_name as a segment", "support_desk", {},
     _undeclare("support_desk", "customer_name"), None,
     {"segments": ["team", "customer_name"]},
     ["column 'customer_name' in", "data.csv", "names of people",
      "the study uses it"]),
    ("e-mail content as a segment", "support_desk", {"contact": emails}, None, None,
     {"segments": ["team", "contact"]},
     ["column 'contact'", "1000 of 1000 sampled values look like e-mail addresses"]),
    ("phone content as a filter", "chatbot_launch", {"hotline": phones}, None, None,
     {"filters": {"channel": ["chat"], "hotline": ["+86 138 0000 0000"]}},
     ["column 'hotline'", "look like phone numbers"]),
    ("Chinese id numbers in adjust_for", "email_triage", {"doc": national_ids}, None, None,
     {"adjust_for": ["category", "doc"]},
     ["column 'doc'", "look like national id or account numbers"]),
    ("free text as the Pareto column", "support_desk", {"remark": prose}, None, None,
     {"pareto": "remark"}, ["column 'remark'", "are free text"]),
    ("a high-cardinality identifier as the cluster", "chatbot_launch", {"ref": serials}, None,
     None, {"cluster": "ref"},
     ["column 'ref'", "4530 of 4530 values are distinct", "an identifier"]),
    ("e-mail addresses as the unit of a control-group study", "coaching_trial", {}, None,
     _as("agent_id", lambda n: [f"agent{i // 2}@desk.example.com" for i in range(n)]), {},
     ["column 'agent_id'", "data.csv", "e-mail addresses"]),
    ("an e-mail column as a segment of a survey", "bank_servqual", {},
     {"personal": {}}, None, {"segments": ["segment", "customer_email"]},
     ["column 'customer_email'", "e-mail addresses"]),
    ("a customer key holding e-mail addresses (a role)", "support_desk", {},
     _undeclare("support_desk", "customer_id"),
     lambda df: df.assign(customer_id=df["customer_email"]), {},
     ["column 'customer_id'", "read as the role 'customer_id'", "e-mail addresses"]),
    ("phone numbers as the category role (Pareto)", "support_desk", {}, None,
     _as("category", phones), {},
     ["column 'category'", "role 'category'", "phone numbers"]),
    ("a Chinese column name as a segment", "support_desk",
     {"手机号": lambda n: ["x"] * n}, None, None, {"segments": ["team", "手机号"]},
     ["column '手机号'", "phone numbers"]),
    ("customer ids as a before/after segment", "chatbot_launch", {},
     _undeclare("chatbot_launch", "customer_id"), None, {"segments": ["team", "customer_id"]},
     ["column 'customer_id'", "identifiers of people"]),
]


@pytest.mark.parametrize("demo, add, data_keys, rows, changes, words",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_where_the_study_reads_it(tmp_path, run_cli, demo, add, data_keys, rows,
                                          changes, words):
    path = study(tmp_path, demo, add, data_keys, rows, **changes)
    assert_user_error(run_cli, path, [*words, *FIXES], tmp_path)


def test_every_problem_is_reported_at_once(tmp_path, run_cli):
    path = study(tmp_path, "support_desk", {"contact": emails, "remark": prose},
                 segments=["contact", "remark"])
    code, _, err = run_cli("validate", path)
    assert code == 2 and "2 data problems" in err
    assert "person.1@mail.example.com" not in err and "waited two hours" not in err


def test_allowed_with_a_reason_or_declared_personal_passes(tmp_path, run_cli):
    (tmp_path / "a").mkdir()
    (tmp_path / "d").mkdir()
    allowed = study(tmp_path / "a", "support_desk", {"contact": emails},
                    {"allow_personal": {"contact": "work addresses of our partners"}},
                    segments=["team", "contact"])
    unit_emails = _as("agent_id", lambda n: [f"agent{i // 2}@desk.example.com"
                                             for i in range(n)])
    declared = study(tmp_path / "d", "coaching_trial", {},
                     {"personal": {"agent_id": "pseudonymise"}}, unit_emails)
    for path in (allowed, declared):
        code, _, err = run_cli("validate", path)
        assert code == 0, err


@pytest.mark.parametrize("allow, words", [
    ({"contact": "  "}, ["allow_personal", "no reason given", "Fix:"]),
    ({"customer_email": "why not"}, ["both declared personal and allowed"]),
    ({"kontakt": "a reason"}, ["column 'kontakt' (allowed personal column)", "contact"]),
])
def test_allow_personal_is_checked(tmp_path, run_cli, allow, words):
    path = study(tmp_path, "support_desk", {"contact": emails}, {"allow_personal": allow})
    assert_user_error(run_cli, path, words, tmp_path)


def test_unused_columns_are_not_an_error_and_never_reach_the_frame(tmp_path):
    n = 60
    frame = pd.DataFrame({"id": [f"T{i:03d}" for i in range(n)],
                          "opened": pd.date_range("2026-01-05", periods=n, freq="h").astype(str),
                          "team": ["north", "south"] * (n // 2), "email": emails(n),
                          "phone": phones(n), "note": prose(n), "ref": serials(n)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    src = DataSource(path=str(path), columns={"ticket_id": "id", "created": "opened"})
    roles = {"ticket_id": data.Role("id"), "created": data.Role("timestamp")}
    t = data.load_table(src, roles, ("ticket_id", "created"), keep=("team",))
    assert sorted(t.frame.columns) == ["created", "team", "ticket_id"]
    assert t.personal == []


def test_offending_values_are_masked_in_messages_and_the_quality_table(tmp_path, run_cli):
    def bad(df):
        df = df.astype({"csat": object})
        df.loc[3, "csat"] = "call me on +86 138 0013 8000"
        return df

    path = study(tmp_path, "support_desk", rows=bad)
    code, _, err = run_cli("validate", path)
    assert code == 2 and "<phone>" in err and "138 0013" not in err
    exclude = study(tmp_path, "support_desk", {}, {"on_invalid": "exclude"}, bad)
    from sqresearch.designs.scorecard.load import load
    from sqresearch.io import params

    table = load(params.load(exclude), str(exclude))
    shown = table.quality["examples"].str.cat(sep=" ")
    assert "'call me on <phone>'" in shown and "138" not in shown


# --- end to end: nothing personal in what a run keeps -----------------------------------------

def _personal_values(demo: str) -> set[str]:
    """The raw values of a demo's declared personal columns (longer than 3 characters)."""
    p = demo_params(demo)
    path = ROOT / p["data"]["path"]
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
    values = set()
    for col in p["data"].get("personal", {}):
        values |= {str(v) for v in frame[col].dropna().unique() if len(str(v)) > 3}
    return values


def _kept(folder) -> dict[str, str]:
    return {f: (folder / f).read_text(encoding="utf-8")
            for f in ("report.html", "results.json", "notebook.ipynb")}


@pytest.mark.e2e
def test_no_declared_personal_value_in_any_demo_output(run_all):
    _, out, _ = run_all
    checked = 0
    for params_file in sorted((ROOT / "params").glob("*.yaml")):
        p = demo_params(params_file.stem)
        values = _personal_values(params_file.stem)
        if not values:
            continue
        for name, text in _kept(out / p["study_id"]).items():
            leaked = sorted(v for v in values if v in text)
            assert not leaked, (p["study_id"], name, leaked[:5])
            checked += 1
    assert checked >= 6 * 3


@pytest.mark.e2e
def test_an_allowed_column_is_shown_with_its_reason_and_nothing_else_leaks(tmp_path, run_cli):
    reason = "shared team mailboxes, not people"
    path = study(tmp_path, "support_desk",
                 {}, {"allow_personal": {"team_mailbox": reason}},
                 lambda df: df.assign(team_mailbox=df["team"] + "@desk.example.com",
                                      backup_contact=emails(len(df))),  # unused, undeclared
                 segments=["team", "team_mailbox"])
    out = tmp_path / "outputs"
    code, _, err = run_cli("run", path, "--outputs", out)
    assert code == 0, err
    kept = _kept(out / "support_desk_scorecard")
    res = json.loads(kept["results.json"])
    assert {"column": "team_mailbox", "handling": "allowed", "reason": reason} in \
        res["personal_data"]
    assert {"column": "customer_email", "handling": "dropped", "reason": ""} in \
        res["personal_data"]
    assert reason in kept["report.html"] and "data.allow_personal" in kept["report.html"]
    assert "tier1_north@desk.example.com" in kept["report.html"]  # allowed: shown as it is
    values = _personal_values("support_desk") | set(emails(997))
    for name, text in kept.items():
        assert not [v for v in values if v in text], name
        assert "backup_contact" not in text and "mail.example.com" not in text, name
