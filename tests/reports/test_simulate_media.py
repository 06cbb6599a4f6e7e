"""`planner simulate` copies the items' images with them, so a simulated post goes out with
its images as the real one will (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from planner.config.settings import load_config
from planner.plan.slots import iso_week_bounds
from planner.reports.simulate.run import copy_state
from planner.store.database import open_database
from planner.store.models import ItemMedia

from support.pipeline import sync_and_plan

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_copy_holds_the_images_of_the_items_it_copies(workspace: Path, tmp_path: Path) -> None:
    config = load_config(workspace / "planner.toml")
    sync_and_plan(config, NOW, [(2026, 50)])
    source = open_database(config.database_url)
    target = open_database(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        bounds = {"main": iso_week_bounds(2026, 50, config.account_timezone("main"))}
        copy_state(source, target, config, bounds)
        with source.reading() as session:
            real = [(m.item_id, m.sha256, m.alt) for m in session.scalars(select(ItemMedia))]
        with target.reading() as session:
            copied = [(m.item_id, m.sha256, m.alt) for m in session.scalars(select(ItemMedia))]
    finally:
        source.dispose()
        target.dispose()
    assert [item for item, _, _ in real] == ["tip-cache-keys"]  # the example queue's picture
    assert copied == real
