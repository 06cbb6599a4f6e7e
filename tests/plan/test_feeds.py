"""The feeds of a kind's lazy streams: a feed whose count is not known reads on for its pool,
asks the census once one read goes far, and from then on every feed of the kind stops where
its items end; a feed known to get nothing never reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from planner.plan.feeds import FAR, Later, feeds_of
from planner.plan.model import Candidate

FOR_B = 2 * FAR + 500  # the stream's items before the one for "a"


def _stream(pulled: list[str]) -> Iterator[Candidate]:
    for n in range(FOR_B + 100):
        accounts = ("a",) if n == FOR_B else ("b",)
        candidate = Candidate(f"help-{n:05d}", "help", False, rank=n, accounts=accounts)
        pulled.append(candidate.id)
        yield candidate


def _counted(calls: list[int]) -> tuple[Mapping[str, int], int]:
    calls.append(1)
    return {"a": 1, "b": FOR_B + 99}, 0


def test_a_far_read_asks_the_census_once_and_every_feed_then_stops_at_its_end() -> None:
    pulled: list[str] = []
    calls: list[int] = []
    later = Later(iter(()), _stream(pulled), None, census=lambda: _counted(calls))
    feeds = feeds_of({"a", "b", "c"}, {"help": later})
    own_a, own_c = feeds["help"]["a"][1], feeds["help"]["c"][1]
    item = own_a.get(0)
    assert item is not None and item.id == f"help-{FOR_B:05d}"
    assert len(calls) == 1  # one read went past FAR items of "b": counted then
    assert len(pulled) == FOR_B + 1  # and read on to "a"'s item, no further
    # "a" has its one item: asking for another reads nothing more.
    assert own_a.get(1) is None and len(pulled) == FOR_B + 1
    # "c" is named by no item: with the count known it reads nothing either.
    assert own_c.get(0) is None and len(pulled) == FOR_B + 1
    assert len(calls) == 1


def test_a_feed_that_finds_its_item_near_never_asks_the_census() -> None:
    pulled: list[str] = []
    calls: list[int] = []
    later = Later(iter(()), _stream(pulled), None, census=lambda: _counted(calls))
    own_b = feeds_of({"a", "b"}, {"help": later})["help"]["b"][1]
    assert [own_b.get(n).id for n in range(3)] == [  # type: ignore[union-attr]
        "help-00000",
        "help-00001",
        "help-00002",
    ]
    assert calls == [] and len(pulled) == 3


def test_a_feed_known_to_get_nothing_reads_nothing() -> None:
    pulled: list[str] = []
    later = Later(iter(()), _stream(pulled), None, known={"c": 0}, census=lambda: _counted([]))
    own_c = feeds_of({"b", "c"}, {"help": later})["help"]["c"][1]
    assert own_c.get(0) is None and pulled == []
