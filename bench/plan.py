"""Benchmark: plan 52 weeks for 50 accounts with 5 slots a day from a 200,000-item queue.

Run by hand: `.venv/bin/python bench/plan.py [--accounts 50] [--weeks 52] [--items 200000]`
(`--cache DIR` keeps the written queue and starts later runs from a copy of it; a copy
written at an older schema is upgraded first, untimed). `--repeat` plans the same weeks a
second time on the same database and prints that time too: the steady state, where the first
plan after an upgrade also computes every item's own-domain flag. `--next` then plans the
weeks after those (the weekly routine: last week's plan, its posts and verdicts, in place).
The weekly case, what a user runs every week: `--weeks 1` (1,750 slots), and with a year of
history before it: `--weeks 1 --history 52` (91,000 published posts over the 52 weeks before
the planned one, written untimed by the child that writes the queue).

Prints the planning time (everything `planner plan` does: loading candidates and history,
choosing, rendering, writing posts and item statuses, committing) beside the floor: the
time SQLite takes to bulk-insert the same number of post rows (one executemany of the same
columns through the same SQLAlchemy engine, and through the bare sqlite3 module), the ratio,
and the peak memory of the planning process (max RSS; the queue is written by a child).
Each plan runs in a process of its own, as cold as `planner plan` (statements compiled,
templates parsed for the first time); each floor is the fastest of three writes. `--runs N`
plans N times, each from a fresh copy of the queue, and prints the medians: on a busy
machine one run's ratio can be off by 2x.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from planner.config.settings import Config, load_config
from planner.plan.own_domains import refresh_flags
from planner.plan.slots import weeks_from
from planner.plan.store import plan_weeks
from planner.store.database import head_revision, open_database, upgrade_database
from planner.store.models import Item, ItemAccountState, Post

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KINDS = ("share", "help", "promo")


def write_config(folder: Path, accounts: int, pushy: bool = False) -> Path:
    lines = [
        'timezone = "Europe/Berlin"',
        'own_domains = ["brightline.example"]',
        # --pushy: promos compete for 3 of every 10 open slots, far more than the rule
        # allows, so the balancer refuses and holds at almost every slot.
        *(["[kinds.promo]", 'class = "pitch"', "weight = 3"] if pushy else []),
        "[balance]",
        'give_to_pitch = "4:1"',
        "window_posts = 10",
        "window_days = 7",
        "min_pitch_gap_hours = 24",
    ]
    zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo", "UTC"]
    for n in range(accounts):
        lines += [
            f"[accounts.a{n:02d}]",
            'network = "outbox"',
            f'timezone = "{zones[n % len(zones)]}"',
            'slots = ["daily 08:00", "daily 11:00", "daily 13:00 give", "daily 16:00", '
            '"daily 19:00"]',
        ]
    path = folder / "planner.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fill_queue(url: str, items: int, accounts: int, history_weeks: int = 0) -> None:
    db = open_database(url)
    table = cast(Table, Item.__table__)
    rows: list[dict[str, Any]] = []
    created = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(items):
        kind = KINDS[0 if n % 20 < 9 else 1 if n % 20 < 17 else 2]  # 45 % share, 40 % help
        own = (n // 20) % 5 != 0  # one item in five goes to every account
        rows.append(
            {
                "id": f"{kind}-{n}",
                "kind": kind,
                "text": f"Post number {n} with something useful to say"
                if kind != "share"
                else None,
                "title": f"An article worth reading, number {n}" if kind == "share" else None,
                "url": (
                    f"https://blog{n % 997}.example.org/p/{n}"
                    if kind == "share"
                    else f"https://brightline.example/o/{n}"
                    if kind == "promo"
                    else None
                ),
                "credit": f"Author {n % 1009}" if kind == "share" else None,
                "fields": {},
                "variants": {},
                "accounts": [f"a{(n // 20) % accounts:02d}"] if own else [],
                "tags": [],
                "not_before": None,
                "not_after": created + timedelta(days=900) if kind == "promo" else None,
                "evergreen": False,
                "cooldown_days": None,
                "priority": n % 3,
                "status": "queued",
                "status_reason": None,
                "manual_hold": False,
                "force": False,
                "source": "bench.toml",
                "content_hash": "x",
                "created_at": created + timedelta(seconds=n),
                "updated_at": created,
                "last_published_at": None,
            }
        )
    history = published_history(rows, accounts, history_weeks)
    with db.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(table), rows[start : start + 5000])
        for start in range(0, len(history), 5000):
            session.execute(insert(cast(Table, Post.__table__)), history[start : start + 5000])
    db.dispose()


def flag_items(url: str, own_domains: list[str]) -> None:
    """Compute the items' own-domain flags, as the plan before the measured one did."""
    db = open_database(url)
    with db.transaction() as session:
        refresh_flags(session, own_domains, NOW)
    db.dispose()


def published_history(
    items: list[dict[str, Any]], accounts: int, weeks: int
) -> list[dict[str, Any]]:
    """Five posts a day per account over the ``weeks`` before NOW, one pitch in ten, each
    item used once (marked published): what a year of running the planner leaves behind."""
    if not weeks:
        return []
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for row in reversed(items):  # the lowest-ranked items: the best stay for the plan
        by_kind[row["kind"]].append(row)
    posts: list[dict[str, Any]] = []
    start = NOW - timedelta(weeks=weeks)
    for n in range(weeks * 7 * 5 * accounts):
        account = f"a{n % accounts:02d}"
        at = start + timedelta(hours=24 / 5) * (n // accounts)
        kind = "promo" if n % 10 == 0 else KINDS[n % 2]
        item = by_kind[kind].pop()
        item["status"] = "published"
        item["last_published_at"] = at
        posts.append(
            {"item_id": item["id"], "account": account, "slot_at": at, "slot_label": None,
             "kind": kind, "is_pitch": kind == "promo", "forced": False, "text": "t",
             "status": "published", "reason": "history", "idempotency_key": f"h-{n}",
             "attempts": 1, "created_at": at, "updated_at": at, "published_at": at}
        )  # fmt: skip
    return posts


POST_COLUMNS = (
    "item_id", "account", "slot_at", "slot_label", "kind", "is_pitch", "forced", "text",
    "status", "reason", "idempotency_key", "attempts", "created_at", "updated_at",
)  # fmt: skip


def planned_rows(url: str) -> list[dict[str, Any]]:
    """The post rows the planner wrote, to write them again as the floor."""
    db = open_database(url)
    table = cast(Table, Post.__table__)
    with db.engine.connect() as connection:
        columns = [table.c[name] for name in POST_COLUMNS]
        rows = [dict(row._mapping) for row in connection.execute(select(*columns))]
    db.dispose()
    return rows


def floor_sqlalchemy(folder: Path, rows: list[dict[str, Any]]) -> float:
    """Bulk-insert the same rows into an empty posts table through the same engine setup
    (foreign keys on: the posts' items are written first, untimed)."""
    db = open_database(f"sqlite:///{folder / 'floor.db'}")
    item_ids = sorted({row["item_id"] for row in rows})
    items = [
        {"id": item_id, "kind": "help", "text": "t", "fields": {}, "variants": {},
         "accounts": [], "tags": [], "evergreen": False, "priority": 0, "status": "planned",
         "manual_hold": False, "force": False, "source": "x", "content_hash": "x",
         "created_at": NOW, "updated_at": NOW}
        for item_id in item_ids
    ]  # fmt: skip
    with db.engine.begin() as connection:
        connection.execute(insert(cast(Table, Item.__table__)), items)
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(insert(cast(Table, Post.__table__)), rows)
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed


def floor_sqlite3(folder: Path, rows: list[dict[str, Any]]) -> float:
    """The same rows through the bare sqlite3 module, with the same indexes."""
    connection = sqlite3.connect(folder / "floor-raw.db")
    connection.execute(
        "create table posts (id integer primary key, item_id text, account text, slot_at text,"
        " slot_label text, kind text, is_pitch int, forced int, text text, status text,"
        " reason text, idempotency_key text unique, attempts int, created_at text,"
        " updated_at text)"
    )
    connection.execute("create index p1 on posts (status, slot_at)")
    connection.execute("create index p2 on posts (account, slot_at)")
    connection.execute("create index p3 on posts (item_id)")
    values = [
        tuple(str(v) if isinstance(v, datetime) else v for v in (r[c] for c in POST_COLUMNS))
        for r in rows
    ]
    started = time.perf_counter()
    with connection:
        connection.executemany(
            f"insert into posts ({', '.join(POST_COLUMNS)}) values ({', '.join('?' * 14)})",
            values,
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def written_rows(url: str, before: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row the plan wrote, beyond its posts: the verdicts, and the items whose status
    it changed (against ``before``, the database as it was)."""
    db = open_database(url)
    states = cast(Table, ItemAccountState.__table__)
    with db.engine.connect() as connection:
        verdicts = [dict(row._mapping) for row in connection.execute(select(states))]
    db.dispose()
    raw = sqlite3.connect(url.removeprefix("sqlite:///"))
    raw.execute("ATTACH DATABASE ? AS was", (str(before),))
    changed = raw.execute(
        "SELECT items.id, items.status, items.status_reason FROM items "
        "JOIN was.items AS old ON old.id = items.id "
        "WHERE items.status IS NOT old.status OR items.status_reason IS NOT old.status_reason"
    ).fetchall()
    raw.close()
    statuses = [
        {"key": item_id, "status": status, "status_reason": reason}
        for item_id, status, reason in changed
    ]
    return {"verdicts": verdicts, "statuses": statuses}


def floor_every_row(
    folder: Path, rows: list[dict[str, Any]], written: dict[str, list[dict[str, Any]]]
) -> float:
    """Context, not the target's floor: every row the plan wrote (posts, verdicts, item
    statuses), written through the same engine setup into a copy of the database as it was
    before the plan, so with its history, its indexes and the commit's checkpoint."""
    shutil.copyfile(folder / "pristine.db", folder / "floor-all.db")
    for suffix in ("-wal", "-shm"):
        (folder / f"floor-all.db{suffix}").unlink(missing_ok=True)
    db = open_database(f"sqlite:///{folder / 'floor-all.db'}")
    items = cast(Table, Item.__table__)
    set_status = (
        update(items)
        .where(items.c.id == bindparam("key"))
        .values(status=bindparam("status"), status_reason=bindparam("status_reason"),
                updated_at=NOW, mentions_own_domain=items.c.mentions_own_domain)
    )  # fmt: skip
    with db.engine.connect() as connection:  # the tables' first pages read, untimed
        connection.exec_driver_sql("SELECT count(*) FROM items").all()
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(insert(cast(Table, Post.__table__)), rows)
        if written["verdicts"]:
            states = cast(Table, ItemAccountState.__table__)
            connection.execute(insert(states), written["verdicts"])
        if written["statuses"]:
            connection.execute(set_status, written["statuses"])
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed


def timed_plan(url: str, config_path: Path, args: argparse.Namespace, sink: Any) -> None:
    """One measured plan, in a child process of its own: as cold as `planner plan` is (its
    statements compiled, its mappers configured, its templates parsed for the first time),
    and its peak memory its own. Sends the figures back through ``sink``."""
    config = load_config(config_path)
    weeks = weeks_from(2026, 49, args.weeks)
    db = open_database(url)
    gc.collect()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with db.transaction() as session:
        outcome = plan_weeks(session, config, weeks, NOW)
    plan_s = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(30)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak so far: planning
    # The floor writes the rows this plan wrote (before --next adds the weeks after).
    rows = [row for row in planned_rows(url) if row["status"] == "planned"]
    written = written_rows(url, Path(url.removeprefix("sqlite:///")).parent / "pristine.db")
    again_s = next_s = None
    if args.repeat:
        started = time.perf_counter()
        with db.transaction() as session:
            plan_weeks(session, config, weeks, NOW)
        again_s = time.perf_counter() - started
    if args.next:
        started = time.perf_counter()
        with db.transaction() as session:
            plan_weeks(session, config, weeks_from(2026, 49 + args.weeks, args.weeks), NOW)
        next_s = time.perf_counter() - started
    db.dispose()
    placed = [p.item for p in outcome.placements if p.item is not None]
    sink.send({
        "plan": plan_s, "again": again_s, "next": next_s, "rss": rss, "posts": len(placed),
        "pitches": sum(1 for item in placed if item.is_pitch), "held": len(outcome.held),
        "empty": len(outcome.placements) - len(placed), "slots": len(outcome.placements),
        "rows": rows, "written": written,
    })  # fmt: skip


def add_queue_arguments(parser: argparse.ArgumentParser, weeks: int) -> None:
    """The options naming the queue and the weeks a plan benchmark plans (shared with
    bench/plan_instructions.py, which plans the same)."""
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=weeks)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument(
        "--history", type=int, default=0, help="weeks of published posts before the plan"
    )


def cached_queue(args: argparse.Namespace) -> Path | None:
    """Where ``--cache`` keeps the written queue of these --accounts, --items and --history."""
    if not args.cache:
        return None
    return Path(args.cache) / f"queue-{args.accounts}-{args.items}-{args.history}.db"


def prepare_queue(database: Path, config: Config, args: argparse.Namespace) -> None:
    """The queue a plan benchmark plans, at ``database`` (``config``'s): written by a child
    process, or copied from ``--cache`` and upgraded to the head; then its own-domain flags
    computed, as the plan before this one left them. Untimed; says what it did. A queue
    written (or upgraded) here goes to the cache with its flags."""
    started = time.perf_counter()
    cached = cached_queue(args)
    refresh_cache = cached is not None and not cached.exists()
    if cached is not None and cached.exists():
        shutil.copyfile(cached, database)
        print(f"queue of {args.items} items copied from {cached}")
        upgrading = time.perf_counter()
        before, after = upgrade_database(config.database_url)
        refresh_cache = before != after
        if before != after:
            print(
                f"upgraded the copy from {before} to {head_revision()} in "
                f"{time.perf_counter() - upgrading:.2f} s (untimed)"
            )
    else:
        # In a child process, so the peak memory a benchmark measures is the planner's alone.
        child = multiprocessing.Process(
            target=fill_queue,
            args=(config.database_url, args.items, args.accounts, args.history),
        )
        child.start()
        child.join()
        print(f"queue of {args.items} items written in {time.perf_counter() - started:.1f} s")
    # A queue that has been planned before knows which items mention an own domain (a
    # plan computes the flags of new and changed items only): the plan measured is that
    # weekly plan. bench/plan.py --repeat times the same weeks planned once more.
    flagging = time.perf_counter()
    child = multiprocessing.Process(
        target=flag_items, args=(config.database_url, config.settings.own_domains)
    )
    child.start()
    child.join()
    print(f"own-domain flags computed in {time.perf_counter() - flagging:.2f} s (untimed)")
    if cached is not None and refresh_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(database, cached)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_queue_arguments(parser, weeks=52)
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the written queue in this folder and start from a copy of it next time "
        "(the same --accounts, --items and --history)",
    )
    parser.add_argument(
        "--repeat", action="store_true", help="plan the same weeks again and time that too"
    )
    parser.add_argument(
        "--next",
        action="store_true",
        help="then plan the weeks after and time that too: the weekly routine, with the last "
        "plan's posts and verdicts in place",
    )
    parser.add_argument(
        "--pushy", action="store_true", help="promos weigh 3 of 10 in the mix (default 1 of 8)"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="plan (and write the floor) this many times, each from a fresh copy of the queue "
        "in a new process, and print the medians: one run on a busy machine can be off by 2x",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_path = write_config(folder, args.accounts, args.pushy)
        config = load_config(config_path)
        prepare_queue(folder / "planner.db", config, args)
        shutil.copyfile(folder / "planner.db", folder / "pristine.db")
        runs: list[dict[str, Any]] = []
        for run in range(args.runs):
            if run:
                for suffix in ("-wal", "-shm"):
                    (folder / f"planner.db{suffix}").unlink(missing_ok=True)
                shutil.copyfile(folder / "pristine.db", folder / "planner.db")
            # A new interpreter (spawn, not fork: a forked child pays a copy of every page
            # its reference counts touch, which `planner plan` does not).
            spawn = multiprocessing.get_context("spawn")
            receive, sink = spawn.Pipe(duplex=False)
            planner = spawn.Process(
                target=timed_plan, args=(config.database_url, config_path, args, sink)
            )
            planner.start()
            figures = receive.recv()
            planner.join()
            rows, written = figures.pop("rows"), figures.pop("written")
            # Each floor is the fastest of three writes: one write of some 40 ms on a busy
            # machine varied by half again, and a floor too high would flatter the plan.
            floors: dict[str, list[float]] = {"floor": [], "raw": [], "every_row": []}
            for _ in range(3):
                for name in ("floor.db", "floor-raw.db"):
                    (folder / name).unlink(missing_ok=True)
                floors["floor"].append(floor_sqlalchemy(folder, rows))
                floors["raw"].append(floor_sqlite3(folder, rows))
                floors["every_row"].append(floor_every_row(folder, rows, written))
            figures.update({name: min(times) for name, times in floors.items()})
            figures["rows"] = len(rows)
            figures["written"] = {name: len(found) for name, found in written.items()}
            runs.append(figures)
            report(args, figures, f"run {run + 1}: " if args.runs > 1 else "")
        if args.runs > 1:
            middle = {
                key: median([r[key] for r in runs]) for key in ("plan", "floor", "raw", "every_row")
            }
            ratios = sorted(r["plan"] / r["floor"] for r in runs)
            print(
                f"median of {args.runs} runs: plan {middle['plan']:.3f} s, floor "
                f"{middle['floor']:.3f} s, ratio of the medians "
                f"{middle['plan'] / middle['floor']:.1f} "
                f"(target <= {5 if args.weeks == 1 else 3}; each run's ratio "
                f"{ratios[0]:.1f}-{ratios[-1]:.1f}), plan / bare sqlite3 "
                f"{middle['plan'] / middle['raw']:.1f}, plan / every row in place "
                f"{middle['plan'] / middle['every_row']:.1f}"
            )


def report(args: argparse.Namespace, figures: dict[str, Any], prefix: str) -> None:
    print(
        f"{prefix}planned {figures['posts']} posts ({figures['pitches']} pitches, "
        f"{figures['held']} held, {figures['empty']} empty) in {figures['slots']} slots, "
        f"{args.accounts} accounts x {args.weeks} weeks: {figures['plan']:.2f} s"
    )
    if figures["again"] is not None:
        print(f"{prefix}planned the same weeks again: {figures['again']:.2f} s")
    if figures["next"] is not None:
        print(f"{prefix}planned the {args.weeks} week(s) after: {figures['next']:.2f} s")
    print(
        f"{prefix}peak memory (max RSS of the planning process): {figures['rss']:.0f} MB "
        "(target < 300)"
    )
    print(
        f"{prefix}floor: bulk insert of the same {figures['rows']} post rows: "
        f"{figures['floor']:.2f} s via SQLAlchemy Core, {figures['raw']:.2f} s via bare sqlite3"
    )
    print(
        f"{prefix}every row the plan wrote ({figures['rows']} posts, "
        f"{figures['written']['verdicts']} verdicts, {figures['written']['statuses']} item "
        f"statuses), into the database as it was: {figures['every_row']:.2f} s (plan / that "
        f"= {figures['plan'] / figures['every_row']:.1f}; context, not the target)"
    )
    print(
        f"{prefix}ratio: plan / floor = {figures['plan'] / figures['floor']:.1f} "
        f"(target <= {5 if args.weeks == 1 else 3}), "
        f"plan / bare sqlite3 = {figures['plan'] / figures['raw']:.1f}"
    )


if __name__ == "__main__":
    main()
