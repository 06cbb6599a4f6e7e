"""Images in the preview, on SQLite and PostgreSQL: the JSON carries each post's images
(alt text, type, size, source and a small thumbnail as a data URI), the Markdown table shows
their alt text, and the terminal table marks the post."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from planner.config.settings import Config
from planner.reports.preview import thumbnails

from support.images import png
from support.preview_weeks import SOLO_QUEUE, preview_of, run, solo, sync_and_plan

PICTURED = SOLO_QUEUE.replace(
    'text = "Tip A: key the cache on the lock file."',
    'text = "Tip A: key the cache on the lock file."\n'
    '[[item.media]]\npath = "chart.png"\nalt = "Build minutes: 14 before, 6 after"\n'
    '[[item.media]]\npath = "shot.png"\nalt = "The cache key settings"\n',
)


def pictured(tmp_path: Path, db_url: str) -> Config:
    config = solo(tmp_path, db_url, queue=PICTURED)
    (tmp_path / "queue" / "chart.png").write_bytes(png(400, 300, colour=1))
    (tmp_path / "queue" / "shot.png").write_bytes(png(30, 50, colour=2))
    sync_and_plan(config)
    return config


def test_the_json_preview_carries_each_posts_images_with_a_small_thumbnail(
    tmp_path: Path, db_url: str
) -> None:
    config = pictured(tmp_path, db_url)
    result = run("--week", "2026-W50", "--format", "json", config=config)
    assert result.exit_code == 0, result.output
    slots = [
        slot for day in json.loads(result.output)["accounts"][0]["days"] for slot in day["slots"]
    ]
    (tip,) = [slot for slot in slots if slot["item"] == "tip-a"]
    assert [(m["alt"], m["type"], m["width"], m["height"], m["source"]) for m in tip["media"]] == [
        ("Build minutes: 14 before, 6 after", "image/png", 400, 300, "chart.png"),
        ("The cache key settings", "image/png", 30, 50, "shot.png"),
    ]
    prefix = "data:image/jpeg;base64,"
    assert all(m["thumbnail"].startswith(prefix) for m in tip["media"])
    thumb = Image.open(io.BytesIO(base64.b64decode(tip["media"][0]["thumbnail"][len(prefix) :])))
    assert thumb.size == (160, 120)  # the longer side 160 pixels, the shape kept
    assert all("media" not in slot for slot in slots if slot["item"] != "tip-a")


def test_markdown_shows_the_alt_text_and_the_terminal_table_marks_the_post(
    tmp_path: Path, db_url: str
) -> None:
    config = pictured(tmp_path, db_url)
    markdown = run("--week", "2026-W50", "--format", "markdown", config=config).output
    assert (
        "Tip A: key the cache on the lock file. [image: Build minutes: 14 before, 6 after] "
        "[image: The cache key settings]"
    ) in markdown
    table = run("--week", "2026-W50", config=config).output
    assert "[2 images] Tip A" in table
    assert table.count("images]") == 1


def test_the_preview_model_rows_carry_what_the_page_needs(tmp_path: Path, db_url: str) -> None:
    config = pictured(tmp_path, db_url)
    rows = [row for day in preview_of(config).accounts[0].days for row in day.rows]
    (tip,) = [row for row in rows if row.item == "tip-a"]
    assert [image.alt for image in tip.media] == [
        "Build minutes: 14 before, 6 after",
        "The cache key settings",
    ]
    assert all(image.thumbnail and len(image.thumbnail) < 20_000 for image in tip.media)


def test_without_pillow_the_json_has_no_thumbnail_but_everything_else(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(thumbnails, "pillow_available", lambda: False)
    monkeypatch.setattr(thumbnails, "_CACHE", {})
    config = pictured(tmp_path, db_url)
    rows = [row for day in preview_of(config).accounts[0].days for row in day.rows]
    (tip,) = [row for row in rows if row.item == "tip-a"]
    assert [(image.alt, image.thumbnail) for image in tip.media] == [
        ("Build minutes: 14 before, 6 after", None),
        ("The cache key settings", None),
    ]
