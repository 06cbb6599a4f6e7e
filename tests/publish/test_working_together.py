"""A `planner run` process publishing while a person plans, syncs, adds, holds and releases.

The runner is a real subprocess posting to a loopback webhook that answers each post after a
short delay; the other commands run meanwhile against the same database, on SQLite and on
PostgreSQL. Some posts are due now and some fall due during the run, inside the week that
`planner plan --week this` replaces, so plans and claims meet on the same rows.

These tests watch a real subprocess, so they wait on the wall clock (bounded, well under a
minute each).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import load_config
from planner.plan.store import idempotency_key
from planner.store.database import open_database
from planner.store.models import Item, ItemStatus, Post, PostStatus

from fakes.fake_http import Received as WebhookRequest
from fakes.fake_webhook import FakeWebhook

ACCOUNTS = [f"acct{n}" for n in range(8)]
DUE_NOW = 20  # per account, due before the runner starts
DUE_SOON = 10  # per account, falling due during the run (inside this week's replanned range)


class SlowHook(FakeWebhook):
    """A catch hook that takes a moment to answer, like a real one."""

    def answer(self, received: WebhookRequest):  # type: ignore[no-untyped-def]
        self.hold(0.03)
        return super().answer(received)


def workspace(folder: Path, db_url: str, hook: FakeWebhook) -> Path:
    (folder / "queue").mkdir()
    tips = "".join(
        f'[[item]]\nid = "tip-{n:03d}"\nkind = "help"\ntext = "Tip number {n}."\n\n'
        for n in range(len(ACCOUNTS) * (DUE_NOW + DUE_SOON) + 120)
    )
    (folder / "queue" / "tips.toml").write_text(tips)
    promos = "".join(
        f'[[item]]\nid = "promo-{n}"\nkind = "promo"\ntext = "Acme CI, offer {n}."\n\n'
        for n in range(10)
    )
    (folder / "queue" / "promos.toml").write_text(promos)
    accounts = "".join(
        f'[accounts.{name}]\nnetwork = "webhook"\nslots = ["daily 06:00", "daily 12:00", '
        f'"daily 18:00", "daily 23:30"]\n[accounts.{name}.options]\nurl = "{hook.url}"\n'
        for name in ACCOUNTS
    )
    config = folder / "planner.toml"
    config.write_text(
        f'timezone = "UTC"\n[database]\nurl = "{db_url}"\nbusy_timeout_seconds = 20\n'
        "[run]\nsweep_seconds = 1\nmin_spacing_seconds = 0\ngrace_minutes = 600\n" + accounts
    )
    return config


def seed(config_path: Path, now: datetime) -> None:
    """Each account's posts: some due now, some falling due in the next seconds."""
    config = load_config(config_path)
    db = open_database(config.database_url)
    times = [now - timedelta(seconds=DUE_NOW - n) for n in range(DUE_NOW)]
    times += [now + timedelta(seconds=2 + n) for n in range(DUE_SOON)]
    n = 0
    try:
        with db.transaction() as session:
            for account in ACCOUNTS:
                for at in times:
                    item_id = f"tip-{n:03d}"
                    n += 1
                    session.add(
                        Post(
                            item_id=item_id,
                            account=account,
                            slot_at=at,
                            kind="help",
                            is_pitch=False,
                            text=f"Tip number {item_id}.",
                            status=PostStatus.PLANNED,
                            idempotency_key=idempotency_key(account, at, item_id),
                            created_at=now,
                            updated_at=now,
                        )  # fmt: skip
                    )
                    item = session.get(Item, item_id)
                    assert item is not None
                    item.status = ItemStatus.PLANNED
    finally:
        db.dispose()


def command(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def start_runner(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PLANNER_CONFIG": str(config)}
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "run"],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outstanding(config_path: Path) -> int:
    """Posts due by now that have not been settled yet."""
    config = load_config(config_path)
    db = open_database(config.database_url)
    try:
        with db.reading() as session:
            due = session.scalars(
                select(Post.id).where(
                    Post.status.in_([PostStatus.PLANNED, PostStatus.CLAIMED, PostStatus.RETRY]),
                    Post.slot_at <= datetime.now(UTC),
                )
            )
            return len(list(due))
    finally:
        db.dispose()


def test_commands_run_while_planner_run_publishes(tmp_path: Path, db_url: str) -> None:
    with SlowHook() as hook:
        config = workspace(tmp_path, db_url, hook)
        assert command(config, "queue", "sync").exit_code == 0
        seed(config, datetime.now(UTC))
        runner = start_runner(config)
        results: list[tuple[tuple[str, ...], Result]] = []
        scripts = [
            ("plan", "--week", "this"),
            ("queue", "add", "--kind", "help", "--text", "Added while publishing {n}."),
            ("hold", "tip-{n:03d}"),
            ("plan", "--week", "next"),
            ("release", "tip-{n:03d}"),
            ("queue", "sync"),
            ("preview", "--week", "this"),
            ("status",),
        ]
        deadline = time.monotonic() + 40
        try:
            n = 0
            # At least two rounds of every command, and on until the due posts are settled.
            while time.monotonic() < deadline and (n < 2 * len(scripts) or outstanding(config) > 0):
                args = tuple(a.format(n=n) for a in scripts[n % len(scripts)])
                results.append((args, command(config, *args)))
                n += 1
        finally:
            runner.send_signal(signal.SIGTERM)
            _, stderr = runner.communicate(timeout=60)

    assert runner.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Running job" not in stderr and "maximum number of running instances" not in stderr
    for args, result in results:
        name = " ".join(args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{name}: {result.exception!r}\n{result.output}"
        )
        assert "Traceback" not in result.output, name
        assert result.exit_code in (0, 1), f"{name}: {result.output}"
        if result.exit_code == 1:
            last = result.output.strip().splitlines()[-1]
            assert last.startswith("Error: ") and len(result.output.strip().splitlines()) == 1

    keys = Counter(r.header("Idempotency-Key") for r in hook.requests)
    assert keys and max(keys.values()) == 1, [k for k, c in keys.items() if c > 1]

    loaded = load_config(config)
    db = open_database(loaded.database_url)
    try:
        with db.reading() as session:
            rows = session.execute(select(Post.id, Post.status, Post.idempotency_key)).all()
    finally:
        db.dispose()
    published = {key for _, status, key in rows if status == PostStatus.PUBLISHED}
    assert published == set(keys)  # every send recorded, every recorded send made
    assert not [row for row in rows if row.status == PostStatus.CLAIMED]
    assert len(published) >= len(ACCOUNTS) * DUE_NOW
    body = json.loads(hook.requests[0].body)
    assert body["account"] in ACCOUNTS
