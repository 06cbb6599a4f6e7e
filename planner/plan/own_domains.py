"""Which items mention an own domain: the stored flag a plan reads instead of searching text.

A give-kind item that links to one of the config's ``own_domains`` is a pitch. Only the items
whose url, text, title or variants contain an own domain at all (a cheap superset test the
database runs: :func:`mentions_text`) get the real link check in Python. Searching the text
of a whole queue at every plan is the slow part of that test, so its result is kept on each
item (``items.mentions_own_domain``) for the domains recorded in ``own_domain_flags``:

- an item written in any way has its flag reset to unknown (the column's ``onupdate``): a
  flag is never stale, whatever wrote the row;
- :func:`refresh_flags` (a plan, in its write transaction) computes the unknown flags, or
  every flag when the config's own domains are not the recorded ones;
- :func:`mentions_own_domain` is the read side's test: the flag where it is known and
  current, the text search where it is not, so a dry run that refreshes nothing is right too
  (:func:`flags_current`: whether the flags answer at all).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    cast,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from planner.store.models import ITEMS, OWN_DOMAIN_FLAGS
from planner.store.upsert import upsert

_ROW = 1  # own_domain_flags holds one row


def normalized(domains: Iterable[str]) -> list[str]:
    """The domains as the flags are computed for them: lowercase, sorted, each once."""
    return sorted({domain.lower() for domain in domains})


def mentions_text(domains: Iterable[str]) -> ColumnElement[bool]:
    """True where an item's url, text, title or variants contain one of ``domains`` (a
    superset of the items that link to one); never NULL, so it can be stored as it is."""
    fields = (ITEMS.c.url, ITEMS.c.text, ITEMS.c.title, cast(ITEMS.c.variants, Text))
    found = or_(
        false(), *(func.lower(field).contains(d) for d in normalized(domains) for field in fields)
    )
    # A NULL field makes its LIKE NULL, and NULL OR false is NULL: say false instead.
    return func.coalesce(found, false())


def recorded_domains(session: Session, *, lock: bool = False) -> list[str] | None:
    """The domains the stored flags were computed for; None before a plan first computed them.

    ``lock``: hold the record until the transaction ends (PostgreSQL), so that no other plan
    records other domains between this read and the flags computed for it.
    """
    query = select(OWN_DOMAIN_FLAGS.c.domains).where(OWN_DOMAIN_FLAGS.c.id == _ROW)
    domains = session.scalar(query.with_for_update() if lock else query)
    return None if domains is None else list(domains)


def flags_current(session: Session, own_domains: Iterable[str]) -> bool:
    """Whether the stored flags answer "mentions one of ``own_domains``" (with the text
    search of the rows not known yet): no own domains, or the flags were computed for these."""
    domains = normalized(own_domains)
    return not domains or recorded_domains(session) == domains


def mentions_own_domain(
    session: Session, own_domains: Iterable[str], *, current: bool | None = None
) -> ColumnElement[bool]:
    """The read side's test for "mentions one of ``own_domains``": the stored flag where the
    flags were computed for these domains (the text search on the rows not known yet), the
    text search everywhere when they were computed for others (or never). ``current``: what
    :func:`flags_current` said, when the caller asked already (the record is read once)."""
    domains = normalized(own_domains)
    if not domains:
        return false()
    if current is None:
        current = recorded_domains(session) == domains
    if not current:
        return mentions_text(domains)
    flag = ITEMS.c.mentions_own_domain
    return or_(flag.is_(True), and_(flag.is_(None), mentions_text(domains)))


def refresh_flags(session: Session, own_domains: Iterable[str], now: datetime) -> int:
    """Compute the unknown flags for ``own_domains``, or every flag when they are not the
    recorded domains (then record them); return how many rows were computed.

    Runs in the caller's write transaction. With no own domains nothing is computed: nothing
    mentions one, and the flags of the recorded domains stay right for when they come back.
    """
    domains = normalized(own_domains)
    if not domains:
        return 0
    recorded = recorded_domains(session, lock=True)
    connection = session.connection()
    compute = update(ITEMS).values(mentions_own_domain=mentions_text(domains))
    if recorded == domains:
        return connection.execute(compute.where(ITEMS.c.mentions_own_domain.is_(None))).rowcount
    computed = connection.execute(compute).rowcount
    # In one statement: two first plans at once on PostgreSQL would both find no record.
    upsert(connection, OWN_DOMAIN_FLAGS, {"id": _ROW}, {"domains": domains, "flagged_at": now})
    return computed
