"""The preview page in a real headless Chromium (Debian's ``chromium``, driven by Playwright's
Python package with ``executable_path``; no browser is downloaded).

At 1400 px (a desktop) and 400 px (a phone): nothing overflows sideways, every slot card is
on screen, the chart has one point per post at the JSON's share and the limit line at the
rule's share, held pitches sit in the slots the rule refused them, the console stays clean and
no request leaves the page. A full-page screenshot of each is written to
``$PLANNER_TEST_ARTEFACTS`` (default: the test's temporary folder).

Outside CI a machine without Chromium skips these tests and says why; under ``.ci/run``
(``PLANNER_REQUIRE_BROWSER=1``) a missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from planner.cli.preview_cmd import preview_command
from planner.config.settings import Config

from support import pipeline
from support.brand_week import HOSTILE, IMAGE_ALTS, NOW, brand, plan_brand

CHROMIUM = os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")


def _chromium() -> str:
    found = shutil.which(CHROMIUM)
    if found:
        return found
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PLANNER_CHROMIUM)"
    if os.environ.get("PLANNER_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}: CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def page_and_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """The brand's two weeks on one page, and each week's JSON preview."""
    root = tmp_path_factory.mktemp("brand")
    config: Config = brand(root, f"sqlite:///{root / 'planner.db'}")
    plan_brand(config)
    page = root / "weeks.html"
    args = ["--week", "2026-W50", "--weeks", "2", "--format", "html", "--output", str(page)]
    result = pipeline.invoke(preview_command, args, config=config, at=NOW)
    assert result.exit_code == 0, result.output
    documents = [
        pipeline.json_output(
            pipeline.invoke(
                preview_command, ["--week", week, "--format", "json"], config=config, at=NOW
            )  # fmt: skip
        )
        for week in ("2026-W50", "2026-W51")
    ]
    return page, documents


def _artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PLANNER_TEST_ARTEFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", [1400, 400])
def test_the_page_in_chromium(
    browser: Any,
    page_and_json: tuple[Path, list[dict[str, Any]]],
    width: int,
    tmp_path: Path,
) -> None:
    path, documents = page_and_json
    url = path.as_uri()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)

    # Nothing overflows sideways.
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{scroll} px wide at {width} px"

    # Every slot card is on screen, inside the viewport's width, in the JSON's order.
    slots = [
        slot
        for index in range(3)
        for document in documents
        for day in document["accounts"][index]["days"]
        for slot in day["slots"]
    ]
    cards = page.locator("article.slot")
    assert cards.count() == len(slots)
    boxes = cards.evaluate_all(
        "cards => cards.map(c => { const r = c.getBoundingClientRect();"
        " return [c.dataset.at, r.left, r.right, r.width, r.height,"
        " getComputedStyle(c).visibility]; })"
    )
    assert [box[0] for box in boxes] == [slot["at"] for slot in slots]
    for at, left, right, box_width, height, visibility in boxes:
        assert box_width > 40 and height > 20 and visibility == "visible", at
        assert left >= 0 and right <= width, f"{at}: {left}-{right} at {width} px"

    # The chart: one point per post at the JSON's share, the limit line at the rule's.
    charts = page.locator("svg.rule-chart")
    assert charts.count() == 3
    for index in range(3):
        chart = charts.nth(index)
        posts = [
            (slot["at"], slot["pitch_share"])
            for document in documents
            for day in document["accounts"][index]["days"]
            for slot in day["slots"]
            if slot["status"] != "empty"
        ]
        drawn = chart.locator("g.point").evaluate_all(
            "points => points.map(p => { const r = p.querySelector('.mark')"
            ".getBoundingClientRect();"
            " return [p.dataset.at, p.dataset.share, (r.top + r.bottom) / 2]; })"
        )
        assert [(at, share) for at, share, _ in drawn] == posts
        frame = chart.locator("rect.frame").bounding_box()
        top = Fraction(chart.get_attribute("data-top"))

        def y_of(share: Fraction, frame: Any = frame, top: Fraction = top) -> float:
            return float(frame["y"] + frame["height"] * (1 - share / top))

        limit = documents[0]["accounts"][index]["target"]["max_pitch_share"]
        line = chart.locator("line.limit-line")
        assert line.get_attribute("data-share") == limit
        line_box = line.bounding_box()
        assert line_box is not None
        tolerance = frame["height"] / 100 + 2  # a stroke's width, in CSS pixels
        assert abs(line_box["y"] + line_box["height"] / 2 - y_of(Fraction(limit))) < tolerance
        for at, share, middle in drawn:
            assert abs(middle - y_of(Fraction(share))) < tolerance, at

    # Held pitches sit in the slots where the rule refused them, and say so.
    held = [slot for slot in slots if " held: " in slot["why"] or " held at " in slot["why"]]
    assert held, "the brand's promos are held somewhere"
    for slot in held:
        line = page.locator(f'article.slot[data-at="{slot["at"]}"] .held-here').first
        assert line.is_visible()
        assert line.inner_text().startswith("held here: ")

    # Hostile texts are text, never markup: the page has no script at all.
    assert page.locator("script").count() == 0
    assert page.get_by_text(HOSTILE, exact=False).count() >= 1

    # Posts' images: a decoded thumbnail each, in the JSON's order, with its alt text as the
    # image's alternative and in its caption, inside its card.
    images = [image for slot in slots for image in slot.get("media", [])]
    posts_with_images = len(images) // 2
    assert posts_with_images >= 1  # tip-01, on each account it went to
    assert [image["alt"] for image in images] == [*IMAGE_ALTS] * posts_with_images
    shown = page.locator("article.slot figure.image img").evaluate_all(
        "imgs => imgs.map(i => { const r = i.getBoundingClientRect();"
        " const card = i.closest('article').getBoundingClientRect();"
        " return [i.alt, i.naturalWidth, r.width, r.left >= card.left && r.right <= card.right,"
        " i.closest('figure').querySelector('figcaption').innerText]; })"
    )
    assert [alt for alt, *_ in shown] == [image["alt"] for image in images]
    for alt, natural, drawn_width, inside, caption in shown:
        assert natural > 0 and drawn_width > 0 and inside, alt
        assert caption.startswith(f"image: {alt}")

    # A clean console, and nothing fetched but the page itself.
    assert errors == []
    assert set(requests) == {url}

    page.screenshot(path=str(_artefacts(tmp_path) / f"preview-{width}px.png"), full_page=True)
    context.close()


def test_the_page_in_print_and_dark(
    browser: Any, page_and_json: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    path, _ = page_and_json
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="dark")
    page = context.new_page()
    page.goto(path.as_uri())
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(24, 24, 27)"  # the dark palette's paper
    page.screenshot(path=str(_artefacts(tmp_path) / "preview-dark.png"))
    page.emulate_media(media="print")
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner
    assert page.locator("details").first.is_hidden()  # the table copy of the chart
    pdf_free = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert pdf_free == "rgb(255, 255, 255)"  # print: white paper even in a dark scheme
    context.close()
