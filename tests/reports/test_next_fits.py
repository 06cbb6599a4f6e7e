"""Held items' next fits are planned forward: never one slot promised to two items, each fit
a slot the rule allows once the fits before it are counted (issue: six held items all
showed "next fit Mon 14 Dec 08:30"), and each the very slot the planning engine would place
the item on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.config.settings import Config, parse_config
from planner.plan.engine import plan
from planner.plan.model import Candidate, FixedPost, PlanRules, Slot
from planner.plan.slots import SlotInstant, WeeklySlot
from planner.reports.preview.compose import next_fits
from planner.reports.preview.rows import QueueRow
from planner.rule.balancer import BalanceSettings, WindowTracker

from support.preview_weeks import SOLO_QUEUE, preview_of, solo, sync_and_plan

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
CONFIG: Config = parse_config(
    '[accounts.a]\nnetwork = "outbox"\nslots = ["daily 09:00"]\n', Path("planner.toml")
)


def instants(labels: list[str | None]) -> list[SlotInstant]:
    found = []
    for n, label in enumerate(labels):
        at = START + timedelta(hours=6 * n)
        found.append(SlotInstant(at, at, WeeklySlot(at.weekday(), time(at.hour), label), False))
    return found


def held(n: int, kind: str, not_before: int | None, not_after: int | None) -> QueueRow:
    def hour(h: int | None) -> datetime | None:
        return None if h is None else START + timedelta(hours=6 * h)

    return QueueRow(f"item-{n}", kind, [], "held", "refused", False, hour(not_before),
                    hour(not_after))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    share=st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(1, 5)]),
    window_posts=st.integers(2, 10),
    gap=st.sampled_from([None, 6.0, 24.0]),
    labels=st.lists(st.sampled_from([None, None, "promo", "help", "give", "pitch"]), max_size=40),
    rows=st.lists(
        st.tuples(
            st.sampled_from(["promo", "help"]),
            st.none() | st.integers(0, 40),
            st.none() | st.integers(0, 40),
        ),
        max_size=8,
    ),
    history=st.lists(st.booleans(), max_size=10),
)
def test_next_fits_are_distinct_and_each_keeps_the_rule(
    share: Fraction,
    window_posts: int,
    gap: float | None,
    labels: list[str | None],
    rows: list[tuple[str, int | None, int | None]],
    history: list[bool],
) -> None:
    rule = BalanceSettings(share, window_posts, None, gap)
    before = [(START - timedelta(hours=len(history) - n), p) for n, p in enumerate(history)]
    tracker = WindowTracker(rule, before)
    ahead = instants(labels)
    items = [held(n, kind, nb, na) for n, (kind, nb, na) in enumerate(rows)]
    fits = next_fits(CONFIG, items, tracker, ahead)

    assert len(set(fits.values())) == len(fits)  # no slot promised twice
    by_id = {row.id: row for row in items}
    taken = {at: item_id for item_id, at in fits.items()}
    replay = tracker.copy()
    for instant in ahead:
        item_id = taken.get(instant.at)
        if item_id is not None:
            row = by_id[item_id]
            assert replay.decide(instant.at, True).allowed  # the rule allows it there
            assert instant.slot.label in {None, row.kind, CONFIG.kind_class(row.kind)}
            assert row.not_before is None or row.not_before <= instant.at
            assert row.not_after is None or instant.at < row.not_after
        replay.record(instant.at, item_id is not None)


def test_several_held_promos_get_distinct_next_fits_in_the_preview(
    tmp_path: Path, db_url: str
) -> None:
    more = "".join(
        f'\n[[item]]\nid = "promo-{x}"\nkind = "promo"\ntext = "Solo Pro offer {x}."\n'
        for x in "cdef"
    )
    config = solo(tmp_path, db_url, queue=SOLO_QUEUE + more)
    sync_and_plan(config)
    account = preview_of(config).accounts[0]
    held_promos = [h for h in account.held if h.item.startswith("promo-")]
    assert len(held_promos) >= 3
    fits = [h.next_fit for h in held_promos if h.next_fit is not None]
    assert len(fits) >= 2 and len(set(fits)) == len(fits)


@settings(max_examples=200, deadline=None)
@given(
    share=st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(1, 5)]),
    window_posts=st.integers(2, 10),
    gap=st.sampled_from([None, 6.0, 24.0]),
    slots=st.integers(0, 40),
    rows=st.lists(
        st.tuples(st.none() | st.integers(0, 40), st.none() | st.integers(1, 40)), max_size=8
    ),
    history=st.lists(st.booleans(), max_size=10),
)
def test_each_next_fit_is_the_slot_the_planner_would_place_the_item_on(
    share: Fraction,
    window_posts: int,
    gap: float | None,
    slots: int,
    rows: list[tuple[int | None, int | None]],
    history: list[bool],
) -> None:
    # Plan the slots ahead with the engine itself: the held promos, and gives for the rest.
    # Promo weighs so much that the mix always offers a promo turn: only the rule decides.
    rule = BalanceSettings(share, window_posts, None, gap)
    before = [(START - timedelta(hours=len(history) - n), p) for n, p in enumerate(history)]
    ahead = instants([None] * slots)
    # The engine puts a deadline first when it falls within the slots it plans (the planned
    # weeks); a later one waits its turn by rank. Deadlines here fall within the slots.
    items = [
        held(n, "promo", nb, None if na is None or slots < 2 else min(na, slots - 1))
        for n, (nb, na) in enumerate(rows)
    ]
    fits = next_fits(CONFIG, items, WindowTracker(rule, before), ahead)

    kinds = {"share": ("give", 1), "promo": ("pitch", 1000)}
    rules = PlanRules(kinds, {"a": rule}, {"a": "a"}, duplicate_url_days=0)
    queue = [
        Candidate(
            row.id, "promo", True, rank=n, not_before=row.not_before, not_after=row.not_after
        )  # fmt: skip
        for n, row in enumerate(items)
    ]
    queue += [Candidate(f"give-{n}", "share", False, rank=100 + n) for n in range(slots)]
    history_posts = [FixedPost("a", at, f"past-{n}", p) for n, (at, p) in enumerate(before)]
    result = plan([Slot("a", i.at) for i in ahead], history_posts, queue, rules, lambda c, a: c.id)
    placed = {p.item.id: p.slot.at for p in result.placements if p.item and p.item.is_pitch}
    assert fits == placed
