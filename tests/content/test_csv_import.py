"""`planner queue import FILE.csv`: the planner's columns and the bulk-upload layout, all or
nothing, every problem named by row and column, re-imports that update instead of adding,
and `queue sync` leaving imported items alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from planner.cli import main
from planner.config.settings import load_config
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def db(workspace: Path) -> Iterator[Database]:
    assert invoke("queue", "sync").exit_code == 0
    database = open_database(load_config(workspace / "planner.toml").database_url)
    yield database
    database.dispose()


def items_from(db: Database, source: str) -> dict[str, Item]:
    with db.reading() as session:
        rows = session.query(Item).filter(Item.source == source).all()
        session.expunge_all()
        return {item.id: item for item in rows}


def write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


PLANNER_CSV = (
    "Kind,TEXT, Title ,url,credit,accounts,not_before,not_after,priority,tags,evergreen\n"
    "share,,Faster builds,https://ann.example/builds,@ann,main,"
    '2026-12-01,2026-12-31,2,"ci, git",no\n'
    'help,"A tip, with a comma",,,,,,,,,yes\n'
)


@pytest.mark.parametrize("bom", [False, True], ids=["utf-8", "utf-8 with BOM"])
def test_the_planner_columns_are_read_whatever_their_case(
    workspace: Path, db: Database, bom: bool
) -> None:
    write(workspace / "backlog.csv", PLANNER_CSV, bom=bom)
    result = invoke("queue", "import", "backlog.csv", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 2
    items = items_from(db, "csv:backlog.csv")
    share = next(item for item in items.values() if item.kind == "share")
    assert (share.title, share.url, share.credit) == (
        "Faster builds", "https://ann.example/builds", "@ann"
    )  # fmt: skip
    assert share.accounts == ["main"] and share.tags == ["ci", "git"] and share.priority == 2
    assert share.not_before is not None and share.not_after is not None
    tip = next(item for item in items.values() if item.kind == "help")
    assert tip.text == "A tip, with a comma" and tip.evergreen


def test_a_second_import_updates_and_archives_rows_that_are_gone(
    workspace: Path, db: Database
) -> None:
    path = write(workspace / "backlog.csv", PLANNER_CSV)
    assert invoke("queue", "import", "backlog.csv").exit_code == 0
    again = invoke("queue", "import", "backlog.csv", "--json")
    assert json.loads(again.output)["unchanged"] == 2
    write(path, PLANNER_CSV.replace("A tip, with a comma", "A tip, edited").splitlines()[0] + "\n"
          + PLANNER_CSV.splitlines()[1] + "\n")  # fmt: skip
    report = json.loads(invoke("queue", "import", "backlog.csv", "--json").output)
    assert (report["added"], report["unchanged"], report["archived"]) == (0, 1, 1)
    statuses = {item.kind: item.status for item in items_from(db, "csv:backlog.csv").values()}
    assert statuses == {"share": ItemStatus.QUEUED, "help": ItemStatus.ARCHIVED}


def test_queue_sync_leaves_imported_items_alone(workspace: Path, db: Database) -> None:
    write(workspace / "backlog.csv", PLANNER_CSV)
    assert invoke("queue", "import", "backlog.csv").exit_code == 0
    assert invoke("queue", "sync").exit_code == 0
    items = items_from(db, "csv:backlog.csv").values()
    assert [item.status for item in items] == [ItemStatus.QUEUED] * 2


def test_every_bad_row_is_named_with_its_column_and_nothing_is_imported(
    workspace: Path, db: Database
) -> None:
    write(
        workspace / "bad.csv",
        "kind,text,priority,evergreen,url\n"
        "help,fine,1,no,\n"
        "help,x,high,no,\n"
        "promo,,,,\n"
        "nope,hi,1,maybe,ftp://x.example\n",
    )
    result = invoke("queue", "import", "bad.csv")
    assert result.exit_code == 2
    out = result.output
    assert 'bad.csv:3: row 3, column priority: "high" is not a whole number' in out
    assert "bad.csv:4: row 4, column text: missing text" in out
    assert 'row 5, column evergreen: "maybe" is not true or false' in out
    assert "Traceback" not in out
    assert items_from(db, "csv:bad.csv") == {}


def test_an_unknown_column_is_named_in_the_header(workspace: Path, db: Database) -> None:
    write(workspace / "bad.csv", "kind,text,colour\nhelp,x,red\n")
    result = invoke("queue", "import", "bad.csv")
    assert result.exit_code == 2
    assert 'bad.csv:1: row 1, column 3: unknown column "colour"' in result.output


def test_a_row_that_does_not_render_is_named(workspace: Path, db: Database) -> None:
    # The share template prints a title: a share without one cannot be planned.
    write(workspace / "s.csv", "kind,text,url,credit\nshare,Read,https://a.example/x,@a\n")
    result = invoke("queue", "import", "s.csv")
    assert result.exit_code == 2
    assert "s.csv: row 2, column title:" in result.output
    assert items_from(db, "csv:s.csv") == {}


def test_a_row_never_takes_over_a_queue_file_item(workspace: Path, db: Database) -> None:
    write(workspace / "c.csv", "id,kind,text\ntip-cache-keys,help,Another text\n")
    result = invoke("queue", "import", "c.csv")
    assert result.exit_code == 2
    assert 'id "tip-cache-keys" is already an item from queue/help.toml' in result.output


def test_not_utf8_is_refused_with_its_line(workspace: Path, db: Database) -> None:
    (workspace / "latin.csv").write_bytes(b"kind,text\nhelp,caf\xe9\n")
    result = invoke("queue", "import", "latin.csv")
    assert result.exit_code == 2
    assert "latin.csv:2: not UTF-8" in result.output


def test_the_bulk_upload_layout_with_a_header(workspace: Path, db: Database) -> None:
    write(
        workspace / "buffer.csv",
        "Text,Link,Date\n"
        "Our changelog is out,https://brightline.example/changelog,2026-12-03 10:00\n"
        "A tip for the week,,03/12/2026\n",
    )
    result = invoke("queue", "import", "buffer.csv", "--kind", "help")
    assert result.exit_code == 0, result.output
    items = sorted(items_from(db, "csv:buffer.csv").values(), key=lambda item: item.text or "")
    assert [item.kind for item in items] == ["help", "help"]
    assert items[1].url == "https://brightline.example/changelog"
    assert all(item.not_before is not None for item in items)
    # Dates are the account timezone's (Europe/Berlin in the example): 10:00 is 09:00 UTC.
    assert items[1].not_before is not None and items[1].not_before.hour == 9


def test_hootsuite_layout_without_a_header(workspace: Path, db: Database) -> None:
    write(workspace / "hs.csv", "01/12/2026 09:00,Hello,https://a.example/h\n02/12/2026,Bye,\n")
    result = invoke("queue", "import", "hs.csv")
    assert result.exit_code == 0, result.output
    assert sorted(item.text or "" for item in items_from(db, "csv:hs.csv").values()) == [
        "Bye", "Hello"
    ]  # fmt: skip


def test_a_bad_bulk_date_names_the_date_column(workspace: Path, db: Database) -> None:
    write(workspace / "b.csv", "message,date\nHello,next tuesday\n")
    result = invoke("queue", "import", "b.csv")
    assert result.exit_code == 2
    assert "b.csv:2: row 2, column date:" in result.output
