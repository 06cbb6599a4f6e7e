"""The idempotency key of a planned post: what a network (or the outbox ledger) uses to
tell a retry from a new post."""

from __future__ import annotations

import hashlib
from datetime import datetime


def idempotency_key(account: str, at: datetime, item_id: str) -> str:
    """Stable per (account, instant, item): re-planning the same choice gives the same key."""
    seed = f"{account}|{at.timestamp():.0f}|{item_id}".encode()
    return "p-" + hashlib.blake2b(seed, digest_size=16).hexdigest()
