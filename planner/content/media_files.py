"""Read an item's images at sync: a file beside the queue file, or a URL fetched then.

Every image is read whole at sync, its type sniffed from its bytes (:mod:`planner.content.
images`) and its SHA-256 taken, so the database holds exactly the bytes that were checked and
will be published (a runner on another machine needs no copy of the queue folder), and an
edited image changes its item's content hash: the next sync updates the item.

An image given by ``url`` is fetched at every sync that reads its item, with the ``[media]``
timeout and size cap (the feed fetcher's rules: a whole-fetch deadline, a byte cap read in
chunks, few redirects). Its URL is kept beside it, for a webhook that would rather link it.

With ``[media] resize = true`` an image larger than the tightest byte limit of the networks
its item goes to is shrunk with Pillow (``planner[images]``): scaled down keeping its aspect
ratio and saved again without its metadata (EXIF, GPS location), until it fits. An animated
GIF is never resized (its frames would be lost); it is refused as too large instead.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planner.config.schema import MediaConfig
from planner.config.settings import Config
from planner.content.images import GIF, JPEG, PNG, WEBP, ImageInfo, sniff
from planner.content.item_spec import ItemSpec, MediaSpec
from planner.content.media_limits import network_limits, smallest_max_bytes

# Read no more of a file than this: larger than any network takes, so refused anyway.
READ_LIMIT = 64 * 1024 * 1024
_RESIZE_STEPS = 8

MediaProblem = tuple[tuple[str | int, ...], str]  # the key path inside the item, the message


@dataclass(frozen=True)
class MediaFile:
    """One image as stored: its bytes (resized when ``[media] resize`` had to), type, pixel
    size, alt text, where it came from and the hashes a sync and a publish compare."""

    source: str  # the path as written in the queue file, or the URL
    alt: str | None
    mime: str
    width: int
    height: int
    sha256: str  # of ``data``: what is published
    source_sha256: str  # of the file as read: what tells an edited image
    data: bytes = field(repr=False, compare=False)
    is_url: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


def load_media(
    specs: Sequence[MediaSpec],
    base_dir: Path,
    settings: MediaConfig,
    fit_bytes: int | None = None,
) -> tuple[list[MediaFile], list[MediaProblem]]:
    """Read each image of an item; return them, or the problems (key path, message).

    ``fit_bytes`` is the tightest per-image byte limit of the item's networks: with
    ``settings.resize`` a larger image is shrunk to fit it.
    """
    files: list[MediaFile] = []
    problems: list[MediaProblem] = []
    for index, spec in enumerate(specs):
        key: tuple[str | int, ...] = ("media", index, "url" if spec.url else "path")
        try:
            data, source = _read(spec, base_dir, settings)
        except _Unreadable as exc:
            problems.append((key, str(exc)))
            continue
        info = sniff(data)
        if info is None:
            problems.append(
                (key, f"{source} is not a PNG, JPEG, GIF or WebP image (read from its bytes)")
            )
            continue
        source_sha = hashlib.sha256(data).hexdigest()
        if settings.resize and fit_bytes is not None and len(data) > fit_bytes:
            if not pillow_available():
                problems.append(
                    (key, "[media] resize = true needs Pillow: install planner[images]")
                )
                continue
            shrunk = shrink(data, info, fit_bytes)
            if shrunk is not None:
                data, info = shrunk
        files.append(
            MediaFile(
                source=source,
                alt=spec.alt,
                mime=info.mime,
                width=info.width,
                height=info.height,
                sha256=hashlib.sha256(data).hexdigest(),
                source_sha256=source_sha,
                data=data,
                is_url=spec.url is not None,
            )
        )
    return files, problems


class _Unreadable(Exception):
    pass


def _read(spec: MediaSpec, base_dir: Path, settings: MediaConfig) -> tuple[bytes, str]:
    if spec.url is not None:
        # Only here: httpx takes a tenth of a second to import (it loads click and rich),
        # which every command reading queue files would pay.
        from planner.content.feed_fetch import FeedFetchError, fetch_feed

        try:
            fetched = fetch_feed(
                spec.url,
                base_dir=base_dir,
                timeout=settings.timeout_seconds,
                max_bytes=settings.max_bytes,
                max_redirects=5,
            )
        except FeedFetchError as exc:
            raise _Unreadable(f"cannot fetch {spec.url}: {exc}") from None
        return fetched.body or b"", spec.url
    assert spec.path is not None  # MediaSpec holds exactly one of path and url
    path = base_dir / spec.path
    try:
        if not path.is_file():
            what = "no such file" if not path.exists() else "not a file"
            raise _Unreadable(f"{spec.path}: {what} (looked for {path})")
        with path.open("rb") as handle:
            data = handle.read(READ_LIMIT + 1)
    except (OSError, ValueError) as exc:  # ValueError: a path the system cannot name
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _Unreadable(f"{spec.path}: cannot read ({reason})") from None
    if len(data) > READ_LIMIT:
        raise _Unreadable(
            f"{spec.path}: larger than {READ_LIMIT:,} bytes, more than any network takes"
        )
    return data, spec.path


def load_item_media(
    spec: ItemSpec, config: Config, base_dir: Path
) -> tuple[list[MediaFile], list[tuple[tuple[str | int, ...], str]]]:
    """Read ``spec``'s images (paths relative to ``base_dir``), shrunk to fit its accounts'
    networks when ``[media] resize`` is on; return them or the problems."""
    if not spec.media:
        return [], []
    accounts = config.settings.accounts
    limits = [
        found
        for name in spec.accounts or list(accounts)
        if name in accounts
        and (found := network_limits(accounts[name].network, accounts[name].options))
    ]
    return load_media(spec.media, base_dir, config.settings.media, smallest_max_bytes(limits))


def pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def shrink(data: bytes, info: ImageInfo, max_bytes: int) -> tuple[bytes, ImageInfo] | None:
    """``data`` scaled down (aspect ratio kept, metadata dropped) until it is at most
    ``max_bytes``; None when Pillow is missing, the image is an animated GIF, or it cannot
    be made small enough."""
    if not pillow_available():
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        opened = Image.open(io.BytesIO(data))
        if info.mime == GIF and getattr(opened, "n_frames", 1) > 1:
            return None
        opened.load()
        image: Image.Image = opened
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    form = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WEBP"}[info.mime]
    if form == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    scale = min(1.0, (max_bytes / len(data)) ** 0.5)
    for _step in range(_RESIZE_STEPS):
        width = max(1, int(image.width * scale))
        height = max(1, int(image.height * scale))
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # Saved without the old image's info: no EXIF, no GPS location, no comments.
        clean = resized.copy()
        clean.info = {}
        options = {"quality": 85, "optimize": True} if form in ("JPEG", "WEBP") else {}
        clean.save(out, format=form, **options)
        result = out.getvalue()
        if len(result) <= max_bytes:
            shrunk = sniff(result)
            return (result, shrunk) if shrunk is not None else None
        scale *= 0.75
    return None
