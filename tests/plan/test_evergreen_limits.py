"""Evergreen limits: reposts per account (``max_reposts``, on the item or its kind) and a
kind's active dates; the preview's runway counts evergreen items by when they come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from planner.config.settings import Config, load_config
from planner.content.files import read_queue_files
from planner.errors import ConfigError, QueueFileError
from planner.plan.engine import plan
from planner.plan.model import Candidate, FixedPost, PlanRules, Slot
from planner.reports.preview.rows import QueueRow
from planner.rule.balancer import BalanceSettings

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
KINDS = {"help": ("give", 1)}
RULES = PlanRules(KINDS, {"a": BalanceSettings(Fraction(1, 5), 10, None, None)}, {"a": "a"})


def daily(days: int) -> list[Slot]:
    return [Slot("a", MONDAY + timedelta(days=n)) for n in range(days)]


def evergreen(max_posts: int | None) -> Candidate:
    return Candidate(
        "tip", "help", False, rank=0, evergreen=True, cooldown=timedelta(days=1),
        max_posts=max_posts,
    )  # fmt: skip


def times_placed(fixed: list[FixedPost], max_posts: int | None) -> int:
    result = plan(daily(7), fixed, [evergreen(max_posts)], RULES, lambda c, a: c.id)
    return sum(1 for p in result.placements if p.item is not None)


def test_an_evergreen_item_goes_out_again_at_most_max_reposts_times_per_account() -> None:
    assert times_placed([], None) == 7  # back every day after its one-day cooldown
    assert times_placed([], 3) == 3  # max_reposts = 2: the first post and two more
    # Posts already made count: one last month leaves two.
    earlier = [FixedPost("a", MONDAY - timedelta(days=30), "tip", False)]
    assert times_placed(earlier, 3) == 2


def config_with(tmp_path: Path, kinds: str) -> Config:
    path = tmp_path / "planner.toml"
    path.write_text(
        'timezone = "UTC"\n[accounts.main]\nnetwork = "outbox"\nslots = ["daily 09:00"]\n' + kinds
    )
    return load_config(path)


def read(tmp_path: Path, config: Config, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "q.toml"
    path.write_text(text)
    return read_queue_files([path], config)


def test_max_reposts_comes_from_the_item_or_its_kind_and_needs_evergreen(tmp_path: Path) -> None:
    config = config_with(tmp_path, '[kinds.help]\nclass = "give"\nmax_reposts = 4\n')
    own, inherited, plain = read(
        tmp_path,
        config,
        '[[item]]\nid = "a"\nkind = "help"\ntext = "a"\nevergreen = true\nmax_reposts = 1\n'
        '[[item]]\nid = "b"\nkind = "help"\ntext = "b"\nevergreen = true\n'
        '[[item]]\nid = "c"\nkind = "help"\ntext = "c"\n',
    )
    assert (own.max_reposts, inherited.max_reposts, plain.max_reposts) == (1, 4, None)
    with pytest.raises(QueueFileError) as caught:
        read(tmp_path, config, '[[item]]\nid = "d"\nkind = "help"\ntext = "d"\nmax_reposts = 2\n')
    assert "max_reposts: max_reposts only applies to evergreen items" in str(caught.value)


def test_a_kinds_active_dates_stand_in_for_its_items_own(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        '[kinds.winter]\nclass = "give"\nactive_from = 2026-12-01\nactive_until = 2027-02-28\n',
    )
    default, own = read(
        tmp_path,
        config,
        '[[item]]\nid = "a"\nkind = "winter"\ntext = "a"\n'
        '[[item]]\nid = "b"\nkind = "winter"\ntext = "b"\nnot_after = 2026-12-24\n',
    )
    assert default.not_before == datetime(2026, 12, 1, tzinfo=UTC)
    assert default.not_after == datetime(2027, 3, 1, tzinfo=UTC)  # through 28 February
    assert own.not_after == datetime(2026, 12, 25, tzinfo=UTC)


def test_a_kinds_active_dates_must_be_in_order(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config_with(
            tmp_path,
            '[kinds.winter]\nclass = "give"\nactive_from = 2027-03-01\nactive_until = 2027-02-28\n',
        )
    assert "kinds.winter" in str(caught.value) and "active_until" in str(caught.value)


def test_the_runway_counts_an_evergreen_item_by_when_it_comes_back() -> None:
    end = MONDAY + timedelta(days=7)
    row = QueueRow("tip", "help", [], "published", None, False, None, None,
                   back_at=end + timedelta(days=3), max_posts=3, uses={"a": 2})  # fmt: skip
    assert row.comes_back_on("a", end + timedelta(days=7))  # back during the next week
    assert not row.comes_back_on("a", end)
    spent = QueueRow("tip", "help", [], "published", None, False, None, None,
                     back_at=None, max_posts=3, uses={"a": 3})  # fmt: skip
    assert not spent.comes_back_on("a", end + timedelta(days=7))  # no reposts left there
    assert spent.comes_back_on("b", end)  # another account has all of its own
