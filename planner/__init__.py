"""Planner: a scheduled content planner that enforces a give-to-pitch ratio.

The public API is small: load a configuration, open its database, read and sync the
content queue. The command line (``planner.cli``) is a thin layer over these.
"""

from __future__ import annotations

from planner.config.settings import Config, find_config, load_config
from planner.content.files import read_queue_files
from planner.content.store import SyncReport, list_items, sync_items
from planner.errors import (
    ConfigError,
    DomainError,
    ExitCode,
    InputError,
    PlannerError,
    QueueFileError,
)
from planner.store.database import Database, open_database, upgrade_database

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Database",
    "DomainError",
    "ExitCode",
    "InputError",
    "PlannerError",
    "QueueFileError",
    "SyncReport",
    "find_config",
    "list_items",
    "load_config",
    "open_database",
    "read_queue_files",
    "sync_items",
    "upgrade_database",
]
