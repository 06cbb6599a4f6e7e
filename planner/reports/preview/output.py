"""``planner preview --output FILE [--open]``: write a report whole or not at all, and show it.

:func:`write_atomically` writes to a temporary file in the target's own folder and moves it
over the target with :func:`os.replace`, so a reader (a browser reloading the page, a CI job
reading the JSON) sees the old file or the new one, never half of one, and a failure leaves
the old file as it was and no temporary file behind.

:func:`open_in_browser` hands the file to the :mod:`webbrowser` module (which honours the
``BROWSER`` environment variable). It never raises: a machine without a browser gets a
sentence to print instead, and a browser command that does not return is not waited for
past a few seconds (``webbrowser`` waits for plain commands named in ``BROWSER``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import webbrowser
from pathlib import Path

from planner.errors import InputError

BROWSER_WAIT_SECONDS = 5.0


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step. Raises :class:`InputError` naming the file
    when it cannot be written (no such folder, no permission, a folder in the way)."""
    folder = path.parent
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a folder")
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600); a report gets what the umask allows.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def open_in_browser(path: Path, wait_seconds: float = BROWSER_WAIT_SECONDS) -> str | None:
    """Ask the default browser to show ``path``; None when it was handed over, else why not
    (a sentence for the user; never an exception)."""
    url = path.resolve().as_uri()
    answer: list[bool | Exception] = []

    def launch() -> None:
        try:
            answer.append(webbrowser.open(url))
        except Exception as exc:  # webbrowser.Error, or an OSError from a broken command
            answer.append(exc)

    # A daemon thread: a browser command that never returns cannot keep the planner alive.
    thread = threading.Thread(target=launch, name="open-browser", daemon=True)
    thread.start()
    thread.join(wait_seconds)
    if not answer:
        return None  # still running after the wait: a browser that stays in the foreground
    result = answer[0]
    if result is True:
        return None
    detail = f" ({result})" if isinstance(result, Exception) and str(result) else ""
    return f"no web browser could open it{detail}; open {url} yourself"
