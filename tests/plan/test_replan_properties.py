"""Re-planning is idempotent for a brand: random queues over two or three accounts, each with
its own rule, planned twice into a real database, give the same posts, the same verdicts per
(item, account) and the same item statuses the second time."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from planner.config.settings import load_config
from planner.plan.store import plan_weeks
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemAccountState, Post

from support import pipeline

NOW = datetime(2026, 12, 1, tzinfo=UTC)
WEEKS = [(2026, 50), (2026, 51)]
PRESETS = ["", 'preset = "4-1-1"', 'give_to_pitch = "2:1"\nwindow_posts = 4']
SLOTS = ['"mon-fri 09:00"', '"mon-fri 15:00"', '"wed 12:00 promo"', '"daily 18:00"',
         '"sat 10:00 give"']  # fmt: skip


@st.composite
def brands(draw: st.DrawFn) -> tuple[str, str]:
    accounts = ["alpha", "beta", "gamma"][: draw(st.integers(2, 3))]
    config = [
        'timezone = "Europe/Berlin"',
        "[balance]",
        'give_to_pitch = "4:1"',
        "window_posts = 10",
        f"min_pitch_gap_hours = {draw(st.sampled_from([0, 24]))}",
    ]
    for name in accounts:
        slots = draw(st.lists(st.sampled_from(SLOTS), min_size=1, max_size=4, unique=True))
        zone = draw(st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]))
        config += [f"[accounts.{name}]", 'network = "outbox"', f'timezone = "{zone}"',
                   f"slots = [{', '.join(slots)}]"]  # fmt: skip
        preset = draw(st.sampled_from(PRESETS))
        if preset:
            config += [f"[accounts.{name}.balance]", preset]
    items = []
    for n in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["share", "help", "promo", "promo"]))
        lines = [f'[[item]]\nid = "i{n}"\nkind = "{kind}"\ntext = "Item {n}."']
        if kind == "share":
            lines.append(f'title = "Note {n}"\nurl = "https://ex{n % 4}.example/a"\ncredit = "C"')
        if draw(st.booleans()):
            lines.append(f"accounts = {draw(st.lists(st.sampled_from(accounts), min_size=1))!r}")
        day = draw(st.integers(7, 20))
        match draw(st.sampled_from(["", "after", "before"])):
            case "after":
                lines.append(f"not_after = 2026-12-{day:02d}")
            case "before":
                lines.append(f"not_before = 2026-12-{day:02d}")
        lines.append(f"priority = {draw(st.integers(0, 2))}")
        items.append("\n".join(lines).replace("'", '"'))
    return "\n".join(config) + "\n", "\n\n".join(items) + "\n"


def snapshot(db: Database) -> dict[str, Any]:
    with db.reading() as session:
        posts = session.execute(
            select(Post.account, Post.slot_at, Post.item_id, Post.is_pitch, Post.reason)
            .where(Post.status == "planned")
            .order_by(Post.account, Post.slot_at)
        ).all()
        verdicts = session.execute(
            select(
                ItemAccountState.item_id,
                ItemAccountState.account,
                ItemAccountState.state,
                ItemAccountState.reason,
            ).order_by(ItemAccountState.item_id, ItemAccountState.account)  # fmt: skip
        ).all()
        items = session.execute(select(Item.id, Item.status, Item.status_reason).order_by(Item.id))
        return {"posts": posts, "verdicts": verdicts, "items": items.all()}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(brands())
def test_planning_twice_gives_the_same_posts_verdicts_and_statuses(brand: tuple[str, str]) -> None:
    config_text, queue_text = brand
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "queue").mkdir()
        (root / "queue" / "items.toml").write_text(queue_text)
        (root / "planner.toml").write_text(config_text)
        config = load_config(root / "planner.toml")
        pipeline.sync_and_plan(config, NOW, WEEKS)
        db = open_database(config.database_url)
        try:
            first = snapshot(db)
            with db.transaction() as session:
                plan_weeks(session, config, WEEKS, NOW)
            assert snapshot(db) == first
        finally:
            db.dispose()
