"""``planner simulate`` for a terminal: per account a line per post, as wide as the terminal.

Drawn with the helpers of :mod:`planner.reports.terminal`: display widths (no line wider than
``width``), post texts shortened to the rest of the line with an ellipsis, each reason or
substitute wrapped beneath its post. With ``color`` the class is coloured (give green, pitch
yellow, forced red), held posts magenta and failed ones red.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from planner.reports.preview.formats import rule_text
from planner.reports.preview.model import share_text
from planner.reports.simulate.formats import class_cell, note, when
from planner.reports.simulate.run import NOT_SENT, AccountSimulation, SimulatedPost, Simulation
from planner.reports.terminal import (
    STYLES,
    Text,
    cell,
    cell_len,
    class_style,
    fit,
    legend,
    render,
    shorten,
)
from planner.reports.terminal import wrap as wrap_text
from planner.store.models import PostStatus
from planner.text import one_line

ITEM_WIDTH = 28
MIN_TEXT = 8
TEXT_ROOM = 24  # columns the text keeps before the item column is narrowed


def render_table(simulation: Simulation, width: int, *, color: bool = False) -> str:
    """Per account: one line per post (a reason or substitute beneath), then the summary."""
    lines = wrap_text(
        f"simulated {simulation.label} on a throw-away copy of the database, through an outbox:",
        width,
    )
    lines += wrap_text(
        f"nothing was sent or changed (clock from {simulation.now:%Y-%m-%d %H:%M} UTC)", width
    )
    if simulation.step_limit_reached:
        lines += wrap_text(f"warning: stopped at the step limit ({simulation.steps} steps)", width)
    if color:
        lines.append(legend("give", "pitch", "forced", "held", "failed"))
    for account in simulation.accounts:
        lines += [Text(), *_account_lines(account, width)]
    return render(lines, width, color=color)


def _status_style(post: SimulatedPost) -> str:
    if post.status == PostStatus.HELD:
        return STYLES["held"]
    return STYLES["failed"] if post.status == PostStatus.FAILED else ""


def _account_lines(account: AccountSimulation, width: int) -> list[Text]:
    zone = ZoneInfo(account.timezone)
    monday = account.start.astimezone(zone).date()
    sunday = (account.end - timedelta(days=1)).astimezone(zone).date()
    lines = wrap_text(
        f"{account.account} · {account.network} · {account.timezone} · "
        f"Mon {monday:%Y-%m-%d} to Sun {sunday:%Y-%m-%d}",
        width,
    )
    lines += wrap_text(f"rule: {rule_text(account.settings)}", width, "", "      ")
    posts = account.posts
    if not posts:
        lines.append(Text("  nothing planned this week"))
    else:
        status_w = max(9, *(cell_len(one_line(post.status)) for post in posts))
        kind_w = max(4, *(cell_len(one_line(post.kind)) for post in posts))
        class_w = max(5, *(cell_len(class_cell(post)) for post in posts))
        fixed = 2 + 9 + 2 + 9 + 2 + status_w + 2 + kind_w + 2 + class_w + 2
        item_w = min(ITEM_WIDTH, max(4, *(cell_len(one_line(post.item)) for post in posts)))
        item_w = max(4, min(item_w, width - fixed - 2 - TEXT_ROOM))
        text_w = max(MIN_TEXT, width - fixed - item_w - 2)
        indent = " " * 13
        lines.append(
            fit(
                Text(
                    f"  {'slot':<9}  {'went out':<9}  {'status':<{status_w}}  "
                    f"{'kind':<{kind_w}}  {'class':<{class_w}}  {'item':<{item_w}}  text"
                ),
                width,
            )
        )
        for post in posts:
            sent = post.at if post.status == PostStatus.PUBLISHED else None
            went = when(sent.astimezone(zone)) if sent is not None else "-"
            style = class_style(post.class_, post.forced)
            line = Text("  ")
            for value, column_w, column_style in (
                (when(post.local), 9, ""),
                (went, 9, ""),
                (post.status, status_w, _status_style(post)),
                (post.kind, kind_w, style),
                (class_cell(post), class_w, style),
                (post.item, item_w, ""),
            ):
                line.append_text(cell(value, column_w, column_style))
                line.append("  ")
            line.append_text(shorten(post.text or "", text_w))
            lines.append(fit(line, width))
            reason = note(post, posts)
            if reason:
                lines += wrap_text(reason, width, indent, indent + "  ")
    give, pitch = account.target
    achieved = account.achieved
    lines += wrap_text(
        f"summary: {len(account.published)} published ({achieved.total - achieved.pitches} give, "
        f"{achieved.pitches} pitch: {share_text(achieved)}, target {give}:{pitch}), "
        f"{account.count(PostStatus.HELD)} held, {account.count(PostStatus.FAILED)} failed, "
        f"{account.count(PostStatus.MISSED)} missed, {account.count(*NOT_SENT)} not sent",
        width,
        "",
        "  ",
    )
    return lines
