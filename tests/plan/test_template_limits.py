"""Templates cannot exhaust the machine, and a template that fails never ends in a traceback.

A hostile post template (a loop that never ends, a string of 100 MB, ...) is reported like
any other render error, quickly, and the rest of the week is still planned; an unreadable
template (not UTF-8) stops ``planner plan`` with exit 2 naming the file; a user's
``preview.html.j2`` that fails or runs away while rendering exits 2 naming file and line.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select

from planner.cli import main
from planner.config.settings import load_config
from planner.plan.render import POST_LIMITS, Renderer, RenderError, RenderInput
from planner.store.database import open_database
from planner.store.models import Post

from support.preview_weeks import run as run_preview
from support.preview_weeks import solo, sync_and_plan

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FAST = 3.0  # seconds: any hostile template is refused well within this, on a busy machine

HOSTILE = {
    "nested loops": "{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}"
    "{% endfor %}{{ text }}",
    "a range too long": "{% for i in range(100000) %}{% endfor %}{{ text }}",
    "loops over a list made once": "{% set l = range(1000)|list %}{% for a in l %}"
    "{% for b in l %}{% for c in l %}{% endfor %}{% endfor %}{% endfor %}{{ text }}",
    "a recursive loop": "{% set l = range(1000)|list %}{% for x in l recursive %}"
    "{% if loop.depth < 6 %}{{ loop(l) }}{% endif %}{% endfor %}{{ text }}",
    "a 100 MB string": '{{ "x" * 100000000 }}',
    "a list multiplied": "{{ ([1] * 100000000)|length }}",
    "centre of 100 MB": '{{ text|center(100000000) }}{{ "x".rjust(100000000) }}',
    "a format width": '{{ "%100000000s" % text }}',
    "a str.format width": '{{ "{:>100000000}".format(text) }}',
    "a replacement": '{{ ("x" * 60000).replace("x", "y" * 60000) }}',
    "a join": '{{ range(60000)|map("string")|join("y" * 60000) }}',
    "an indent": '{{ ("\\n" * 60000)|indent(60000) }}',
    "doubling by ~": '{% set x = "xxxxxxxxxx" %}' + "{% set x = x ~ x %}" * 30 + "{{ x }}",
    "doubling in a namespace": '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    "a macro piling up text": "{% macro m() %}{% for i in range(60000) %}"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endmacro %}"
    "{% for j in range(1000) %}{{ m()|length }}{% endfor %}",
    "a set block piling up text": '{% set x %}{% for i in range(60000) %}{{ "y" * 60000 }}'
    "{% endfor %}{% endset %}{{ x|length }}",
    "too long an output": "{% for i in range(40000) %}xx{% endfor %}",
    "a number squared and squared": "{% set ns = namespace(x=10) %}{% for i in range(40) %}"
    "{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x > 5 }}",
    "a huge power": "{{ 2 ** 100000000 > 1 }}",
    "a list extending itself": "{% set l = [1] %}{% for i in range(40) %}{{ l.extend(l) }}"
    "{% endfor %}{{ l|length }}",
    "a slice into 100,000,000 lists": "{{ range(3)|slice(100000000)|list|length }}",
    "a batch padded to 100,000,000": "{{ range(3)|batch(100000000, 0)|list|length }}",
    "a json indent": "{{ range(60000)|list|tojson(indent=60000)|length }}",
    "an urlize target": '{{ ("a.example " * 5000)|urlize(target="x" * 60000)|length }}',
    "lorem ipsum": "{{ lipsum(100000)|length }}",
}


def render(source: str, tmp_path: Path) -> str:
    (tmp_path / "help.txt.j2").write_text(source)
    item = RenderInput(id="tip-1", kind="help", text="Tip: fail fast.")
    return Renderer(tmp_path, tmp_path).render(item, "outbox", "main")


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_template_is_a_render_error_naming_template_and_line_quickly(
    tmp_path: Path, source: str
) -> None:
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        render(source, tmp_path)
    assert time.monotonic() - started < FAST
    error = caught.value
    assert error.item_id == "tip-1" and error.template == "help.txt.j2"
    assert "over a template limit" in str(error)
    if "output" not in error.reason:  # only the final length check is outside the template
        assert error.line == 1


def test_templates_within_the_limits_render_as_before(tmp_path: Path) -> None:
    source = (
        '{{ "=" * 3 }} {{ "%5s|" % "ab" }} {{ "{:>4}|".format(7) }} {{ range(3)|join(",") }} '
        '{{ "Call 0800123456 now: %s" % 1 }} {{ "ab"|center(6) }}|'
        "{% for i in range(1000) %}{% endfor %}{{ text }} {{ [1, 2]|tojson }} {{ 10 ** 20 }} "
        "{{ range(5)|batch(2)|list|length }} {{ [1] + [2] }}"
    )
    assert render(source, tmp_path) == (
        "=== ab| 7| 0,1,2 Call 0800123456 now: 1 ab |Tip: fail fast. [1, 2] "
        "100000000000000000000 3 [1, 2]"
    )


def test_the_longest_post_a_network_takes_fits_the_output_limit(tmp_path: Path) -> None:
    facebook = 63_206  # the longest network limit (Facebook Page posts)
    assert POST_LIMITS.output_chars >= facebook
    text = render(f'{{{{ "y" * {facebook - 20} }}}} {{{{ text }}}}', tmp_path)
    assert len(text) == facebook - 20 + 1 + len("Tip: fail fast.")


def test_the_limits_hold_per_render_not_per_renderer(tmp_path: Path) -> None:
    # 60,000 iterations are fine once, and again for the next post: the budget is per post.
    (tmp_path / "help.txt.j2").write_text("{% for i in range(60000) %}{% endfor %}{{ text }}")
    renderer = Renderer(tmp_path, tmp_path)
    for number in range(3):
        item = RenderInput(id=f"tip-{number}", kind="help", text="Tip.")
        assert renderer.render(item, "outbox", "main") == "Tip."


def test_a_template_that_is_not_utf8_is_a_render_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "help.txt.j2").write_bytes(b"{{ text }}\n\xff\xfe caf\xe9")
    renderer = Renderer(tmp_path, tmp_path)
    with pytest.raises(RenderError) as caught:
        renderer.render(RenderInput(id="tip-1", kind="help", text="t"), "outbox", "main")
    assert f"{tmp_path / 'help.txt.j2'}:2: not UTF-8 text (byte 0xff" in str(caught.value)
    problems = renderer.check_templates()
    assert any("help.txt.j2:2: not UTF-8" in problem for problem in problems)


# --- the command line, on SQLite and PostgreSQL ---------------------------------------------


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def planned_items(workspace: Path) -> list[str]:
    db = open_database(load_config(workspace / "planner.toml").database_url)
    try:
        with db.transaction() as session:
            return list(session.scalars(select(Post.item_id).order_by(Post.slot_at)))
    finally:
        db.dispose()


@pytest.mark.parametrize(
    "source", [HOSTILE["nested loops"], HOSTILE["a 100 MB string"]], ids=["loop", "string"]
)
def test_plan_reports_a_hostile_template_and_still_fills_the_week(
    workspace: Path, source: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        assert invoke("queue", "sync").exit_code == 0
        # Edited after the sync (which would have refused the items): plan finds it.
        (workspace / "templates" / "help.txt.j2").write_text(source)
        started = time.monotonic()
        result = invoke("plan", "--week", "2027-W02", "--json")
        elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 10 * FAST  # every help item is tried, each refused within its limits
    report = json.loads(result.stdout)
    problems = report["render_problems"]
    assert problems and all("help.txt.j2 line 1: over a template limit" in p for p in problems)
    assert all('item "tip-' in problem for problem in problems)
    items = planned_items(workspace)
    assert len(items) == 13  # the help slots went to other gives
    assert not any(item.startswith("tip-") for item in items)


def test_plan_stops_on_a_template_that_is_not_utf8_and_writes_nothing(workspace: Path) -> None:
    path = workspace / "templates" / "help.txt.j2"
    with time_machine.travel(NOW, tick=False):
        assert invoke("queue", "sync").exit_code == 0
        path.write_bytes("{{ text }} — café".encode("latin-1", errors="replace"))
        result = invoke("plan", "--week", "2027-W02")
    assert result.exit_code == 2
    assert f"{path}:1: not UTF-8 text" in result.output
    assert "Traceback" not in result.output
    assert planned_items(workspace) == []


# --- a user's preview.html.j2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("<p>\n{{ 1/0 }}</p>", "line 2: ZeroDivisionError: division by zero"),
        ("{{ label.upper().nothing() }}", "line 1: 'str object' has no attribute 'nothing'"),
        ("{{ accounts[0].days[9] }}", "line 1: list object has no element 9"),
        (
            "\n\n{% for a in range(60000) %}{% for b in range(60000) %}{% endfor %}{% endfor %}",
            "line 3: over a template limit",
        ),  # fmt: skip
        ('{{ "x" * 100000000 }}', "line 1: over a template limit: a repetition of 100,000,000"),
    ],
)
def test_a_user_html_page_that_fails_while_rendering_exits_2_naming_file_and_line(
    tmp_path: Path, db_url: str, template: str, message: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    (tmp_path / "templates").mkdir(exist_ok=True)
    path = config.templates_path / "preview.html.j2"
    path.write_text(template)
    started = time.monotonic()
    result = run_preview("--week", "2026-W50", "--format", "html", config=config)
    assert time.monotonic() - started < 5 * FAST
    assert result.exit_code == 2, result.output
    assert f"{path}, {message}" in result.stderr
    assert "Traceback" not in result.output


def test_a_user_html_page_that_is_not_utf8_exits_2_naming_the_file(
    tmp_path: Path, db_url: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    (tmp_path / "templates").mkdir(exist_ok=True)
    path = config.templates_path / "preview.html.j2"
    path.write_bytes(b"<p>\n<p>caf\xe9</p>")
    result = run_preview("--week", "2026-W50", "--format", "html", config=config)
    assert result.exit_code == 2
    assert f"{path}:2: not UTF-8 text (byte 0xe9 at offset 10)" in result.stderr
    assert "Traceback" not in result.output


def test_posts_are_unchanged_by_a_failed_plan(workspace: Path) -> None:
    """A plan that stops on an unreadable template leaves an earlier plan as it was."""
    with time_machine.travel(NOW, tick=False):
        assert invoke("queue", "sync").exit_code == 0
        assert invoke("plan", "--week", "2027-W02").exit_code == 0
        before = planned_items(workspace)
        (workspace / "templates" / "help.txt.j2").write_bytes(b"\xff")
        assert invoke("plan", "--week", "2027-W02").exit_code == 2
    assert planned_items(workspace) == before
    db = open_database(load_config(workspace / "planner.toml").database_url)
    try:
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Post)) == len(before)
    finally:
        db.dispose()
