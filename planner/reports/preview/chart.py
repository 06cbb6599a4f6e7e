"""The rule over the weeks, as numbers for the HTML page's inline SVG chart and mix bars.

One account, one or more consecutive weeks: a point per post at the pitch share of the
fullest window ending at it (``SlotRow.pitch_share``, the same ``p/n`` as the JSON's
``pitch_share``; history before the first week counts, and so does the opening share the
line starts from), the limit as a horizontal line, forced posts and shares over the limit
marked. The template only draws: every coordinate is computed here, in the SVG's own units
(``viewBox="0 0 width height"``), so the page needs no script.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from planner.reports.preview.model import (
    EMPTY,
    AccountPreview,
    Share,
    SlotRow,
    share_text,
    when_text,
)
from planner.rule.balancer import percent
from planner.text import iso_utc

# The plot is as wide whatever the number of weeks: about one SVG unit a CSS pixel on a
# desktop, so the page's CSS can size text in the same units.
PLOT_WIDTH = 1260
LEFT, RIGHT, TOP, BOTTOM = 90, 12, 30, 34  # margins: share labels, -, -, day names
PLOT_HEIGHT = 170


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    at: str  # ISO-8601 UTC, as in the JSON
    when: str  # "Wed 9 Dec 09:00", local
    item: str
    class_: str  # "give" or "pitch"
    forced: bool
    over: bool  # the share after it is above the limit
    share: str  # "1/3", as the JSON's pitch_share
    label: str  # the point's text alternative


@dataclass(frozen=True)
class Tick:
    position: float  # x for a day (its midnight), y for a share
    label: str
    label_at: float  # where its label goes: a day's middle, a share's own height
    major: bool = False  # a week's first day; the 0 line


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    limit: str  # "1/5"
    top: str  # the share at the top of the plot, "1/2"
    limit_y: float
    limit_label: str  # "limit 20 %"
    opening: Point | None  # where the line starts: the windows as the first week begins
    points: list[Point]
    path: str  # the step line: the share holds from one post to the next
    days: list[Tick]
    shares: list[Tick]
    title: str
    description: str  # the chart in one paragraph, for screen readers


def chart(weeks: Sequence[AccountPreview]) -> Chart:
    """The chart of one account over ``weeks`` (consecutive, in order; at least one)."""
    first, last = weeks[0], weeks[-1]
    zone = ZoneInfo(first.timezone)
    limit = first.settings.max_pitch_share
    posts = [(week, row) for week in weeks for day in week.days for row in day.rows
             if row.status != EMPTY]  # fmt: skip
    shares = [row.pitch_share.value for _, row in posts] + [first.opening_share.value]
    top = _scale_top(max([limit, *shares]))
    width = LEFT + PLOT_WIDTH + RIGHT
    height = TOP + PLOT_HEIGHT + BOTTOM
    span = (last.end - first.start).total_seconds()

    def x_of(at: datetime) -> float:
        return round(LEFT + PLOT_WIDTH * (at - first.start).total_seconds() / span, 1)

    def y_of(value: Fraction) -> float:
        return round(TOP + PLOT_HEIGHT * (1 - float(value / top)), 1)

    points = [_point(row, limit, x_of(row.at), y_of(row.pitch_share.value)) for _, row in posts]
    opening = Point(
        float(LEFT),
        y_of(first.opening_share.value),
        "",
        "before the week",
        "",
        "history",
        False,
        first.opening_share.value > limit,
        str(first.opening_share),
        f"as the week begins: {_share(first.opening_share)} (posts before the week)",
    )
    path = f"M{opening.x},{opening.y}"
    for point in points:
        path += f" H{point.x} V{point.y}"
    path += f" H{LEFT + PLOT_WIDTH}"
    day_ticks = []
    for week in weeks:
        monday = week.start.astimezone(zone).date()
        for index in range(7):
            day = monday + timedelta(days=index)
            midnight = datetime.combine(day, time(), zone)
            # Past three weeks a day is too narrow for its name: Mondays are named alone.
            label = f"{midnight:%a} {day.day}"
            if len(weeks) > 3:
                label = f"{day.day} {midnight:%b}" if index == 0 else ""
            middle = x_of(midnight + timedelta(hours=12))
            day_ticks.append(Tick(x_of(midnight), label, middle, major=index == 0))
    share_ticks = [Tick(y_of(Fraction(0)), "0 %", y_of(Fraction(0)), major=True)]
    for value in (top / 2, top):
        shown = percent(value) if (100 * value).denominator == 1 else percent(value, 1)
        share_ticks.append(Tick(y_of(value), shown, y_of(value)))
    over = [point for point in points if point.over]
    pitches = sum(1 for point in points if point.class_ == "pitch")
    description = (
        f"{len(points)} posts, {pitches} of them pitches; the line starts at "
        f"{_share(first.opening_share)} from the posts before the week"
    )
    if posts:
        _, row = max(posts, key=lambda pair: pair[1].pitch_share.value)
        description += (
            f"; highest {_share(row.pitch_share)} after {row.item} on {when_text(row.local)}"
        )
    description += f"; limit {percent(limit)}; "
    description += (
        f"{len(over)} posts leave the share above the limit" if over else "never above the limit"
    )
    return Chart(
        width=width,
        height=height,
        plot_left=LEFT,
        plot_right=LEFT + PLOT_WIDTH,
        plot_top=TOP,
        plot_bottom=TOP + PLOT_HEIGHT,
        limit=f"{limit.numerator}/{limit.denominator}",
        top=f"{top.numerator}/{top.denominator}",
        limit_y=y_of(limit),
        limit_label=f"limit {percent(limit)}",
        opening=opening,
        points=points,
        path=path,
        days=day_ticks,
        shares=share_ticks,
        title=f"{first.account}: pitch share of the fullest window after each post",
        description=description + ".",
    )


def _point(row: SlotRow, limit: Fraction, x: float, y: float) -> Point:
    class_ = "pitch" if (row.class_ or "").startswith("pitch") else "give"
    over = row.pitch_share.value > limit
    when = when_text(row.local)
    forced = " (forced)" if row.forced else ""
    label = f"{when}: {row.item} ({row.class_}{forced}), share after it {_share(row.pitch_share)}"
    return Point(x, y, iso_utc(row.at) or "", when, row.item or "", class_, row.forced, over,
                 str(row.pitch_share), label)  # fmt: skip


def _share(share: Share) -> str:
    return share_text(share) if share.total else "0/0 (no posts)"


def _scale_top(highest: Fraction) -> Fraction:
    """The top of the share axis: a round step above the highest value (the limit included),
    so the line and the limit never touch the frame; 100 % at most."""
    for step in (Fraction(1, 10), Fraction(1, 4), Fraction(1, 2), Fraction(1)):
        if highest * Fraction(5, 4) <= step:
            return step
    return Fraction(math.ceil(highest * 10), 10) if highest < 1 else Fraction(1)


@dataclass(frozen=True)
class MixBar:
    """A week's give and pitch counts as one stacked bar, against the limit."""

    give: int
    pitch: int
    pitch_width: float  # percent of the bar
    limit_at: float  # percent of the bar where the limit is
    over: bool
    label: str  # "2 pitches, 8 gives: pitch 20 %, limit 20 % (target 4:1)"


def mix_bar(week: AccountPreview) -> MixBar:
    limit = week.settings.max_pitch_share
    total = week.give + week.pitch
    share = week.week_share.value
    give, pitch = week.target
    label = (
        f"{week.pitch} pitch{'es' if week.pitch != 1 else ''}, "
        f"{week.give} give{'s' if week.give != 1 else ''}: "
        f"pitch {percent(share) if total else '—'}, limit {percent(limit)} (target {give}:{pitch})"
    )
    return MixBar(
        give=week.give,
        pitch=week.pitch,
        pitch_width=round(100 * float(share), 1) if total else 0.0,
        limit_at=round(100 * float(limit), 1),
        over=week.week_over_target,
        label=label,
    )
