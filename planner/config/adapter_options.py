"""Each account's adapter options, checked when the config is loaded.

Every network adapter knows its own options (:mod:`planner.adapters.base`,
``check_options``); this module asks it about every account of a config that is otherwise
valid and turns its answers into config problems naming the file, the line and the key
(``accounts.main.options.timeout``), so that ``planner config check`` refuses what
``planner run`` would refuse. Nothing here reads a secret or touches the network: adapters
check option values and credential *keys*, not the environment variables' values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from planner.adapters.base import AccountSettings
from planner.adapters.registry import available_networks, check_account
from planner.config.problems import format_loc
from planner.config.toml_locate import find_line
from planner.errors import InputError, Problem

if TYPE_CHECKING:  # settings imports this module: only its types are needed here
    from planner.config.schema import AccountConfig


def adapter_problems(accounts: Mapping[str, AccountConfig], text: str, path: Path) -> list[Problem]:
    """What each account's network adapter refuses in its options and credential keys.

    An account whose network is not installed is skipped: that is reported already.
    """
    problems: list[Problem] = []
    networks = available_networks()
    for name, account in accounts.items():
        if account.network not in networks:
            continue
        settings = AccountSettings(
            name=name,
            network=account.network,
            base_dir=path.resolve().parent,
            options=account.options,
            credentials=account.credentials,
        )
        loc: tuple[str | int, ...]
        try:
            found = check_account(settings)
        except InputError as exc:  # the adapter package is installed but cannot be loaded
            loc = ("accounts", name, "network")
            problems.append(_problem(path, text, loc, str(exc)))
            continue
        for problem in found:
            loc = ("accounts", name, problem.table, *([problem.key] if problem.key else []))
            problems.append(_problem(path, text, loc, problem.message))
    return problems


def _problem(path: Path, text: str, loc: tuple[str | int, ...], message: str) -> Problem:
    return Problem(path, message, line=find_line(text, loc), where=format_loc(loc))
