"""The limits of what ``planner.toml`` and the queue files may say, beyond their types.

Numbers have bounds: beyond them a value is a typo or a unit mix-up (seconds for minutes),
and far enough beyond them it overflows a date or a database column. Names, paths and URLs
are one line of printable text. Refusing such values when the file is read names the key;
found later, they would end in a traceback. The README and ``config.example.toml`` document
every bound.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

MAX_WINDOW_DAYS = 366  # window_days, duplicate_url_days: at most a year (leap years included)
# A shorter window is no window: 1e-300 days is zero once a time span, and the rule's
# windows would then hold no post at all.
MIN_WINDOW_DAYS = 0.01  # about a quarter of an hour
MAX_WINDOW_POSTS = 1000
MAX_GAP_HOURS = MAX_WINDOW_DAYS * 24  # min_pitch_gap_hours
MAX_WEIGHT = 1000
MAX_REPOSTS = 10_000  # an evergreen item's reposts per account; more is as good as unlimited
MAX_GRACE_MINUTES = 7 * 24 * 60  # a week
MAX_SPACING_SECONDS = 24 * 3600  # a day
MAX_ATTEMPTS = 100
MAX_RETRY_SECONDS = 7 * 24 * 3600  # retry_base_seconds, retry_cap_seconds: a week
MAX_SWEEP_SECONDS = 3600
# [run] concurrency: posts in flight at once. Each is a thread waiting on a network; past a
# thousand the threads cost more than they wait.
MAX_CONCURRENCY = 1000
MAX_BUSY_TIMEOUT_SECONDS = 3600  # [database] busy_timeout_seconds: an hour
MAX_FEED_DAYS = 3660  # first_sync_days, not_after_days: ten years
MAX_PER_WEEK = 1000
MAX_REFRESH_MINUTES = 7 * 24 * 60  # [feeds] refresh_minutes: a week
MAX_FEED_TIMEOUT_SECONDS = 600
MAX_FEED_BYTES = 1024**3  # [feeds] max_bytes: a gigabyte
MAX_FEED_REDIRECTS = 20
# The database columns that hold these names (planner/store/models.py, which the config may
# not import; a test checks they agree): kinds (also slot labels) and account names.
MAX_KIND_NAME = 64
MAX_ACCOUNT_NAME = 128

# C0 and C1 controls (NUL, line breaks, ESC, ...) and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _plain_text(value: str) -> str:
    found = CONTROL.search(value)
    if found:
        # Named by code point and position, not echoed: the value may be a database URL
        # with a password in it.
        raise ValueError(
            f"contains a control character (U+{ord(found.group()):04X} at position "
            f"{found.start() + 1}): paths, URLs and names are one line of printable text"
        )
    return value


PlainText = Annotated[str, AfterValidator(_plain_text)]


def _plain_options(
    options: dict[str, str | int | float | bool],
) -> dict[str, str | int | float | bool]:
    # Checked after the union type, so a bad value gets one message, not one per member.
    for key, value in options.items():
        if isinstance(value, str):
            try:
                _plain_text(value)
            except ValueError as exc:
                raise ValueError(f'option "{key}" {exc}') from None
    return options


# An account's network options: URLs, paths, ids and names, none with a control character
# (a NUL in the outbox path would reach open() and crash).
PlainOptions = Annotated[dict[str, str | int | float | bool], AfterValidator(_plain_options)]
