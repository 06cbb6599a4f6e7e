"""The command line: exit codes, messages without tracebacks, and the happy paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_init_writes_a_working_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
    result = run("init", str(tmp_path / "ws"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "planner.toml").read_text() == (
        REPO / "config.example.toml"
    ).read_text()
    assert (tmp_path / "ws" / "queue" / "shares.toml").is_file()
    assert (tmp_path / "ws" / "templates" / "share.txt.j2").is_file()
    monkeypatch.chdir(tmp_path / "ws")
    assert run("queue", "sync").exit_code == 0
    assert run("config", "check").exit_code == 0


def test_init_keeps_existing_files(tmp_path: Path) -> None:
    (tmp_path / "planner.toml").write_text("# mine\n")
    result = run("init", str(tmp_path))
    assert "kept" in result.output
    assert (tmp_path / "planner.toml").read_text() == "# mine\n"


def test_sync_then_list(workspace: Path) -> None:
    result = run("queue", "sync")
    assert result.exit_code == 0, result.output
    assert "added" in result.output
    again = run("queue", "sync")
    assert " 0 added, 0 updated" in again.output
    listing = run("queue", "list", "--kind", "promo", "--json")
    rows = json.loads(listing.output)
    assert {row["kind"] for row in rows} == {"promo"}
    assert rows[0]["id"] == "launch-test-insights"  # highest priority first
    assert all(row["class"] == "pitch" for row in rows)
    table = run("queue", "list", "--status", "queued")
    assert table.exit_code == 0 and "tip-cache-keys" in table.output


def test_sync_json_counts_what_changed(workspace: Path) -> None:
    first = json.loads(run("queue", "sync", "--json").output)
    files = len(list((workspace / "queue").glob("*.toml")))
    assert first["files"] == files and first["items"] == first["added"] > 0
    assert (first["updated"], first["unchanged"], first["archived"]) == (0, 0, 0)
    shares = workspace / "queue" / "shares.toml"
    head, *items = shares.read_text().split("[[item]]")
    shares.write_text(head + "[[item]]" + items[0])  # keep the file's first item only
    again = json.loads(run("queue", "sync", "--json").output)
    assert again["files"] == files and again["added"] == again["updated"] == 0
    assert again["unchanged"] == again["items"] == first["items"] - (len(items) - 1)
    assert again["archived"] == len(items) - 1 > 0


def test_bad_queue_file_exits_2_naming_file_line_and_key(workspace: Path) -> None:
    (workspace / "queue" / "zz.toml").write_text(
        '[[item]]\nkind = "help"\ntext = "x"\nurl = "nope"\n'
    )
    result = CliRunner().invoke(main, ["queue", "sync"])
    assert result.exit_code == 2
    assert "zz.toml:4: item[0].url:" in result.output
    assert "Traceback" not in result.output
    listing = run("queue", "list", "--json")
    assert json.loads(listing.output) == []  # nothing was imported


def test_bad_config_exits_2_without_traceback(workspace: Path) -> None:
    (workspace / "planner.toml").write_text('timezone = "Mars/Base"\n')
    result = CliRunner().invoke(main, ["queue", "list"])
    assert result.exit_code == 2
    assert "planner.toml:1: timezone: unknown timezone" in result.output
    assert "Traceback" not in result.output


def test_missing_config_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 2
    assert "planner init" in result.output


def test_config_option_and_env_var_choose_the_file(workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('timezone = "Asia/Tokyo"\n')
    assert "Asia/Tokyo" in run("--config", str(other), "config", "check").output
    assert "Asia/Tokyo" in run("config", "check", env={"PLANNER_CONFIG": str(other)}).output


def test_unknown_command_and_bad_option_exit_2(workspace: Path) -> None:
    assert CliRunner().invoke(main, ["frobnicate"]).exit_code == 2
    assert CliRunner().invoke(main, ["queue", "list", "--status", "nope"]).exit_code == 2


def test_unknown_account_filter_exits_2(workspace: Path) -> None:
    result = CliRunner().invoke(main, ["queue", "list", "--account", "nobody"])
    assert result.exit_code == 2
    assert "no account 'nobody'" in result.output


def test_queue_add_stores_one_item_and_reports_bad_input(workspace: Path) -> None:
    result = run(
        "queue", "add", "--kind", "help", "--text", "A tip", "--id", "cli-tip", "--tag", "x"
    )
    assert result.exit_code == 0 and "added cli-tip" in result.output
    assert (
        "updated cli-tip"
        in run("queue", "add", "--kind", "help", "--text", "A tip!", "--id", "cli-tip").output
    )
    rows = json.loads(run("queue", "list", "--json").output)
    assert [(r["id"], r["text"], r["source"]) for r in rows] == [
        ("cli-tip", "A tip!", "command line")
    ]
    bad = CliRunner().invoke(main, ["queue", "add", "--kind", "share", "--title", "t"])
    assert bad.exit_code == 2
    assert "url: required" in bad.output and "credit: required" in bad.output


def test_config_check_redacts_every_secret(workspace: Path) -> None:
    config = (workspace / "planner.toml").read_text()
    config += (
        '\n[accounts.hook]\nnetwork = "webhook"\nslots = ["mon 09:00"]\n'
        '[accounts.hook.credentials]\nsigning_secret_env = "HOOK_SECRET"\n'
        '[accounts.hook.options]\nurl = "https://hooks.example.com/catch/123/abcsecretpath"\n'
    )
    config = config.replace('url = "sqlite:///', 'url = "sqlite:///')  # keep the db
    (workspace / "planner.toml").write_text(config)
    env = {"HOOK_SECRET": "s3cr3t-value"}
    for args in (["config", "check"], ["config", "check", "--json"]):
        result = run(*args, env=env)
        assert result.exit_code == 0, result.output
        for secret in ("s3cr3t-value", "abcsecretpath"):
            assert secret not in result.output
        assert "HOOK_SECRET" in result.output
    report = json.loads(run("config", "check", "--json", env=env).output)
    assert report["accounts"]["hook"]["credentials"]["signing_secret_env"] == {
        "env": "HOOK_SECRET",
        "set": True,
    }


def test_config_check_hides_the_database_password(workspace: Path) -> None:
    config = (workspace / "planner.toml").read_text()
    import re

    config = re.sub(
        r'url = "(sqlite|postgresql)[^"]*"',
        'url = "postgresql+psycopg://u:pw123@db.internal/p"',
        config,
    )
    (workspace / "planner.toml").write_text(config)
    result = run("config", "check")
    assert "postgresql+psycopg://u:***@db.internal/p" in result.output
    assert "pw123" not in result.output


def test_db_upgrade_reports_revisions(workspace: Path) -> None:
    first = run("db", "upgrade")
    assert first.exit_code == 0 and "upgraded from an empty database" in first.output
    assert "already at revision" in run("db", "upgrade").output


def test_status_resolve_and_resume_from_the_command_line(workspace: Path) -> None:
    from datetime import UTC, datetime

    from planner.config.settings import load_config
    from planner.store.database import open_database
    from planner.store.models import AccountState, Item, Post

    config = load_config(workspace / "planner.toml")
    db = open_database(config.database_url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        session.add(Item(id="t", kind="help", text="t", source="x", content_hash="x"))
        session.add(
            Post(item_id="t", account="main", slot_at=now, kind="help", is_pitch=False,
                 text="t", status="unknown", idempotency_key="k1", reason="crash")
        )  # fmt: skip
        session.add(AccountState(account="main", paused=True, paused_reason="401 bad token"))
    with db.transaction() as session:
        post_id = session.query(Post.id).scalar()
    db.dispose()

    report = json.loads(run("status", "--json").output)
    assert report["accounts"]["main"]["paused_reason"] == "401 bad token"
    assert [row["post"] for row in report["unknown"]] == [post_id]
    text = run("status").output
    assert "PAUSED: 401 bad token" in text and "planner resume main" in text

    usage = CliRunner().invoke(main, ["resolve", str(post_id)])
    assert usage.exit_code == 2
    assert run("resolve", str(post_id), "--published", "https://x.example/1").exit_code == 0
    again = CliRunner().invoke(main, ["resolve", str(post_id), "--not-published"])
    assert again.exit_code == 1 and "not unknown" in again.output
    missing = CliRunner().invoke(main, ["resolve", "999999", "--not-published"])
    assert missing.exit_code == 1 and "no post with id 999999" in missing.output

    assert run("resume", "main").exit_code == 0
    assert json.loads(run("status", "--json").output)["accounts"]["main"]["paused"] is False
    assert CliRunner().invoke(main, ["resume", "nobody"]).exit_code == 2


def test_config_check_online_asks_each_account_and_offline_touches_nothing(
    workspace: Path,
) -> None:
    offline = json.loads(run("config", "check", "--json").output)
    assert "online" not in offline
    online = run("config", "check", "--online")
    assert online.exit_code == 0, online.output
    assert "main (outbox): ok: publishes as outbox file" in online.output
    # An account whose token is not in the environment: found before any request is made.
    (workspace / "planner.toml").write_text(
        (workspace / "planner.toml").read_text()
        + '\n[accounts.toot]\nnetwork = "mastodon"\nslots = ["mon 09:00"]\n'
        'credentials = { access_token_env = "PLANNER_TEST_UNSET_TOKEN" }\n'
        'options = { api_base_url = "http://127.0.0.1:9" }\n'
    )
    failed = CliRunner().invoke(main, ["config", "check", "--online"], env={})
    assert failed.exit_code == 1, failed.output
    assert "toot (mastodon): FAILED: " in failed.output
    assert "PLANNER_TEST_UNSET_TOKEN" in failed.output
    assert "credentials check failed for: toot" in failed.output


def test_a_run_that_cannot_start_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "planner.toml"
    config.write_text(
        '[accounts.main]\nnetwork = "outbox"\nslots = ["mon 09:00"]\n'
        '[accounts.main.options]\ncolour = "red"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "run", "--once"])
    assert result.exit_code == 2, result.output
    assert "colour" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["planner.toml"]  # no database made
