"""Shared fixtures: a database URL for each backend, and a workspace to run commands in.

Database tests run once on SQLite and once on PostgreSQL. The PostgreSQL cases use the
server at $PLANNER_TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432/test), each test in
a schema of its own, and skip with the reason when no server answers.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# CI (.ci/run) replays the same examples on every run, so that a landing depends on the
# change, not on the draw; a run by hand explores new ones, and a failure it finds is a bug.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("PLANNER_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["PLANNER_HYPOTHESIS_PROFILE"])

# Helper modules whose asserts explain themselves, as the tests' own do.
pytest.register_assert_rewrite("support")

if TYPE_CHECKING:
    from support.fuzz import Workspace

REPO = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "PLANNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_postgres_problem: str | None = None
_postgres_checked = False


def _postgres_unavailable() -> str | None:
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        _postgres_checked = True
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("select 1"))
        except OperationalError as exc:
            _postgres_problem = f"no PostgreSQL at {POSTGRES_URL}: {str(exc.orig).strip()}"
        finally:
            engine.dispose()
    return _postgres_problem


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped afterwards)."""
    problem = _postgres_unavailable()
    if problem:
        if os.environ.get("PLANNER_REQUIRE_POSTGRES"):
            pytest.fail(problem)  # CI found a server listening: a skip here would hide a break
        pytest.skip(problem)
    schema = f"planner_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True)
def no_terminal_size_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands whose output is not a terminal draw their tables ``COLUMNS`` wide, else 100,
    and the tests read them so: a ``COLUMNS`` or ``LINES`` set by whoever runs the suite (a
    narrow terminal exporting it; pytest-xdist's workers set 80 and 24) must not change what
    they read. A test about widths sets its own."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'planner.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A copy of the example workspace (config, queue, templates) using ``db_url``, as cwd."""
    root = tmp_path / "ws"
    root.mkdir()
    config = (REPO / "config.example.toml").read_text()
    config = config.replace('url = "sqlite:///planner.db"', f'url = "{db_url}"')
    (root / "planner.toml").write_text(config)
    shutil.copytree(REPO / "queue", root / "queue")
    shutil.copytree(REPO / "templates", root / "templates")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
    return root


@pytest.fixture(scope="module")
def fuzz_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace for a whole fuzz module: each example resets it (``Workspace.reset``)
    rather than paying for a new database."""
    from support.fuzz import Workspace  # imported once its asserts are set to be rewritten

    return Workspace.create(tmp_path_factory.mktemp("fuzz") / "ws")
