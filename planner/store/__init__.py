"""The database: the source of truth for items, posts and publishing.

- :mod:`~planner.store.database`: open SQLite or PostgreSQL, keep the schema current, hand out
  sessions;
- :mod:`~planner.store.models`: the tables as SQLAlchemy 2 typed ORM models;
- :mod:`~planner.store.sqlite_lock`: one ``planner run`` per SQLite file, and who it is;
- :mod:`~planner.store.upsert`: insert or update a row by its key, in one statement;
- :mod:`~planner.store.batches`: long id lists cut into batches for ``IN (...)``;
- :mod:`~planner.store.bulk`: one statement for many rows, at the driver's speed on SQLite;
- :mod:`~planner.store.idempotency`: the idempotency key of a planned post;
- ``migrations/``: the Alembic migrations, the only thing that creates or changes the schema.

May import :mod:`planner.errors` and :mod:`planner.redact`; nothing else of the planner.
"""
