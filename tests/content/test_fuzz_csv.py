"""Fuzzing CSV imports: whatever a CSV file holds, `planner queue import` imports it (exit 0)
or names what is wrong (exit 2), never crashes, and leaves the database as it was after a
refusal."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support.fuzz import Workspace, assert_clean_exit, odd_text, snapshot

COLUMNS = [
    "kind", "text", "title", "url", "credit", "accounts", "not_before", "not_after",
    "priority", "tags", "evergreen", "id", "cooldown_days", "link", "date", "message",
]  # fmt: skip
CELLS: dict[str, st.SearchStrategy[str]] = {
    "kind": st.sampled_from(["help", "share", "promo", "question", "HELP", ""]),
    "url": st.sampled_from(["https://a.example/x", "http://[x", "ftp://a", ""]),
    "link": st.sampled_from(["https://a.example/x", "not a link", ""]),
    "accounts": st.sampled_from(["main", "main;other", "", " , "]),
    "priority": st.sampled_from(["1", "-1", "2147483648", "1.5", "x", ""]),
    "evergreen": st.sampled_from(["yes", "no", "TRUE", "maybe", ""]),
    "cooldown_days": st.sampled_from(["1", "0", "99999", ""]),
    "not_before": st.sampled_from(["2026-12-01", "01/12/2026 09:00", "0001-01-01", "x", ""]),
    "date": st.sampled_from(["2026-12-01 09:00", "31/02/2026", "9999-12-31T23:59", ""]),
}


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.binary(max_size=200))  # anything at all, UTF-8 or not
    if choice == 1:
        return draw(odd_text).encode("utf-8", "surrogatepass")
    header = draw(st.lists(st.sampled_from(COLUMNS) | odd_text, min_size=1, max_size=5))
    rows: list[list[Any]] = []
    for _ in range(draw(st.integers(0, 3))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        cells = [CELLS.get(str(header[i % len(header)]), odd_text) for i in range(width)]
        rows.append([draw(cell | odd_text) for cell in cells])
    out = io.StringIO()
    writer = csv.writer(out)
    if choice != 2:  # choice 2: no header row, as Hootsuite writes it
        spelled = [st.sampled_from([name, name.upper(), f" {name} "]) for name in header]
        writer.writerow([draw(name) for name in spelled])
    writer.writerows(rows)
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + out.getvalue().encode("utf-8", "surrogatepass")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=csv_files(), kind=st.none() | st.sampled_from(["help", "share", "nope"]))
def test_queue_import_imports_or_names_the_problem(
    fuzz_workspace: Workspace, content: bytes, kind: str | None
) -> None:
    fuzz_workspace.reset()
    before = snapshot(fuzz_workspace.database)
    path = fuzz_workspace.root / "fuzzed.csv"
    path.write_bytes(content)
    try:
        result = fuzz_workspace.invoke(
            "queue", "import", str(path), *(["--kind", kind] if kind else [])
        )
    finally:
        path.unlink()
    assert_clean_exit(result)
    event(f"queue import exit {result.exit_code}")
    if result.exit_code != 0:
        assert snapshot(fuzz_workspace.database) == before
        assert "fuzzed.csv" in result.output  # the file is named
