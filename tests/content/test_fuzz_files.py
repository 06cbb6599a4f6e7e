"""Fuzzing queue files: whatever a queue file says, `planner queue sync` imports it (exit 0)
or names what is wrong (exit 2), never crashes, and leaves the database as it was after a
refusal; what it imports, a dry-run `plan` can plan."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support.fuzz import (
    Workspace,
    assert_clean_exit,
    odd_dates,
    odd_text,
    odd_values,
    plausible_values,
    sync_fuzzed,
)

ITEM_KEYS = [
    "id", "kind", "text", "title", "url", "credit", "accounts", "variants", "fields",
    "not_before", "not_after", "evergreen", "cooldown_days", "priority", "tags",
]  # fmt: skip
VALID_ITEM = {"id": "fuzzed", "kind": "help", "text": "A tip about caches."}
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "id": st.from_regex(r"[a-z0-9][a-z0-9.:_-]{0,20}", fullmatch=True),
    "kind": st.sampled_from(["share", "help", "promo", "question"]),
    "url": st.sampled_from(["https://lena.example.dev/a", "https://brightline.example/x"]),
    "accounts": st.just(["main"]),
    "priority": st.integers(-(2**31), 2**31 - 1),
    "cooldown_days": st.integers(1, 3660),
    "text": odd_text.filter(lambda text: "\x00" not in text and text.strip() != ""),
    "fields": st.dictionaries(st.sampled_from(["a", "b"]), odd_text | st.integers()),
    "tags": st.lists(st.sampled_from(["git", "ci", "ä 😀"])),
}


@st.composite
def items(draw: st.DrawFn) -> Any:
    """A valid item with a few keys replaced by odd values, or something that is no item."""
    if draw(st.integers(0, 19)) == 0:
        return draw(odd_values)  # a wrong shape: a number, a string, a list where a table goes
    item: dict[str, Any] = dict(VALID_ITEM)
    for _ in range(draw(st.integers(1, 2))):
        key = draw(st.sampled_from([*ITEM_KEYS, "unknown_key"]))
        if key in {"not_before", "not_after"}:
            item[key] = draw(odd_dates | odd_values)
        else:
            item[key] = draw(odd_values | PLAUSIBLE.get(key, plausible_values))
    if draw(st.booleans()):
        item["evergreen"] = True  # so an odd cooldown_days is checked for its range
    return item


@st.composite
def queue_files(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {"item": draw(st.lists(items(), min_size=1, max_size=2))}
    choice = draw(st.integers(0, 11))
    if choice == 0:
        document["defaults"] = draw(odd_values)
    elif choice == 1:
        document["defaults"] = {"kind": draw(odd_values)}
    elif choice == 2:
        document[draw(st.sampled_from(["items", "default", "x"]))] = draw(odd_values)
    elif choice == 3:
        document["item"] = draw(odd_values)  # item = [1, 2], item = "x", item = {...}
    return document


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=queue_files())
def test_queue_sync_imports_or_names_the_problem(
    fuzz_workspace: Workspace, document: dict[str, Any]
) -> None:
    fuzz_workspace.reset()
    result = sync_fuzzed(fuzz_workspace, document)
    event(f"queue sync exit {result.exit_code}")
    if result.exit_code == 0:  # what was imported can be planned
        assert_clean_exit(fuzz_workspace.invoke("plan", "--week", "2026-W49", "--dry-run"), (0,))
