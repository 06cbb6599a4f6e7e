"""``planner preview --format html``: one or more weeks as a page a browser shows, one page
for all accounts.

Per account: the mix drawn (a stacked bar of each week's gives and pitches against the limit,
and the rule's chart across the weeks, :mod:`~planner.reports.preview.chart`), then per week
seven day columns (Monday to Sunday in the account's zone), each slot a card with its text
first, its class as a word and a colour, a forced post marked, a pitch the rule held there
with the numbers (:mod:`~planner.reports.preview.refusals`), the share after it and why; then
the same summary as the table. The page is self-contained (inline CSS and SVG, no script,
nothing fetched) and every value is HTML-escaped by Jinja2's autoescape: post texts are user
content (:func:`wrapped` escapes before it adds break points).

The page comes from the template ``preview.html.j2``: the built-in one in the default
``templates/`` folder, or a workspace's own of that name, which overrides it (rendered in a
sandbox, with the same variables: see :func:`format_html`). The sandbox bounds the render
(:func:`page_limits`, scaled to the week's size), and any failure of the template, a
runaway loop included, is an :class:`~planner.errors.InputError` naming its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
from markupsafe import Markup, escape

from planner import __version__
from planner.errors import InputError
from planner.plan.sandbox import BoundedSandbox, Limits, innermost_template_line, not_utf8
from planner.reports.preview.chart import chart, mix_bar
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
from planner.reports.preview.rows import PreviewImage
from planner.text import iso_utc
from planner.workspace import default_templates_dir

TEMPLATE = "preview.html.j2"

# What the page's legend explains: (css class, word, what it means).
LEGEND = [
    ("give", "give", "a give post: shares and helpful posts"),
    ("pitch", "pitch", "a pitch: a promo, or a link to one of your own domains (hatched)"),
    ("forced", "forced", "a pitch forced past the rule by hand (an override; it still counts)"),
    ("held", "held here", "a pitch the rule refused at this slot, with the numbers"),
    ("empty", "empty", "a slot with no post, and why"),
]


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


def format_html(weeks: Sequence[Preview], user_templates: Path | None = None) -> str:
    """The whole HTML document for one or more consecutive weeks (the same accounts in each),
    from ``user_templates/preview.html.j2`` if there is one.

    The template gets ``version``, ``label`` (``"2026-W49"``, or ``"2026-W49 to 2026-W51"``),
    ``weeks`` (the week labels), ``generated``, ``ok``, ``verdict``, ``legend`` and
    ``accounts``. Per account: ``name``, ``network``, ``timezone``, ``rule``, ``chart`` (see
    :class:`~planner.reports.preview.chart.Chart`: every coordinate of the SVG) and
    ``weeks``, one per week, each with ``label``, ``bar`` (a
    :class:`~planner.reports.preview.chart.MixBar`), ``days`` (seven, each with ``weekday``,
    ``iso``, ``title`` and ``slots``: ``css``, ``iso``, ``time``, ``kind``, ``class_``,
    ``class_word``, ``forced``, ``status``, ``text``, ``text_wrapped`` (the text as markup
    with break points in long URLs), ``why``, ``note`` (the why, less a refusal that the
    ``held`` line shows), ``held`` (``"held here: …"`` or empty), ``share``, ``images``: each
    with ``thumbnail`` (a ``data:`` URI, or empty without Pillow), ``alt``, ``caption``,
    ``size``) and the
    summary's ``mix``, ``windows``, ``held`` (pairs of what and where it would fit),
    ``left_out``, ``empty``, ``runway``, ``problems`` and ``notes``. The first
    week's ``days`` and summary keys are also on the account itself, as templates written
    for one week expect.

    Raises :class:`InputError` naming the template file (and line) when it is not UTF-8, does
    not compile, or fails or goes over its limits while rendering (an undefined variable,
    ``{{ 1/0 }}``, a runaway loop).
    """
    folders = [folder for folder in (user_templates, default_templates_dir()) if folder]
    first = weeks[0]
    rows = sum(len(day.rows) for p in weeks for account in p.accounts for day in account.days)
    environment = BoundedSandbox(
        page_limits(rows + len(first.accounts) * len(weeks)),
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    label = first.label if len(weeks) == 1 else f"{first.label} to {weeks[-1].label}"
    context = {
        "version": __version__,
        "label": label,
        "weeks": [preview.label for preview in weeks],
        "generated": f"{first.generated_at:%Y-%m-%d %H:%M} UTC",
        "ok": all(preview.ok for preview in weeks),
        "verdict": _weeks_verdict(weeks),
        "legend": LEGEND,
        "accounts": [
            _account([preview.accounts[index] for preview in weeks], [p.label for p in weeks])
            for index in range(len(first.accounts))
        ],
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


def _account(weeks: Sequence[AccountPreview], labels: Sequence[str]) -> dict[str, Any]:
    shown = [_week(account, label) for account, label in zip(weeks, labels, strict=True)]
    first = weeks[0]
    return {
        "name": first.account,
        "network": first.network,
        "timezone": first.timezone,
        "rule": rule_text(first.settings) + scope_note(first),
        "chart": chart(weeks),
        "weeks": shown,
        **{key: value for key, value in shown[0].items() if key not in ("label", "bar")},
    }


def _week(account: AccountPreview, label: str) -> dict[str, Any]:
    zone = ZoneInfo(account.timezone)
    rows_by_date = {day.date: day.rows for day in account.days}
    monday = account.start.astimezone(zone).date()
    week = [monday + timedelta(days=offset) for offset in range(7)]
    return {
        "label": label,
        "bar": mix_bar(account),
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
    empty = row.status == EMPTY
    pitch = (row.class_ or "").startswith("pitch")
    css = [EMPTY if empty else ("pitch" if pitch else "give")]
    if row.forced:
        css.append("forced")
    if row.held_here is not None:
        css.append("held")
    status = "" if row.status in (EMPTY, "planned") else row.status
    return {
        "css": " ".join(css),
        "iso": iso_utc(row.at),
        "time": f"{row.local:%H:%M}",
        "kind": kind_cell(row),
        "class_": (row.class_ or "") + (" (forced)" if row.forced else ""),
        "class_word": EMPTY if empty else (row.class_ or ""),
        "forced": row.forced,
        "status": status,
        "text": row.text or "",
        "text_wrapped": wrapped(row.text or ""),
        "why": row.why,
        "note": _note(row),
        "held": str(row.held_here) if row.held_here is not None else "",
        "share": share_text(row.pitch_share),
        "images": [_image(image) for image in row.media],
    }


def _image(image: PreviewImage) -> dict[str, Any]:
    """A post's image on its card: the thumbnail (inlined, so nothing is fetched) with its
    alt text as the image's own alternative and as its caption, where a reader sees what
    the audience's screen readers will say."""
    return {
        "thumbnail": image.thumbnail or "",
        "alt": image.alt or "",
        "caption": f"image: {image.alt}" if image.alt else "image without alt text",
        "size": f"{image.width}×{image.height} {image.mime.removeprefix('image/').upper()}",
    }


def _note(row: SlotRow) -> str:
    """The reason on a card: for a slot where a pitch was held, what took the slot or why it
    stayed empty (the refusal itself is in the card's "held here" line)."""
    if row.held_here is None:
        return row.why
    if row.status == EMPTY and ", and " in row.why:  # "empty: X held: …, and no give item …"
        return "empty: " + row.why.rsplit(", and ", 1)[1]
    if "; " in row.why:  # "X held: …; the slot went to help"
        return row.why.rsplit("; ", 1)[1]
    return row.why


# A run of 24 or more characters without white space (a URL, mostly) may break after a slash
# and before other punctuation, instead of wherever the line ends (mid-word).
_LONG_RUN = re.compile(r"\S{24,}")
_BREAK_AFTER = re.compile(r"(?<=/)(?!/)|(?=[.?&=#_-])")


def wrapped(text: str) -> Markup:
    """``text`` HTML-escaped, with ``<wbr>`` where a long URL may break cleanly."""
    parts: list[str] = []
    done = 0
    for run in _LONG_RUN.finditer(text):
        parts.append(str(escape(text[done : run.start()])))
        pieces = _BREAK_AFTER.split(run.group())
        parts.append("<wbr>".join(str(escape(piece)) for piece in pieces if piece))
        done = run.end()
    parts.append(str(escape(text[done:])))
    return Markup("".join(parts))


def _weeks_verdict(weeks: Sequence[Preview]) -> str:
    if len(weeks) == 1:
        return page_verdict(weeks[0])
    return "; ".join(f"{preview.label}: {page_verdict(preview)}" for preview in weeks)


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
