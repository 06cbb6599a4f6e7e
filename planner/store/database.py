"""Open the database, keep its schema current, and hand out sessions.

The same code runs on SQLite (the embedded default) and PostgreSQL (``postgresql+psycopg``).

Writers wait their turn. :meth:`Database.transaction` is a write transaction: on SQLite it
takes the write lock as it begins (``BEGIN IMMEDIATE``), so a command that reads before it
writes cannot find, halfway through, that a runner wrote in between (SQLite would then refuse
at once, without waiting); it waits up to the busy timeout for the lock, and past it raises
:class:`~planner.errors.DatabaseBusy` naming who holds the file. :meth:`Database.reading` is a
read transaction: with WAL journaling, readers never wait for a writer and never block one.
The schema is only ever created by the Alembic migrations in ``planner/store/migrations``: a new,
empty database is brought to the head revision when first opened; an existing database at an
older revision is refused until ``planner db upgrade`` is run, so data is never migrated
behind a person's back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from planner.errors import DatabaseBusy, DomainError, InputError, SchemaOutOfDate
from planner.redact import redact_database_url as redact_url
from planner.store.sqlite_lock import runner_holding

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision. Written down rather than read from planner/store/migrations so
# that opening a database (every command) does not import Alembic, a fifth of a second; a test
# checks that it names the head of the migrations.
SCHEMA_HEAD = "0014"
# How long a writer waits for another one to let go of a SQLite file ([database]
# busy_timeout_seconds): a year's plan for many accounts holds the lock a few seconds.
DEFAULT_BUSY_TIMEOUT = 30.0


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, a busy timeout and WAL journaling."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"database.url: not a database URL: {redact_url(url)}") from None
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        # Plain postgresql:// would pick psycopg2, which the planner does not depend on.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise InputError(
            f"database.url: {redact_url(url)}: the planner supports sqlite:/// and "
            "postgresql+psycopg:// URLs"
        )
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        # psycopg prepares a statement after 5 runs; PostgreSQL then reuses a generic plan in
        # which a 500-id IN list is scanned linearly for every row (measured: 130-340 ms per
        # batch lookup on 10,000 items instead of 2 ms). Custom plans keep it an index lookup.
        connect_args["prepare_threshold"] = None
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise InputError(
            f"database.url needs the {exc.name} driver: install planner[postgres]"
        ) from None
    if engine.dialect.name == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _make_folder(Path(parsed.database), url)
        busy_ms = max(1, round(busy_timeout * 1000))

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            _sqlite_on_connect(dbapi_connection, busy_ms)

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _make_folder(database: Path, url: str) -> None:
    """Create the SQLite file's folder; a path through a file or a folder that cannot be
    written is a mistake in ``database.url``, named as such."""
    for folder in (database.parent, *database.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(
                f"database.url: {folder} is a file, not a folder: {redact_url(url)} cannot be "
                "created under it"
            )
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"database.url: cannot create the folder {database.parent} for {redact_url(url)}: "
            f"{reason}"
        ) from None
    if database.exists() and not database.is_file():
        raise InputError(f"database.url: {database} is not a file: {redact_url(url)}")


def _sqlite_on_connect(dbapi_connection: Any, busy_ms: int) -> None:
    # The sqlite3 module's own implicit BEGIN cannot say IMMEDIATE; SQLAlchemy emits the
    # BEGIN instead (see _sqlite_begin), as its documentation recommends.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for a connection with ``sqlite_begin="IMMEDIATE"``: a claim
    takes the write lock before it reads, so two claims cannot both see a post as free."""
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return SCHEMA_HEAD


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's ``alembic_version`` table), None if none."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every pending migration; return the revisions before and after."""
    from alembic import command  # only here: most commands never migrate

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, head_revision()


@contextmanager
def _reachable(url: str) -> Iterator[None]:
    """Turn "cannot connect" into a DomainError naming the (redacted) database."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DomainError(f"cannot open database {redact_url(url)}: {reason}") from None
    except DatabaseError as exc:
        # A file that is not SQLite ("file is not a database") or a damaged one.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DomainError(
            f"{redact_url(url)} is not a planner database ({reason}): point database.url "
            "at another file, or move this one away"
        ) from None


def upgrade_database(url: str) -> tuple[str | None, str]:
    """Create or migrate the database at ``url``; return the revisions before and after."""
    engine = make_engine(url)
    try:
        with _reachable(url):
            return upgrade(engine)
    finally:
        engine.dispose()


@dataclass
class Database:
    """An engine and session factories for one planner database."""

    engine: Engine
    sessions: sessionmaker[Session]  # read transactions
    url: str = ""
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    writers: sessionmaker[Session] | None = None  # write transactions (SQLite: IMMEDIATE)
    # SQLite takes one writer at a time. This process's own writers (a runner's publishing
    # threads) wait for each other here, woken as soon as the lock is free, instead of in
    # SQLite's busy handler, which polls with sleeps of up to 100 ms. Writers in other
    # processes are still waited for by the busy handler.
    _writing: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        if self.engine.dialect.name != "sqlite":
            yield
            return
        if not self._writing.acquire(timeout=self.busy_timeout):
            raise self._write_refused(OperationalError("BEGIN", {}, Exception("locked")))
        try:
            yield
        finally:
            self._writing.release()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction, committed at the end of the block or rolled back on error.

        On SQLite the write lock is taken at BEGIN, waiting up to the busy timeout; raises
        :class:`DatabaseBusy` when another writer keeps it longer, and :class:`DomainError`
        when the file cannot be written at all.
        """
        with self._write_turn():
            try:
                with (self.writers or self.sessions).begin() as session:
                    yield session
            except OperationalError as exc:
                raise self._write_refused(exc) from None

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction: never waits for a writer (WAL) and never holds one up."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection for write transactions (SQLite: ``BEGIN IMMEDIATE``), refused
        with the same errors as :meth:`transaction`."""
        with self._write_turn():
            try:
                with self.engine.connect() as connection:
                    if self.engine.dialect.name == "sqlite":
                        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                    yield connection
            except OperationalError as exc:
                raise self._write_refused(exc) from None

    def _write_refused(self, exc: OperationalError) -> Exception:
        """A one-line error for a write SQLite refused, or ``exc`` itself for anything else."""
        reason = str(exc.orig).strip().lower() if exc.orig else ""
        database = make_url(self.url).database if self.url else None
        where = f"the database {database}" if database else "the database"
        if "locked" in reason or "busy" in reason:
            runner = runner_holding(self.url) if self.url else None
            holder = (
                f"a `planner run` is publishing from it ({runner}) and another command may be "
                "writing too"
                if runner
                else "another planner command is writing to it"
            )
            return DatabaseBusy(
                f"{where} stayed locked for {self.busy_timeout:g} s: {holder}; try again when "
                "it is done, or raise [database] busy_timeout_seconds"
            )
        if "readonly" in reason or "read-only" in reason:
            return DomainError(
                f"cannot write to {where}: the file or its folder is read-only; give this user "
                "write access to both (SQLite writes a -wal file beside the database)"
            )
        return exc

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(
    url: str, *, create: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> Database:
    """Open the database at ``url``, checking (or, when new and ``create``, creating) its schema.

    Raises :class:`SchemaOutOfDate` when the schema is not at this planner's head revision,
    and :class:`DomainError` when the server cannot be reached.
    """
    engine = make_engine(url, busy_timeout=busy_timeout)
    try:
        with _reachable(url):
            current = current_revision(engine)
            head = head_revision()
            if current is None and create and not inspect(engine).get_table_names():
                upgrade(engine)
            elif current != head:
                raise SchemaOutOfDate(current, head)
    except BaseException:
        engine.dispose()
        raise
    writer = engine
    if engine.dialect.name == "sqlite":
        writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    return Database(
        engine,
        sessionmaker(engine, expire_on_commit=False),
        url=url,
        busy_timeout=busy_timeout,
        writers=sessionmaker(writer, expire_on_commit=False),
    )
