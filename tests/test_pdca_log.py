"""The PDCA log (io/pdca.py): a round trip, every kind of bad input refused with its line and
column, and appends that survive a process killed mid-run and two processes at once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from sqresearch.io import pdca
from sqresearch.io.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
KPIS = {"frt_median", "fcr", "csat_mean"}
TODAY = date(2026, 11, 30)
HEADER = "id,kpi,segment,opened_week,owner,plan,action_start,action_segments,status"


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def problems(path: Path, **kw) -> str:
    with pytest.raises(pdca.PdcaLogError) as exc:
        pdca.read_log(path, today=kw.pop("today", TODAY), known_kpis=KPIS, **kw)
    assert isinstance(exc.value, DataError)  # a user error: exit 2, no traceback
    return str(exc.value)


GOOD = "PDCA-0001,fcr,all,2026-W40,Li,Call back,2026-10-05,,doing"


# --- round trip -------------------------------------------------------------------------------
def test_append_then_read_gives_back_every_field(tmp_path):
    log = tmp_path / "pdca" / "weekly_monitor.csv"
    ids = [
        pdca.append_item(log, kpi="frt_median", segment="team=east & channel=phone",
                         opened_week="2026-W40", owner="王芳", plan='Rota change, "B" shift',
                         action_start=date(2026, 10, 5), known_kpis=KPIS, today=TODAY),
        pdca.append_item(log, kpi="fcr", opened_week="2026-W41", owner="Sam",
                         plan="-2 steps in the script", status="doing",
                         action_segments="channel=phone"),
        pdca.append_item(log, kpi="csat_mean", opened_week="2026-W42", plan="=HYPERLINK(x)",
                         owner="@ops"),
    ]
    assert ids == ["PDCA-0001", "PDCA-0002", "PDCA-0003"]
    text = log.read_text(encoding="utf-8")
    assert text.startswith(HEADER + "\n") and text.endswith("\n") and text.count("\n") == 4
    # formula-looking free text is written with a protective apostrophe
    assert "'-2 steps" in text and "'=HYPERLINK" in text and ",'@ops," in text
    got = pdca.read_log(log, today=TODAY, known_kpis=KPIS)
    items = got.items
    assert list(items["id"]) == ids and list(items["line"]) == [2, 3, 4]
    assert items.loc[0, "plan"] == 'Rota change, "B" shift' and items.loc[0, "owner"] == "王芳"
    assert items.loc[0, "segment"] == "team=east & channel=phone"
    assert items.loc[0, "action_start"] == "2026-10-05" and items.loc[0, "status"] == "open"
    assert items.loc[1, "plan"] == "-2 steps in the script"  # the apostrophe taken off again
    assert items.loc[2, "plan"] == "=HYPERLINK(x)" and items.loc[2, "owner"] == "@ops"
    assert items.loc[1, "action_segments"] == "channel=phone"
    s = got.summary().set_index("status")
    assert s.loc["open", "items"] == 2 and s.loc["doing", "items"] == 1
    assert s.loc["open", "with_action"] == 1 and s["items"].sum() == 3
    assert list(got.open_items()["id"]) == ids


def test_a_missing_log_is_empty_unless_required_and_a_hand_edit_without_final_newline(tmp_path):
    log = tmp_path / "log.csv"
    assert pdca.read_log(log, today=TODAY, known_kpis=KPIS).items.empty
    assert "does not exist" in problems(log, missing_ok=False)
    log.write_text("")
    assert pdca.read_log(log, today=TODAY, known_kpis=KPIS).items.empty
    log.write_text(f"\ufeff{HEADER}\r\n{GOOD}\r\n\r\n" + GOOD.replace("0001", "0007"),
                   encoding="utf-8")  # BOM, CRLF, a blank line, no final newline
    assert pdca.append_item(log, kpi="fcr", opened_week="2026-W48") == "PDCA-0008"
    items = pdca.read_log(log, today=TODAY, known_kpis=KPIS).items
    assert list(items["id"]) == ["PDCA-0001", "PDCA-0007", "PDCA-0008"]
    assert list(items["line"]) == [2, 4, 5]


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("line, where, what", [
    ("PDCA-0002,fcr,all,2026-W40,Li,x", "line 3", "has 6 fields; the header has 9"),
    ('PDCA-0002,fcr,all,2026-W40,Li,"open quote,,,', "line 3", "not a valid CSV line"),
    ("PDCA-0001,fcr,all,2026-W41,,,,,open", "lines 2 and 3, column id", "'PDCA-0001' is used"),
    ("P-2,fcr,all,2026-W41,,,,,open", "line 3, column id", "'P-2' is not an item id"),
    ("PDCA-0002,frt,all,2026-W41,,,,,open", "line 3, column kpi", "'frt' is not a KPI"),
    ("PDCA-0002,fcr,all,2026-41,,,,,open", "line 3, column opened_week", "not an ISO week"),
    ("PDCA-0002,fcr,all,2025-W53,,,,,open", "line 3, column opened_week", "does not exist"),
    ("PDCA-0002,fcr,all,2026-W50,,,,,open", "line 3, column opened_week", "after the data cut"),
    ("PDCA-0002,fcr,all,2026-W41,,,2026-02-30,,open", "line 3, column action_start",
     "not a real calendar date"),
    ("PDCA-0002,fcr,all,2026-W41,,,5/10/2026,,open", "line 3, column action_start",
     "not an ISO date"),
    ("PDCA-0002,fcr,all,2026-W41,,,2026-12-01,,open", "line 3, column action_start",
     "'2026-12-01' is after the data cut (2026-11-30)"),
    ("PDCA-0002,fcr,all,2026-W41,,,,,Done", "line 3, column status", "'Done' is not a status"),
    ("PDCA-0002,fcr,team east,2026-W41,,,,,open", "line 3, column segment", "each term is"),
    ("PDCA-0002,fcr,team=a & team=b,2026-W41,,,,,open", "line 3, column segment", "twice"),
    ("PDCA-0002,fcr,channel=phone,2026-W41,,,,channel=email,open",
     "line 3, column action_segments", "outside the item's segment (channel=phone)"),
    ("PDCA-0002,fcr,all,2026-W41,,,,team=a;channel=b,open", "line 3, column action_segments",
     "mixes cells of different columns"),
    ("PDCA-0002,fcr,all,2026-W41,,=1+2,,,open", "line 3, column plan", "'=1+2' starts like a "
     "spreadsheet formula"),
    ("PDCA-0002,fcr,all,2026-W41,+cmd,x,,,open", "line 3, column owner", "spreadsheet formula"),
    ("PDCA-0002,fcr,all,2026-W41,,-1,,,open", "line 3, column plan", "spreadsheet formula"),
    ("PDCA-0002,fcr,all,2026-W41,,@SUM(1),,,open", "line 3, column plan", "spreadsheet formula"),
    ("PDCA-0002,fcr,all,2026-W41,,  =1,,,open", "line 3, column plan", "spreadsheet formula"),
    ("PDCA-0002,fcr,all,2026-W41,,ok\u202egnp.exe,,,open", "line 3, column plan",
     "'ok\\u202egnp.exe' holds the control character '\\u202e'"),
    ("PDCA-0002,fcr,all,2026-W41,,bell\x07,,,open", "line 3, column plan", "control character"),
])
def test_each_bad_line_is_refused_naming_its_line_and_column(tmp_path, line, where, what):
    msg = problems(write(tmp_path / "log.csv", GOOD, line))
    assert f"{where}" in msg and what in msg and "Fix:" in msg
    assert msg.count("\n  - ") == 1  # exactly that problem


def test_a_bad_header_a_binary_file_wrong_encoding_and_a_size_cap(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("id;kpi;segment\n", encoding="utf-8")
    assert "line 1: the header is 'id;kpi;segment'; it must be exactly " + HEADER in problems(log)
    log.write_bytes((HEADER + "\n" + GOOD + "\n").encode() + b"PK\x03\x04\x00\x00")
    assert "line 3: holds a NUL byte: the file is binary" in problems(log)
    log.write_bytes((HEADER + "\n").encode() + "PDCA-0001,fcr,all,2026-W40,王芳".encode("gbk"))
    msg = problems(log)
    assert "line 2, byte 28: byte 0xcd is not UTF-8" in msg and "save the file as UTF-8" in msg
    write(log, GOOD)
    assert "bytes; the log is capped at 100" in problems(log, max_bytes=100)


def test_segments_are_checked_against_the_tickets_when_given(tmp_path):
    log = write(tmp_path / "log.csv", GOOD.replace(",all,", ",team=est,"),
                "PDCA-0002,fcr,region=x,2026-W41,,,,,open")
    msg = problems(log, segments={"team": ["east", "west"], "channel": ["phone"]})
    assert "line 2, column segment: 'team=est': no ticket has this value" in msg
    assert "e.g. east, west" in msg
    assert "line 3, column segment: names the column 'region'" in msg


def test_every_problem_of_a_line_is_listed_and_a_long_list_is_capped(tmp_path):
    msg = problems(write(tmp_path / "log.csv", "PDCA-0001,frt,all,2026-W60,x,=cmd,2027-01-01,,"
                                               "opn"))
    for col in ("plan", "kpi", "opened_week", "action_start", "status"):
        assert f"line 2, column {col}:" in msg
    many = [f"PDCA-{i:04d},nope,all,2026-W40,,,,,open" for i in range(1, 31)]
    msg = problems(write(tmp_path / "log.csv", *many))
    assert msg.startswith(f"{tmp_path / 'log.csv'}: 21 data problems")
    assert "… and 10 more problem(s)." in msg


def test_append_checks_its_fields_and_refuses_a_broken_log_without_writing(tmp_path):
    log = write(tmp_path / "log.csv", GOOD)
    before = log.read_bytes()
    with pytest.raises(pdca.PdcaLogError, match="new item, column status: 'done'"):
        pdca.append_item(log, kpi="fcr", opened_week="2026-W41", status="done")
    with pytest.raises(pdca.PdcaLogError, match="new item, column plan: 'two\\\\nlines'"):
        pdca.append_item(log, kpi="fcr", opened_week="2026-W41", plan="two\nlines")
    with pytest.raises(pdca.PdcaLogError, match="new item, column action_start"):
        pdca.append_item(log, kpi="fcr", opened_week="2026-W41", action_start="2026-12-24",
                         today=TODAY)
    with pytest.raises(pdca.PdcaLogError, match="new item, column kpi"):
        pdca.append_item(log, kpi="aht", opened_week="2026-W41", known_kpis=KPIS)
    assert log.read_bytes() == before
    broken = write(tmp_path / "broken.csv", GOOD, "PDCA-0002,fcr,all")
    with pytest.raises(pdca.PdcaLogError, match="line 3: has 3 fields"):
        pdca.append_item(broken, kpi="fcr", opened_week="2026-W41")
    assert broken.read_text().count("\n") == 3


# --- crashes and concurrency ------------------------------------------------------------------
def child(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            text=True)


def wait_for(proc: subprocess.Popen, word: str) -> None:
    line = proc.stdout.readline()
    assert line.strip() == word, line


def ids_of(log: Path) -> list[int]:
    items = pdca.read_log(log, today=TODAY, known_kpis=KPIS).items
    return [int(i[5:]) for i in items["id"]]


def test_a_run_killed_while_holding_the_lock_leaves_the_log_intact(tmp_path):
    log = tmp_path / "log.csv"
    pdca.append_item(log, kpi="fcr", opened_week="2026-W40")
    before = log.read_bytes()
    # killed after taking the lock, before writing
    p = child(f"""
import time
from pathlib import Path
from sqresearch.io import pdca
with pdca._Lock(Path({str(log)!r}), 5):
    print("locked", flush=True)
    time.sleep(60)
""")
    wait_for(p, "locked")
    with pytest.raises(pdca.PdcaLogError, match="locked by another run"):
        pdca.append_item(log, kpi="fcr", opened_week="2026-W41", timeout=0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert log.read_bytes() == before
    start = time.monotonic()
    assert pdca.append_item(log, kpi="fcr", opened_week="2026-W41", timeout=5) == "PDCA-0002"
    assert time.monotonic() - start < 2  # the dead process's lock is gone at once
    # killed after its one write, before fsync: its line is whole, the next id follows it
    p = child(f"""
import os, time
from sqresearch.io import pdca
real = os.fsync
def slow_fsync(fd):
    print("written", flush=True)
    time.sleep(60)
os.fsync = slow_fsync
pdca.append_item({str(log)!r}, kpi="csat_mean", opened_week="2026-W42", plan="x, y")
""")
    wait_for(p, "written")
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert ids_of(log) == [1, 2, 3]
    assert pdca.append_item(log, kpi="fcr", opened_week="2026-W43") == "PDCA-0004"


def test_killing_a_busy_appender_at_random_moments_never_corrupts_the_log(tmp_path):
    log = tmp_path / "log.csv"
    code = f"""
from sqresearch.io import pdca
print("go", flush=True)
while True:
    pdca.append_item({str(log)!r}, kpi="fcr", opened_week="2026-W40", plan="a, b \\"c\\"")
"""
    for delay in (0.05, 0.13, 0.21, 0.34):
        p = child(code)
        wait_for(p, "go")
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        got = ids_of(log)  # parses: no partial line
        assert got == list(range(1, len(got) + 1))
    assert len(got) > 0 and log.read_text().endswith("\n")


def test_two_runs_appending_at_once_lose_and_duplicate_nothing(tmp_path):
    log = tmp_path / "log.csv"
    code = f"""
from sqresearch.io import pdca
import sys
for i in range(50):
    pdca.append_item({str(log)!r}, kpi="fcr", opened_week="2026-W40",
                     plan=f"run {{sys.argv[1]}} item {{i}}, with a comma")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, name], env=env) for name in "AB"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    items = pdca.read_log(log, today=TODAY, known_kpis=KPIS).items
    assert sorted(int(i[5:]) for i in items["id"]) == list(range(1, 101))
    for run in "AB":
        plans = items.loc[items["plan"].str.startswith(f"run {run} "), "plan"]
        assert list(plans) == [f"run {run} item {i}, with a comma" for i in range(50)]
    lines = log.read_text().split("\n")
    assert lines[0] == HEADER and lines[-1] == "" and len(lines) == 102
    assert all(re.fullmatch(r'PDCA-\d{4},fcr,all,2026-W40,,"run [AB] item \d+, with a comma",,,'
                            r"open", ln) for ln in lines[1:-1])
