"""Sniffing an image's type and size from its bytes (pure), and the per-network checks."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from planner.content.images import GIF, JPEG, PNG, WEBP, ImageInfo, sniff
from planner.content.media_limits import (
    BLUESKY_LIMITS,
    FACEBOOK_LIMITS,
    MediaFacts,
    mastodon_limits,
    media_problems,
)

from support.images import gif, png, webp


def saved(form: str, size: tuple[int, int], **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, form, **options)
    return buffer.getvalue()


def test_each_type_and_its_size_is_read_from_the_bytes() -> None:
    assert sniff(png(7, 5)) == ImageInfo(PNG, 7, 5)
    assert sniff(gif()) == ImageInfo(GIF, 1, 1)
    assert sniff(webp(4, 3)) == ImageInfo(WEBP, 4, 3)
    assert sniff(saved("JPEG", (640, 480))) == ImageInfo(JPEG, 640, 480)
    assert sniff(saved("JPEG", (33, 21), progressive=True)) == ImageInfo(JPEG, 33, 21)
    assert sniff(saved("WEBP", (40, 30))) == ImageInfo(WEBP, 40, 30)
    assert sniff(saved("WEBP", (40, 30), lossless=True)) == ImageInfo(WEBP, 40, 30)
    assert sniff(saved("PNG", (9, 8))) == ImageInfo(PNG, 9, 8)


def test_what_is_not_an_image_is_none_whatever_it_is_called() -> None:
    for data in (b"", b"hello", b"%PDF-1.7", b"BM" + b"\0" * 60, b"<svg xmlns='x'/>"):
        assert sniff(data) is None


@given(st.binary(max_size=64))
def test_any_bytes_give_an_answer_never_an_exception(data: bytes) -> None:
    found = sniff(data)
    assert found is None or (found.width >= 0 and found.height >= 0)


@given(st.binary(max_size=40))
def test_a_cut_or_garbled_header_of_a_known_type_still_names_the_type(tail: bytes) -> None:
    for head, mime in ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"GIF89a", GIF)):
        found = sniff(head + tail)
        assert found is not None and found.mime == mime


def test_problems_name_the_network_the_limit_and_the_value_seen() -> None:
    big = MediaFacts(PNG, 1_000_001, "A chart")
    assert media_problems([big], BLUESKY_LIMITS, "bluesky") == [
        (
            0,
            "path",
            "1,000,001 bytes, more than the 1,000,000 bytes bluesky takes per image (make it "
            "smaller, or set [media] resize = true)",
        )
    ]
    assert media_problems([MediaFacts(PNG, 1_000_000, "A chart")], BLUESKY_LIMITS, "bluesky") == []
    webp_image = MediaFacts(WEBP, 10, "x")
    assert media_problems([webp_image], FACEBOOK_LIMITS, "facebook") == [
        (0, "path", "WEBP image: facebook takes JPEG, PNG, GIF images")
    ]
    small = mastodon_limits({"media_max_images": 2})
    three = [MediaFacts(PNG, 10, "x")] * 3
    assert media_problems(three, small, "mastodon") == [
        (None, "media", "3 images, more than the 2 mastodon takes on one post")
    ]


@given(st.lists(st.integers(0, 20_000_000), max_size=6), st.integers(1, 16_000_000))
def test_an_image_is_refused_for_its_size_exactly_when_it_is_over_the_limit(
    sizes: list[int], limit: int
) -> None:
    limits = mastodon_limits({"media_max_bytes": limit})
    problems = media_problems([MediaFacts(PNG, size, "x") for size in sizes], limits, "m")
    too_large = {index for index, key, message in problems if "bytes" in message}
    assert too_large == {index for index, size in enumerate(sizes) if size > limit}
