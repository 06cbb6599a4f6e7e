"""Where the configuration is found: its file name and the environment variable naming it.

Kept apart from :mod:`~planner.config.settings` so that ``planner --help`` can name them
without loading the config machinery (pydantic, the adapters).
"""

from __future__ import annotations

CONFIG_FILENAME = "planner.toml"
CONFIG_ENV_VAR = "PLANNER_CONFIG"
