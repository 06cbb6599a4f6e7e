"""What each network takes as images: types, bytes per image, images per post, alt text length.

Pure data and pure checks. The adapters publish under these limits and ``queue sync`` refuses
an item that breaks them (:mod:`planner.plan.sync_check`), so a post never fails at publish
time for an image the planner could have measured weeks earlier. The figures are the
networks' documented ones:

- X: JPEG, PNG, GIF, WebP; 5 MB per image; 4 per post; alt text up to 1,000 characters
  (``POST media/metadata/create``).
- Mastodon: 16 MB per image and 4 per post by default; an instance may say otherwise
  (``configuration.media_attachments.image_size_limit`` and
  ``configuration.statuses.max_media_attachments`` in ``/api/v2/instance``), so the account
  options ``media_max_bytes`` and ``media_max_images`` override them; alt text (the
  attachment's ``description``) up to 1,500 characters.
- Bluesky: the ``app.bsky.embed.images`` lexicon: 4 images, each blob at most 1,000,000 bytes,
  any ``image/*`` type; ``alt`` has no length limit in the lexicon (2,000 characters here,
  what Bluesky's own app allows).
- Facebook Page photos: JPEG, PNG, GIF (the Graph API's photo upload formats the planner
  sends); 4 MB per photo; 4 per post here (the planner's own limit); the ``alt_text_custom``
  photo field, 1,000 characters here.
- webhook, outbox, console: any of the four types, 4 per post, 16 MB per image.

A network the planner does not know (a third-party adapter) takes images only when its
adapter says how, with a ``media_limits`` attribute holding a :class:`MediaLimits`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planner.content.images import GIF, JPEG, MIME_TYPES, PNG, WEBP

MAX_IMAGES = 4  # per item, whatever its networks take
MB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """What one network takes as images on one post."""

    types: tuple[str, ...] = MIME_TYPES
    max_bytes: int = 16 * MB
    max_images: int = MAX_IMAGES
    max_alt: int = 1500


@dataclass(frozen=True)
class MediaFacts:
    """What a check needs to know about one image: its type, size and alt text."""

    mime: str
    size: int
    alt: str | None


X_LIMITS = MediaLimits(types=(JPEG, PNG, GIF, WEBP), max_bytes=5 * MB, max_alt=1000)
MASTODON_DEFAULT = MediaLimits(max_bytes=16 * MB, max_alt=1500)
BLUESKY_LIMITS = MediaLimits(max_bytes=1_000_000, max_alt=2000)
FACEBOOK_LIMITS = MediaLimits(types=(JPEG, PNG, GIF), max_bytes=4 * MB, max_alt=1000)
ANY_LIMITS = MediaLimits()

BUILT_IN: Mapping[str, MediaLimits] = {
    "x": X_LIMITS,
    "mastodon": MASTODON_DEFAULT,
    "bluesky": BLUESKY_LIMITS,
    "facebook": FACEBOOK_LIMITS,
    "webhook": ANY_LIMITS,
    "outbox": ANY_LIMITS,
    "console": ANY_LIMITS,
}


def mastodon_limits(options: Mapping[str, Any]) -> MediaLimits:
    """An instance's limits: the defaults, or the account's ``media_max_bytes`` and
    ``media_max_images`` options (already checked by the adapter's option parser)."""
    max_bytes = options.get("media_max_bytes", MASTODON_DEFAULT.max_bytes)
    max_images = options.get("media_max_images", MASTODON_DEFAULT.max_images)
    return MediaLimits(
        types=MASTODON_DEFAULT.types,
        max_bytes=int(max_bytes),
        max_images=min(int(max_images), MAX_IMAGES),
        max_alt=MASTODON_DEFAULT.max_alt,
    )


def network_limits(network: str, options: Mapping[str, Any]) -> MediaLimits | None:
    """The limits of a built-in network for an account's options; None for another network."""
    if network == "mastodon":
        return mastodon_limits(options)
    return BUILT_IN.get(network)


def media_problems(
    media: Sequence[MediaFacts], limits: MediaLimits, network: str
) -> list[tuple[int | None, str, str]]:
    """What ``network`` refuses among ``media``: (image index or None for the whole list,
    the key at fault, a sentence naming the network, the limit and the value seen)."""
    problems: list[tuple[int | None, str, str]] = []
    if len(media) > limits.max_images:
        problems.append(
            (
                None,
                "media",
                f"{len(media)} images, more than the {limits.max_images} {network} takes on "
                "one post",
            )
        )
    for index, image in enumerate(media):
        if image.mime not in limits.types:
            names = ", ".join(_short(mime) for mime in limits.types)
            problems.append(
                (index, "path", f"{_short(image.mime)} image: {network} takes {names} images")
            )
        if image.size > limits.max_bytes:
            problems.append(
                (
                    index,
                    "path",
                    f"{image.size:,} bytes, more than the {limits.max_bytes:,} bytes {network} "
                    "takes per image (make it smaller, or set [media] resize = true)",
                )
            )
        if image.alt is not None and len(image.alt) > limits.max_alt:
            problems.append(
                (
                    index,
                    "alt",
                    f"alt text of {len(image.alt):,} characters, more than the "
                    f"{limits.max_alt:,} {network} takes",
                )
            )
    return problems


def smallest_max_bytes(limits: Sequence[MediaLimits]) -> int | None:
    """The tightest byte limit among ``limits`` (what a resized image must fit)."""
    return min((limit.max_bytes for limit in limits), default=None)


def _short(mime: str) -> str:
    return mime.removeprefix("image/").upper()
