"""The give-to-pitch rule: ratios and presets compile right, own-domain links count as pitches,
and the window tracker never lets the rule break while agreeing with a plain recount."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.rule.balancer import (
    PRESETS,
    BalanceSettings,
    Decision,
    WindowTracker,
    max_window_share,
    parse_ratio,
    preset_settings,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def rule(
    share: Fraction = Fraction(1, 5),
    posts: int | None = 10,
    days: float | None = None,
    gap: float | None = None,
) -> BalanceSettings:
    return BalanceSettings(share, posts, days, gap)


def tracker_with(settings: BalanceSettings, history: Sequence[tuple[float, bool]]) -> WindowTracker:
    return WindowTracker(settings, [(hours(h), pitch) for h, pitch in history])


# --- ratios and presets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("4:1", Fraction(1, 5)),
        ("80/20", Fraction(1, 5)),
        (" 4 : 1 ", Fraction(1, 5)),
        ("3:1", Fraction(1, 4)),
        ("1:1", Fraction(1, 2)),
        ("2.5:1", Fraction(2, 7)),
        ("90/10", Fraction(1, 10)),
        ("1:0", Fraction(0)),  # never pitch
        ("100/0", Fraction(0)),
    ],
)
def test_parse_ratio_returns_the_largest_pitch_share(text: str, share: Fraction) -> None:
    assert parse_ratio(text) == share


FORM = 'expected GIVE:PITCH like "4:1" (4 gives per pitch) or percentages like "80/20"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0:1", f'ratio "0:1" has no give side: every post could be a pitch ({FORM})'),
        ("0/100", f'ratio "0/100" has no give side: every post could be a pitch ({FORM})'),
        ("junk", f'ratio "junk" is not understood ({FORM})'),
        ("", f'ratio "" is not understood ({FORM})'),
        ("4:1:1", f'ratio "4:1:1" is not understood ({FORM})'),
        ("-4:1", f'ratio "-4:1" is not understood ({FORM})'),
        (
            "1/5",
            'ratio "1/5": the "/" form takes percentages that add up to 100, like "80/20" '
            '(for counts use GIVE:PITCH, e.g. "4:1")',
        ),
    ],
)
def test_bad_ratio_names_the_value_and_the_expected_form(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_ratio(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "share", "posts"),
    [
        ("80/20", Fraction(1, 5), 10),
        ("rule-of-thirds", Fraction(1, 3), 9),
        ("4-1-1", Fraction(1, 6), 6),
        ("5-3-2", Fraction(1, 10), 10),
        ("70/20/10", Fraction(1, 10), 10),
    ],
)
def test_each_preset_compiles_to_its_settings(name: str, share: Fraction, posts: int) -> None:
    assert preset_settings(name) == BalanceSettings(share, posts, None, None, preset=name)
    info = PRESETS[name]
    # The description states the limit the preset really enforces.
    assert f"pitch <= {share} over the last {posts} posts" in info.description
    assert info.origin


def test_preset_settings_take_a_gap_and_a_days_window() -> None:
    compiled = preset_settings("4-1-1", min_pitch_gap_hours=24, window_days=7)
    assert compiled == BalanceSettings(Fraction(1, 6), 6, 7, 24, preset="4-1-1")


def test_unknown_preset_lists_the_valid_names() -> None:
    with pytest.raises(ValueError) as caught:
        preset_settings("6-1")
    assert str(caught.value) == (
        'unknown preset "6-1" (expected one of: 4-1-1, 5-3-2, 70/20/10, 80/20, rule-of-thirds)'
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((Fraction(3, 2), 10, None, None), "max_pitch_share must be between 0 and 1, got 3/2"),
        ((Fraction(-1, 5), 10, None, None), "max_pitch_share must be between 0 and 1, got -1/5"),
        ((0.2, 10, None, None), "max_pitch_share must be a Fraction like 1/5, got 0.2"),
        (
            (Fraction(1, 5), None, None, 24),
            "at least one window is needed: set window_posts, window_days or both",
        ),
        ((Fraction(1, 5), 0, None, None), "window_posts must be at least 1, got 0"),
        (
            (Fraction(1, 5), 2.5, None, None),
            "window_posts must be a whole number of posts, got 2.5",
        ),
        (
            (Fraction(1, 5), None, 0, None),
            "window_days must be a finite number of days, more than 0, got 0",
        ),
        (
            (Fraction(1, 5), None, float("nan"), None),
            "window_days must be a finite number of days, more than 0, got nan",
        ),
        (
            (Fraction(1, 5), 10, None, -1),
            "min_pitch_gap_hours must be a finite number of hours, 0 or more, got -1",
        ),
    ],
)
def test_invalid_settings_say_which_field_is_wrong(
    fields: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        BalanceSettings(*fields)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_settings_accept_a_whole_number_share_and_a_zero_gap() -> None:
    settings = BalanceSettings(0, 10, None, 0)  # type: ignore[arg-type]
    assert settings.max_pitch_share == Fraction(0)
    assert isinstance(settings.max_pitch_share, Fraction)


# --- pinned decisions ---------------------------------------------------------------------


def test_give_first_on_a_fresh_account() -> None:
    decision = WindowTracker(rule()).decide(T0, True)
    assert decision == Decision(
        False, "pitch share would be 1/1 = 100 % > 20 % over the last 10 posts", Fraction(1)
    )


def test_a_give_is_always_allowed() -> None:
    tracker = tracker_with(rule(gap=24), [(0, True)])
    assert tracker.decide(hours(1), False) == Decision(True, "give post", None)


def test_a_pitch_fits_after_enough_gives() -> None:
    tracker = tracker_with(rule(), [(h, False) for h in range(4)])
    assert tracker.decide(hours(5), True) == Decision(
        True, "pitch share 1/5 = 20 % <= 20 % over the last 10 posts", Fraction(1, 5)
    )
    tracker = tracker_with(rule(), [(h, False) for h in range(9)])
    assert tracker.decide(hours(10), True).reason == (
        "pitch share 1/10 = 10 % <= 20 % over the last 10 posts"
    )


def test_count_window_refusal_reads_as_in_the_design() -> None:
    tracker = tracker_with(rule(), [(0, False), (1, False), (2, False), (3, False), (4, True)])
    assert tracker.decide(hours(5), True) == Decision(
        False, "pitch share would be 2/6 = 33 % > 20 % over the last 10 posts", Fraction(1, 3)
    )


def test_days_window_refusal() -> None:
    history = [(h, False) for h in range(6)] + [(6, True)] + [(7, False)]
    tracker = tracker_with(rule(posts=None, days=7), history)
    assert tracker.decide(hours(8), True) == Decision(
        False, "pitch share would be 2/9 = 22 % > 20 % over the last 7 days", Fraction(2, 9)
    )
    tracker = tracker_with(rule(posts=None, days=7), [(h, h == 0 or h == 4) for h in range(8)])
    assert tracker.decide(hours(8), True).reason == (
        "pitch share would be 3/9 = 33 % > 20 % over the last 7 days"
    )


def test_gap_rule_refusal_names_the_last_pitch_in_utc() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    tracker = WindowTracker(rule(gap=24))
    for h in range(-8, 0):
        tracker.record(hours(h), False)
    tracker.record(datetime(2026, 12, 1, 10, 0, tzinfo=berlin), True)  # 09:00 UTC
    assert tracker.decide(hours(5), True) == Decision(
        False,
        "only 5.0 h since the last pitch (minimum gap 24 h)",
        Fraction(1, 5),
    )


def test_gap_rule_rounds_down_and_allows_exactly_the_gap() -> None:
    tracker = tracker_with(rule(share=Fraction(1), gap=24), [(0, True)])
    almost = T0 + timedelta(hours=23, minutes=59)
    assert tracker.decide(almost, True).reason.startswith("only 23.9 h since the last pitch")
    assert tracker.decide(hours(24), True).allowed


def test_share_and_gap_refusals_are_both_reported() -> None:
    tracker = tracker_with(rule(gap=24), [(0, True)])
    assert tracker.decide(hours(2), True).reason == (
        "pitch share would be 2/2 = 100 % > 20 % over the last 10 posts; "
        "only 2.0 h since the last pitch (minimum gap 24 h)"
    )


def test_percentages_get_decimals_rather_than_read_20_over_20() -> None:
    tracker = tracker_with(rule(posts=1000), [(h / 100, h < 200) for h in range(999)])
    assert tracker.decide(hours(10), True).reason == (
        "pitch share would be 201/1000 = 20.1 % > 20.0 % over the last 1000 posts"
    )


def test_only_the_days_window_refuses() -> None:
    # Long-ago gives fill the count window; the last day holds only the pitch.
    settings = rule(posts=10, days=1)
    history = [(-72 + h, False) for h in range(8)] + [(-10, True)]
    assert tracker_with(settings, history).decide(T0, True).reason == (
        "pitch share would be 2/2 = 100 % > 20 % over the last 1 day"
    )
    assert tracker_with(rule(posts=10), history).decide(T0, True).allowed


def test_only_the_count_window_refuses() -> None:
    # Many gives this week keep the days window low; the last 5 posts hold a pitch.
    settings = rule(posts=5, days=7)
    history = [(h, False) for h in range(20)] + [(20, True), (21, False), (22, False)]
    assert tracker_with(settings, history).decide(hours(23), True).reason == (
        "pitch share would be 2/5 = 40 % > 20 % over the last 5 posts"
    )
    assert tracker_with(rule(posts=None, days=7), history).decide(hours(23), True).allowed


def test_days_window_is_half_open_and_a_late_decide_changes_nothing() -> None:
    settings = rule(share=Fraction(1, 2), posts=None, days=1)
    tracker = tracker_with(settings, [(0, True), (0.5, False)])
    assert not tracker.decide(hours(23), True).allowed  # the pitch 23 h ago is inside: 2/3
    assert tracker.decide(hours(24), True).allowed  # exactly one day ago is outside: 1/2
    tracker.record(hours(1), False)  # earlier than the last decide, later than the last post
    assert tracker.decide(hours(2), True).reason == (
        "pitch share 2/4 = 50 % <= 50 % over the last 1 day"
    )


def test_going_back_in_time_raises() -> None:
    tracker = tracker_with(rule(), [(5, False)])
    with pytest.raises(ValueError, match="is before the last recorded post at 2026-12-01 14:00"):
        tracker.record(hours(4), False)
    with pytest.raises(ValueError, match="posts must come in time order"):
        tracker.decide(hours(4), True)
    with pytest.raises(ValueError, match="has no timezone"):
        tracker.decide(datetime(2026, 12, 2, 9), True)


def test_shares_for_reporting() -> None:
    tracker = tracker_with(rule(posts=4, days=1), [(0, True), (1, False), (2, False), (3, False)])
    assert tracker.pitch_share_now(hours(3)) == Fraction(1, 4)
    assert tracker.pitch_share_now(hours(24.5)) == Fraction(1, 4)  # count window still holds it
    # At 25 h the pitch has left both windows (the days window is half-open).
    assert tracker.share_if_added(hours(25), False) == Fraction(0)
    assert tracker.share_if_added(hours(25), True) == Fraction(1, 3)
    assert WindowTracker(rule()).pitch_share_now(T0) == Fraction(0)


def test_max_window_share_measures_at_each_pitch() -> None:
    posts = [(hours(h), pitch) for h, pitch in enumerate([False, False, True, False, True])]
    assert max_window_share(posts, rule(posts=3)) == (Fraction(2, 3), hours(4))
    assert max_window_share(posts, rule(posts=None, days=1)) == (Fraction(2, 5), hours(4))
    assert max_window_share(posts[:2], rule()) == (Fraction(0), None)
    # Half-open days window: the pitch exactly one day before the last one is out.
    day_apart = [(hours(-1), False), (hours(0), True), (hours(12), False), (hours(24), True)]
    assert max_window_share(day_apart, rule(posts=None, days=1)) == (Fraction(1, 2), hours(0))
    with pytest.raises(ValueError, match="time order"):
        max_window_share(list(reversed(posts)), rule())


@pytest.mark.parametrize(
    "settings",
    [rule(posts=10), rule(posts=None, days=1), rule(posts=7, days=2, gap=12)],
    ids=["posts", "days", "both"],
)
def test_long_histories_keep_exact_counts(settings: BalanceSettings) -> None:
    # Hundreds of posts: old ones are dropped from memory, the counts must not notice.
    tracker = WindowTracker(settings)
    history: list[tuple[datetime, bool]] = []
    for index in range(700):
        at = hours(index // 2 * 3)  # posts in pairs at one instant
        assert tracker.decide(at, True).share == recount(history, at, True, settings)[1]
        pitch = index % 7 == 3 or index % 11 == 0
        tracker.record(at, pitch)
        history.append((at, pitch))
        assert tracker.pitch_share_now(at) == window_share(history, at, settings)


# --- properties -----------------------------------------------------------------------------


@st.composite
def balance_settings(draw: st.DrawFn) -> BalanceSettings:
    denominator = draw(st.integers(1, 10))
    share = Fraction(draw(st.integers(0, denominator)), denominator)
    posts = draw(st.none() | st.integers(1, 12))
    days_choices = st.sampled_from([0.25, 1, 2, 3.5, 7])
    days = draw(days_choices if posts is None else st.none() | days_choices)
    gap = draw(st.none() | st.sampled_from([0, 1, 6, 12.5, 24, 48]))
    return BalanceSettings(share, posts, days, gap)


# Steps in minutes: many posts at the same instant or close together, some days apart.
steps = st.one_of(st.just(0), st.integers(1, 180), st.integers(0, 4 * 24 * 60))
timeline = st.lists(st.tuples(steps, st.booleans()), max_size=120)


Moves = list[tuple[int, bool]]


def at_times(moves: Sequence[tuple[int, bool]]) -> list[tuple[datetime, bool]]:
    result: list[tuple[datetime, bool]] = []
    now = T0
    for minutes, flag in moves:
        now += timedelta(minutes=minutes)
        result.append((now, flag))
    return result


def window_share(
    posts: Sequence[tuple[datetime, bool]], at: datetime, s: BalanceSettings
) -> Fraction:
    """Brute force: the highest pitch share of the windows ending at ``at`` (0 if empty)."""
    windows: list[list[bool]] = []
    if s.window_posts is not None:
        windows.append([p for _, p in posts[-s.window_posts :]])
    if s.window_days is not None:
        windows.append([p for t, p in posts if t > at - timedelta(days=s.window_days)])
    return max(Fraction(sum(w), len(w)) if w else Fraction(0) for w in windows)


def recount(
    history: Sequence[tuple[datetime, bool]], at: datetime, is_pitch: bool, s: BalanceSettings
) -> tuple[bool, Fraction]:
    """Brute force: (pitch allowed?, highest share with the candidate) by counting afresh."""
    share = window_share([*history, (at, is_pitch)], at, s)
    pitches = [t for t, p in history if p]
    gap_ok = (
        not s.min_pitch_gap_hours
        or not pitches
        or at - pitches[-1] >= timedelta(hours=s.min_pitch_gap_hours)
    )
    return share <= s.max_pitch_share and gap_ok, share


@settings(max_examples=150, deadline=None)
@given(s=balance_settings(), moves=timeline)
def test_greedy_planning_never_breaks_the_rule(s: BalanceSettings, moves: Moves) -> None:
    tracker = WindowTracker(s)
    history: list[tuple[datetime, bool]] = []
    for at, wants_pitch in at_times(moves):
        is_pitch = wants_pitch and tracker.decide(at, True).allowed
        tracker.record(at, is_pitch)
        history.append((at, is_pitch))
    assert max_window_share(history, s)[0] <= s.max_pitch_share
    pitch_times = [at for at, pitch in history if pitch]
    if s.min_pitch_gap_hours:
        gap = timedelta(hours=s.min_pitch_gap_hours)
        assert all(b - a >= gap for a, b in zip(pitch_times, pitch_times[1:], strict=False))


@settings(max_examples=150, deadline=None)
@given(s=balance_settings(), moves=timeline, probes=st.lists(steps, min_size=1))
def test_tracker_agrees_with_a_recount(s: BalanceSettings, moves: Moves, probes: list[int]) -> None:
    tracker = WindowTracker(s)
    history: list[tuple[datetime, bool]] = []
    for index, (at, is_pitch) in enumerate(at_times(moves)):
        # A look further ahead first: deciding must not disturb what comes after.
        ahead = at + timedelta(minutes=probes[index % len(probes)])
        allowed, share = recount(history, ahead, True, s)
        decision = tracker.decide(ahead, True)
        assert (decision.allowed, decision.share) == (allowed, share)
        decision = tracker.decide(at, True)
        assert (decision.allowed, decision.share) == recount(history, at, True, s)
        assert tracker.allows_pitch(at) == decision.allowed
        for candidate in (True, False):
            assert tracker.share_if_added(at, candidate) == recount(history, at, candidate, s)[1]
        tracker.record(at, is_pitch)
        history.append((at, is_pitch))
        assert tracker.pitch_share_now(ahead) == window_share(history, ahead, s)
    # The reference agrees too: its maximum is the recount's maximum over the pitches.
    at_pitches = [recount(history[:i], t, True, s)[1] for i, (t, p) in enumerate(history) if p]
    expected = max(at_pitches, default=Fraction(0))
    assert max_window_share(history, s)[0] == expected


@settings(max_examples=100, deadline=None)
@given(s=balance_settings(), before=timeline, mine=timeline, theirs=timeline)
def test_copy_is_independent_of_the_original(
    s: BalanceSettings, before: Moves, mine: Moves, theirs: Moves
) -> None:
    shared = at_times(before)
    original = WindowTracker(s, shared)
    twin = original.copy()
    start = shared[-1][0] if shared else T0
    for tracker, moves in ((original, mine), (twin, theirs)):
        own = [(start + (at - T0), pitch) for at, pitch in at_times(moves)]
        for at, pitch in own:
            tracker.record(at, pitch)
        fresh = WindowTracker(s, shared + own)
        probe = (fresh.last_post_at or T0) + timedelta(hours=1)
        assert tracker.decide(probe, True) == fresh.decide(probe, True)
        assert tracker.pitch_share_now(probe) == fresh.pitch_share_now(probe)
        assert (tracker.last_post_at, tracker.last_pitch_at) == (
            fresh.last_post_at,
            fresh.last_pitch_at,
        )
