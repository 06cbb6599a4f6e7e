"""The windows of the rule, defined once: which posts each window ending at an instant or at a
post holds, their names, the tie rule, and exact counts after compaction (against a recount)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.rule.balancer import BalanceSettings, max_window_share
from planner.rule.windows import Window, WindowCounts, fullest

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def counts_of(
    posts: int | None, days: float | None, history: Sequence[tuple[float, bool, bool]]
) -> WindowCounts:
    counts = WindowCounts(posts, days)
    for h, pitch, forced in history:
        counts.append(hours(h), pitch, forced)
    return counts


def test_count_window_first_and_named_like_the_reasons() -> None:
    counts = counts_of(3, 1, [(0, True, False), (2, False, False), (25, True, True)])
    assert counts.windows(hours(25)) == [
        Window(pitches=2, total=3, forced=1, name="3 posts"),
        Window(pitches=1, total=2, forced=1, name="1 day"),
    ]
    assert WindowCounts(1, 0.25).windows(T0) == [
        Window(0, 0, 0, "1 post"),
        Window(0, 0, 0, "0.25 days"),
    ]


def test_days_window_is_half_open() -> None:
    counts = counts_of(None, 1, [(0, True, False), (0.5, False, False)])
    assert counts.windows(hours(23.5)) == [Window(1, 2, 0, "1 day")]
    assert counts.windows(hours(24)) == [Window(0, 1, 0, "1 day")]  # exactly a day ago: out


def test_a_candidate_takes_a_place_in_every_window() -> None:
    counts = counts_of(2, 7, [(0, True, False), (1, False, False)])
    assert counts.windows(hours(2), candidate=True) == [
        Window(1, 2, 0, "2 posts"),  # the oldest post made room
        Window(2, 3, 0, "7 days"),
    ]
    assert [w.total for w in counts.windows(hours(2), candidate=False)] == [2, 3]
    assert len(counts) == 2  # not appended


def test_windows_through_a_post_leave_out_later_posts_at_the_same_instant() -> None:
    counts = counts_of(10, 1, [(0, False, False), (5, True, False), (5, True, True)])
    assert counts.windows_through(1) == [Window(1, 2, 0, "10 posts"), Window(1, 2, 0, "1 day")]
    assert counts.windows_through(2) == [Window(2, 3, 1, "10 posts"), Window(2, 3, 1, "1 day")]


def test_forced_counts_only_forced_pitches() -> None:
    counts = counts_of(5, None, [(0, False, True), (1, True, True), (2, True, False)])
    assert counts.windows(hours(2)) == [Window(2, 3, 1, "5 posts")]


def test_fullest_window_wins_and_the_first_on_a_tie() -> None:
    count, days = Window(1, 5, 0, "10 posts"), Window(2, 10, 0, "7 days")
    assert fullest([count, days]) is count
    assert fullest([count, Window(1, 4, 0, "7 days")]).name == "7 days"
    # An empty window's share is 0: any pitch beats it, nothing loses to it.
    assert fullest([Window(0, 0, 0, "10 posts"), Window(1, 3, 0, "7 days")]).name == "7 days"
    assert fullest([Window(0, 2, 0, "10 posts"), Window(0, 0, 0, "7 days")]).name == "10 posts"
    assert Window(0, 0, 0, "7 days").share == 0 and str(Window(2, 9, 1, "7 days")) == "2/9"


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="at least one window is needed"):
        WindowCounts(None, None)
    counts = counts_of(10, None, [(5, False, False)])
    with pytest.raises(ValueError, match="is before the last post"):
        counts.append(hours(4), True)


# --- properties: the same counts as a recount ------------------------------------------------

Post = tuple[datetime, bool, bool]  # time, pitch, forced


def recount(
    posts: Sequence[Post], at: datetime, size: int | None, days: float | None
) -> list[Window]:
    """Brute force: the windows ending at ``at`` over ``posts`` (all at or before ``at``)."""
    held: list[tuple[Sequence[Post], str]] = []
    if size is not None:
        held.append((posts[-size:], f"{size} post" if size == 1 else f"{size} posts"))
    if days is not None:
        inside = [post for post in posts if post[0] > at - timedelta(days=days)]
        held.append((inside, f"{days:g} day" if days == 1 else f"{days:g} days"))
    return [
        Window(sum(p for _, p, _ in w), len(w), sum(p and f for _, p, f in w), name)
        for w, name in held
    ]


@st.composite
def window_settings(draw: st.DrawFn) -> tuple[int | None, float | None]:
    size = draw(st.none() | st.integers(1, 12))
    days_choices = st.sampled_from([0.25, 1, 2, 3.5, 7])
    return size, draw(days_choices if size is None else st.none() | days_choices)


# Steps in minutes: many posts at the same instant or close together, some days apart.
steps = st.one_of(st.just(0), st.integers(1, 180), st.integers(0, 4 * 24 * 60))
moves = st.lists(st.tuples(steps, st.booleans(), st.booleans()), max_size=200)


def at_times(moves: Sequence[tuple[int, bool, bool]]) -> list[Post]:
    result: list[Post] = []
    now = T0
    for minutes, pitch, forced in moves:
        now += timedelta(minutes=minutes)
        result.append((now, pitch, forced))
    return result


@settings(max_examples=150, deadline=None)
@given(rule=window_settings(), moves=moves, probes=st.lists(steps, min_size=1))
def test_windows_ahead_match_a_recount_through_compaction(
    rule: tuple[int | None, float | None], moves: list[tuple[int, bool, bool]], probes: list[int]
) -> None:
    size, days = rule
    counts = WindowCounts(size, days)
    history: list[Post] = []
    for index, post in enumerate(at_times(moves)):
        at = post[0]
        ahead = at + timedelta(minutes=probes[index % len(probes)])
        for probe in (ahead, at):
            assert counts.windows(probe) == recount(history, probe, size, days)
            for candidate in (True, False):
                expected = recount([*history, (probe, candidate, False)], probe, size, days)
                assert counts.windows(probe, candidate=candidate) == expected
        counts.append(*post)
        counts.compact()  # as the tracker does: only later windows must stay exact
        history.append(post)
        twin = counts.copy()
        twin.append(ahead, True, True)
        assert counts.windows(ahead) == recount(history, ahead, size, days)


@settings(max_examples=150, deadline=None)
@given(rule=window_settings(), moves=moves)
def test_windows_through_each_post_match_the_reference(
    rule: tuple[int | None, float | None], moves: list[tuple[int, bool, bool]]
) -> None:
    size, days = rule
    posts = at_times(moves)
    counts = WindowCounts(size, days)
    for post in posts:
        counts.append(*post)
    highest = Fraction(0)
    for index, (at, pitch, _) in enumerate(posts):
        windows = counts.windows_through(index)
        assert windows == recount(posts[: index + 1], at, size, days)
        if pitch:
            highest = max(highest, fullest(windows).share)
    reference = BalanceSettings(Fraction(1, 5), size, days, None)
    assert highest == max_window_share([(at, pitch) for at, pitch, _ in posts], reference)[0]
