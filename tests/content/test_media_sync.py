"""Images of queue items (``[[item.media]]``) are checked by `queue sync`, on SQLite and
PostgreSQL: a missing file, a file that is not an image whatever its name says, an image a
network refuses (type, size, count, alt text length), a missing alt text; each refused with
the file, line, item, key and the network's limit named, and nothing stored."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import load_config
from planner.content import media_files
from planner.store.database import open_database
from planner.store.models import ItemMedia

from support.images import gif, png, webp

BLUESKY = """
[accounts.sky]
network = "bluesky"
options = { handle = "brand.bsky.social" }
credentials = { app_password_env = "BSKY" }
"""
FACEBOOK = """
[accounts.page]
network = "facebook"
options = { page_id = "123" }
credentials = { page_access_token_env = "FB" }
"""
X_ACCOUNT = '\n[accounts.bird]\nnetwork = "x"\n[accounts.bird.credentials]\n'
MASTODON_TWO = """
[accounts.toot]
network = "mastodon"
options = { api_base_url = "https://small.example", media_max_images = 2 }
credentials = { access_token_env = "M" }
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def setup(workspace: Path, items: str, *accounts: str, images: dict[str, bytes]) -> Path:
    """One queue file with ``items``, the images beside it, ``accounts`` added to the config."""
    for path in (workspace / "queue").glob("*.toml"):
        path.unlink()
    with (workspace / "planner.toml").open("a") as config:
        config.write("".join(accounts))
    for name, data in images.items():
        (workspace / "queue" / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / "queue" / name).write_bytes(data)
    path = workspace / "queue" / "pics.toml"
    path.write_text(items)
    return path


def item(*media: str, accounts: str = "") -> str:
    tables = "".join(f"\n[[item.media]]\n{m}\n" for m in media)
    target = f"accounts = [{accounts}]\n" if accounts else ""
    return f'[[item]]\nid = "tip"\nkind = "help"\ntext = "A tip"\n{target}{tables}'


def stored_media(workspace: Path) -> list[tuple[int, str, str | None, str, int, int, str]]:
    config = load_config(workspace / "planner.toml")
    db = open_database(config.database_url)
    try:
        with db.reading() as session:
            rows = session.scalars(select(ItemMedia).order_by(ItemMedia.position)).all()
            return [
                (r.position, r.source, r.alt, r.mime, r.width, r.height, r.sha256) for r in rows
            ]
    finally:
        db.dispose()


def refused(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_an_item_with_two_images_is_stored_with_type_size_alt_and_hash(workspace: Path) -> None:
    chart, shot = png(4, 3, colour=1), gif()
    setup(
        workspace,
        item('path = "img/chart.png"\nalt = "Chart"', 'path = "img/shot.gif"\nalt = "Shot"'),
        images={"img/chart.png": chart, "img/shot.gif": shot},
    )
    result = run("queue", "sync", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 1
    assert stored_media(workspace) == [
        (0, "img/chart.png", "Chart", "image/png", 4, 3, hashlib.sha256(chart).hexdigest()),
        (1, "img/shot.gif", "Shot", "image/gif", 1, 1, hashlib.sha256(shot).hexdigest()),
    ]
    listed = json.loads(run("queue", "list", "--json").output)
    assert listed[0]["media"] == [
        {"source": "img/chart.png", "alt": "Chart", "type": "image/png", "width": 4,
         "height": 3, "bytes": len(chart), "sha256": hashlib.sha256(chart).hexdigest()},
        {"source": "img/shot.gif", "alt": "Shot", "type": "image/gif", "width": 1,
         "height": 1, "bytes": len(shot), "sha256": hashlib.sha256(shot).hexdigest()},
    ]  # fmt: skip


def test_an_edited_image_updates_its_item_at_the_next_sync(workspace: Path) -> None:
    setup(workspace, item('path = "a.png"\nalt = "A"'), images={"a.png": png(colour=1)})
    assert run("queue", "sync").exit_code == 0
    assert "0 added, 0 updated, 1 unchanged" in run("queue", "sync").output
    (workspace / "queue" / "a.png").write_bytes(png(colour=9))
    assert "0 added, 1 updated, 0 unchanged" in run("queue", "sync").output
    assert stored_media(workspace)[0][6] == hashlib.sha256(png(colour=9)).hexdigest()


def test_a_missing_file_is_refused_naming_the_file_line_and_key(workspace: Path) -> None:
    path = setup(workspace, item('path = "img/gone.png"\nalt = "Gone"'), images={})
    output = refused(run("queue", "sync"))
    assert f'{path}:7: item[0] (id "tip").media[0].path: img/gone.png: no such file' in output
    assert stored_media(workspace) == []


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name_says(workspace: Path) -> None:
    path = setup(
        workspace, item('path = "notes.png"\nalt = "Notes"'), images={"notes.png": b"just text\n"}
    )
    output = refused(run("queue", "sync"))
    assert f"{path}:7: " in output
    assert "notes.png is not a PNG, JPEG, GIF or WebP image (read from its bytes)" in output


def test_a_type_one_network_refuses_is_named_with_the_types_it_takes(workspace: Path) -> None:
    setup(
        workspace,
        item('path = "a.webp"\nalt = "A"', accounts='"page", "main"'),
        FACEBOOK,
        images={"a.webp": webp()},
    )
    output = refused(run("queue", "sync"))
    assert "media[0].path: WEBP image: facebook takes JPEG, PNG, GIF images" in output
    assert '(account "page")' in output  # the outbox takes WebP: not named


def test_an_image_too_large_for_bluesky_names_the_network_and_its_limit(workspace: Path) -> None:
    big = png(10, 10, size=1_200_000)
    setup(workspace, item('path = "big.png"\nalt = "Big"'), BLUESKY, images={"big.png": big})
    output = refused(run("queue", "sync"))
    assert (
        "1,200,000 bytes, more than the 1,000,000 bytes bluesky takes per image (make it "
        'smaller, or set [media] resize = true) (account "sky")'
    ) in output


def test_an_image_at_bluesky_s_limit_is_taken(workspace: Path) -> None:
    setup(
        workspace,
        item('path = "edge.png"\nalt = "Edge"'),
        BLUESKY,
        images={"edge.png": png(10, 10, size=1_000_000)},
    )
    result = run("queue", "sync")
    assert result.exit_code == 0, result.output


def test_a_missing_alt_text_is_refused_unless_the_config_allows_it(workspace: Path) -> None:
    path = setup(workspace, item('path = "a.png"'), images={"a.png": png()})
    output = refused(run("queue", "sync"))
    assert f'{path}:6: item[0] (id "tip").media[0].alt: missing alt text' in output
    assert "[plan] require_alt = false" in output
    blank = setup(workspace, item('path = "a.png"\nalt = "  "'), images={})
    assert "missing alt text" in refused(run("queue", "sync"))
    config = (workspace / "planner.toml").read_text()
    (workspace / "planner.toml").write_text(
        config.replace("require_alt = true", "require_alt = false")
    )
    assert blank.exists()
    result = run("queue", "sync")
    assert result.exit_code == 0, result.output


def test_more_than_four_images_is_refused(workspace: Path) -> None:
    five = [f'path = "a.png"\nalt = "Image {n}"' for n in range(5)]
    setup(workspace, item(*five), images={"a.png": png()})
    output = refused(run("queue", "sync"))
    assert 'item[0] (id "tip").media: 5 images: at most 4 per item' in output


def test_more_images_than_an_instance_takes_is_refused_naming_it(workspace: Path) -> None:
    three = [f'path = "a.png"\nalt = "Image {n}"' for n in range(3)]
    setup(workspace, item(*three), MASTODON_TWO, images={"a.png": png()})
    output = refused(run("queue", "sync"))
    assert '3 images, more than the 2 mastodon takes on one post (account "toot")' in output


def test_alt_text_longer_than_x_takes_is_refused(workspace: Path) -> None:
    x_account = X_ACCOUNT + 'api_key_env = "A"\napi_secret_env = "B"\naccess_token_env = "C"\n'
    x_account += 'access_token_secret_env = "D"\n'
    setup(workspace, item(f'path = "a.png"\nalt = "{"a" * 1001}"'), x_account,
          images={"a.png": png()})  # fmt: skip
    output = refused(run("queue", "sync"))
    assert "alt text of 1,001 characters, more than the 1,000 x takes" in output


def test_an_x_account_with_an_oauth2_token_takes_no_images_and_says_why(workspace: Path) -> None:
    x_account = X_ACCOUNT + 'oauth2_access_token_env = "T"\n'
    setup(workspace, item('path = "a.png"\nalt = "A"'), x_account, images={"a.png": png()})
    assert "only with OAuth 1.0a credentials" in refused(run("queue", "sync"))


@pytest.mark.parametrize(
    ("form", "mime", "options"),
    [("JPEG", "image/jpeg", {"quality": 100}), ("PNG", "image/png", {}),
     ("WEBP", "image/webp", {"lossless": True})],
)  # fmt: skip
def test_resize_shrinks_an_image_to_fit_keeping_its_shape_and_dropping_its_location(
    workspace: Path, form: str, mime: str, options: dict[str, object]
) -> None:
    photo = Image.effect_noise((1500, 1000), 90).convert("RGB")  # noise: compresses badly
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPSInfo: where the photo was taken
    buffer = io.BytesIO()
    photo.save(buffer, form, exif=exif, **options)
    original = buffer.getvalue()
    assert len(original) > 1_000_000
    assert 0x8825 in Image.open(io.BytesIO(original)).getexif()
    setup(workspace, item('path = "photo.img"\nalt = "A photo"'), BLUESKY,
          images={"photo.img": original})  # fmt: skip
    assert "resize = true" in refused(run("queue", "sync"))

    config = (workspace / "planner.toml").read_text()
    (workspace / "planner.toml").write_text(config.replace("resize = false", "resize = true"))
    result = run("queue", "sync")
    assert result.exit_code == 0, result.output
    config_ = load_config(workspace / "planner.toml")
    db = open_database(config_.database_url)
    try:
        with db.reading() as session:
            stored = session.scalars(select(ItemMedia)).one()
    finally:
        db.dispose()
    assert stored.size <= 1_000_000 and stored.mime == mime
    assert abs(stored.width / stored.height - 1.5) < 0.01
    shrunk = Image.open(io.BytesIO(stored.data))
    assert 0x8825 not in shrunk.getexif() and "exif" not in shrunk.info
    # The source file's hash decides "unchanged": a second sync does not resize again.
    assert "1 unchanged" in run("queue", "sync").output


@pytest.mark.parametrize("key", ['url = "ftp://example.org/a.png"', 'path = ""', ""])
def test_an_image_table_without_one_valid_source_is_refused(workspace: Path, key: str) -> None:
    setup(workspace, item(f'{key}\nalt = "A"'), images={})
    output = refused(run("queue", "sync"))
    assert "media[0]" in output


def test_resize_without_pillow_says_what_to_install(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_files, "pillow_available", lambda: False)
    config = (workspace / "planner.toml").read_text()
    (workspace / "planner.toml").write_text(config.replace("resize = false", "resize = true"))
    big = png(10, 10, size=1_200_000)
    setup(workspace, item('path = "big.png"\nalt = "Big"'), BLUESKY, images={"big.png": big})
    output = refused(run("queue", "sync"))
    assert "media[0].path: [media] resize = true needs Pillow: install planner[images]" in output
