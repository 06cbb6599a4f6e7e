"""Benchmark: publish 1,000 posts due now over 100 accounts to a slow loopback receiver.

Run by hand: `.venv/bin/python bench/dispatch.py [--posts 1000] [--accounts 100]
[--latency 0.2] [--concurrency N] [--cases once,run,pg1,pg2]`.

A receiver in a process of its own answers every webhook POST after ``--latency`` seconds
(asyncio, so it never becomes the bottleneck) and notes when each post arrived. Each case
fills a fresh database with the posts, all due at one instant, then runs real ``planner
run`` processes against it:

- ``once``: ``planner run --once`` on SQLite (the cron mode);
- ``run``: ``planner run`` on SQLite, stopped with SIGTERM once every post has arrived;
- ``pg1``/``pg2``: ``planner run`` on PostgreSQL with one and with two runners.

``run --once`` is started at the instant the posts fall due, as cron would start it, and
measured from there, its start-up included. The runners of ``run``, ``pg1`` and ``pg2`` are
started ``--lead`` seconds (default 6) before the posts fall due, as a runner that keeps
running would be, and measured from the due instant: how late the posts go out.

For each it prints the wall time from that instant to the last arrival (and for ``once``
when the process exited), the
latency of each account's first post (min, median, max), the CPU time the runners used
(user and system), the ratio of the wall time to the
floor (an account's posts go out one after another, accounts in parallel: posts per account
times the latency), and the duplicates and missing posts the receiver saw.

``--rss`` samples the runners' resident memory as the posts arrive (for ``run``, ``pg1`` and
``pg2``) and prints it at 10 %, 25 %, 50 %, 75 % and 90 % of them: with ``--posts 10000
--latency 0.01 --cases run --rss`` it shows whether a long run keeps state per post.

``--concurrency`` writes ``[run] concurrency`` into the config (leave it out to measure the
default, or a planner that does not have the key). ``--source DIR`` runs the planner found in
``DIR`` (an unpacked older commit: ``git archive COMMIT planner templates | tar -x -C DIR``)
instead of this checkout's, to measure before and after side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from planner.store.database import open_database
from planner.store.models import Item, Post

POSTGRES_URL = os.environ.get(
    "PLANNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# BENCH_WRAP prefixes each planner command, to run it under a sampling profiler (e.g.
# "py-spy record --format raw -o /tmp/once.txt --").
PLANNER = [*shlex.split(os.environ.get("BENCH_WRAP", "")), sys.executable, "-m", "planner"]


# --- the receiver ---------------------------------------------------------------------------


def _serve(port_out: Any, latency: float) -> None:
    arrivals: list[tuple[float, int, str]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                if path == "/_arrivals":
                    answer = json.dumps(arrivals).encode()
                elif path == "/_reset":
                    arrivals.clear()
                    answer = b"{}"
                else:
                    post = json.loads(body)
                    arrivals.append((time.time(), post["post_id"], post["account"]))
                    await asyncio.sleep(latency)
                    answer = json.dumps({"id": f"r-{post['post_id']}"}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
                del method
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Receiver:
    def __init__(self, latency: float) -> None:
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(child, latency), daemon=True)
        self.process.start()
        self.origin = f"http://127.0.0.1:{parent.recv()}"

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.origin + path, timeout=30) as answer:
            return json.loads(answer.read())

    def arrivals(self) -> list[tuple[float, int, str]]:
        return [tuple(a) for a in self._get("/_arrivals")]

    def reset(self) -> None:
        self._get("/_reset")

    def close(self) -> None:
        self.process.terminate()
        self.process.join()


# --- the workspace --------------------------------------------------------------------------


def write_config(
    folder: Path, url: str, accounts: int, origin: str, concurrency: int | None
) -> Path:
    lines = [
        'timezone = "UTC"',
        "[database]",
        f'url = "{url}"',
        "[run]",
        "min_spacing_seconds = 0",
        "grace_minutes = 600",
        *([f"concurrency = {concurrency}"] if concurrency is not None else []),
    ]
    for n in range(accounts):
        lines += [
            f"[accounts.a{n:03d}]",
            'network = "webhook"',
            'slots = ["daily 09:00"]',
            f"[accounts.a{n:03d}.options]",
            f'url = "{origin}/hook/a{n:03d}"',
        ]
    path = folder / "planner.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fill(url: str, posts: int, accounts: int, now: datetime) -> None:
    db = open_database(url)
    try:
        with db.transaction() as session:
            items = [
                {
                    "id": f"i{n}",
                    "kind": "help",
                    "text": f"post {n}",
                    "source": "bench",
                    "content_hash": "x",
                    "status": "planned",
                }
                for n in range(posts)
            ]
            session.execute(insert(Item), items)
            rows = [
                {
                    "item_id": f"i{n}",
                    "account": f"a{n % accounts:03d}",
                    "slot_at": now,
                    "kind": "help",
                    "is_pitch": False,
                    "forced": False,
                    "text": f"post {n}",
                    "status": "planned",
                    "idempotency_key": f"k{n}",
                    "attempts": 0,
                }
                for n in range(posts)
            ]
            session.execute(insert(Post), rows)
    finally:
        db.dispose()


def postgres_schema() -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# --- one case -------------------------------------------------------------------------------


def run_case(
    name: str, receiver: Receiver, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    schema = None
    if name.startswith("pg"):
        schema, url = postgres_schema()
    else:
        url = f"sqlite:///{folder / (name + '.db')}"
    config = write_config(folder, url, args.accounts, receiver.origin, args.concurrency)
    # `run --once` is started when the posts are due (as cron would); a runner that keeps
    # running is started first and measured from the instant the posts fall due.
    lead = 0.0 if name == "once" else args.lead
    due = datetime.now(UTC) + timedelta(seconds=lead)
    fill(url, args.posts, args.accounts, due)
    receiver.reset()
    env = {**os.environ, "PLANNER_CONFIG": str(config)}
    runners = 2 if name == "pg2" else 1
    command = [*PLANNER, "run"] + (["--once"] if name == "once" else [])
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    # Logs go to files: a runner logging every post would fill a pipe and stall.
    logs = [(folder / f"{name}-{n}.log").open("w+b") for n in range(runners)]
    processes = [
        subprocess.Popen(command, env=env, cwd=args.source, stdout=subprocess.DEVNULL, stderr=log)
        for log in logs
    ]
    if lead:
        started = due.timestamp()
    deadline = started + args.timeout
    rss: list[tuple[int, float]] = []  # (posts arrived, resident MB of the runners)
    exited = None
    if name == "once":
        for process in processes:
            process.wait(timeout=args.timeout)
        exited = time.time() - started  # cron waits for this, not for the last arrival
    else:
        while time.time() < deadline and (arrived := len(receiver.arrivals())) < args.posts:
            if args.rss:
                rss.append((arrived, sum(resident_mb(p.pid) for p in processes)))
            time.sleep(0.05 if args.posts <= 2000 else 0.5)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    errors = []
    for log in logs:
        log.seek(0)
        errors.append(log.read().decode())
        log.close()
    arrivals = receiver.arrivals()
    shares = runner_shares(url)
    if schema:
        drop_schema(schema)
    seen = Counter(post for _, post, _ in arrivals)
    first: dict[str, float] = {}
    for at, _, account in sorted(arrivals):
        first.setdefault(account, at - started)
    last = max((at for at, _, _ in arrivals), default=started) - started
    floor = -(-args.posts // args.accounts) * args.latency
    firsts = sorted(first.values()) or [float("nan")]
    return {
        "case": name,
        "wall_s": round(last, 2),
        "floor_s": round(floor, 2),
        "ratio": round(last / floor, 2),
        "first_min_s": round(firsts[0], 2),
        "first_median_s": round(statistics.median(firsts), 2),
        "first_max_s": round(firsts[-1], 2),
        **({"exit_s": round(exited, 2)} if exited is not None else {}),
        "runner_cpu_s": round(cpu, 2),
        "duplicates": sum(n - 1 for n in seen.values()),
        "missing": args.posts - len(seen),
        "posts_per_runner": shares,
        "exit": [p.returncode for p in processes],
        "stderr_tail": [e.strip().splitlines()[-1:] for e in errors if e.strip()],
        **({"rss_mb": rss_profile(rss, args.posts)} if rss else {}),
    }


def runner_shares(url: str) -> list[int]:
    """How many posts each runner published, most first."""
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = connection.execute(
            text(
                "SELECT count(*) FROM publish_attempts WHERE outcome = 'published' "
                "GROUP BY worker ORDER BY count(*) DESC"
            )
        ).scalars()
        shares = list(counts)
    engine.dispose()
    return shares


def resident_mb(pid: int) -> float:
    """The process's resident set size (VmRSS) in MB; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_profile(samples: list[tuple[int, float]], posts: int) -> dict[str, float]:
    """Resident MB of the runners once 10 %, 25 %, 50 %, 75 % and 90 % of the posts arrived."""
    profile = {}
    for fraction in (0.1, 0.25, 0.5, 0.75, 0.9):
        at = next((mb for arrived, mb in samples if arrived >= fraction * posts), None)
        if at is not None:
            profile[f"{fraction:.0%}"] = round(at, 1)
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--cases", default="once,run,pg1,pg2")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--lead", type=float, default=6.0, help="runners start this many seconds before the due"
    )
    parser.add_argument("--source", default=None, help="run the planner package found here")
    parser.add_argument(
        "--rss", action="store_true", help="sample the runners' resident memory as posts arrive"
    )
    args = parser.parse_args()
    # An installed planner starts from compiled bytecode (pip writes it when installing); a
    # checkout run with PYTHONDONTWRITEBYTECODE set (as on this machine) would compile every
    # module at each start instead, about 0.15 s of `run --once`. Compile it once, as pip does.
    source = Path(args.source or Path(__file__).resolve().parent.parent) / "planner"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True)
    receiver = Receiver(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.cases.split(","):
                result = run_case(name, receiver, args, Path(tmp))
                print(json.dumps(result), flush=True)  # noqa: T201
    finally:
        receiver.close()


if __name__ == "__main__":
    main()
