"""Planner: a scheduled content planner that enforces a give-to-pitch ratio.

The public API is small: load a configuration, open its database, read and sync the
content queue. The command line (``planner.cli``) is a thin layer over these.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name of the public API lives. They are imported on first use (PEP 562), so that
# `import planner` -- which every command, `planner --help` included, does -- costs nothing.
_LOCATIONS = {
    "Config": "planner.config.settings",
    "find_config": "planner.config.settings",
    "load_config": "planner.config.settings",
    "read_queue_files": "planner.content.files",
    "SyncReport": "planner.content.store",
    "list_items": "planner.content.store",
    "sync_items": "planner.content.store",
    "ConfigError": "planner.errors",
    "DomainError": "planner.errors",
    "ExitCode": "planner.errors",
    "InputError": "planner.errors",
    "PlannerError": "planner.errors",
    "QueueFileError": "planner.errors",
    "Database": "planner.store.database",
    "open_database": "planner.store.database",
    "upgrade_database": "planner.store.database",
}


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        value = getattr(import_module(_LOCATIONS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
