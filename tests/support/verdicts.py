"""The planner keeps its verdicts per (item, account): these read them one account at a time."""

from __future__ import annotations

from collections.abc import Mapping


def on(verdicts: Mapping[tuple[str, str], str], account: str = "a") -> dict[str, str]:
    """Item id -> reason, for ``account``'s verdicts only."""
    return {item: reason for (item, name), reason in verdicts.items() if name == account}
