"""Fuzzing planner.toml: whatever the file says, `planner config check` accepts it (exit 0)
or names what is wrong (exit 2); a config it accepts works for `queue sync` and a dry-run
`plan` too. Nothing crashes, and a refusal leaves the database as it was."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support.fuzz import (
    REPO,
    Workspace,
    assert_clean_exit,
    dump_toml,
    odd_values,
    plausible_values,
    snapshot,
)

EXAMPLE = tomllib.loads((REPO / "config.example.toml").read_text())
# Every key of the example, and the tables that hold them (a table replaced by a value is a
# wrong shape too). database.url is left out: an odd URL could name a real server.
PATHS: list[tuple[str, ...]] = [
    ("timezone",), ("own_domains",), ("queue_dir",), ("templates_dir",), ("database",),
    ("kinds",), ("kinds", "share"), ("kinds", "share", "class"), ("kinds", "help", "weight"),
    ("kinds", "question", "requires"), ("kinds", "promo", "template"),
    ("balance",), ("balance", "give_to_pitch"), ("balance", "preset"),
    ("balance", "window_posts"), ("balance", "window_days"), ("balance", "min_pitch_gap_hours"),
    ("balance", "scope"), ("plan",), ("plan", "duplicate_url_days"),
    ("run",), ("run", "grace_minutes"), ("run", "min_spacing_seconds"), ("run", "max_attempts"),
    ("run", "retry_base_seconds"), ("run", "retry_cap_seconds"), ("run", "sweep_seconds"),
    ("run", "concurrency"),
    ("accounts",), ("accounts", "main"), ("accounts", "main", "network"),
    ("accounts", "main", "timezone"), ("accounts", "main", "slots"),
    ("accounts", "main", "credentials"), ("accounts", "main", "balance"),
    ("accounts", "main", "balance", "window_days"),
    ("unknown",), ("kinds", "odd-kind", "class"), ("accounts", "odd", "network"),
    ("feeds",), ("feeds", "timeout_seconds"), ("feeds", "max_bytes"), ("feeds", "max_redirects"),
    ("feeds", "refresh_minutes"), ("feeds", "ci-weekly"), ("feeds", "ci-weekly", "kind"),
    ("feeds", "ci-weekly", "accounts"), ("feeds", "ci-weekly", "credit"),
    ("feeds", "ci-weekly", "tags"), ("feeds", "ci-weekly", "max_per_week"),
    ("feeds", "ci-weekly", "not_after_days"), ("feeds", "ci-weekly", "include"),
    ("feeds", "ci-weekly", "first_sync_days"), ("feeds", "ci-weekly", "pitch_kind"),
    ("feeds", "Odd Name", "url"), ("feeds", "sources"),
    ("lint",), ("lint", "mode"), ("lint", "ask_patterns"), ("lint", "extra_ask_patterns"),
    ("lint", "link_only"),
]  # fmt: skip
# feeds.*.url is left out for the same reason as database.url.
# Values that are wrong only in their own key, besides the odd values every key gets.
NEAR_MISSES = st.sampled_from(
    ["sqlite:///planner.toml/x.db", "sqlite:///sub\x00dir/x.db", "not a url", "", "mon-fri 25:00"]
)


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    table = document
    for key in path[:-1]:
        if not isinstance(table.get(key), dict):
            table[key] = {}
        table = table[key]
    table[path[-1]] = value


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.integers(0, 9)) == 0:
            _set(document, ("database", "url"), draw(NEAR_MISSES))
        else:
            path = draw(st.sampled_from(PATHS))
            _set(document, path, draw(odd_values | NEAR_MISSES | plausible_values))
    return document


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=configs())
def test_config_check_accepts_or_names_the_problem(
    fuzz_workspace: Workspace, document: dict[str, Any]
) -> None:
    fuzz_workspace.reset()
    before = snapshot(fuzz_workspace.database)
    (fuzz_workspace.root / "planner.toml").write_text(dump_toml(document), encoding="utf-8")
    check = fuzz_workspace.invoke("config", "check")
    assert_clean_exit(check)
    event(f"config check exit {check.exit_code}")
    for command in (
        ["queue", "sync"],
        ["plan", "--week", "2026-W49", "--dry-run"],
        ["feeds", "sync"],
    ):
        result = fuzz_workspace.invoke(*command)
        assert_clean_exit(result, allowed=(0, 1, 2) if command[0] in {"plan", "feeds"} else (0, 2))
        if check.exit_code != 0:
            assert result.exit_code == check.exit_code, result.output  # refused alike
        # A feed that fails is recorded as failed (exit 1): only a refusal writes nothing.
        if result.exit_code == 2 or (result.exit_code != 0 and command[0] != "feeds"):
            assert snapshot(fuzz_workspace.database) == before
    if check.exit_code != 0:
        assert "planner.toml" in check.output  # the file is named
