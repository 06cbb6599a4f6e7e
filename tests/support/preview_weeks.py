"""A small preview week pinned exactly (one account, five slots), shared by the preview tests.

``solo`` writes its config and queue; ``sync_and_plan`` plans it with the clock at ``NOW``;
``run`` invokes ``planner preview`` at the same instant; ``preview_of`` builds the preview.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from click.testing import Result

from planner.cli.preview_cmd import preview_command
from planner.config.settings import Config, load_config
from planner.reports.preview.model import Preview
from planner.reports.preview.read import build_preview
from planner.store.database import open_database

from support import pipeline

NOW = datetime(2026, 12, 1, tzinfo=UTC)  # a Tuesday; 2026-W50 is Mon 7 - Sun 13 December
W50 = (2026, 50)


def run(*args: str, config: Config | None = None) -> Result:
    """``planner [--config FILE] preview ARGS`` with the clock at ``NOW``."""
    return pipeline.invoke(preview_command, args, config=config, at=NOW)


def sync_and_plan(config: Config, weeks: Sequence[tuple[int, int]] = (W50,)) -> None:
    pipeline.sync_and_plan(config, NOW, weeks)


def with_texts(preview: Preview, texts: list[str]) -> Preview:
    """The preview with each post's text replaced, in order (empty slots stay empty): hostile
    texts for the formats, without writing them through a queue file."""
    supply = iter(texts)
    accounts = []
    for account in preview.accounts:
        days = [
            dataclasses.replace(
                day,
                rows=[
                    row if row.text is None else dataclasses.replace(row, text=next(supply))
                    for row in day.rows
                ],
            )
            for day in account.days
        ]
        accounts.append(dataclasses.replace(account, days=days))
    return dataclasses.replace(preview, accounts=accounts)


def preview_of(config: Config, week: tuple[int, int] = W50) -> Preview:
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            return build_preview(session, config, *week, NOW)
    finally:
        db.dispose()


# --- a small week, pinned exactly -----------------------------------------------------------

SOLO_CONFIG = """\
timezone = "Europe/Berlin"

[database]
url = "{db_url}"

[balance]
give_to_pitch = "2:1"
window_posts = 6
window_days = 7
min_pitch_gap_hours = 0

[accounts.solo]
network = "outbox"
slots = {slots}
"""

SOLO_QUEUE = """\
[[item]]
id = "tip-a"
kind = "help"
text = "Tip A: key the cache on the lock file."

[[item]]
id = "tip-b"
kind = "help"
text = "Tip B: fail fast."

[[item]]
id = "tip-c"
kind = "help"
text = "Tip C: give every job a timeout."

[[item]]
id = "promo-a"
kind = "promo"
text = "Solo Pro makes builds faster."
priority = 1

[[item]]
id = "promo-b"
kind = "promo"
text = "Solo Pro is 20 % off this month."
"""


def solo(
    tmp_path: Path,
    db_url: str,
    *,
    slots: str = '["mon-fri 09:00"]',
    queue: str = SOLO_QUEUE,
    extra: str = "",
) -> Config:
    """One account, 2:1 over 6 posts and 7 days, no gap rule, and by default 3 help tips and
    2 promos for 5 slots, so one promo is held."""
    (tmp_path / "queue").mkdir()
    (tmp_path / "queue" / "items.toml").write_text(queue)
    path = tmp_path / "planner.toml"
    path.write_text(SOLO_CONFIG.format(db_url=db_url, slots=slots) + extra)
    return load_config(path)


HELD_B = "pitch share would be 2/5 = 40 % > 33 % over the last 6 posts"
PROMO_A = "pitch share 1/3 = 33 % <= 33 % over the last 6 posts"
