"""Synthetic ticket files for the scale benchmarks: n tickets shaped like the demo support desk
(data/support_tickets.csv: the same columns, channels, teams, scales and missing codes), made
with numpy in seconds even at 10 million rows, written as Parquet and as CSV.

    .venv/bin/python benchmarks/synthetic_tickets.py 1000000 [--folder outputs/bench-data]

Files are cached by size and seed under the folder (outputs/ is generated and git-ignored;
nothing is written to data/).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "outputs" / "bench-data"
START = np.datetime64("2026-01-01T00:00:00", "s")
SECONDS = 181 * 86400  # January to June 2026


def tickets(n: int, seed: int = 1) -> pa.Table:
    """n tickets: created over the half year, replies and solves after it (some open), the
    demo's segments, scores with 99 as a 'declined' code, flags as true/false."""
    rng = np.random.default_rng(seed)
    created = START + np.sort(rng.integers(0, SECONDS, n)).astype("timedelta64[s]")
    reply = created + rng.gamma(1.5, 1200, n).astype("timedelta64[s]")
    solve = reply + rng.gamma(1.2, 20000, n).astype("timedelta64[s]")
    cut = START + np.timedelta64(SECONDS, "s")
    no_reply = rng.random(n) < 0.02
    open_ = (rng.random(n) < 0.05) | (solve > cut)
    channels = np.array(["email", "chat", "phone"])
    teams = np.array(["billing", "technical", "accounts", "general"])
    categories = np.array(["billing error", "login", "delivery", "refund", "outage", "other"])
    csat = rng.integers(1, 6, n).astype(float)
    csat[rng.random(n) < 0.6] = np.nan
    csat[rng.random(n) < 0.01] = 99
    nps = rng.integers(0, 11, n).astype(float)
    nps[rng.random(n) < 0.7] = np.nan
    ces = rng.integers(1, 8, n).astype(float)
    ces[rng.random(n) < 0.8] = np.nan
    ts = pa.timestamp("s")
    return pa.table({
        "ticket_id": pa.array([f"T{i:08d}" for i in range(1, n + 1)]),
        "opened_ts": pa.array(created, ts),
        "first_reply_ts": pa.array(np.where(no_reply, np.datetime64("NaT"), reply), ts),
        "solved_ts": pa.array(np.where(open_, np.datetime64("NaT"), solve), ts),
        "channel": pa.array(channels[rng.integers(0, 3, n)]),
        "team": pa.array(teams[rng.integers(0, 4, n)]),
        "category": pa.array(categories[rng.integers(0, 6, n)]),
        "agent_fcr": pa.array(rng.random(n) < 0.7),
        "reopens": pa.array(np.where(open_, 0, rng.poisson(0.1, n))),
        "csat": pa.array(csat, from_pandas=True),
        "nps": pa.array(nps, from_pandas=True),
        "ces": pa.array(ces, from_pandas=True),
        "is_complaint": pa.array(rng.random(n) < 0.08),
        "customer_id": pa.array([f"C{i:07d}" for i in rng.integers(0, max(1, n // 4), n)]),
    })


def files(n: int, seed: int = 1, folder: Path = FOLDER) -> dict[str, Path]:
    """{"parquet": path, "csv": path} of n synthetic tickets, made once and cached."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {"parquet": folder / f"tickets_{n}_{seed}.parquet",
           "csv": folder / f"tickets_{n}_{seed}.csv"}
    if all(p.is_file() for p in out.values()):
        return out
    table = tickets(n, seed)
    pq.write_table(table, out["parquet"], row_group_size=1 << 20)
    # scores as integers (no '.0'), as an export would write them
    cols = {c: (pc.cast(table[c], pa.int64()) if c in ("csat", "nps", "ces") else table[c])
            for c in table.column_names}
    pacsv.write_csv(pa.table(cols), out["csv"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--folder", type=Path, default=FOLDER)
    args = ap.parse_args()
    for kind, path in files(args.n, args.seed, args.folder).items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
