"""Output of ``planner simulate``: the table and the JSON document.

Pure: plain data from :mod:`planner.reports.simulate.run` in, text or JSON-ready dicts out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from planner.reports.preview.formats import rule_text
from planner.reports.preview.model import WEEKDAYS, share_text
from planner.reports.simulate.run import NOT_SENT, AccountSimulation, SimulatedPost, Simulation
from planner.store.models import PostStatus
from planner.text import iso_utc, one_line, shorten, visible

TABLE_WIDTH = 100
TEXT_WIDTH = 60


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


def format_table(simulation: Simulation, width: int = TABLE_WIDTH) -> str:
    """Per account: one line per post (a reason or substitute beneath), then the summary."""
    lines = [
        f"simulated {simulation.label} on a throw-away copy of the database, through an outbox: "
        f"nothing was sent or changed (clock from {simulation.now:%Y-%m-%d %H:%M} UTC)"
    ]
    if simulation.step_limit_reached:
        lines.append(f"warning: stopped at the step limit ({simulation.steps} steps)")
    for account in simulation.accounts:
        lines += ["", *_account_lines(account, width)]
    return visible("\n".join(lines))  # queue texts and network answers, never live codes


def _account_lines(account: AccountSimulation, width: int) -> list[str]:
    zone = ZoneInfo(account.timezone)
    monday = account.start.astimezone(zone).date()
    sunday = (account.end - timedelta(days=1)).astimezone(zone).date()
    lines = [
        f"{account.account} · {account.network} · {account.timezone} · "
        f"Mon {monday:%Y-%m-%d} to Sun {sunday:%Y-%m-%d}",
        f"rule: {rule_text(account.settings)}",
    ]
    posts = account.posts
    if not posts:
        lines.append("  nothing planned this week")
    else:
        status_w = max(9, *(len(post.status) for post in posts))
        kind_w = max(4, *(len(post.kind) for post in posts))
        class_w = max(5, *(len(_class_cell(post)) for post in posts))
        item_w = min(28, max(4, *(len(post.item) for post in posts)))
        used = 2 + 9 + 2 + 9 + 2 + status_w + 2 + kind_w + 2 + class_w + 2 + item_w + 2
        text_w = max(20, min(TEXT_WIDTH, width - used))
        indent = " " * 13
        lines.append(
            f"  {'slot':<9}  {'went out':<9}  {'status':<{status_w}}  {'kind':<{kind_w}}  "
            f"{'class':<{class_w}}  {'item':<{item_w}}  text"
        )
        for post in posts:
            sent = post.at if post.status == PostStatus.PUBLISHED else None
            went = _when(sent.astimezone(zone)) if sent is not None else "-"
            line = (
                f"  {_when(post.local):<9}  {went:<9}  {post.status:<{status_w}}  "
                f"{post.kind:<{kind_w}}  {_class_cell(post):<{class_w}}  "
                f"{shorten(post.item, item_w):<{item_w}}  {shorten(post.text or '', text_w)}"
            )
            lines.append(line.rstrip())
            note = _note(post, posts)
            if note:
                lines.append(_wrap(note, width, indent))
    give, pitch = account.target
    achieved = account.achieved
    lines.append(
        f"summary: {len(account.published)} published ({achieved.total - achieved.pitches} give, "
        f"{achieved.pitches} pitch: {share_text(achieved)}, target {give}:{pitch}), "
        f"{account.count(PostStatus.HELD)} held, {account.count(PostStatus.FAILED)} failed, "
        f"{account.count(PostStatus.MISSED)} missed, {account.count(*NOT_SENT)} not sent"
    )
    return lines


def _note(post: SimulatedPost, posts: Sequence[SimulatedPost]) -> str:
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


def _wrap(text: str, width: int, indent: str) -> str:
    return textwrap.fill(
        one_line(text),
        width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    )


def _when(local: datetime) -> str:
    return f"{WEEKDAYS[local.weekday()]} {local:%H:%M}"


def _class_cell(post: SimulatedPost) -> str:
    return f"{post.class_} (forced)" if post.forced else post.class_
