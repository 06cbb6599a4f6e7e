"""The cycle collector leaves the objects a plan finds already made alone while it plans,
and takes them back afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from planner.heap import YOUNG_THRESHOLD, older_objects_frozen


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_made_before_are_frozen_inside_and_collected_again_after() -> None:
    made_before: list[object] = [object()]
    with older_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert not any(o is made_before for o in gc.get_objects())  # out of every generation
        made_inside: list[object] = [object()]
        assert gc.get_freeze_count() == frozen
        assert any(o is made_inside for o in gc.get_objects())
    assert gc.get_freeze_count() == 0
    assert any(o is made_before for o in gc.get_objects())


def test_an_error_inside_still_unfreezes() -> None:
    with pytest.raises(RuntimeError), older_objects_frozen():
        raise RuntimeError("planning failed")
    assert gc.get_freeze_count() == 0


def test_a_freeze_made_by_the_caller_is_left_as_it_is() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with older_objects_frozen():
        pass
    assert gc.get_freeze_count() == frozen


def test_the_young_generation_is_collected_less_often_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with older_objects_frozen():
        young, *older = gc.get_threshold()
        assert young == max(before[0], YOUNG_THRESHOLD)
        assert tuple(older) == before[1:]
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), older_objects_frozen():
        raise RuntimeError("planning failed")
    assert gc.get_threshold() == before
