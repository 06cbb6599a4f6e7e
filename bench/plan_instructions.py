"""Benchmark: the instructions one plan executes, counted by Valgrind (callgrind).

Run by hand: `.venv/bin/python bench/plan_instructions.py [--weeks 1] [--history 0]
[--cache DIR] [--tree DIR] [--top 15]` (needs Valgrind: `apt-get install valgrind`).

On a busy machine one plan's wall time varies by half from run to run, and a change worth
a few per cent cannot be told from the noise (`bench/plan.py --runs N` takes medians, which
helps only so far). The instructions a plan executes do not vary: with the same queue, the
same config and Python's string hashing fixed (PYTHONHASHSEED=0), two runs count the same
to within 0.1 %. This prints that count for `planner plan` of the same weeks as
`bench/plan.py`, in a new interpreter as cold as the command's (statements compiled and
templates parsed for the first time), from the moment the plan starts to the moment it has
committed; the imports before it and the process's exit are not counted. It says nothing
of the time spent waiting for the disk (the commit's fsync, a WAL checkpoint): compare
those with `bench/plan.py`.

`--tree DIR` runs the plan from another checkout's `planner` package (for example the code
before a change, from `git archive REV planner | tar -x -C DIR`), on the same queue, so two
versions can be compared. `--top N` prints the N costliest C functions, inclusive: where the
instructions go between SQLite, the driver, the cycle collector and the interpreter.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from plan import NOW, add_queue_arguments, prepare_queue, write_config

from planner.config.settings import load_config

# The plan, between two calls that do nothing else and that callgrind can name: it zeroes
# its counters at the first and writes them out at the second.
CHILD = """
import gc, os, sys
from pathlib import Path
from datetime import datetime
from planner.config.settings import load_config
from planner.plan.slots import weeks_from
from planner.plan.store import plan_weeks
from planner.store.database import open_database
config = load_config(Path(sys.argv[2]))
db = open_database(sys.argv[1])
gc.collect()
os.getppid()
with db.transaction() as session:
    plan_weeks(session, config, weeks_from(2026, 49, int(sys.argv[3])),
               datetime.fromisoformat(sys.argv[4]))
os.getpgrp()
db.dispose()
"""


def count(database: Path, config_path: Path, weeks: int, tree: Path | None, out: Path) -> Path:
    """Run the plan under callgrind; return the file holding the plan's own counts."""
    if shutil.which("valgrind") is None:
        sys.exit("plan_instructions: needs Valgrind (apt-get install valgrind)")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    command = [
        "valgrind", "--tool=callgrind", "--compress-strings=no", "--compress-pos=no",
        "--zero-before=os_getppid", "--dump-before=os_getpgrp",
        f"--callgrind-out-file={out}",
        sys.executable, "-c", CHILD, f"sqlite:///{database}", str(config_path), str(weeks),
        NOW.isoformat(),  # bench/plan.py's clock: the same weeks, the same slots
    ]  # fmt: skip
    # Run from the queue's folder: `python -c` puts the working folder first on the path,
    # and run from a checkout it would import that checkout's planner, whatever --tree says.
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=database.parent)
    planned = out.with_name(out.name + ".1")  # the first dump: zeroed before, written after
    if done.returncode or not planned.exists():
        sys.exit(f"plan_instructions: the plan failed under valgrind:\n{done.stderr[-3000:]}")
    return planned


def summary(counts: Path) -> int:
    match = re.search(r"^summary: (\d+)$", counts.read_text(), re.MULTILINE)
    if match is None:
        sys.exit(f"plan_instructions: no summary in {counts}")
    return int(match.group(1))


def top(counts: Path, lines: int) -> list[str]:
    """The costliest C functions of the plan, inclusive, with their share."""
    if lines <= 0:
        return []
    if shutil.which("callgrind_annotate") is None:
        return ["(callgrind_annotate not found: no breakdown)"]
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(counts)],
        capture_output=True,
        text=True,
    ).stdout
    rows: list[str] = []
    seen: set[str] = set()
    for line in annotated.splitlines():
        found = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+)", line)
        if found is None or ":" not in found.group(3):
            continue
        where, function = found.group(3).rsplit(":", 1)
        function = function.split("'")[0]  # a recursion level is the same function
        # The library and extension code (SQLite, the driver, the cycle collector, JSON,
        # datetime, the parser Jinja's compiled templates go through), not the interpreter's
        # own calling machinery, which every Python function shares.
        if not (where == "???" or "/Modules/" in where or "/Parser/" in where):
            continue
        if function in seen or float(found.group(2)) >= 99.9 or function[:2] in ("0x", "(b"):
            # A wrapper and its implementation (the same cost twice), the process's own
            # frames above the plan (100 % each), code without symbols.
            continue
        seen.add(function)
        rows.append(f"{found.group(1):>15} {found.group(2):>6}%  {function}")
        if len(rows) == lines:
            break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_queue_arguments(parser, weeks=1)
    parser.add_argument(
        "--cache", type=Path, help="the folder of bench/plan.py's written queues, shared"
    )
    parser.add_argument("--tree", type=Path, help="run the planner package of this checkout")
    parser.add_argument("--top", type=int, default=0, help="print the N costliest C functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_path = write_config(folder, args.accounts)
        config = load_config(config_path)
        database = folder / "planner.db"
        prepare_queue(database, config, args)
        counts = count(database, config_path, args.weeks, args.tree, folder / "callgrind.out")
        print(
            f"planner plan, {args.accounts} accounts x {args.weeks} week(s) from {args.items} "
            f"items, {args.history} weeks of history"
            + (f", code from {args.tree}" if args.tree else "")
            + f": {summary(counts):,} instructions"
        )
        for row in top(counts, args.top):
            print(row)


if __name__ == "__main__":
    main()
