"""Keep secrets out of everything the planner prints or logs.

Secrets are never in the config (accounts name environment variables instead), but URLs
can carry them: a database password, a webhook's path token, an API key in a query
string. Everything shown to a person passes through here first.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REDACTED = "***"
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|key|signature|auth)", re.IGNORECASE)


def redact_database_url(url: str) -> str:
    """The database URL with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def redact_http_url(url: str) -> str:
    """Scheme and host only: webhook paths and query strings often embed tokens."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port or host: show nothing of it
        return REDACTED
    if not parts.scheme or not parts.hostname:
        return REDACTED
    host = parts.hostname + (f":{port}" if port else "")
    tail = "/" + REDACTED if (parts.path not in {"", "/"} or parts.query) else ""
    return urlunsplit((parts.scheme, host, tail, "", ""))


def redact_option(key: str, value: object) -> object:
    """An account option as it may be shown: secret-looking keys and URL paths hidden."""
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return redact_http_url(value)
    return value
