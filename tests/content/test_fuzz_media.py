"""Fuzzing the images of queue items (``[[item.media]]``): whatever shape, type or size they
have, `planner queue sync` imports the item (exit 0) or names what is wrong (exit 2), never
crashes, and leaves the database as it was after a refusal."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support.fuzz import Workspace, odd_text, odd_values, sync_fuzzed
from support.images import gif, png, webp

BLUESKY = (
    '\n[accounts.sky]\nnetwork = "bluesky"\noptions = { handle = "brand.bsky.social" }\n'
    'credentials = { app_password_env = "BSKY" }\n'
)
FILES = {
    "a.png": png(),
    "edge.png": png(10, 10, size=1_000_000),  # Bluesky's limit exactly
    "over.png": png(10, 10, size=1_000_001),  # one byte over it
    "tiny.gif": gif(),
    "pic.webp": webp(),
    "text.png": b"not an image at all\n",
    "empty.png": b"",
    "cut.png": png()[:12],  # the signature and half a chunk header
}
PATHS = [*FILES, "missing.png", "sub", "sub/", "../outside.png", "/dev/null", ".", ""]
URLS = ["http://127.0.0.1:9/nothing-listens.png", "https://", "ftp://example.org/a.png"]


@pytest.fixture(scope="module")
def media_workspace(fuzz_workspace: Workspace) -> Workspace:
    for name, data in FILES.items():
        (fuzz_workspace.root / "queue" / name).write_bytes(data)
    (fuzz_workspace.root / "queue" / "sub").mkdir(exist_ok=True)
    return fuzz_workspace


alts = st.one_of(
    odd_text,
    st.sampled_from(["A chart", "x" * 1000, "x" * 1001, "x" * 1500, "x" * 1501, "y" * 5001]),
    odd_values,
)


@st.composite
def media_tables(draw: st.DrawFn) -> Any:
    """One ``[[item.media]]`` table, mostly plausible, with a key or two made odd."""
    if draw(st.integers(0, 9)) == 0:
        return draw(odd_values)
    table: dict[str, Any] = {}
    if draw(st.integers(0, 5)):
        table["path"] = draw(st.sampled_from(PATHS) | odd_text)
    if draw(st.integers(0, 5)) == 0:
        table["url"] = draw(st.sampled_from(URLS) | odd_values)
    if draw(st.integers(0, 5)):
        table["alt"] = draw(alts)
    if draw(st.integers(0, 19)) == 0:
        table[draw(st.sampled_from(["caption", "file", "src"]))] = draw(odd_values)
    return table


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"id": "pictured", "kind": "help", "text": "A tip with a picture."}
    if draw(st.booleans()):
        item["accounts"] = draw(st.sampled_from([["sky"], ["main"], ["main", "sky"]]))
    item["media"] = (
        draw(odd_values)
        if draw(st.integers(0, 9)) == 0
        else draw(st.lists(media_tables(), min_size=0, max_size=6))
    )
    return {"item": [item]}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents(), require_alt=st.booleans(), resize=st.booleans())
def test_queue_sync_imports_images_or_names_the_problem(
    media_workspace: Workspace, document: dict[str, Any], require_alt: bool, resize: bool
) -> None:
    workspace = media_workspace
    workspace.reset()
    config = workspace.root / "planner.toml"
    text = config.read_text() + BLUESKY
    text = text.replace("resize = false", f"resize = {str(resize).lower()}")
    text = text.replace("require_alt = true", f"require_alt = {str(require_alt).lower()}")
    config.write_text(text)
    result = sync_fuzzed(workspace, document)
    event(f"queue sync exit {result.exit_code}")
