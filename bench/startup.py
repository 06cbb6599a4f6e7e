"""Benchmark: how long `planner --help` takes to start, beside `python -c "import click"`.

Run by hand: `.venv/bin/python bench/startup.py [--runs 10]`. Prints the median wall time of
each over the runs (measured in one run, alternating, so both see the same machine load),
their ratio, and which heavy modules `planner --help` imported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ("tweepy", "atproto", "mastodon", "apscheduler", "alembic", "jinja2", "sqlalchemy",
         "pydantic", "requests", "feedparser")  # fmt: skip
LIST_MODULES = (
    "import sys, runpy; sys.argv = ['planner', '--help']\n"
    "try:\n    runpy.run_module('planner', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "import json\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)"
)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    planner, click = [], []
    for _ in range(args.runs):
        planner.append(timed([sys.executable, "-m", "planner", "--help"]))
        click.append(timed([sys.executable, "-c", "import click"]))
    loaded = (
        subprocess.run(
            [sys.executable, "-c", LIST_MODULES], check=True, capture_output=True, text=True
        )
        .stderr.strip()
        .splitlines()[-1]
    )
    heavy = [m for m in json.loads(loaded) if m in HEAVY]
    p, c = statistics.median(planner), statistics.median(click)
    print(f"planner --help: {p:.3f} s  import click: {c:.3f} s  ratio {p / c:.1f}x")  # noqa: T201
    print(f"heavy modules imported by planner --help: {', '.join(heavy) or 'none'}")  # noqa: T201


if __name__ == "__main__":
    main()
