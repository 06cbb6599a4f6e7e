"""Output of ``planner history``: the table and the JSON document.

Pure: plain data from :mod:`planner.reports.history.read` in, text or JSON-ready dicts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from planner.reports.history.read import AccountHistory, History, Period, PublishedPost
from planner.reports.preview.formats import rule_text
from planner.reports.preview.model import WEEKDAYS, share_text
from planner.text import iso_utc, shorten, visible

TABLE_WIDTH = 100
TEXT_WIDTH = 60
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


def format_table(history: History, width: int = TABLE_WIDTH) -> str:
    """The listing (texts shortened, URLs in full beneath), then each account's periods."""
    days = (history.until - history.since).days + 1
    lines = [
        f"published {history.since} to {history.until} ({days} days): "
        f"{_plural(len(history.posts), 'post')}"
    ]
    if history.posts:
        lines += ["", *_post_lines(history.posts, width)]
    for account in history.accounts:
        lines += ["", *_account_lines(account)]
    return visible("\n".join(lines))  # queue texts and network answers, never live codes


def _post_lines(posts: Sequence[PublishedPost], width: int) -> list[str]:
    account_w = max(7, *(len(post.account) for post in posts))
    kind_w = max(4, *(len(post.kind) for post in posts))
    class_w = max(5, *(len(_class_cell(post)) for post in posts))
    item_w = min(28, max(4, *(len(post.item) for post in posts)))
    used = 2 + TIME_WIDTH + 2 + account_w + 2 + kind_w + 2 + class_w + 2 + item_w + 2
    text_w = max(20, min(TEXT_WIDTH, width - used))
    lines = [
        f"  {'time (local)':<{TIME_WIDTH}}  {'account':<{account_w}}  {'kind':<{kind_w}}  "
        f"{'class':<{class_w}}  {'item':<{item_w}}  text"
    ]
    indent = " " * (2 + TIME_WIDTH + 2)
    for post in posts:
        lines.append(
            f"  {_when(post.local):<{TIME_WIDTH}}  {post.account:<{account_w}}  "
            f"{post.kind:<{kind_w}}  {_class_cell(post):<{class_w}}  "
            f"{shorten(post.item, item_w):<{item_w}}  "
            f"{shorten(post.text or '', text_w)}".rstrip()
        )
        if post.remote_url:
            lines.append(f"{indent}{post.remote_url}")
    return lines


def _account_lines(account: AccountHistory) -> list[str]:
    header = ["period", "dates", "give", "pitch", "pitch share", "highest window", "rule"]
    rows = [
        [
            period.label,
            _dates(period),
            str(period.give),
            str(period.pitch),
            share_text(period.share) if period.share.total else "no posts",
            share_text(period.max_window) if period.max_window_at else "no pitch",
            _verdict(period, account),
        ]
        for period in [*account.periods, account.total]
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3}  # counts read best right-aligned

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return ("  " + "  ".join(parts)).rstrip()

    lines = [
        f"{account.account} · {account.network} · {account.timezone}",
        f"rule: {rule_text(account.settings)}",
        line(header),
    ]
    lines += [line(row) for row in rows]
    return lines


def _verdict(period: Period, account: AccountHistory) -> str:
    if period.max_window_at is None:
        text = "within"
    else:
        local = period.max_window_at.astimezone(ZoneInfo(account.timezone))
        text = "within" if period.within_rule else f"BROKEN at {_when(local)}"
    if period.forced:
        text += f" ({period.forced} forced)"
    return text


def _dates(period: Period) -> str:
    if period.first == period.last:
        return f"{WEEKDAYS[period.first.weekday()]} {period.first.day} {period.first:%b}"
    return (
        f"{WEEKDAYS[period.first.weekday()]} {period.first.day} {period.first:%b} – "
        f"{WEEKDAYS[period.last.weekday()]} {period.last.day} {period.last:%b}"
    )


def _when(local: datetime) -> str:
    return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"


def _class_cell(post: PublishedPost) -> str:
    return f"{post.class_} (forced)" if post.forced else post.class_


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"
