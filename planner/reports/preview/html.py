"""``planner preview --format html``: the week as a grid a browser shows, one page for all
accounts.

Per account a row of seven day columns (Monday to Sunday in the account's zone), each slot a
card coloured by class (give, pitch, empty) with its time, kind, status, text, reason and the
pitch share after it; then the same summary as the table. The page is self-contained (inline
CSS, no script, nothing fetched) and every value is HTML-escaped by Jinja2's autoescape: post
texts are user content.

The page comes from the template ``preview.html.j2``: the built-in one in the default
``templates/`` folder, or a workspace's own of that name, which overrides it (rendered in a
sandbox, with the same variables: see :func:`format_html`). The sandbox bounds the render
(:func:`page_limits`, scaled to the week's size), and any failure of the template, a
runaway loop included, is an :class:`~planner.errors.InputError` naming its file and line.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)

from planner import __version__
from planner.errors import InputError
from planner.plan.sandbox import BoundedSandbox, Limits, innermost_template_line, not_utf8
from planner.reports.preview.formats import (
    empty_text,
    held_text,
    kind_cell,
    left_out_groups,
    mix_text,
    rule_text,
    runway_text,
    scope_note,
    window_text,
)
from planner.reports.preview.model import (
    EMPTY,
    WEEKDAYS,
    AccountPreview,
    Preview,
    SlotRow,
    share_text,
)
from planner.text import iso_utc
from planner.workspace import default_templates_dir

TEMPLATE = "preview.html.j2"


def page_limits(rows: int) -> Limits:
    """What rendering a page of ``rows`` slots may use: a thousand times what the built-in
    page needs per slot, so only a runaway template reaches it (in a second or two)."""
    size = 1_000_000 + 3 * 65_536 * rows  # characters: room for three of the longest posts a slot
    return Limits(
        output_chars=size,
        value_chars=size,
        steps=100_000 + 1_000 * rows,
        chars_made=4 * size,
        seconds=10.0,
        range_items=65_536,
    )


def format_html(preview: Preview, user_templates: Path | None = None) -> str:
    """The whole HTML document, from ``user_templates/preview.html.j2`` if there is one.

    The template gets ``version``, ``label`` (``"2026-W49"``), ``generated``, ``ok``,
    ``verdict`` and ``accounts``: per account ``name``, ``network``, ``timezone``, ``rule``,
    ``days`` (seven, each with ``weekday``, ``iso``, ``title`` and ``slots``: ``css``, ``iso``,
    ``time``, ``kind``, ``class_``, ``status``, ``text``, ``why``, ``share``), and the
    summary's ``mix``, ``windows``, ``held`` (pairs of what and where it would fit), ``empty``,
    ``runway``, ``problems`` and ``notes``. Raises :class:`InputError` naming the template
    file (and line) when it is not UTF-8, does not compile, or fails or goes over its limits
    while rendering (an undefined variable, ``{{ 1/0 }}``, a runaway loop).
    """
    folders = [folder for folder in (user_templates, default_templates_dir()) if folder]
    rows = sum(len(day.rows) for account in preview.accounts for day in account.days)
    environment = BoundedSandbox(
        page_limits(rows + len(preview.accounts)),
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    context = {
        "version": __version__,
        "label": preview.label,
        "generated": f"{preview.generated_at:%Y-%m-%d %H:%M} UTC",
        "ok": preview.ok,
        "verdict": page_verdict(preview),
        "accounts": [_account(account) for account in preview.accounts],
    }
    where = _template_path(folders)
    try:
        template = environment.get_template(TEMPLATE)
        with environment.budget():
            return environment.render_bounded(template.generate(context))
    except UnicodeDecodeError as exc:
        raise InputError(not_utf8(where, exc)) from None
    except TemplateSyntaxError as exc:
        raise InputError(f"{exc.filename or where}{_at(exc.lineno)}: {exc.message}") from None
    except Exception as exc:  # a user's template may fail in any way: report, don't crash
        found = innermost_template_line(exc.__traceback__)
        file, line = found if found else (where, None)
        if isinstance(exc, TemplateError):
            reason = exc.message or str(exc)
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise InputError(f"{file}{_at(line)}: {reason}") from None


def _at(line: int | None) -> str:
    return f", line {line}" if line else ""


def _template_path(folders: list[Path]) -> Path:
    for folder in folders:
        if (folder / TEMPLATE).is_file():
            return folder / TEMPLATE
    return folders[-1] / TEMPLATE


def _account(account: AccountPreview) -> dict[str, Any]:
    zone = ZoneInfo(account.timezone)
    rows_by_date = {day.date: day.rows for day in account.days}
    monday = account.start.astimezone(zone).date()
    week = [monday + timedelta(days=offset) for offset in range(7)]
    return {
        "name": account.account,
        "network": account.network,
        "timezone": account.timezone,
        "rule": rule_text(account.settings) + scope_note(account),
        "days": [
            {
                "weekday": WEEKDAYS[offset],
                "iso": date.isoformat(),
                "title": f"{date.day} {date:%b}",
                "slots": [_slot(row) for row in rows_by_date.get(date, [])],
            }
            for offset, date in enumerate(week)
        ],
        "mix": mix_text(account),
        "windows": window_text(account),
        "held": [held_text(account, held) for held in account.held],
        "left_out": left_out_groups(account),
        "empty": empty_text(account),
        "runway": [runway_text(runway) for runway in account.runway],
        "problems": account.problems,
        "notes": account.notes,
    }


def _slot(row: SlotRow) -> dict[str, Any]:
    css = (
        EMPTY
        if row.status == EMPTY
        else ("pitch" if (row.class_ or "").startswith("pitch") else "give")
    )
    status = "" if row.status in (EMPTY, "planned") else row.status
    return {
        "css": css + (" forced" if row.forced else ""),
        "iso": iso_utc(row.at),
        "time": f"{row.local:%H:%M}",
        "kind": kind_cell(row),
        "class_": (row.class_ or "") + (" (forced)" if row.forced else ""),
        "status": status,
        "text": row.text or "",
        "why": row.why,
        "share": share_text(row.pitch_share),
    }


def page_verdict(preview: Preview) -> str:
    """The page's headline, true to every account's numbers."""
    if not preview.ok:
        return f"{len(preview.problems)} problem(s)"
    forced = [a.account for a in preview.accounts if a.notes]
    over = [a.account for a in preview.accounts if a.week_over_target]
    if not forced and not over:
        return "every account within the rule, no empty slot"
    parts = ["no empty slot"]
    if forced:
        parts.append(f"over the rule only because of forced posts on {', '.join(forced)}")
    if over:
        parts.append(
            f"pitch share above the target for the week on {', '.join(over)} "
            "(every window within the rule)"
            if not forced
            else f"pitch share above the target for the week on {', '.join(over)}"
        )
    return "; ".join(parts)
