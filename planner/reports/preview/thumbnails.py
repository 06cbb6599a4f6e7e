"""Small thumbnails of posts' images for the preview, inlined as ``data:`` URIs.

Made with Pillow when it is installed (``planner[images]``): at most :data:`MAX_SIDE` pixels
on the longer side, aspect ratio kept, saved again without metadata (a preview page shared
around must not carry a photo's GPS location) as JPEG, or PNG for an image with
transparency. Without Pillow, or for bytes Pillow cannot read, there is no thumbnail and the
preview shows the alt text alone. Thumbnails are cached by the image's SHA-256: one image in
many posts is shrunk once.
"""

from __future__ import annotations

import base64
import io

from planner.content.media_files import pillow_available
from planner.content.media_store import StoredImage
from planner.reports.preview.rows import PreviewImage

MAX_SIDE = 160
_CACHE: dict[str, str | None] = {}  # sha256 -> thumbnail; small, but bounded all the same
_CACHED = 256


def preview_image(image: StoredImage) -> PreviewImage:
    """What the preview shows of one stored image."""
    return PreviewImage(
        alt=image.alt,
        mime=image.mime,
        width=image.width,
        height=image.height,
        source=image.source,
        thumbnail=thumbnail(image.sha256, image.data),
    )


def thumbnail(sha256: str, data: bytes) -> str | None:
    """The thumbnail of ``data`` (whose hash is ``sha256``) as a ``data:`` URI, or None."""
    if sha256 not in _CACHE:
        if len(_CACHE) >= _CACHED:
            _CACHE.clear()
        _CACHE[sha256] = _make(data)
    return _CACHE[sha256]


def _make(data: bytes) -> str | None:
    if not data or not pillow_available():
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.thumbnail((MAX_SIDE, MAX_SIDE))
            transparent = opened.mode in ("RGBA", "LA", "P") and (
                opened.mode != "P" or "transparency" in opened.info
            )
            small = opened.convert("RGBA" if transparent else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    out = io.BytesIO()
    if transparent:
        small.save(out, format="PNG", optimize=True)
        mime = "image/png"
    else:
        small.save(out, format="JPEG", quality=70, optimize=True)
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode('ascii')}"
