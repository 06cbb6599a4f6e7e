"""Run ``planner`` in a child process whose standard output is a pseudo-terminal.

The child stops its clock at ``at`` (time_machine) and runs the command in-process, so the
command sees a real terminal (``isatty``, its size from the terminal itself) and the test
reads what a person would see: colours included, CR LF line ends turned back into LF.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Mapping, Sequence
from datetime import datetime

CHILD = """
import sys
import time_machine
from datetime import datetime
from planner.cli import main

with time_machine.travel(datetime.fromisoformat(sys.argv[1]), tick=False):
    main(sys.argv[2:], prog_name="planner")
"""


def run_on_terminal(
    args: Sequence[str],
    *,
    at: datetime,
    columns: int,
    env: Mapping[str, str] | None = None,
) -> str:
    """What ``planner ARGS`` prints on a terminal ``columns`` wide (stdout only)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    environ.update(env or {})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, at.isoformat(), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=environ,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, errors = child.communicate(timeout=60)
    assert child.returncode == 0, errors.decode()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
