"""What an image file is, read from its bytes (never from its name): type and pixel size.

Pure (a test holds it to that): bytes in, an :class:`ImageInfo` (or None) out. The types are
the ones every network the planner posts to takes as a photo: PNG, JPEG, GIF and WebP. A file
whose first bytes say none of these is not an image the planner can post, whatever its
extension says.
"""

from __future__ import annotations

from dataclasses import dataclass

PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
MIME_TYPES = (PNG, JPEG, GIF, WEBP)
EXTENSIONS = {PNG: "png", JPEG: "jpg", GIF: "gif", WEBP: "webp"}
# JPEG markers without a length (stand-alone): TEM, RSTn, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xDA)}
# Start-of-frame markers (they carry the size); DHT, JPG and DAC share the range but are not.
_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class ImageInfo:
    """An image's type (a MIME type of :data:`MIME_TYPES`) and size in pixels (0 when the
    file does not say)."""

    mime: str
    width: int
    height: int


def sniff(data: bytes) -> ImageInfo | None:
    """The image type and size of ``data``; None when it is none of PNG, JPEG, GIF, WebP."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None


def _png(data: bytes) -> ImageInfo:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = _big(data[16:20]), _big(data[20:24])
        return ImageInfo(PNG, width, height)
    return ImageInfo(PNG, 0, 0)


def _gif(data: bytes) -> ImageInfo:
    if len(data) >= 10:
        width, height = _little(data[6:8]), _little(data[8:10])
        return ImageInfo(GIF, width, height)
    return ImageInfo(GIF, 0, 0)


def _jpeg(data: bytes) -> ImageInfo:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill bytes before a marker
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        length = _big(data[position + 2 : position + 4])
        if marker in _SOF and position + 9 <= len(data):
            height, width = (
                _big(data[position + 5 : position + 7]),
                _big(data[position + 7 : position + 9]),
            )
            return ImageInfo(JPEG, width, height)
        if length < 2:
            break
        position += 2 + length
    return ImageInfo(JPEG, 0, 0)


def _webp(data: bytes) -> ImageInfo:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width, height = 1 + _little(data[24:27]), 1 + _little(data[27:30])
        return ImageInfo(WEBP, width, height)
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = _little(data[26:28]), _little(data[28:30])
        return ImageInfo(WEBP, width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = _little(data[21:25])
        return ImageInfo(WEBP, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    return ImageInfo(WEBP, 0, 0)


def _big(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _little(data: bytes) -> int:
    return int.from_bytes(data, "little")
