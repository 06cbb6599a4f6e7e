"""The preview page's numbers and the command's files: the chart against the JSON, the slot
where the rule held a pitch, several weeks on one page, ``--output`` written whole or not at
all, ``--open``, and ``planner init`` leaving the page in the package.

The page is read with the standard library's HTML parser; the browser tests are in
``test_preview_page_browser.py``.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st

from planner.cli.preview_cmd import preview_command
from planner.config.settings import Config
from planner.reports.preview.html import wrapped
from planner.reports.preview.output import write_atomically
from planner.reports.preview.refusals import held_item, pitch_verdict
from planner.rule.balancer import BalanceSettings, WindowTracker
from planner.rule.windows import WindowCounts
from planner.workspace import default_templates_dir, init_workspace

from support import pipeline
from support.brand_week import HOSTILE, NOW, brand, plan_brand
from support.preview_weeks import solo, sync_and_plan

REPO = Path(__file__).resolve().parents[2]


def preview(config: Config, *args: str) -> Result:
    """``planner preview ARGS`` on ``config`` with the clock at the brand's ``NOW``."""
    return pipeline.invoke(preview_command, args, config=config, at=NOW)


class _Chart(HTMLParser):
    """Per chart: its data attributes, its frame, and each point's attributes in order."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, object]] = []
        self.slots: list[dict[str, str]] = []
        self._slot: dict[str, str] | None = None
        self._in_held = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        classes = found.get("class", "").split()
        if tag == "svg" and "rule-chart" in classes:
            self.charts.append({"svg": found, "points": [], "limit": None, "frame": None})
        elif tag == "g" and "point" in classes:
            self.charts[-1]["points"].append(found)
        elif tag == "line" and "limit-line" in classes:
            self.charts[-1]["limit"] = found
        elif tag == "rect" and "frame" in classes:
            self.charts[-1]["frame"] = found
        elif tag == "article":
            self._slot = {"at": found["data-at"], "css": found["class"], "held": ""}
            self.slots.append(self._slot)
        elif tag == "p" and "held-here" in classes:
            self._in_held = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_held = False

    def handle_data(self, data: str) -> None:
        if self._in_held and self._slot is not None:
            self._slot["held"] += data


def _parse(page: str) -> _Chart:
    parser = _Chart()
    parser.feed(page)
    return parser


@pytest.fixture
def planned(tmp_path: Path, db_url: str) -> Config:
    config = brand(tmp_path, db_url)
    plan_brand(config)
    return config


def _y(share: Fraction, svg: dict[str, str], frame: dict[str, str]) -> float:
    top, height = float(frame["y"]), float(frame["height"])
    return top + height * (1 - float(share / Fraction(svg["data-top"])))


def test_chart_points_are_the_json_shares_of_each_post_and_the_limit_line_the_rule(
    planned: Config,
) -> None:
    page = preview(planned, "--week", "2026-W50", "--format", "html").stdout
    document = pipeline.json_output(preview(planned, "--week", "2026-W50", "--format", "json"))
    charts = _parse(page).charts
    assert len(charts) == len(document["accounts"]) == 3
    for chart, account in zip(charts, document["accounts"], strict=True):
        posts = [s for day in account["days"] for s in day["slots"] if s["status"] != "empty"]
        points = chart["points"]
        assert [(p["data-at"], p["data-share"]) for p in points] == [
            (s["at"], s["pitch_share"]) for s in posts
        ]
        svg, frame, limit = chart["svg"], chart["frame"], chart["limit"]
        assert limit["data-share"] == account["target"]["max_pitch_share"]
        share = Fraction(account["target"]["max_pitch_share"])
        assert float(limit["y1"]) == pytest.approx(_y(share, svg, frame), abs=0.11)
        for point in points:
            y = float(re.search(r"translate\(\S+ (\S+)\)", point["transform"]).group(1))
            assert y == pytest.approx(_y(Fraction(point["data-share"]), svg, frame), abs=0.11)


def test_held_pitches_show_in_the_slot_the_rule_refused_them_with_the_numbers(
    planned: Config,
) -> None:
    page = preview(planned, "--week", "2026-W50", "--format", "html").stdout
    document = pipeline.json_output(preview(planned, "--week", "2026-W50", "--format", "json"))
    slots = {s["at"]: s for a in document["accounts"] for d in a["days"] for s in d["slots"]}
    cards = _parse(page).slots
    held = [card for card in cards if card["held"]]
    assert held, "the brand's promos are refused somewhere this week"
    for card in cards:
        item = held_item(slots[card["at"]]["why"])
        if item is None:
            assert not card["held"] and "held" not in card["css"].split()
            continue
        # "held here: promo-1, 2/2 = 100 % > 33 % over the last 6 posts": the planner's
        # own numbers, measured again from the windows.
        assert card["held"].startswith(f"held here: {item}, ")
        numbers = card["held"].removeprefix(f"held here: {item}, ").split(" over ")[0]
        assert numbers in slots[card["at"]]["why"]


def test_a_refusal_is_said_once_on_its_card(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    page = preview(config, "--week", "2026-W50", "--format", "html").stdout
    # Friday stayed empty where promo-b was held: the card's reason says why it is empty,
    # its held line says by how much; the planner's whole note is not repeated.
    assert '<p class="empty-why">empty: no give item is left to take the slot</p>' in page
    assert "held here: promo-b, 2/5 = 40 % &gt; 33 % over the last 6 posts" in page
    assert "promo-b held:" not in page


def test_several_weeks_on_one_page_with_the_chart_across_them(planned: Config) -> None:
    page = preview(planned, "--week", "2026-W50", "--weeks", "2", "--format", "html").stdout
    weeks = [
        pipeline.json_output(preview(planned, "--week", week, "--format", "json"))
        for week in ("2026-W50", "2026-W51")
    ]
    parsed = _parse(page)
    assert "Planner preview 2026-W50 to 2026-W51" in page
    for index, chart in enumerate(parsed.charts):
        posts = [
            (s["at"], s["pitch_share"])
            for document in weeks
            for day in document["accounts"][index]["days"]
            for s in day["slots"]
            if s["status"] != "empty"
        ]
        points = [(p["data-at"], p["data-share"]) for p in chart["points"]]
        assert points == posts
        assert len({at[:10] for at, _ in points}) > 7  # both weeks' days
    slots = [s for document in weeks for a in document["accounts"] for d in a["days"]
             for s in d["slots"]]  # fmt: skip
    assert [card["at"] for card in parsed.slots] == [
        s["at"]
        for index in range(3)
        for document in weeks
        for d in document["accounts"][index]["days"]
        for s in d["slots"]
    ]
    assert len(parsed.slots) == len(slots)


def test_weeks_other_than_one_need_the_html_page(planned: Config) -> None:
    result = preview(planned, "--weeks", "2", "--format", "json")
    assert result.exit_code == 2
    assert "--weeks draws several weeks on one page: use --format html" in result.output


def test_hostile_texts_stay_text_on_the_page(planned: Config) -> None:
    page = preview(planned, "--week", "2026-W50", "--format", "html").stdout
    assert "<script" not in page and "<img src=x" not in page
    # The only images are the posts' own thumbnails, inlined.
    assert re.findall(r"<img src=\"(\w+):", page) == ["data"] * page.count("<img")
    texts: list[str] = []
    reader = HTMLParser()
    reader.handle_data = texts.append  # type: ignore[method-assign]
    reader.feed(page)
    assert f"Tip 3 shows markup as text: {HOSTILE}" in "".join(texts)  # shown as written


@given(st.text(max_size=200))
def test_wrapped_text_is_the_text_escaped_with_only_break_points_added(text: str) -> None:
    markup = str(wrapped(text))
    assert html.unescape(markup.replace("<wbr>", "")) == text
    assert re.sub(r"<wbr>", "", markup).count("<") == 0


def test_long_urls_may_break_after_slashes_not_mid_word() -> None:
    markup = str(wrapped("see https://docs.example.org/guides/caching?utm=1 now"))
    assert markup == (
        "see https://<wbr>docs<wbr>.example<wbr>.org/<wbr>guides/<wbr>caching<wbr>?utm<wbr>=1 now"
    )


# --- where the rule held a pitch --------------------------------------------------------------


@pytest.mark.parametrize(
    ("why", "item"),
    [
        ("promo-b held: pitch share would be 2/5 = 40 % > 33 % over the last 6 posts; the slot "
         "went to help", "promo-b"),
        ("empty: promo-b held: pitch share would be 2/5 = 40 % > 33 %, and no give item is left "
         "to take the slot", "promo-b"),
        ("promo-a held at publish time (only 3.0 h since the last pitch); the slot went to help",
         "promo-a"),
        ("mix: help", None),
        ("promo-b waits: a typed promo slot on Tue needs the room", None),
        ("empty: not planned yet — run `planner plan`", None),
    ],
)  # fmt: skip
def test_the_slot_reason_names_the_held_item(why: str, item: str | None) -> None:
    assert held_item(why) == item


posts_strategy = st.lists(
    st.tuples(st.integers(0, 60 * 24 * 3), st.booleans()), min_size=0, max_size=40
)


@given(
    posts=posts_strategy,
    after=st.integers(0, 60 * 24 * 4),
    share=st.fractions(0, 1, max_denominator=10),
    window_posts=st.none() | st.integers(1, 12),
    window_days=st.none() | st.sampled_from([0.5, 1.0, 2.0, 7.0]),
    gap=st.none() | st.sampled_from([0.0, 3.0, 24.0]),
)
def test_the_pitch_verdict_is_the_balancers_decision(
    posts: list[tuple[int, bool]],
    after: int,
    share: Fraction,
    window_posts: int | None,
    window_days: float | None,
    gap: float | None,
) -> None:
    if window_posts is None and window_days is None:
        window_posts = 5
    settings = BalanceSettings(share, window_posts, window_days, gap)
    start = datetime(2026, 12, 7, tzinfo=UTC)
    times = sorted(minutes for minutes, _ in posts)
    flags = [pitch for _, pitch in posts]
    history = [(start + timedelta(minutes=m), p) for m, p in zip(times, flags, strict=True)]
    at = (history[-1][0] if history else start) + timedelta(minutes=after)
    tracker = WindowTracker(settings, history)
    counts = WindowCounts(window_posts, window_days)
    for when, pitch in history:
        counts.append(when, pitch)
    last_pitch = max((when for when, pitch in history if pitch), default=None)
    verdict = pitch_verdict(
        counts.windows(at, candidate=True),
        settings.max_pitch_share,
        at - last_pitch if last_pitch is not None else None,
        gap,
    )
    decision = tracker.decide(at, True)
    assert verdict.refused == (not decision.allowed)
    assert verdict.window.share == decision.share
    if verdict.over_limit:
        numbers = str(verdict).split(" over ")[0].replace(" > ", " > ")
        assert numbers in decision.reason


# --- --output and --open ------------------------------------------------------------------------


def test_output_writes_every_format_to_the_file_and_nothing_to_stdout(
    tmp_path: Path, db_url: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    for name in ("table", "json", "markdown", "html", "ics"):
        target = tmp_path / f"week.{name}"
        result = preview(config, "--week", "2026-W50", "--format", name, "--output", str(target))
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        shown = preview(config, "--week", "2026-W50", "--format", name).stdout_bytes
        if name == "table":
            assert "\x1b" not in target.read_text()
        else:
            assert target.read_bytes() == shown
    assert json.loads((tmp_path / "week.json").read_text())["week"] == "2026-W50"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".week")) == []


def test_output_is_left_as_it_was_when_the_page_fails(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    target = tmp_path / "week.html"
    target.write_text("the page from before")
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "preview.html.j2").write_text("{{ accounts[0].nickname }}")
    result = preview(config, "--week", "2026-W50", "--format", "html", "--output", str(target))
    assert result.exit_code == 2
    assert "preview.html.j2" in result.stderr and "Traceback" not in result.output
    assert target.read_text() == "the page from before"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_output_into_a_folder_that_cannot_be_is_an_input_error_naming_it(
    tmp_path: Path, db_url: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "week.html"
    result = preview(config, "--format", "html", "--output", str(target))
    assert result.exit_code == 2
    assert f"cannot write {target}" in result.stderr
    assert "Traceback" not in result.output


def test_write_atomically_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    write_atomically(target, b"new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def _browser_script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-browser"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def _open_page(tmp_path: Path, config_path: Path, browser: str) -> subprocess.CompletedProcess[str]:
    """``planner preview --format html --open`` in a process of its own, with ``BROWSER``."""
    env = {**os.environ, "BROWSER": browser, "PLANNER_CONFIG": str(config_path)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "planner", "preview", "--week", "2026-W50", "--format", "html",
         "--output", str(tmp_path / "week.html"), "--open"],
        env=env, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_open_hands_the_page_to_the_browser_named_in_BROWSER(tmp_path: Path) -> None:
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    sync_and_plan(config)
    script = _browser_script(tmp_path, f'echo "$1" > {tmp_path / "opened"}')
    result = _open_page(tmp_path, config.path, str(script))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "opened").read_text().strip() == (tmp_path / "week.html").as_uri()
    assert "warning" not in result.stderr


@pytest.mark.parametrize("body", ["exit 1", None])
def test_open_without_a_working_browser_says_where_the_page_is(
    tmp_path: Path, body: str | None
) -> None:
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    sync_and_plan(config)
    browser = str(_browser_script(tmp_path, body)) if body else str(tmp_path / "no-such-browser")
    result = _open_page(tmp_path, config.path, browser)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert f"warning: no web browser could open it; open {(tmp_path / 'week.html').as_uri()}" in (
        result.stderr
    )
    assert (tmp_path / "week.html").read_text().startswith("<!doctype html>")


def test_a_browser_command_that_never_returns_is_not_waited_for(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = _browser_script(tmp_path, f"echo $$ > {pid_file}\nexec sleep 60 >/dev/null 2>&1")
    page = tmp_path / "week.html"
    page.write_text("<!doctype html>")
    env = {**os.environ, "BROWSER": str(script)}
    code = (
        "import sys, time; from pathlib import Path\n"
        "from planner.reports.preview.output import open_in_browser\n"
        "start = time.monotonic(); answer = open_in_browser(Path(sys.argv[1]), 0.5)\n"
        "print(answer, round(time.monotonic() - start, 1))\n"
    )
    try:
        result = subprocess.run([sys.executable, "-c", code, str(page)], env=env,
                                capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
        answer, seconds = result.stdout.split()
        assert answer == "None" and float(seconds) < 5
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), 9)


def test_open_needs_the_html_page(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    result = preview(config, "--format", "json", "--open")
    assert result.exit_code == 2
    assert "--open shows the HTML page" in result.output


# --- planner init and the built-in page -------------------------------------------------------


def test_init_leaves_the_preview_page_in_the_package(tmp_path: Path) -> None:
    report = init_workspace(tmp_path)
    templates = {p.name for p in (tmp_path / "templates").iterdir()}
    assert "preview.html.j2" not in templates
    assert {"share.txt.j2", "help.txt.j2", "promo.txt.j2"} <= templates
    assert (default_templates_dir() / "preview.html.j2").is_file()
    assert all(path.name != "preview.html.j2" for path in report.created)


def test_the_readme_says_how_to_start_an_own_page() -> None:
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "planner/_defaults/templates/preview.html.j2" in readme
    assert "`planner init` does not copy `preview.html.j2`" in readme
    assert "default_templates_dir" in readme


@given(name=st.text(min_size=1, max_size=300))
def test_any_output_name_is_written_or_refused_with_a_message(name: str) -> None:
    import tempfile

    from planner.errors import InputError

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / name
        try:
            write_atomically(target, b"page")
        except InputError as error:
            assert str(error).startswith(f"cannot write {target}")
        except ValueError as error:  # a NUL in the name: refused by the OS layer itself
            assert "null" in str(error)
        else:
            assert target.read_bytes() == b"page"
        leftovers = [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == []


def test_check_covers_every_week_of_the_page(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)  # W50 only: W51 is not planned, its slots are empty
    result = preview(config, "--week", "2026-W50", "--weeks", "2", "--format", "html", "--check")
    assert result.exit_code == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: check failed for 2026-W50 to 2026-W51: 2026-W50: solo: 1 empty")
    assert "; 2026-W51: solo: 5 empty slots: Mon 14 Dec 09:00" in last


@given(
    item=st.text(st.characters(blacklist_categories=["Z", "C"]), min_size=1, max_size=40),
    reason=st.text(max_size=80),
    kind=st.sampled_from(["help", "share", "question"]),
)
def test_every_note_the_planner_writes_of_a_held_pitch_names_its_item(
    item: str, reason: str, kind: str
) -> None:
    # The formats of planner/plan/engine.py and planner/publish/recheck.py.
    assert held_item(f"{item} held: {reason}; the slot went to {kind}") == item
    assert held_item(f"empty: {item} held: {reason}, and no give item is left") == item
    assert held_item(f"{item} held at publish time ({reason}); the slot went to {kind}") == item
    assert held_item(f"mix: {kind}") is None
    assert held_item(f"{item} waits: {reason}") is None
