"""Output of ``planner simulate``: the JSON document, and the words the table shares (the
table for a terminal is :mod:`planner.reports.simulate.terminal`).

Pure: plain data from :mod:`planner.reports.simulate.run` in, text or JSON-ready dicts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from planner.reports.preview.model import WEEKDAYS
from planner.reports.simulate.run import NOT_SENT, AccountSimulation, SimulatedPost, Simulation
from planner.store.models import PostStatus
from planner.text import iso_utc


def as_json(simulation: Simulation) -> dict[str, Any]:
    """The simulation as JSON-ready data; keys in a fixed order (see the README)."""
    return {
        "week": simulation.label,
        "now": iso_utc(simulation.now),
        "steps": simulation.steps,
        "step_limit_reached": simulation.step_limit_reached,
        "accounts": [_account_json(account) for account in simulation.accounts],
    }


def _account_json(account: AccountSimulation) -> dict[str, Any]:
    give, pitch = account.target
    share = account.settings.max_pitch_share
    achieved = account.achieved
    return {
        "account": account.account,
        "network": account.network,
        "timezone": account.timezone,
        "start": iso_utc(account.start),
        "end": iso_utc(account.end),
        "target": {
            "give": give,
            "pitch": pitch,
            "max_pitch_share": f"{share.numerator}/{share.denominator}",
        },
        "posts": [
            {
                "post": post.id,
                "slot_at": iso_utc(post.slot_at),
                "local_time": post.local.isoformat(),
                "at": iso_utc(post.at),
                "status": post.status,
                "before": post.before,
                "item": post.item,
                "kind": post.kind,
                "class": post.class_,
                "forced": post.forced,
                "text": post.text,
                "reason": post.reason,
                "substitute_for": post.substitute_for,
                "substitute": post.substitute,
            }
            for post in account.posts
        ],
        "summary": {
            "published": len(account.published),
            "held": account.count(PostStatus.HELD),
            "failed": account.count(PostStatus.FAILED),
            "missed": account.count(PostStatus.MISSED),
            "not_sent": account.count(*NOT_SENT),
            "give": achieved.total - achieved.pitches,
            "pitch": achieved.pitches,
            "pitch_share": str(achieved),
        },
    }


def note(post: SimulatedPost, posts: Sequence[SimulatedPost]) -> str:
    if post.substitute_for is not None:
        return f"substitute for post {post.substitute_for}, held at publish time"
    if post.status == PostStatus.PUBLISHED:
        return ""
    note = post.reason or post.status
    if post.status == PostStatus.HELD and post.before != PostStatus.HELD:
        taken = next((other for other in posts if other.id == post.substitute), None)
        if taken is None:
            note += " → no give item was left to take the slot"
        else:
            note += f" → the slot went to post {taken.id} ({taken.kind} {taken.item})"
    return note


def when(local: datetime) -> str:
    return f"{WEEKDAYS[local.weekday()]} {local:%H:%M}"


def class_cell(post: SimulatedPost) -> str:
    return f"{post.class_} (forced)" if post.forced else post.class_
