"""Properties of the engine over random brands: one to three accounts, each with its own rule
or one rule for the brand, typed slots, dated and undated pitches, history.

Checked by brute force against the final plan: no window is broken (forced posts aside); a
dated pitch reported expired had no slot it could have taken; a typed slot goes to another
kind only when no item of its kind could legally take it, and never because the mix spent a
pitch nearby; the same input gives the same plan; every pitch ends, on each of its
accounts, planned there or with that account's own verdict (held, waiting, expired, skipped)
and a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st

from planner.plan.engine import plan
from planner.plan.feeds import Later
from planner.plan.model import Candidate, FixedPost, Placement, PlanResult, PlanRules, Slot
from planner.rule.balancer import BalanceSettings

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
KINDS = {"share": ("give", 4), "help": ("give", 3), "promo": ("pitch", 1)}
URL_DAYS = 30
# The brute force is slow under the tracer of the explain phase: leave that phase out.
FAST = settings(
    max_examples=200,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)


@dataclass(frozen=True)
class Brand:
    rules: PlanRules
    slots: list[Slot]
    fixed: list[FixedPost]
    queue: list[Candidate]


@st.composite
def rules_for(draw, names: list[str]) -> PlanRules:  # type: ignore[no-untyped-def]
    def one() -> BalanceSettings:
        posts = draw(st.one_of(st.none(), st.integers(2, 10)))
        days = draw(st.sampled_from([1.0, 2.0]) if posts is None else st.sampled_from([None, 1.0]))
        gap = draw(st.sampled_from([None, 3, 24]))
        return BalanceSettings(Fraction(1, draw(st.integers(2, 6))), posts, days, gap)

    if len(names) > 1 and draw(st.booleans()):
        return PlanRules(KINDS, {"brand": one()}, dict.fromkeys(names, "brand"), URL_DAYS)
    return PlanRules(KINDS, {n: one() for n in names}, {n: n for n in names}, URL_DAYS)


@st.composite
def brands(draw, max_accounts: int = 3) -> Brand:  # type: ignore[no-untyped-def]
    names = ["a", "b", "c"][: draw(st.integers(1, max_accounts))]
    rules = draw(rules_for(names))
    slots: list[Slot] = []
    labels = st.sampled_from([None, None, None, "promo", "promo", "pitch", "give", "help"])
    for name in names:
        hours = draw(st.lists(st.integers(0, 24 * 5), min_size=1, max_size=10, unique=True))
        slots += [Slot(name, MONDAY + timedelta(hours=h), draw(labels)) for h in hours]
    queue = []
    for n in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["share", "help", "promo", "promo"]))
        start = draw(st.integers(0, 24 * 5))
        dated = draw(st.booleans())
        queue.append(
            Candidate(
                f"i{n}",
                kind,
                kind == "promo" or draw(st.integers(0, 7)) == 0,
                rank=draw(st.integers(0, 4)),
                url=draw(st.sampled_from([None, None, "https://x.example/1"])),
                accounts=draw(st.one_of(st.none(), st.lists(st.sampled_from(names), min_size=1))),
                not_after=MONDAY + timedelta(hours=start) if dated else None,
                not_before=(
                    MONDAY + timedelta(hours=start) if not dated and draw(st.booleans()) else None
                ),
                forced=kind == "promo" and draw(st.integers(0, 12)) == 0,
                # Now and then released with --force on some accounts only.
                forced_on=frozenset(
                    draw(st.lists(st.sampled_from(names), max_size=1)) if kind == "promo" else []
                ),
            )
        )
    fixed = [
        FixedPost(name, MONDAY - timedelta(hours=h), f"past-{name}{h}", draw(st.booleans()))
        for name in names
        for h in draw(st.lists(st.integers(1, 48), max_size=8, unique=True))
    ]
    return Brand(rules, slots, fixed, queue)


def by_id(candidate: Candidate, account: str) -> str:
    return candidate.id


def planned(brand: Brand) -> PlanResult:
    """Plan the brand; on a failure Hypothesis prints the queue and the plan it made."""
    result = plan(brand.slots, brand.fixed, brand.queue, brand.rules, by_id)
    for c in brand.queue:
        note(
            f"{c.id} {c.kind} pitch={c.is_pitch} rank={c.sort_key[0]} accounts={c.accounts} "
            f"url={c.url} after={c.not_before} until={c.not_after} forced={c.forced} "
            f"forced_on={sorted(c.forced_on)}"
        )
    for p in sorted(result.placements, key=lambda p: (p.slot.at, p.slot.account)):
        note(f"{p.slot.at:%a %H:%M} {p.slot.account} [{p.slot.label}] {p.item}: {p.reason}")
    note(f"held={result.held} expired={result.expired} waiting={result.waiting}")
    return result


@dataclass(frozen=True)
class Post:
    at: datetime
    account: str
    pitch: bool
    checked: bool  # a pitch the engine planned under the rule (not history, not forced)
    fixed: bool


def posts_of(brand: Brand, placements: Iterable[Placement]) -> list[Post]:
    posts = [Post(p.at, p.account, p.is_pitch, False, True) for p in brand.fixed]
    posts += [
        Post(p.slot.at, p.slot.account, p.item.is_pitch, p.item.is_pitch and not p.forced, False)
        for p in placements
        if p.item is not None
    ]
    return posts


def broken(brand: Brand, posts: list[Post], only_at: datetime | None = None) -> list[str]:
    """Every checked pitch whose windows or gap break its scope's rule (brute force)."""
    found = []
    for scope, rule in brand.rules.balance.items():
        line = [p for p in posts if brand.rules.scope_of[p.account] == scope]
        # The engine's order: by time, a post that stays before a slot, then by account.
        line.sort(key=lambda p: (p.at, not p.fixed, p.account))
        last_pitch = None
        for index, post in enumerate(line):
            if not post.pitch:
                continue
            if post.checked and (only_at is None or post.at == only_at):
                shares = []
                if rule.window_posts:
                    window = line[max(0, index - rule.window_posts + 1) : index + 1]
                    shares.append(Fraction(sum(p.pitch for p in window), len(window)))
                if rule.window_days:
                    span = timedelta(days=rule.window_days)
                    window = [p for p in line[: index + 1] if p.at > post.at - span]
                    shares.append(Fraction(sum(p.pitch for p in window), len(window)))
                if max(shares) > rule.max_pitch_share:
                    found.append(f"{post.account} {post.at}: share {max(shares)}")
                gap = rule.min_pitch_gap_hours
                if gap and last_pitch is not None and post.at - last_pitch < timedelta(hours=gap):
                    found.append(f"{post.account} {post.at}: gap")
            last_pitch = post.at
    return found


def fits(slot: Slot, candidate: Candidate) -> bool:
    label = slot.label
    return label is None or label == candidate.kind or label == KINDS[candidate.kind][0]


def could_take(brand: Brand, result: PlanResult, candidate: Candidate, slot: Slot) -> bool:
    """Could ``candidate`` have gone in ``slot`` of the final plan (its other posts kept)
    without breaking a window, its dates, or the URL guard?"""
    if candidate.accounts is not None and slot.account not in candidate.accounts:
        return False
    if candidate.not_after is not None and slot.at >= candidate.not_after:
        return False
    if candidate.not_before is not None and slot.at < candidate.not_before:
        return False
    others = [p for p in result.placements if p.slot != slot]
    if candidate.url is not None and any(
        p.item is not None
        and p.item.url == candidate.url
        and p.slot.account == slot.account
        and abs(p.slot.at - slot.at) < timedelta(days=URL_DAYS)
        for p in others
    ):
        return False
    swapped = Placement(slot, candidate, "swap")
    return not broken(brand, posts_of(brand, [*others, swapped]))


@FAST
@given(brands())
def test_no_window_is_broken_except_by_forced_posts(brand: Brand) -> None:
    result = planned(brand)
    assert broken(brand, posts_of(brand, result.placements)) == []


@FAST
@given(brands())
def test_a_dated_pitch_that_had_a_legal_slot_is_never_reported_expired(brand: Brand) -> None:
    result = planned(brand)
    open_to_swap = [
        p.slot
        for p in result.placements
        if p.item is None or (not p.item.is_pitch and not p.forced)
    ]
    by_id_ = {candidate.id: candidate for candidate in brand.queue}
    for item_id, account in result.expired:
        candidate = by_id_[item_id]
        if not candidate.is_pitch or candidate.forced:
            continue
        for slot in open_to_swap:
            if slot.account == account and fits(slot, candidate):
                assert not could_take(brand, result, candidate, slot), (candidate, slot)


@FAST
@given(brands())
def test_a_typed_slot_goes_to_another_kind_only_when_its_kind_could_not_take_it(
    brand: Brand,
) -> None:
    result = planned(brand)
    on_account = {(p.slot.account, p.item.id) for p in result.placements if p.item}
    for placement in result.placements:
        slot, got = placement.slot, placement.item
        if slot.label is None or placement.forced:
            continue
        if got is not None and fits(slot, got):
            continue
        for candidate in brand.queue:
            if candidate.forced or not fits(slot, candidate):
                continue
            if (slot.account, candidate.id) in on_account:
                continue  # planned on this account elsewhere: an item goes once
            assert not could_take(brand, result, candidate, slot), (candidate, placement)


@FAST
@given(brands())
def test_the_mix_never_spends_a_pitch_that_costs_a_typed_pitch_slot(brand: Brand) -> None:
    """Turning any pitch placed outside a typed pitch slot before a refused typed pitch slot
    into a give leaves that slot refused, when the slots between got gives as the engine's
    lookahead assumes (no empty slot, no forced post, no dated pitch placed first, no pitch
    that went only because no give was left for its slot)."""
    result = planned(brand)
    placements = sorted(result.placements, key=lambda p: (p.slot.at, p.slot.account))
    scope_of = brand.rules.scope_of
    by_ids = {c.id: c for c in brand.queue}
    for t_index, typed in enumerate(placements):
        label = typed.slot.label
        refused = by_ids.get(typed.reason.removeprefix("empty: ").split(" held: ")[0])
        if label not in ("promo", "pitch") or refused is None or not fits(typed.slot, refused):
            continue  # no item of the slot's kind was refused there
        if typed.item is not None and typed.item.is_pitch:
            continue
        scope = scope_of[typed.slot.account]
        for p_index in range(t_index - 1, -1, -1):
            spent = placements[p_index]
            if scope_of[spent.slot.account] != scope:
                continue
            if (
                spent.item is None
                or spent.forced
                or spent.reason.startswith("earliest")
                or "no give item is left" in spent.reason
            ):
                break  # a slot without a give: the lookahead's assumption ends here
            if not spent.item.is_pitch or spent.slot.label in ("promo", "pitch"):
                continue
            flipped = [p for p in placements[:t_index] if p is not spent]
            flipped.append(Placement(spent.slot, _as_give(spent.item), "flipped"))
            flipped.append(Placement(typed.slot, _promo(), "probe"))
            problems = broken(brand, posts_of(brand, flipped), only_at=typed.slot.at)
            assert problems, (spent, typed)


def _as_give(item: Candidate) -> Candidate:
    return Candidate(item.id, "share", False, rank=0)


def _promo() -> Candidate:
    return Candidate("probe", "promo", True, rank=0)


@FAST
@given(brands(), st.randoms(use_true_random=False))
def test_the_same_input_gives_the_same_plan(brand: Brand, rnd) -> None:  # type: ignore[no-untyped-def]
    first = plan(brand.slots, brand.fixed, brand.queue, brand.rules, by_id)
    queue, slots = list(brand.queue), list(brand.slots)
    rnd.shuffle(queue)
    rnd.shuffle(slots)
    again = plan(slots, brand.fixed, queue, brand.rules, by_id)
    assert first.placements == again.placements
    assert (first.held, first.waiting, first.expired) == (again.held, again.waiting, again.expired)


@FAST
@given(brands())
def test_every_pitch_ends_with_its_own_verdict_on_each_of_its_accounts(brand: Brand) -> None:
    result = planned(brand)
    names = sorted({slot.account for slot in brand.slots})
    last = max(slot.at for slot in brand.slots)
    placed = {(p.item.id, p.slot.account) for p in result.placements if p.item is not None}
    verdicts = {
        "held": result.held,
        "waiting": result.waiting,
        "expired": result.expired,
        "skipped": result.skipped,
    }
    for candidate in brand.queue:
        if not candidate.is_pitch or candidate.forced:
            continue
        for name in candidate.accounts or names:
            if name not in names or name in candidate.forced_on:
                continue  # forced there: placed at its first usable slot, whatever the rule
            key = (candidate.id, name)
            found = [state for state, on in verdicts.items() if key in on]
            assert len(found) <= 1, (key, found)  # one verdict per item and account
            if key in placed:
                assert not found, (key, found)
                continue
            if candidate.not_before is not None and candidate.not_before > last:
                assert not found, (key, found)  # not due yet: nothing to say
                continue
            assert found, f"{key} was neither placed nor given a verdict"
            assert verdicts[found[0]][key], key


def _read_lazily(
    brand: Brand, pitches: bool = False
) -> tuple[list[Candidate], dict[str, Later], list[str]]:
    """The queue as the database hands it over for a week's plan: the plain gives of each
    kind as iterators (every account's, then some accounts'), with ``pitches`` the plain
    pitches too, the rest at once; and the ids of the items the engine actually read."""
    horizon = max(slot.at for slot in brand.slots)
    read: list[str] = []

    def plain(c: Candidate) -> bool:
        late = c.not_after is None or c.not_after > horizon
        if c.forced or c.forced_on or not late:
            return False
        if KINDS[c.kind][0] == "give":
            return not c.is_pitch
        return pitches and (c.not_before is None or c.not_before <= horizon)

    def never_due(c: Candidate) -> bool:
        # A pitch that may not go out before the weeks end: the database leaves it out.
        late = c.not_after is None or c.not_after > horizon
        plain_pitch = KINDS[c.kind][0] == "pitch" and not c.forced and not c.forced_on and late
        return pitches and plain_pitch and c.not_before is not None and c.not_before > horizon

    def lazily(items: list[Candidate]) -> Iterator[Candidate]:
        for item in sorted(items, key=lambda c: c.sort_key):
            read.append(item.id)
            yield item

    eager = [c for c in brand.queue if not plain(c) and not never_due(c)]
    used = {post.item_id for post in brand.fixed}
    later = {}
    for kind, (class_, _) in KINDS.items():
        if class_ != "give" and not pitches:
            continue
        lazy = [c for c in brand.queue if c.kind == kind and plain(c)]
        some = [c for c in lazy if c.accounts is not None]
        counts = {n: sum(n in (c.accounts or ()) for c in some) for n in ("a", "b", "c")}
        later[kind] = Later(
            lazily([c for c in lazy if c.accounts is None]),
            lazily(some),
            counts,
            shared=sum(c.accounts is None for c in lazy),
            fixed={c.id: c.accounts for c in lazy if c.id in used},
        )
    return eager, later, read


def assert_same_plan(lazy: PlanResult, whole: PlanResult) -> None:
    """The same placements and the same verdict on every item left out, on each account."""
    assert lazy.placements == whole.placements
    verdicts = ("held", "waiting", "expired", "skipped", "unlisted")
    assert [getattr(lazy, v) for v in verdicts] == [getattr(whole, v) for v in verdicts]


@FAST
@given(brands())
def test_gives_read_lazily_give_the_same_plan(brand: Brand) -> None:
    whole = planned(brand)
    eager, later, _ = _read_lazily(brand)
    lazy = plan(brand.slots, brand.fixed, eager, brand.rules, by_id, later)
    assert_same_plan(lazy, whole)


@st.composite
def brands_reusing_items(draw) -> tuple[Brand, int]:  # type: ignore[no-untyped-def]
    """A brand whose posts from before the plan used some of the queue's items, and how
    many items left out a plan names per account (small, so the count takes over)."""
    brand = draw(brands())
    names = sorted({slot.account for slot in brand.slots})
    reused = [
        FixedPost(draw(st.sampled_from(names)), MONDAY - timedelta(hours=n + 1), c.id,
                  c.is_pitch, c.url)
        for n, c in enumerate(brand.queue)
        if draw(st.integers(0, 3)) == 0
    ]  # fmt: skip
    return Brand(brand.rules, brand.slots, brand.fixed + reused, brand.queue), draw(
        st.integers(0, 4)
    )


@FAST
@given(brands_reusing_items())
def test_pitches_read_lazily_give_the_same_plan_and_verdicts(case: tuple[Brand, int]) -> None:
    brand, listed = case
    whole = plan(brand.slots, brand.fixed, brand.queue, brand.rules, by_id, listed=listed)
    eager, later, _ = _read_lazily(brand, pitches=True)
    lazy = plan(brand.slots, brand.fixed, eager, brand.rules, by_id, later, listed=listed)
    note(f"whole: held={whole.held} waiting={whole.waiting} unlisted={whole.unlisted}")
    assert_same_plan(lazy, whole)


def test_a_week_reads_the_pitches_it_uses_and_names_not_the_whole_queue() -> None:
    rules = PlanRules(KINDS, {"a": BalanceSettings(Fraction(1, 5), 10, None, None)}, {"a": "a"}, 0)
    slots = [Slot("a", MONDAY + timedelta(hours=h)) for h in range(10)]
    queue = [Candidate(f"s{n}", "share", False, rank=n) for n in range(1000)]
    queue += [Candidate(f"p{n}", "promo", True, rank=n) for n in range(1000)]
    queue += [Candidate(f"q{n}", "promo", True, rank=n, accounts=("a",)) for n in range(1000)]
    brand = Brand(rules, slots, [], queue)
    eager, later, read = _read_lazily(brand, pitches=True)
    result = plan(slots, [], eager, rules, by_id, later, listed=5)
    assert all(p.item is not None for p in result.placements)
    assert sum(p.item is not None and p.item.is_pitch for p in result.placements) == 2
    # Named: five pitches left out; counted: the other 1,993 of the 2,000 pitches.
    assert len(result.held) + len(result.waiting) == 5
    assert result.unlisted == {"a": 1993}
    assert len(read) <= 40, read  # of the 3,000 items


def test_a_week_reads_only_the_gives_it_uses() -> None:
    rules = PlanRules(KINDS, {"a": BalanceSettings(Fraction(1, 5), 10, None, None)}, {"a": "a"}, 0)
    slots = [Slot("a", MONDAY + timedelta(hours=h)) for h in range(5)]
    queue = [Candidate(f"s{n}", "share", False, rank=n) for n in range(1000)]
    queue += [Candidate(f"h{n}", "help", False, rank=n, accounts=("a",)) for n in range(1000)]
    queue += [Candidate(f"b{n}", "help", False, rank=n, accounts=("b",)) for n in range(1000)]
    brand = Brand(rules, slots, [], queue)
    eager, later, read = _read_lazily(brand)
    result = plan(slots, [], eager, rules, by_id, later)
    assert all(p.item is not None for p in result.placements)
    # Five slots, two give kinds: each stream is read a step ahead of what it handed out,
    # and the help items for another account are passed over only as far as "a" needs.
    assert len(read) <= 20, read  # of the 3,000 items
