"""A database holding a workspace's queue files, synced as `planner queue sync` would."""

from __future__ import annotations

from datetime import datetime

from planner.config.settings import Config
from planner.content.files import queue_file_paths, read_queue_files, source_name
from planner.content.store import sync_items
from planner.store.database import Database, open_database


def synced_database(config: Config, now: datetime, url: str | None = None) -> Database:
    """The config's database (or the one at ``url``) with the config's queue files synced at
    ``now`` (dispose it after)."""
    database = open_database(url or config.database_url)
    files = queue_file_paths([config.queue_path])
    with database.transaction() as session:
        items = read_queue_files(files, config)
        sync_items(session, items, [source_name(f, config) for f in files], now)
    return database
