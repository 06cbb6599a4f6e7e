"""The resolved configuration as plain data, with every secret redacted.

Used by ``planner config check``: what the planner will actually do with the file
(defaults filled in, relative paths resolved, presets compiled), safe to paste anywhere.
"""

from __future__ import annotations

import os
from typing import Any

from planner.adapters.registry import plain_options, public_url_options
from planner.config.schema import RULE_KEYS
from planner.config.settings import Config
from planner.redact import redact_database_url, redact_feed_url, redact_option
from planner.rule.balancer import BalanceSettings


def describe_balance(
    settings: BalanceSettings, scope: str, inherited: list[str] | None = None
) -> dict[str, Any]:
    """A resolved rule in full; ``inherited`` lists the keys an account takes from [balance].

    A window or gap that is off is ``None`` (no days window, no minimum gap).
    """
    share = settings.max_pitch_share
    described: dict[str, Any] = {
        "preset": settings.preset,
        "max_pitch_share": f"{share.numerator}/{share.denominator}",
        "max_pitch_percent": round(float(share) * 100, 1),
        "window_posts": settings.window_posts,
        "window_days": settings.window_days,
        "min_pitch_gap_hours": settings.min_pitch_gap_hours or None,
        "scope": scope,
    }
    if inherited is not None:
        described["from_balance"] = inherited
    return described


def _account_balance(config: Config, name: str) -> dict[str, Any]:
    scope = config.settings.balance.scope
    if scope == "brand":  # one rule, one window for every account together
        return describe_balance(config.balance_for_brand(), scope, list(RULE_KEYS))
    own = config.settings.accounts[name].balance
    inherited = own.inherited() if own is not None else list(RULE_KEYS)
    return describe_balance(config.balance_for(name), scope, inherited)


def describe_config(config: Config, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The configuration as the planner resolved it; credentials show only whether they are set."""
    env = os.environ if environ is None else environ
    settings = config.settings
    accounts: dict[str, Any] = {}
    for name, account in settings.accounts.items():
        public = public_url_options(account.network)
        plain = plain_options(account.network)
        accounts[name] = {
            "network": account.network,
            "timezone": str(config.account_timezone(name)),
            "slots": list(account.slots),
            "slots_per_week": len(config.account_slots(name)),
            "credentials": {
                key: {"env": env_name, "set": bool(env.get(env_name))}
                for key, env_name in account.credentials.items()
            },
            "options": {
                key: redact_option(key, value, public_url=key in public, plain=key in plain)
                for key, value in account.options.items()
            },
            "balance": _account_balance(config, name),
        }
    return {
        "config": str(config.path),
        "timezone": settings.timezone,
        "database": redact_database_url(config.database_url),
        "queue_dir": str(config.queue_path),
        "templates_dir": str(config.templates_path),
        "own_domains": list(settings.own_domains),
        "balance": describe_balance(config.balance_for_brand(), settings.balance.scope),
        "kinds": {
            name: {
                "class": kind.class_,
                "weight": kind.weight,
                "template": kind.template,
                "requires": list(kind.requires),
            }
            for name, kind in config.kinds.items()
        },
        "feeds": {
            name: {
                **feed.model_dump(exclude={"url"}),
                "url": redact_feed_url(feed.url),
            }
            for name, feed in settings.feeds.sources.items()
        },
        "feeds_fetch": settings.feeds.model_dump(exclude={"sources"}),
        "lint": settings.lint.model_dump(),
        "accounts": accounts,
    }
