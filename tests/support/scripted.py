"""A network adapter for publishing tests: each publish takes the next scripted result.

``Scripted`` succeeds by default; put exceptions (or ``None`` for a success) in ``script``, or
in ``by_account[name]`` for one account's posts alone (accounts publish in parallel, so a
shared script would go to whichever account asks first).
``one_waits_for_the_other`` gives two adapters where the first answers only once the second
has published: accounts published one after another would make the first time out.
"""

from __future__ import annotations

import threading

from planner.adapters.base import OutgoingPost, Published
from planner.content.media_limits import ANY_LIMITS
from planner.errors import Transient


class Scripted:
    """A test adapter: each publish takes the next scripted result (default: success)."""

    media_limits = ANY_LIMITS  # takes images, as the outbox does

    def __init__(self, idempotent: bool = True) -> None:
        self.supports_idempotency = idempotent
        self.script: list[Exception | None] = []
        self.by_account: dict[str, list[Exception | None]] = {}
        self.sent: list[OutgoingPost] = []

    def validate(self, text: str) -> list[str]:
        return ["too long for this network"] if len(text) > 200 else []

    def publish(self, post: OutgoingPost) -> Published:
        script = self.by_account.get(post.account) or self.script
        if script:
            outcome = script.pop(0)
            if outcome is not None:
                raise outcome
        self.sent.append(post)
        return Published(f"r{post.post_id}", f"https://net.example/{post.post_id}")


def one_waits_for_the_other(timeout: float = 10) -> tuple[Scripted, Scripted]:
    """(waiting, signalling): the first publishes only after the second has published."""
    done = threading.Event()

    class Waits(Scripted):
        def publish(self, post: OutgoingPost) -> Published:
            if not done.wait(timeout=timeout):
                raise Transient("the other account never went out while this one waited")
            return super().publish(post)

    class Signals(Scripted):
        def publish(self, post: OutgoingPost) -> Published:
            published = super().publish(post)
            done.set()
            return published

    return Waits(), Signals()
