"""Keep secrets out of everything the planner prints or logs.

Secrets are never in the config (accounts name environment variables instead), but URLs
can carry them: a database password, a webhook's path token, an API key in a query
string. Everything shown to a person passes through here first.

An adapter option holding a URL is shown as ``scheme://host/***`` (a webhook's URL is its
secret), unless the adapter declares it a public address (``public_url_options``: a
Mastodon instance, a Bluesky PDS, the Graph API's base URL): then its host and path are
shown, as a person needs them to check the config, and only a user name, a password, a
query string or a fragment is hidden.
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


def redact_public_url(url: str) -> str:
    """Scheme, host, port and path of a public service's URL; credentials in it, the query
    string and the fragment are replaced by ``***``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return REDACTED
    if not parts.scheme or not parts.hostname:
        return REDACTED
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = f"{REDACTED}@" if parts.username is not None or parts.password is not None else ""
    netloc = userinfo + host + (f":{port}" if port else "")
    query = REDACTED if parts.query else ""
    fragment = REDACTED if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_feed_url(url: str) -> str:
    """A feed's URL as shown: a path or ``file://`` URL as is; an http(s) URL as
    :func:`redact_public_url` shows it (a private feed's token hides in its query)."""
    if url.startswith(("http://", "https://")):
        return redact_public_url(url)
    return url


def redact_option(
    key: str, value: object, *, public_url: bool = False, plain: bool = False
) -> object:
    """An account option as it may be shown: secret-looking keys hidden (unless ``plain``:
    the adapter says the value is no secret, e.g. a header's name), and URLs shown as
    ``scheme://host/***`` unless ``public_url`` (the adapter says the option is the public
    address of a service): then as :func:`redact_public_url` shows them."""
    if _SECRET_KEY.search(key) and not (plain and not _looks_like_url(value)):
        return REDACTED
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return redact_public_url(value) if public_url else redact_http_url(value)
    return value


def _looks_like_url(value: object) -> bool:
    return isinstance(value, str) and "://" in value
