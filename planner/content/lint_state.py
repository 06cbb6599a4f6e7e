"""The etiquette lint applied to the queue: warnings, and in mode ``hold`` the state.

:func:`apply_lint` runs :func:`~planner.content.etiquette.lint_item` over every item that
planning could still use (queued, planned, held by the rule, expired, flagged), inside the
caller's write transaction (``queue sync``, ``queue import``, ``queue add``,
``feeds sync``). With ``[lint] mode = "hold"`` an item with a finding becomes ``flagged``,
its ``status_reason`` naming what was found, and planning passes it by; an item whose text
was fixed, or every flagged item once the mode is ``warn`` or ``off``, goes back to
``queued``. A planned item that becomes flagged loses its planned posts (their slots stay
empty until the next ``planner plan``). Items held by hand (``planner hold``) keep their own
state: the lint never touches them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.content.etiquette import EtiquetteRules, Finding, lint_item
from planner.store.bulk import execute_many
from planner.store.models import (
    ITEMS,
    KEEP_OWN_DOMAIN_FLAG,
    Item,
    ItemStatus,
    Post,
    PostStatus,
)

ACTIVE = (
    ItemStatus.QUEUED,
    ItemStatus.PLANNED,
    ItemStatus.HELD,
    ItemStatus.EXPIRED,
    ItemStatus.FLAGGED,
)
REASON_PREFIX = "etiquette: "


@dataclass
class LintReport:
    """Findings in the items asked about, and how many items changed state."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    flagged: int = 0  # newly flagged (mode hold)
    cleared: int = 0  # flagged before, queued again
    unplanned: int = 0  # newly flagged items whose planned posts were taken out

    def lines(self) -> list[str]:
        """One ``ITEM: message`` line per finding."""
        return [
            f"{item_id}: {finding.message}"
            for item_id, found in sorted(self.findings.items())
            for finding in found
        ]


def rules_for(config: Config) -> EtiquetteRules:
    lint = config.settings.lint
    if lint.mode == "off":
        return EtiquetteRules(None, share_without_credit=False, link_only=False)
    return EtiquetteRules.build(
        [*lint.ask_patterns, *lint.extra_ask_patterns],
        share_without_credit=lint.share_without_credit,
        link_only=lint.link_only,
    )


def apply_lint(
    session: Session, config: Config, now: datetime, report_ids: Collection[str] = ()
) -> LintReport:
    """Lint the active items; report the findings of ``report_ids``; see the module doc.

    In mode ``hold`` every active item is read (about 0.4 s for 10,000 items); otherwise
    only ``report_ids`` and the flagged items, so a re-sync that writes nothing costs
    nothing."""
    rules = rules_for(config)
    hold = config.settings.lint.mode == "hold"
    wanted = set(report_ids)
    report = LintReport()
    flag: list[dict[str, object]] = []
    was_planned: list[str] = []
    clear: list[str] = []
    columns = (Item.id, Item.kind, Item.text, Item.title, Item.credit, Item.variants,
               Item.status, Item.status_reason, Item.manual_hold)  # fmt: skip
    if hold:  # every active item: the mode may have just become "hold"
        rows = list(session.execute(select(*columns).where(Item.status.in_(ACTIVE))))
    else:  # only the items written, and the flagged ones to release
        rows = list(session.execute(select(*columns).where(Item.status == ItemStatus.FLAGGED)))
        for chunk in _chunks(sorted(wanted)):
            query = select(*columns).where(
                Item.id.in_(chunk), Item.status.in_(ACTIVE), Item.status != ItemStatus.FLAGGED
            )
            rows += list(session.execute(query))
    for row in rows:
        found = lint_item(
            rules,
            kind=row.kind,
            text=row.text,
            title=row.title,
            credit=row.credit,
            variants=row.variants,
        )
        if found and row.id in wanted:
            report.findings[row.id] = found
        if row.manual_hold:
            continue  # held by hand: its state is the person's
        if hold and found:
            reason = REASON_PREFIX + "; ".join(finding.message for finding in found)
            if row.status != ItemStatus.FLAGGED or row.status_reason != reason:
                report.flagged += row.status != ItemStatus.FLAGGED
                flag.append({"key": row.id, "reason": reason})
                if row.status == ItemStatus.PLANNED:
                    was_planned.append(row.id)
        elif row.status == ItemStatus.FLAGGED:
            clear.append(row.id)
    # The status alone changes: the own-domain flag stays (the text it was computed from is
    # the same), or the next plan would search these items' text again.
    if flag:
        set_flagged = (
            update(ITEMS)
            .where(ITEMS.c.id == bindparam("key"))
            .values(status=ItemStatus.FLAGGED, status_reason=bindparam("reason"),
                    updated_at=now, **KEEP_OWN_DOMAIN_FLAG)
        )  # fmt: skip
        execute_many(session.connection(), set_flagged, flag)
    for chunk in _chunks(was_planned):
        # Its planned posts go too: a runner must not publish what the lint holds back.
        session.execute(
            delete(Post).where(Post.item_id.in_(chunk), Post.status == PostStatus.PLANNED)
        )
    for chunk in _chunks(clear):
        session.execute(
            update(Item)
            .where(Item.id.in_(chunk))
            .values(
                status=ItemStatus.QUEUED,
                status_reason=None,
                updated_at=now,
                **KEEP_OWN_DOMAIN_FLAG,
            )
        )
    report.cleared = len(clear)
    report.unplanned = len(was_planned)
    return report


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def lint_lines(session: Session, config: Config, item_ids: Collection[str]) -> list[str]:
    """``ITEM: message`` for each finding in the items ``item_ids`` (``planner plan`` shows
    them for the items it placed)."""
    rules = rules_for(config)
    lines: list[str] = []
    ids = sorted(set(item_ids))
    # Columns of the Core table, not ORM objects: `planner plan` then never configures the
    # ORM's mappers (see planner.store.models.ITEMS).
    columns = (ITEMS.c.id, ITEMS.c.kind, ITEMS.c.text, ITEMS.c.title, ITEMS.c.credit,
               ITEMS.c.variants)  # fmt: skip
    for chunk in _chunks(ids):
        query = select(*columns).where(ITEMS.c.id.in_(chunk)).order_by(ITEMS.c.id)
        for item in session.connection().execute(query):
            found = lint_item(
                rules,
                kind=item.kind,
                text=item.text,
                title=item.title,
                credit=item.credit,
                variants=item.variants,
            )
            lines += [f"{item.id}: {finding.message}" for finding in found]
    return lines
