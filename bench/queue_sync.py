"""Benchmark: sync a 10,000-item queue file into SQLite (and PostgreSQL when reachable).

Run by hand (`make bench` or `.venv/bin/python bench/queue_sync.py [N]`); prints the time to
read and validate the files, the time to store the items (first sync: all inserts, each
new item rendered and validated for its accounts as `queue sync` does), the time of a
second, unchanged sync (nothing to render), the number of SQL statements each took, and the floor:
SQLite's own executemany of the same rows into a bare table.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from planner.config.settings import load_config
from planner.content.files import QueueItem, read_queue_files, source_name
from planner.content.store import sync_items
from planner.plan.sync_check import ItemChecker
from planner.store.database import open_database

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def write_queue(folder: Path, count: int) -> Path:
    lines = []
    for n in range(count):
        if n % 3 == 0:
            lines.append(
                f'[[item]]\nkind = "share"\ntitle = "Article {n}"\n'
                f'url = "https://blog{n % 97}.example.org/post/{n}"\ncredit = "Author {n % 311}"\n'
                f'tags = ["t{n % 7}"]\n'
            )
        elif n % 3 == 1:
            lines.append(
                f'[[item]]\nid = "tip-{n}"\nkind = "help"\ntext = "Helpful tip number {n}"\n'
            )
        else:
            lines.append(
                f'[[item]]\nid = "promo-{n}"\nkind = "promo"\ntext = "Offer {n}"\n'
                f'url = "https://brightline.example/o/{n}"\nnot_after = 2027-06-30\n'
            )
    path = folder / "queue" / "big.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def bench(url: str, label: str, folder: Path, queue_file: Path) -> None:
    config_path = folder / "planner.toml"
    config = load_config(config_path)
    started = time.perf_counter()
    items = read_queue_files([queue_file], config)
    read_s = time.perf_counter() - started
    db = open_database(url)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    timings = []
    checker = ItemChecker(config)
    checked = 0

    def check(fresh: Sequence[QueueItem]) -> None:
        nonlocal checked
        checked = len(fresh)
        checker.check(fresh)

    for _ in range(2):
        statements = 0
        started = time.perf_counter()
        with db.transaction() as session:
            sync_items(session, items, [source_name(queue_file, config)], NOW, check=check)
        timings.append((time.perf_counter() - started, statements))
    started = time.perf_counter()
    checker.check(items)
    check_s = time.perf_counter() - started
    db.dispose()
    (first_s, first_n), (second_s, second_n) = timings
    print(
        f"{label:<10} {len(items)} items: read+validate {read_s:.2f} s; "
        f"first sync {first_s:.2f} s ({first_n} statements); "
        f"unchanged re-sync {second_s:.2f} s ({second_n} statements, {checked} rendered); "
        f"of the first sync, rendering {len(items)} items: {check_s:.2f} s"
    )


def sqlite_floor(count: int, folder: Path) -> float:
    connection = sqlite3.connect(folder / "floor.db")
    connection.execute("create table t (id text primary key, kind text, text text, source text)")
    rows = [(f"i{n}", "help", f"Helpful tip number {n}", "big.toml") for n in range(count)]
    started = time.perf_counter()
    with connection:
        connection.executemany("insert into t values (?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "planner.toml").write_text((REPO / "config.example.toml").read_text())
        queue_file = write_queue(folder, count)
        bench(f"sqlite:///{folder / 'bench.db'}", "sqlite", folder, queue_file)
        pg = os.environ.get(
            "PLANNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        try:
            from sqlalchemy import create_engine, text

            admin = create_engine(pg)
            with admin.begin() as conn:
                conn.execute(text("drop schema if exists planner_bench cascade"))
                conn.execute(text("create schema planner_bench"))
            bench(pg + "?options=-csearch_path%3Dplanner_bench", "postgresql", folder, queue_file)
            with admin.begin() as conn:
                conn.execute(text("drop schema planner_bench cascade"))
            admin.dispose()
        except Exception as exc:  # a benchmark may run without a server
            print(f"postgresql skipped: {exc}")
        floor_s = sqlite_floor(count, folder)
        print(f"floor      sqlite3 executemany of {count} bare rows: {floor_s:.3f} s")


if __name__ == "__main__":
    main()
