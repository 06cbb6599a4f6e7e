"""The console: a network that writes each post to a text stream, for watching a run.

Each post is a short block::

    [main · console] The post's text,
    its further lines as written
      https://example.com/the-item-link

It keeps no record, so it cannot recognise a post it printed before a crash:
``supports_idempotency`` is False and such a post becomes ``unknown``, as on a real network
without idempotency keys.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Mapping
from typing import TextIO

from planner.adapters.base import (
    AccountSettings,
    OptionProblem,
    OutgoingPost,
    Published,
    option_problems,
    require_valid,
)
from planner.content.media_limits import ANY_LIMITS
from planner.errors import Rejected


class ConsoleAdapter:
    """Writes posts to ``stream`` (standard output by default).

    ``remote_id`` is ``"console:<n>"``, ``n`` counting from 1 the posts this adapter printed;
    there is no ``url``.
    """

    supports_idempotency = False
    media_limits = ANY_LIMITS

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        stream: TextIO | None = None,
    ) -> None:
        require_valid(settings, self.check_options(settings))
        self.network = settings.network
        self._stream = stream
        self._lock = threading.Lock()  # one block at a time, and one number per block
        self._count = itertools.count(1)

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """It takes no option; credentials are ignored, as by the outbox (dry runs)."""
        return option_problems(settings, (), tuple(settings.credentials))

    def verify(self) -> str:
        """Who we publish as: for the console, standard output."""
        return "standard output"

    def validate(self, text: str) -> list[str]:
        """No length rule; only an empty text is a problem."""
        return [] if text.strip() else ["empty post"]

    def publish(self, post: OutgoingPost) -> Published:
        """Write the post's block and flush the stream."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        block = f"[{post.account} · {self.network}] {post.text.rstrip()}\n"
        if post.url:
            block += f"  {post.url}\n"
        for image in post.media:
            block += f"  [image {image.source}: {image.alt or 'no alt text'}]\n"
        # Looked up now, not at creation, so that a redirected sys.stdout is honoured.
        stream = self._stream if self._stream is not None else sys.stdout
        with self._lock:
            stream.write(block)
            stream.flush()
            return Published(remote_id=f"console:{next(self._count)}")
