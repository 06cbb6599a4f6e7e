"""Benchmark: how long `planner --help` takes to start, beside a bare `import click`.

Run by hand: `.venv/bin/python bench/startup.py [RUNS]`. Prints the median of RUNS (default
10) wall-clock times of each command, each a fresh interpreter of this virtual environment,
and which of the terminal libraries `planner --help` imported (``rich`` should not be one).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c 'import click'": [sys.executable, "-c", "import click"],
    "python -m planner --help": [sys.executable, "-m", "planner", "--help"],
}
PROBE = """
import runpy, sys
sys.argv = ["planner", "--help"]
try:
    runpy.run_module("planner", run_name="__main__")
except SystemExit:
    pass
print(sorted(name for name in ("rich", "icalendar") if name in sys.modules), file=sys.stderr)
"""


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for name, command in COMMANDS.items():
        print(f"{name:<28} median of {runs}: {median_seconds(command, runs):.3f} s")
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    print(f"imported by --help: {probe.stderr.strip()}")


if __name__ == "__main__":
    main()
