"""The outbox: a network that appends each post as one JSON line to a file.

It is the embedded default and the target of dry runs. Each record is::

    {"post_id", "account", "network", "item_id", "kind", "text", "url",
     "idempotency_key", "published_at"}

(``published_at`` in ISO 8601, UTC), written as UTF-8, followed by ``"\\n"``, then flushed
and fsync'd before :meth:`OutboxAdapter.publish` returns.

Exactly once: the outbox keeps a ledger of the idempotency keys already in the file, so the
pipeline may re-send a post it found claimed after a crash. The ledger is read when the
adapter is created and brought up to date, under an exclusive ``flock``, before every write,
so several adapters (threads or processes) appending to one file neither interleave lines
nor publish one key twice. A line torn by a crash mid-write is skipped, and the next record
starts on a line of its own.

Option: ``path`` (default ``outbox.jsonl``; a relative path starts at the config's folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from planner.adapters.base import (
    AccountSettings,
    OptionProblem,
    OutgoingPost,
    Published,
    option_problems,
    require_valid,
)
from planner.content.media_limits import ANY_LIMITS
from planner.errors import InputError, Rejected, Transient

DEFAULT_PATH = "outbox.jsonl"
_OPTIONS = ("path",)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _path(settings: AccountSettings) -> Path:
    raw = settings.options.get("path", DEFAULT_PATH)
    if not isinstance(raw, str) or not raw.strip():
        raise InputError(
            f'account "{settings.name}": option "path" must be a file path, got {raw!r}'
        )
    path = Path(raw).expanduser()
    return (path if path.is_absolute() else settings.base_dir / path).absolute()


class OutboxAdapter:
    """Appends posts to a JSON-lines file; publishing a known idempotency key is a no-op.

    ``remote_id`` is ``"outbox:<line>"`` and ``url`` is ``file://<absolute path>#L<line>``,
    ``<line>`` being the 1-based line of the post's record.
    """

    supports_idempotency = True
    media_limits = ANY_LIMITS

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        require_valid(settings, self.check_options(settings))
        self.path = _path(settings)
        self.network = settings.network
        self._clock = clock
        self._lock = threading.Lock()
        self._ledger: dict[str, int] = {}  # idempotency key -> line of its record
        self._offset = 0  # bytes of the file already read, always at the end of a line
        self._lines = 0  # complete lines in those bytes
        try:
            self._catch_up()
        except OSError as exc:
            raise InputError(
                f'account "{settings.name}": cannot read the outbox {self.path}: {exc.strerror}'
            ) from exc

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """Unknown options and a ``path`` that is not a path; the file is not opened.

        Credentials are ignored, not refused: an account switched to the outbox for a dry
        run keeps the ones of its real network."""
        credentials = tuple(settings.credentials)
        return option_problems(settings, _OPTIONS, credentials, [("path", lambda: _path(settings))])

    def verify(self) -> str:
        """Who we publish as: for the outbox, the file it appends to."""
        return f"outbox file {self.path}"

    def validate(self, text: str) -> list[str]:
        """No length rule; only an empty text is a problem."""
        return [] if text.strip() else ["empty post"]

    def publish(self, post: OutgoingPost) -> Published:
        """Append ``post`` (or find it already there by its idempotency key) and say where."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        with self._lock:
            try:
                return self._append(post)
            except OSError as exc:
                raise Transient(f"cannot write the outbox {self.path}: {exc.strerror}") from exc

    def _append(self, post: OutgoingPost) -> Published:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        # Unbuffered: the record goes to the file in os.write calls, nothing waits in a buffer.
        with open(self.path, "a+b", buffering=0) as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file is closed
            torn = self._catch_up()
            line = self._ledger.get(post.idempotency_key)
            if line is not None:
                return self._published(line)
            record = {
                "post_id": post.post_id,
                "account": post.account,
                "network": self.network,
                "item_id": post.item_id,
                "kind": post.kind,
                "text": post.text,
                "url": post.url,
                "idempotency_key": post.idempotency_key,
                "published_at": self._clock().astimezone(UTC).isoformat(timespec="seconds"),
            }
            if post.media:  # where each image came from and its hash, never its bytes
                record["media"] = [
                    {
                        "url" if image.is_url else "path": image.source,
                        "type": image.mime,
                        "alt": image.alt,
                        "sha256": image.sha256,
                    }
                    for image in post.media
                ]
            data = json.dumps(record, ensure_ascii=False).encode() + b"\n"
            if torn:  # end the torn line, so that this record gets a line of its own
                data = b"\n" + data
            _write_all(handle.fileno(), data)
            os.fsync(handle.fileno())
            self._offset += torn + len(data)
            self._lines += 2 if torn else 1
            self._ledger[post.idempotency_key] = self._lines
        if created:
            # So that the new file's name survives a crash too; best effort, as some file
            # systems cannot fsync a folder, and the record itself is already on disk.
            with contextlib.suppress(OSError):
                _fsync_dir(self.path.parent)
        return self._published(self._lines)

    def _catch_up(self) -> int:
        """Read the lines appended since the last call; return the length of a torn tail.

        A last line without its newline is torn by a crash: writers hold the lock until
        their whole record is written. It is left unread (``_offset`` stays before it).
        """
        try:
            with open(self.path, "rb") as reader:
                if os.fstat(reader.fileno()).st_size < self._offset:  # replaced or truncated
                    self._forget()
                reader.seek(self._offset)
                for raw in reader:
                    if not raw.endswith(b"\n"):
                        return len(raw)
                    self._offset += len(raw)
                    self._lines += 1
                    key = _idempotency_key(raw)
                    if key is not None:
                        self._ledger.setdefault(key, self._lines)
        except FileNotFoundError:
            self._forget()
        return 0

    def _forget(self) -> None:
        self._ledger.clear()
        self._offset = self._lines = 0

    def _published(self, line: int) -> Published:
        return Published(remote_id=f"outbox:{line}", url=f"{self.path.as_uri()}#L{line}")


def _idempotency_key(raw: bytes) -> str | None:
    try:
        record = json.loads(raw)
    except ValueError:  # includes a torn line and bytes that are not UTF-8
        return None
    key = record.get("idempotency_key") if isinstance(record, dict) else None
    return key if isinstance(key, str) else None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
