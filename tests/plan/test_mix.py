"""The target mix: smooth weighted round-robin over the kinds that have items."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from planner.plan.mix import Mix


def run(mix: Mix, kinds: list[str], slots: int) -> list[str]:
    served = []
    for _ in range(slots):
        best = mix.tick(kinds)[0]
        mix.served(best, kinds)
        served.append(best)
    return served


def test_the_readme_example_interleaves_4_3_1() -> None:
    mix = Mix({"share": 4, "help": 3, "promo": 1})
    assert run(mix, ["share", "help", "promo"], 8) == [
        "share", "help", "share", "help", "promo", "share", "help", "share",
    ]  # fmt: skip


def test_a_refused_kind_keeps_its_credit_and_comes_first_again() -> None:
    mix = Mix({"give": 1, "pitch": 1})
    order = mix.tick(["give", "pitch"])
    assert order == ["give", "pitch"]
    mix.served("pitch", ["give", "pitch"])  # suppose give could not go
    assert mix.tick(["give", "pitch"])[0] == "give"  # give kept its credit: first again


def test_kinds_without_items_are_left_out() -> None:
    mix = Mix({"share": 4, "help": 3})
    assert run(mix, ["help"], 3) == ["help", "help", "help"]


@given(st.lists(st.integers(1, 6), min_size=1, max_size=5), st.integers(1, 12))
def test_every_cycle_serves_each_kind_exactly_its_weight(weights: list[int], cycles: int) -> None:
    kinds = [f"k{n}" for n in range(len(weights))]
    mix = Mix(dict(zip(kinds, weights, strict=True)))
    served = run(mix, kinds, sum(weights) * cycles)
    assert [served.count(kind) for kind in kinds] == [w * cycles for w in weights]
