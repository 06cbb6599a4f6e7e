"""What the adapters that speak HTTP through ``requests`` share (Facebook Page, webhook).

- The ``timeout`` option, the same range for every adapter (:func:`timeout_option`,
  :func:`timeout_problem`), as :class:`~planner.errors.InputError` naming the account and
  the key. Unknown option and credential names are checked by
  :func:`planner.adapters.base.check_names`, which every adapter shares.
- :func:`send`: one request with a timeout and no redirects, every ``requests`` exception
  turned into :class:`~planner.errors.Transient` (or :class:`~planner.errors.Uncertain` when
  the request publishes something and may have arrived: see :func:`may_have_arrived`). Its
  message names the target as
  ``scheme://host/***`` only and never quotes the library's own message, which carries the
  full URL; the original exception is not chained to it, so no traceback shows it either.
- :func:`retry_after`: the reset time of an HTTP ``Retry-After`` header.
- :func:`scrub` and :func:`excerpt`: quote a server's answer without the secrets in it.
- :func:`hide_path_in_library_logs`: urllib3 logs each request's path and query string at
  DEBUG (``https://host:443 "POST /hooks/abc123 HTTP/1.1" 200 2``; ``requests`` itself logs
  nothing, and neither logs headers or bodies). A path that holds a token is replaced by
  ``/***`` in those records.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, quote, quote_plus, urlsplit

import requests
import urllib3

from planner import __version__
from planner.adapters.base import AccountSettings
from planner.errors import InputError, Transient, Uncertain
from planner.redact import REDACTED, redact_http_url

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0
USER_AGENT = f"planner/{__version__}"
RATE_LIMIT_FALLBACK = timedelta(minutes=15)  # when a network names no reset time


# --- options ------------------------------------------------------------------------------


def timeout_option(settings: AccountSettings) -> float:
    """The ``timeout`` option in seconds: a number in (0, 300], default 10."""
    value = settings.options.get("timeout", DEFAULT_TIMEOUT)
    problem = timeout_problem(value)
    if problem is not None:
        raise InputError(f'account "{settings.name}": {problem}')
    return float(value)


def timeout_problem(value: object) -> str | None:
    """What is wrong with a ``timeout`` option's value, or None: every adapter takes the same
    range, whatever client library it uses."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= MAX_TIMEOUT
    ):
        return (
            f'option "timeout" must be a number of seconds above 0 and at most '
            f"{MAX_TIMEOUT:g}, got {value!r}"
        )
    return None


def http_url(value: object) -> SplitResult | None:
    """``value`` split, if it is an http(s) URL ``requests`` can send to: a host, a port
    that is a number up to 65535, no whitespace or control character; else None.
    (``urlsplit`` itself raises for a bad IPv6 host and quietly drops line breaks.)"""
    if not isinstance(value, str) or not value.isprintable() or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts


def new_session(user_agent: str = USER_AGENT, *, only_url: str | None = None) -> requests.Session:
    """A session of one adapter: connections are reused between its posts.

    With ``only_url`` (an adapter that sends to that one URL, like a webhook), what requests
    takes from the environment (the proxy for that URL, honouring ``NO_PROXY``; a CA bundle
    in ``REQUESTS_CA_BUNDLE``; a ``.netrc`` login) is read once, now, instead of at every
    request: reading it cost about 0.7 ms a post, a quarter of a runner's CPU time per post.
    """
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    if only_url is not None:
        environment = session.merge_environment_settings(only_url, {}, None, None, None)
        netrc_login = requests.utils.get_netrc_auth(only_url)
        session.trust_env = False
        session.proxies = environment["proxies"]
        session.verify = environment["verify"]
        if netrc_login is not None:
            session.auth = netrc_login
    return session


# --- sending ------------------------------------------------------------------------------


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    shown_url: str | None = None,
    creates: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """Send one request; connection problems and timeouts raise :class:`Transient`.

    With ``creates`` (the request publishes something), a failure after the request went
    out (a read timeout, a connection dropped before the answer) raises :class:`Uncertain`
    instead: the post may exist.

    Redirects are not followed: a redirected POST either loses its body (301-303) or sends
    it, and its headers, somewhere nobody configured. The caller maps the status code.
    ``shown_url`` is how the target appears in messages (default: ``scheme://host/***``).
    """
    shown = shown_url or redact_http_url(url)
    started = time.monotonic()
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except Exception as exc:  # requests wraps most failures; a library error must not escape
        failure = _failure(exc, shown, timeout)
        arrived = creates and may_have_arrived(exc)
    else:
        elapsed = time.monotonic() - started
        log.debug("%s %s: HTTP %d in %.2f s", method, shown, response.status_code, elapsed)
        return response
    # Raised here, outside the except block, so that the library's exception (whose message
    # holds the full URL) is not even kept as the context of ours.
    raise Uncertain(failure) if arrived else Transient(failure)


def may_have_arrived(exc: BaseException) -> bool:
    """Whether a request that failed with this ``requests`` exception may have reached the
    server: yes unless the connection never opened (refused, unresolvable host, connect
    timeout, TLS handshake) or the request could not even be built.

    A connection closed or reset before the answer is counted as arrived: the server may have
    read the whole request and acted on it. (A pooled keep-alive connection that the server
    had already closed fails the same way; calling that "may have arrived" costs a person a
    look, while calling a real drop "never arrived" would send the post twice.)
    """
    if isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.JSONDecodeError):
        return True  # no answer in time, or one that cannot be read
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        return not _caused_by(exc, urllib3.exceptions.NewConnectionError)
    if isinstance(exc, requests.exceptions.InvalidJSONError | ValueError):
        return False  # the request could not be built (InvalidURL, InvalidHeader, ...)
    # ChunkedEncodingError, ContentDecodingError: an answer began, so the request arrived.
    return isinstance(exc, requests.exceptions.RequestException)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is anywhere in the exception's chain (causes, contexts, ``reason``
    attributes and arguments, as urllib3 and requests nest them)."""
    return any(isinstance(link, kind) for link in _chain(exc))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        pending.extend(a for a in (reason, *current.args) if isinstance(a, BaseException))
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _failure(exc: Exception, shown: str, timeout: float) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"could not connect to {shown} within {timeout:g} s"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no answer from {shown} within {timeout:g} s (the request may have arrived)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS failure talking to {shown}: {_reason(exc)}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"connection to {shown} failed: {_reason(exc)}"
    return f"request to {shown} failed: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    """Why a request failed, from the exception chain, without the URL the messages carry.

    Socket errors give their ``strerror`` ("Connection refused"), http.client errors their
    name ("RemoteDisconnected"); anything else is named by its type.
    """
    named: str | None = None
    for current in _chain(exc):
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        if named is None and isinstance(current, http.client.HTTPException):
            named = type(current).__name__
    return named or type(exc).__name__


# --- reading answers -------------------------------------------------------------------------


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """When a ``Retry-After`` header (seconds, or an HTTP-date; RFC 9110 §10.2.3) says to
    come back, never before ``now``; ``None`` when it is missing or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" in the date: UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(when.astimezone(UTC), now)


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret in ``secrets`` replaced by ``***``, longest first.

    A server that echoes a request quotes a secret as it was sent: as is (a header),
    percent-encoded (a form or a query string) or escaped in JSON; each form is replaced.
    Scrub the whole text before shortening it (:func:`excerpt`): a secret cut in two by the
    shortening would no longer be found.
    """
    forms = {
        form
        for secret in secrets
        if secret and len(secret) >= 4
        for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1])
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


def excerpt(text: str, limit: int = 200) -> str:
    """The start of a server's answer on one line, for an error message."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- library logs ----------------------------------------------------------------------------


class _HidePaths(logging.Filter):
    """Replaces known secret request targets in urllib3's records by ``/***``."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.paths and isinstance(record.args, tuple):
            record.args = tuple(
                "/" + REDACTED if isinstance(arg, str) and arg in self.paths else arg
                for arg in record.args
            )
        return True


_hide_paths = _HidePaths()
# The only urllib3 logger that prints request targets (its "%s %s %s" line after each response).
logging.getLogger("urllib3.connectionpool").addFilter(_hide_paths)


def hide_path_in_library_logs(url: str) -> None:
    """From now on, urllib3's DEBUG records show ``url``'s path and query as ``/***``."""
    target = requests.Request("POST", url).prepare().path_url  # what urllib3 will log
    if target != "/":
        _hide_paths.paths.add(target)
