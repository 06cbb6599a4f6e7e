"""Small real image files for the media tests, built from bytes (no Pillow needed).

``png(3, 2)`` is a valid 3x2 PNG; ``png(3, 2, size=2_000_000)`` the same picture padded with
a private ancillary chunk to exactly two million bytes, as large as a test needs an image to
be without drawing one. ``colour`` changes the pixels, so two images differ in their bytes.
"""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 3, height: int = 2, *, size: int | None = None, colour: int = 0) -> bytes:
    """A ``width`` x ``height`` RGB PNG, padded to ``size`` bytes when given."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    row = b"\x00" + bytes((colour % 256, 64, 128)) * width
    data = _chunk(b"IDAT", zlib.compress(row * height))
    end = _chunk(b"IEND", b"")
    image = b"\x89PNG\r\n\x1a\n" + header + data + end
    if size is not None:
        padding = size - len(image) - 12  # a chunk's length, type and CRC
        if padding < 0:
            raise ValueError(f"a {width}x{height} PNG takes {len(image)} bytes already")
        image = image[:-12] + _chunk(b"prVt", b"\x00" * padding) + end
    return image


def gif() -> bytes:
    """A one-frame 1x1 GIF (the classic transparent pixel)."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00"
        b"\x02\x02D\x01\x00;"
    )


def webp(width: int = 4, height: int = 3) -> bytes:
    """A lossless (VP8L) WebP header for a ``width`` x ``height`` image."""
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 8
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
