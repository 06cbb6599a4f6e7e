"""The planning engine: the mix, typed slots, holds, expiry, guards, and its properties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.plan.engine import plan
from planner.plan.model import (
    Candidate,
    FixedPost,
    PlanResult,
    PlanRules,
    RenderFailed,
    Slot,
)
from planner.rule.balancer import BalanceSettings

from support.verdicts import on

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
KINDS = {"share": ("give", 4), "help": ("give", 3), "promo": ("pitch", 1)}
RULE = BalanceSettings(Fraction(1, 5), window_posts=10, window_days=None, min_pitch_gap_hours=None)


def rules(balance: BalanceSettings = RULE, kinds=KINDS, dup_days: int = 30) -> PlanRules:  # type: ignore[no-untyped-def]
    return PlanRules(
        kinds=kinds, balance={"a": balance}, scope_of={"a": "a"}, duplicate_url_days=dup_days
    )


def item(
    item_id: str, kind: str, *, pitch: bool | None = None, age: int = 0, priority: int = 0, **extra
) -> Candidate:  # type: ignore[no-untyped-def]
    is_pitch = KINDS[kind][0] == "pitch" if pitch is None else pitch
    return Candidate(item_id, kind, is_pitch, rank=age - 1000 * priority, **extra)


def hourly(count: int, label: str | None = None, start: datetime = MONDAY) -> list[Slot]:
    return [Slot("a", start + timedelta(hours=n), label) for n in range(count)]


def by_id(candidate: Candidate, account: str) -> str:
    return candidate.id


def placed(result: PlanResult) -> list[str | None]:
    return [p.item.id if p.item else None for p in result.placements]


def test_open_slots_interleave_kinds_by_weight() -> None:
    queue = [item(f"s{n}", "share", age=n) for n in range(8)] + [
        item(f"h{n}", "help", age=n) for n in range(8)
    ]
    result = plan(hourly(7), [], queue, rules(), by_id)
    kinds = [p.item.kind for p in result.placements if p.item]
    assert kinds == ["share", "help", "share", "help", "share", "help", "share"]


def test_within_a_kind_priority_then_age() -> None:
    queue = [
        item("old", "help", age=1),
        item("new", "help", age=5),
        item("urgent", "help", age=9, priority=2),
    ]
    result = plan(hourly(3, "help"), [], queue, rules(), by_id)
    assert placed(result) == ["urgent", "old", "new"]


def test_a_fresh_account_gives_first() -> None:
    queue = [item("p", "promo"), *(item(f"h{n}", "help", age=n) for n in range(5))]
    result = plan(hourly(4, "promo"), [], queue, rules(), by_id)
    # Every typed promo slot is refused on a fresh account and goes to a give instead.
    assert placed(result) == ["h0", "h1", "h2", "h3"]
    assert on(result.held) == {"p": "pitch share would be 1/4 = 25 % > 20 % over the last 10 posts"}
    assert result.placements[0].reason == (
        "p held: pitch share would be 1/1 = 100 % > 20 % over the last 10 posts; "
        "the slot went to help"
    )


def test_a_held_promo_is_placed_as_soon_as_it_fits() -> None:
    queue = [item("p", "promo"), *(item(f"h{n}", "help", age=n) for n in range(9))]
    result = plan(hourly(6, "promo"), [], queue, rules(), by_id)
    # 4 gives first, then the promo fits at 1/5 = 20 %.
    assert placed(result) == ["h0", "h1", "h2", "h3", "p", "h4"]
    assert "p" not in on(result.held)
    assert "pitch share 1/5 = 20 % <= 20 %" in result.placements[4].reason


def test_slot_stays_empty_with_a_warning_when_the_give_queue_is_dry() -> None:
    result = plan(hourly(2, "promo"), [], [item("p", "promo")], rules(), by_id)
    assert placed(result) == [None, None]
    assert result.placements[0].reason.startswith("empty: p held: pitch share would be 1/1")
    assert result.placements[0].reason.endswith("no give item is left to take the slot")


def test_typed_slot_with_no_item_of_its_kind_goes_to_a_give() -> None:
    result = plan(hourly(2, "help"), [], [item("s", "share")], rules(), by_id)
    assert placed(result) == ["s", None]
    assert result.placements[0].reason == "no help item is available; the slot went to share"
    assert result.placements[1].reason == (
        "empty: no help item is available, and no give item is left to take the slot"
    )


def test_held_promo_expires_at_its_not_after() -> None:
    deadline = MONDAY + timedelta(hours=2)
    queue = [
        item("p", "promo", not_after=deadline),
        *(item(f"h{n}", "help", age=n) for n in range(8)),
    ]
    result = plan(hourly(8, "promo"), [], queue, rules(), by_id)
    assert "p" not in placed(result)
    assert set(on(result.expired)) == {"p"}
    assert "p" not in on(result.held)


def test_not_before_is_respected() -> None:
    queue = [
        item("later", "help", not_before=MONDAY + timedelta(hours=2)),
        item("now", "help", age=1),
        item("then", "help", age=2),
    ]
    result = plan(hourly(3, "help"), [], queue, rules(), by_id)
    assert placed(result) == ["now", "then", "later"]


def test_the_same_url_is_not_shared_twice_within_the_guard() -> None:
    url = "https://example.org/a"
    queue = [
        item("s1", "share", url=url),
        item("s2", "share", url=url, age=1),
        item("s3", "share", age=2),
    ]
    week = hourly(3, "share")
    assert placed(plan(week, [], queue, rules(), by_id)) == ["s1", "s3", None]
    # With the guard at 0 days the second share of the URL may go.
    assert placed(plan(week, [], queue, rules(dup_days=0), by_id)) == ["s1", "s2", "s3"]


def test_url_guard_counts_posts_that_stay() -> None:
    url = "https://example.org/a"
    fixed = [FixedPost("a", MONDAY - timedelta(days=3), "old", False, url)]
    queue = [item("s1", "share", url=url), item("s2", "share", age=1)]
    assert placed(plan(hourly(2, "share"), fixed, queue, rules(), by_id)) == ["s2", None]


def test_an_item_is_not_used_twice_on_an_account() -> None:
    fixed = [FixedPost("a", MONDAY - timedelta(days=1), "h0", False)]
    queue = [item("h0", "help"), item("h1", "help", age=1)]
    assert placed(plan(hourly(2, "help"), fixed, queue, rules(), by_id)) == ["h1", None]


def test_evergreen_items_come_back_after_their_cooldown() -> None:
    queue = [item("e", "help", evergreen=True, cooldown=timedelta(hours=2))]
    assert placed(plan(hourly(5, "help"), [], queue, rules(), by_id)) == [
        "e",
        None,
        "e",
        None,
        "e",
    ]


def test_own_domain_link_counts_as_a_pitch_whatever_the_kind() -> None:
    queue = [item("own", "help", pitch=True), item("h1", "help", age=1)]
    result = plan(hourly(1, "help"), [], queue, rules(), by_id)
    assert placed(result) == ["h1"]
    assert "own" in on(result.held)


def test_forced_release_goes_first_and_is_marked() -> None:
    queue = [item("p", "promo", forced=True), item("h", "help")]
    result = plan(hourly(2), [], queue, rules(), by_id)
    first = result.placements[0]
    assert (first.item.id if first.item else None, first.forced) == ("p", True)
    assert first.reason == "forced release (override of the ratio rule)"


def test_history_counts_in_the_window() -> None:
    fixed = [FixedPost("a", MONDAY - timedelta(hours=n + 1), f"g{n}", False) for n in range(4)]
    queue = [item("p", "promo"), item("h", "help")]
    assert placed(plan(hourly(1, "promo"), fixed, queue, rules(), by_id)) == ["p"]


def test_min_gap_between_pitches() -> None:
    gap_rule = BalanceSettings(
        Fraction(1, 1), window_posts=10, window_days=None, min_pitch_gap_hours=3
    )
    queue = [
        item("p1", "promo"),
        item("p2", "promo", age=1),
        *(item(f"h{n}", "help", age=n) for n in range(5)),
    ]
    result = plan(hourly(5, "promo"), [], queue, rules(gap_rule), by_id)
    assert placed(result) == ["p1", "h0", "h1", "p2", "h2"]
    assert "only 1.0 h since the last pitch" in result.placements[1].reason


def test_an_item_that_fails_to_render_is_skipped_and_reported() -> None:
    def render(candidate: Candidate, account: str) -> str:
        if candidate.id == "bad":
            raise RenderFailed("bad: template help.txt.j2: variable 'x' is undefined")
        return candidate.id

    queue = [item("bad", "help"), item("good", "help", age=1)]
    result = plan(hourly(1, "help"), [], queue, rules(), render)
    assert placed(result) == ["good"]
    assert result.render_problems == ["bad: template help.txt.j2: variable 'x' is undefined"]


# --- properties ---------------------------------------------------------------------------


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    share = Fraction(1, draw(st.integers(2, 8)))
    window_posts = draw(st.one_of(st.none(), st.integers(2, 12)))
    window_days = draw(
        st.one_of(st.none() if window_posts else st.just(2.0), st.sampled_from([0.5, 1.0, 3.0]))
    )
    gap = draw(st.sampled_from([None, 0, 2, 12]))
    balance = BalanceSettings(share, window_posts, window_days, gap)
    slot_count = draw(st.integers(1, 40))
    offsets = sorted(
        draw(
            st.lists(st.integers(0, 24 * 14), min_size=slot_count, max_size=slot_count, unique=True)
        )
    )
    labels = draw(
        st.lists(
            st.sampled_from([None, None, None, "promo", "give", "help"]),
            min_size=slot_count,
            max_size=slot_count,
        )
    )
    slots = [
        Slot("a", MONDAY + timedelta(hours=o), label)
        for o, label in zip(offsets, labels, strict=True)
    ]
    queue = []
    for n in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(["share", "help", "promo"]))
        pitch = kind == "promo" or draw(st.integers(0, 9)) == 0  # now and then an own-domain link
        window = draw(st.one_of(st.none(), st.integers(0, 24 * 14)))
        not_after = (
            MONDAY + timedelta(hours=window) if window is not None and draw(st.booleans()) else None
        )
        not_before = (
            MONDAY + timedelta(hours=window) if window is not None and not not_after else None
        )
        queue.append(
            item(
                f"i{n}",
                kind,
                pitch=pitch,
                age=draw(st.integers(0, 5)),
                priority=draw(st.integers(0, 2)),
                url=draw(st.sampled_from([None, "https://x.example/1", "https://x.example/2"])),
                not_after=not_after,
                not_before=not_before,
                forced=kind == "promo" and draw(st.integers(0, 15)) == 0,
            )
        )
    history = [
        FixedPost("a", MONDAY - timedelta(hours=h), f"past{h}", draw(st.booleans()))
        for h in sorted(draw(st.lists(st.integers(1, 72), max_size=12, unique=True)), reverse=True)
    ]
    return balance, slots, queue, history


def windows_at(
    posts: list[tuple[datetime, bool]], index: int, balance: BalanceSettings
) -> Fraction:
    """Brute force: the highest pitch share of the windows ending at post ``index``."""
    at = posts[index][0]
    shares = []
    if balance.window_posts:
        window = [p for _, p in posts[max(0, index - balance.window_posts + 1) : index + 1]]
        shares.append(Fraction(sum(window), len(window)))
    if balance.window_days:
        span = timedelta(days=balance.window_days)
        window = [p for t, p in posts[: index + 1] if t > at - span]
        shares.append(Fraction(sum(window), len(window)))
    return max(shares)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_no_window_ending_at_a_planned_pitch_breaks_the_rule(scenario) -> None:  # type: ignore[no-untyped-def]
    balance, slots, queue, history = scenario
    result = plan(slots, history, queue, rules(balance), by_id)
    timeline = [(post.at, post.is_pitch, False, "history") for post in history]
    timeline += [
        (p.slot.at, p.item.is_pitch, p.forced, p.item.id) for p in result.placements if p.item
    ]
    timeline.sort(key=lambda entry: entry[0])
    posts = [(at, pitch) for at, pitch, _, _ in timeline]
    last_pitch: datetime | None = None
    for index, (at, pitch, forced, origin) in enumerate(timeline):
        if not pitch:
            continue
        if origin != "history" and not forced:
            assert windows_at(posts, index, balance) <= balance.max_pitch_share
            if balance.min_pitch_gap_hours and last_pitch is not None:
                assert at - last_pitch >= timedelta(hours=balance.min_pitch_gap_hours)
        last_pitch = at


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_pitch_is_planned_held_waiting_expired_or_untouched_never_lost(scenario) -> None:  # type: ignore[no-untyped-def]
    balance, slots, queue, history = scenario
    result = plan(slots, history, queue, rules(balance), by_id)
    chosen = [p.item.id for p in result.placements if p.item]
    assert len(chosen) == len(set(chosen)), "no item twice on one account"
    outcomes = {
        i: (
            "placed"
            if i in chosen
            else "held"
            if i in on(result.held)
            else "expired"
            if i in on(result.expired)
            else "waiting"
            if i in on(result.waiting)
            else "queued"
        )
        for i in (c.id for c in queue)
    }
    assert not (set(on(result.held)) & set(chosen)) and not (set(on(result.expired)) & set(chosen))
    assert all(reason for reason in on(result.held).values())
    refused = any("held:" in p.reason for p in result.placements)
    for candidate in queue:
        if candidate.is_pitch and refused and outcomes[candidate.id] == "queued":
            # Left in the queue after a refusal only when it could not be used anyway.
            starts_late = candidate.not_before is not None and candidate.not_before > slots[-1].at
            assert starts_late or candidate.forced, candidate


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_items_arrive_in(
    scenario, rnd: random.Random
) -> None:  # type: ignore[no-untyped-def]
    balance, slots, queue, history = scenario
    first = plan(slots, history, queue, rules(balance), by_id)
    shuffled = list(queue)
    rnd.shuffle(shuffled)
    second = plan(slots, history, shuffled, rules(balance), by_id)
    assert first.placements == second.placements
    assert (on(first.held), on(first.expired)) == (on(second.held), on(second.expired))


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_only_forced_items_are_marked_forced_and_they_are_always_marked(scenario) -> None:  # type: ignore[no-untyped-def]
    balance, slots, queue, history = scenario
    result = plan(slots, history, queue, rules(balance), by_id)
    for placement in result.placements:
        if placement.item is not None:
            assert placement.forced == placement.item.forced
            assert ("override" in placement.reason) == placement.forced


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_dates_and_the_url_guard_hold_for_every_placement(scenario) -> None:  # type: ignore[no-untyped-def]
    balance, slots, queue, history = scenario
    result = plan(slots, history, queue, rules(balance), by_id)
    shared: dict[str, datetime] = {}
    for placement in result.placements:
        chosen = placement.item
        if chosen is None:
            continue
        at = placement.slot.at
        assert chosen.not_before is None or chosen.not_before <= at
        assert chosen.not_after is None or at < chosen.not_after
        if chosen.url:
            if chosen.url in shared:
                assert at - shared[chosen.url] >= timedelta(days=30)
            shared[chosen.url] = at
