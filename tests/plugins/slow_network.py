"""A deliberately slow network adapter, registered the way a third-party package would be
(see slow_network-1.0.dist-info/entry_points.txt), for the crash tests that run
`planner run` as a real process with this folder on PYTHONPATH.

It "accepts" a post by appending a line to its ledger file first and only then takes
``delay`` seconds to answer, like a network that is slow to respond after it has already
published: a runner killed during that wait has sent the post but not recorded it.
With ``idempotent = true`` a key already in the ledger is not written again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping

from planner.adapters.base import AccountSettings, OutgoingPost, Published


class SlowAdapter:
    def __init__(self, settings: AccountSettings, environ: Mapping[str, str]) -> None:
        options = settings.options
        self.path = settings.base_dir / str(options.get("path", "slow.jsonl"))
        self.delay = float(options.get("delay", 1.0))
        self.supports_idempotency = bool(options.get("idempotent", True))

    def validate(self, text: str) -> list[str]:
        return []

    def _keys(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return {json.loads(line)["key"]: n for n, line in enumerate(lines, 1) if line.strip()}

    def publish(self, post: OutgoingPost) -> Published:
        known = self._keys()
        if self.supports_idempotency and post.idempotency_key in known:
            return Published(f"slow:{known[post.idempotency_key]}")
        with self.path.open("a", encoding="utf-8") as ledger:
            record = {"key": post.idempotency_key, "post": post.post_id, "at": time.time()}
            ledger.write(json.dumps(record) + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
        time.sleep(self.delay)
        return Published(f"slow:{len(known) + 1}")
