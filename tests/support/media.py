"""Posts with images for the adapters' media tests, and a ledger of what they uploaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from planner.adapters.base import OutgoingImage, OutgoingPost

from support.images import png


def image(colour: int, alt: str, width: int = 3, height: int = 2) -> OutgoingImage:
    data = png(width, height, colour=colour)
    return OutgoingImage(
        data=data,
        mime="image/png",
        alt=alt,
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        source=f"images/{colour}.png",
    )


FIRST = image(1, "A bar chart: build time fell from 14 to 6 minutes", 4, 3)
SECOND = image(2, "Screenshot of the cache settings page", 3, 5)


@dataclass
class Ledger:
    """Records what an adapter said it uploaded (``OutgoingPost.on_upload``), as the pipeline
    records it in the database."""

    uploaded: dict[int, str] = field(default_factory=dict)

    def note(self, position: int, remote_id: str) -> None:
        self.uploaded[position] = remote_id

    def post(self, base: OutgoingPost, *images: OutgoingImage) -> OutgoingPost:
        """``base`` with ``images`` (default: two) and what this ledger remembers."""
        return replace(
            base,
            media=images or (FIRST, SECOND),
            uploaded=dict(self.uploaded),
            on_upload=self.note,
        )
