"""`queue sync` and `queue add` render what plan will need, on SQLite and PostgreSQL.

A share whose template prints a title it lacks, or a text too long for one of its accounts'
networks, is refused when it is written (exit 2, file, line, item, account; nothing stored)
instead of being skipped by a plan weeks later.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from planner.cli import main

X_ACCOUNT = """
[accounts.roast_x]
network = "x"
slots = ["mon-fri 09:00"]
[accounts.roast_x.credentials]
oauth2_access_token_env = "X_TOKEN"
"""
LONG = "word " * 80  # 400 characters: fine on the outbox, too long for X


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def stored_ids() -> set[str]:
    result = run("queue", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["id"] for row in json.loads(result.output)}


def only_queue(workspace: Path, text: str) -> Path:
    """Replace the example queue with one file; add an X account to the config."""
    for path in (workspace / "queue").glob("*.toml"):
        path.unlink()
    with (workspace / "planner.toml").open("a") as config:
        config.write(X_ACCOUNT)
    path = workspace / "queue" / "mine.toml"
    path.write_text(text)
    return path


def test_sync_refuses_a_share_whose_template_needs_a_missing_title(workspace: Path) -> None:
    path = only_queue(
        workspace,
        '[[item]]\nid = "fine"\nkind = "help"\ntext = "ok"\n\n'
        '[[item]]\nid = "no-title"\nkind = "share"\ntext = "A good read"\n'
        'url = "https://blog.example.org/a"\ncredit = "@ada"\n',
    )
    result = run("queue", "sync")
    assert result.exit_code == 2, result.output
    assert f'{path}:6: item[1] (id "no-title").title: template share.txt.j2 line 1: ' in (
        result.output
    )
    assert 'variable "title" is undefined' in result.output
    assert '"main", "roast_x"' in result.output  # named once for every account it hits
    assert "Traceback" not in result.output
    assert stored_ids() == set()  # all or nothing: the good item is not stored either


def test_sync_refuses_a_text_too_long_for_one_account_and_names_the_fix(workspace: Path) -> None:
    path = only_queue(workspace, f'[[item]]\nid = "tip-long"\nkind = "help"\ntext = "{LONG}"\n')
    result = run("queue", "sync")
    assert result.exit_code == 2, result.output
    assert f'{path}:4: item[0] (id "tip-long").text: account "roast_x" (x): ' in result.output
    assert "too long for X: 399/280" in result.output
    assert '[item.variants.x] text = "…"' in result.output
    assert '"main"' not in result.output  # the outbox takes any length
    assert stored_ids() == set()

    path.write_text(path.read_text() + '[item.variants.x]\ntext = "Short for X"\n')
    fixed = run("queue", "sync")
    assert fixed.exit_code == 0, fixed.output
    assert stored_ids() == {"tip-long"}


def test_a_too_long_variant_points_at_the_variant(workspace: Path) -> None:
    path = only_queue(
        workspace,
        f'[[item]]\nid = "tip"\nkind = "help"\ntext = "ok"\n[item.variants.x]\ntext = "{LONG}"\n',
    )
    result = run("queue", "sync")
    assert result.exit_code == 2, result.output
    assert f'{path}:6: item[0] (id "tip").variants.x.text: account "roast_x"' in result.output
    assert "shorten its [item.variants.x] text" in result.output


def test_only_new_or_edited_items_are_rendered(workspace: Path) -> None:
    assert run("queue", "sync").exit_code == 0
    before = stored_ids()
    # A template broken after the sync: unchanged items were checked when stored and are not
    # rendered again (plan reports them), so the re-sync still succeeds ...
    (workspace / "templates" / "help.txt.j2").write_text("{{ nothing_here }}\n")
    again = run("queue", "sync")
    assert again.exit_code == 0, again.output
    # ... while an edited item is rendered, and refused by the broken template.
    helps = workspace / "queue" / "help.toml"
    helps.write_text(helps.read_text().replace('id = "tip-cache-keys"', 'id = "tip-edited"', 1))
    edited = run("queue", "sync")
    assert edited.exit_code == 2, edited.output
    assert '(id "tip-edited")' in edited.output
    assert 'template help.txt.j2 line 1: variable "nothing_here" is undefined' in edited.output
    assert "tip-cache-keys" not in edited.output
    assert stored_ids() == before


def test_queue_add_gets_the_same_check(workspace: Path) -> None:
    only_queue(workspace, "")
    no_title = run(
        "queue", "add", "--kind", "share", "--text", "Read this",
        "--url", "https://blog.example.org/b", "--credit", "@ada",
    )  # fmt: skip
    assert no_title.exit_code == 2, no_title.output
    assert "command line: --title: template share.txt.j2 line 1:" in no_title.output
    assert 'variable "title" is undefined' in no_title.output
    too_long = run("queue", "add", "--kind", "help", "--text", LONG, "--id", "long")
    assert too_long.exit_code == 2, too_long.output
    assert 'command line: --text: account "roast_x" (x): too long for X' in too_long.output
    only_main = run("queue", "add", "--kind", "help", "--text", LONG, "--account", "main")
    assert only_main.exit_code == 0, only_main.output  # not going to X: no X limit
    assert len(stored_ids()) == 1


def test_a_variant_for_a_network_that_does_not_exist_is_refused(workspace: Path) -> None:
    path = only_queue(
        workspace,
        '[[item]]\nid = "tip"\nkind = "help"\ntext = "ok"\n[item.variants.mastodn]\ntext = "x"\n',
    )
    result = run("queue", "sync")
    assert result.exit_code == 2, result.output
    assert f'{path}:5: item[0] (id "tip").variants.mastodn: unknown network "mastodn"' in (
        result.output
    )
    assert "mastodon" in result.output  # the installed networks are listed


def test_an_unreadable_template_stops_the_sync_naming_the_file(workspace: Path) -> None:
    path = workspace / "templates" / "help.txt.j2"
    path.write_bytes("{{ text }} café".encode("latin-1"))
    result = run("queue", "sync")
    assert result.exit_code == 2, result.output
    assert f"{path}:1: not UTF-8 text" in result.output
    assert "Traceback" not in result.output
    assert stored_ids() == set()
