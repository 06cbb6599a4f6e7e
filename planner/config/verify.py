"""``planner config check --online``: ask each account's network who its credentials are.

Nothing here runs unless asked: without ``--online`` no command touches a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from planner.adapters.registry import make_adapter
from planner.config.settings import Config
from planner.errors import PlannerError


@dataclass(frozen=True)
class AccountCheck:
    account: str
    network: str
    ok: bool
    detail: str  # who the credentials belong to, or what went wrong


def verify_accounts(config: Config, environ: Mapping[str, str]) -> list[AccountCheck]:
    """One check per account, in config order; errors are reported, never raised."""
    checks = []
    for name, account in config.settings.accounts.items():
        try:
            adapter = make_adapter(config.account_settings(name), environ)
            verify = getattr(adapter, "verify", None)
            if verify is None:
                note = "this network's adapter cannot check credentials"
                checks.append(AccountCheck(name, account.network, True, note))
                continue
            who = verify()
        except PlannerError as error:
            checks.append(AccountCheck(name, account.network, False, str(error)))
            continue
        except Exception as error:  # an adapter bug: say which, never a traceback
            checks.append(AccountCheck(name, account.network, False, type(error).__name__))
            continue
        checks.append(AccountCheck(name, account.network, True, f"publishes as {who}"))
    return checks
