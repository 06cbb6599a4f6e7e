"""Output of ``planner history``: the JSON document, and the words the table shares
(the table for a terminal is :mod:`planner.reports.history.terminal`).

Pure: plain data from :mod:`planner.reports.history.read` in, text or JSON-ready dicts out.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from planner.reports.history.read import History, Period, PublishedPost
from planner.reports.preview.model import WEEKDAYS
from planner.text import iso_utc

TIME_WIDTH = len("Mon 2026-12-07 09:00")


def as_json(history: History) -> dict[str, Any]:
    """The history as JSON-ready data; keys in a fixed order (see the README)."""
    return {
        "since": history.since.isoformat(),
        "until": history.until.isoformat(),
        "by": history.by,
        "generated_at": iso_utc(history.generated_at),
        "posts": [
            {
                "post": post.id,
                "published_at": iso_utc(post.published_at),
                "local_time": post.local.isoformat(),
                "account": post.account,
                "kind": post.kind,
                "class": post.class_,
                "forced": post.forced,
                "item": post.item,
                "remote_id": post.remote_id,
                "remote_url": post.remote_url,
                "text": post.text,
            }
            for post in history.posts
        ],
        "accounts": [
            {
                "account": account.account,
                "network": account.network,
                "timezone": account.timezone,
                "target": {
                    "give": account.target[0],
                    "pitch": account.target[1],
                    "max_pitch_share": _fraction(account.settings.max_pitch_share),
                },
                "periods": [_period_json(period) for period in account.periods],
                "total": _period_json(account.total),
            }
            for account in history.accounts
        ],
        "ok": history.ok,
    }


def _period_json(period: Period) -> dict[str, Any]:
    return {
        "period": period.label,
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "give": period.give,
        "pitch": period.pitch,
        "forced": period.forced,
        "pitch_share": str(period.share),
        "max_window_share": str(period.max_window),
        "max_window_at": iso_utc(period.max_window_at),
        "within_rule": period.within_rule,
    }


def _fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def dates(period: Period) -> str:
    if period.first == period.last:
        return f"{WEEKDAYS[period.first.weekday()]} {period.first.day} {period.first:%b}"
    return (
        f"{WEEKDAYS[period.first.weekday()]} {period.first.day} {period.first:%b} – "
        f"{WEEKDAYS[period.last.weekday()]} {period.last.day} {period.last:%b}"
    )


def when(local: datetime) -> str:
    return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"


def class_cell(post: PublishedPost) -> str:
    return f"{post.class_} (forced)" if post.forced else post.class_


def plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"
