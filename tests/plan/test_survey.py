"""What a week's plan learns of its gives without a pass over the queue is what the pass
learns: the items to read now (forced, dated within the plan, that mention an own domain or
may), found through the partial indexes of dated and marked open items; the counts each
account's feed will get, taken on demand; and every account some item names, found by
seeking the survey index. Random queues, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, delete, insert, or_, text

from planner.plan.own_domains import mentions_own_domain, refresh_flags
from planner.plan.survey import Exceptions, Survey
from planner.store.batches import BATCH
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus, OwnDomainFlags, open_items_condition

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FIRST, HORIZON = NOW + timedelta(days=4), NOW + timedelta(days=11)
GIVES, PITCHES = ["share", "help"], ["promo"]
ACCOUNTS = ["a", "b", "c", "d"]
OWN = "brightline.example"


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    database = open_database(db_url)
    yield database
    database.dispose()


times = st.none() | st.sampled_from(
    [NOW - timedelta(days=30), FIRST - timedelta(hours=1), FIRST + timedelta(days=2),
     HORIZON, HORIZON + timedelta(days=1)]
)  # fmt: skip
items = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(GIVES + PITCHES),
            "accounts": st.sampled_from([[], ["a"], ["b"], ["a", "b"], ["c", "a"]]),
            "status": st.sampled_from(list(ItemStatus)),
            "evergreen": st.booleans(),
            "force": st.booleans(),
            "manual_hold": st.booleans(),
            "not_after": times,
            "not_before": times,
            "links_own": st.booleans(),
            # Its flag: computed by a plan, or unknown (edited since).
            "flag_known": st.booleans(),
        }
    ),
    max_size=40,
)


def _rows(drawn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for n, item in enumerate(drawn):
        url = f"https://{OWN}/p/{n}" if item["links_own"] else f"https://elsewhere.example/{n}"
        rows.append(
            {"id": f"i{n:03d}", "kind": item["kind"], "text": "t", "url": url, "fields": {},
             "variants": {}, "accounts": item["accounts"], "tags": [],
             "evergreen": item["evergreen"], "priority": n % 3, "status": item["status"],
             "manual_hold": item["manual_hold"], "force": item["force"], "source": "test",
             "content_hash": "h", "not_after": item["not_after"],
             "not_before": item["not_before"], "created_at": NOW, "updated_at": NOW,
             "flag_known": item["flag_known"]}
        )  # fmt: skip
    return rows


def _surveys(session: Any, indexed: list[str], *, read: bool = True) -> Survey:
    not_done = (Item.manual_hold.is_(False), text(open_items_condition("items.")))
    exceptions = Exceptions(HORIZON, GIVES, PITCHES, mentions_own_domain(session, [OWN]))
    gone = and_(
        Item.status == ItemStatus.EXPIRED,
        or_(Item.not_after.is_(None), Item.not_after <= FIRST),
    )
    survey = Survey(
        session.connection(), not_done, GIVES + PITCHES, exceptions, gone, {"i001"}, indexed
    )
    if read:
        survey.read_exceptions(GIVES + PITCHES)
    return survey


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=items)
def test_the_indexes_find_the_gives_to_read_now_as_the_pass_does(
    db: Database, drawn: list[dict[str, Any]]
) -> None:
    rows = _rows(drawn)
    with db.transaction() as session:
        session.execute(delete(Item))
        session.execute(delete(OwnDomainFlags))
        if rows:
            session.execute(insert(Item), [{k: v for k, v in r.items() if k != "flag_known"}
                                           for r in rows])  # fmt: skip
        refresh_flags(session, [OWN], NOW)
        unknown = [r["id"] for r in rows if not r["flag_known"]]
        if unknown:  # edited since the flags were computed
            session.execute(
                Item.__table__.update()  # type: ignore[attr-defined]
                .where(Item.id.in_(unknown))
                .values(mentions_own_domain=None)
            )
    with db.reading() as session:
        scanned, indexed = _surveys(session, []), _surveys(session, GIVES)
        assert indexed.special == scanned.special
        assert indexed.mentioning == scanned.mentioning
        assert indexed.unplain == scanned.unplain
        for kind in GIVES + PITCHES:
            assert indexed.census(kind) == scanned.census(kind)
            counted = {name for name, count in scanned.counts[kind].items() if count}
            listed = indexed.accounts_listed(kind)
            assert listed is not None and counted <= listed
            # Every account an item of the kind names, done or not.
            assert listed == {a for r in rows if r["kind"] == kind for a in r["accounts"]}


def test_a_give_kind_with_too_many_items_to_read_now_is_read_whole_and_keeps_its_ids_out(
    db: Database,
) -> None:
    """More dated helps than a batch: the kind is read whole, so its exceptions' ids stay out
    of the lazily read kinds' (a streams' ``NOT IN`` list of them all would outgrow what a
    database takes in one statement)."""
    dated = [
        {"id": f"h{n:04d}", "kind": "help", "text": "t", "url": None, "fields": {},
         "variants": {}, "accounts": [], "tags": [], "evergreen": False, "priority": 0,
         "status": "queued", "manual_hold": False, "force": False, "source": "test",
         "content_hash": "h", "not_after": FIRST + timedelta(days=1), "created_at": NOW,
         "updated_at": NOW}
        for n in range(BATCH + 10)
    ]  # fmt: skip
    forced_share = {**dated[0], "id": "s0", "kind": "share", "force": True, "not_after": None}
    with db.transaction() as session:
        session.execute(delete(Item))
        session.execute(insert(Item), [*dated, forced_share])
        refresh_flags(session, [OWN], NOW)
    with db.reading() as session:
        survey = _surveys(session, GIVES, read=False)
        assert survey.unplain == {"share": 1, "help": BATCH + 10, "promo": 0}
        lazy = [kind for kind in GIVES + PITCHES if survey.few_exceptions(kind)]
        assert lazy == ["share", "promo"]
        survey.read_exceptions(lazy)
        assert survey.special == {"s0"}
