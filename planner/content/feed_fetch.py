"""Fetch one feed document: a conditional GET with a timeout, a size cap and few redirects.

A feed's URL is ``http(s)://``, ``file://`` or a path (relative to the config's folder). Over
HTTP the request carries the ETag and Last-Modified of the last fetch (``If-None-Match``,
``If-Modified-Since``), so an unchanged feed answers 304 and costs nothing. The whole fetch,
connecting to the last byte, must end within ``timeout`` seconds (a server that trickles a
byte a second is cut off too), the body may not exceed ``max_bytes`` (read in chunks and
abandoned past the cap, never held whole), and at most ``max_redirects`` redirects are
followed. Every failure is a :class:`FeedFetchError` with a one-line reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from planner.redact import redact_feed_url

USER_AGENT = "planner-feeds/0.1 (+a content planner; conditional GET)"


class FeedFetchError(Exception):
    """The feed could not be fetched; the message says why, in one line."""


@dataclass(frozen=True)
class Fetched:
    """A feed document, or ``body is None`` when the server said it has not changed (304)."""

    body: bytes | None
    url: str  # where it was found, after redirects: relative links resolve against it
    etag: str | None
    last_modified: str | None
    content_type: str | None = None


def fetch_feed(
    url: str,
    *,
    base_dir: Path,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 20,
    max_bytes: int = 5 * 1024 * 1024,
    max_redirects: int = 5,
    client: httpx.Client | None = None,
) -> Fetched:
    """Fetch ``url``; see the module docstring. ``client`` lets a caller reuse connections."""
    if url.startswith(("http://", "https://")):
        return _fetch_http(
            url, etag, last_modified, timeout, max_bytes, max_redirects, client=client
        )
    return _read_file(url, base_dir, max_bytes)


def _read_file(url: str, base_dir: Path, max_bytes: int) -> Fetched:
    path = Path(unquote(urlsplit(url).path)) if url.startswith("file://") else Path(url)
    if not path.is_absolute():
        path = base_dir / path
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FeedFetchError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(body) > max_bytes:
        raise FeedFetchError(f"{path} is larger than max_bytes ({max_bytes} bytes)")
    return Fetched(body, path.resolve().as_uri(), None, None, "application/xml")


def _fetch_http(
    url: str,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    max_redirects: int,
    client: httpx.Client | None,
) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"}  # fmt: skip
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    http = client or httpx.Client()
    deadline = time.monotonic() + timeout
    try:
        current = url
        for _hop in range(max_redirects + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FeedFetchError(f"no answer within {timeout:g} s")
            request = http.build_request(
                "GET", current, headers=headers, timeout=httpx.Timeout(remaining)
            )
            response = http.send(request, stream=True, follow_redirects=False)
            try:
                if response.is_redirect and "location" in response.headers:
                    current = str(response.url.join(response.headers["location"]))
                    if not current.startswith(("http://", "https://")):
                        shown = redact_feed_url(current)
                        raise FeedFetchError(f"redirected to {shown}: not an http(s) URL")
                    continue
                return _answer(response, current, deadline, timeout, max_bytes)
            finally:
                response.close()
        raise FeedFetchError(f"more than {max_redirects} redirects (max_redirects)")
    except httpx.TimeoutException:
        raise FeedFetchError(f"no answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FeedFetchError(f"cannot fetch: {type(exc).__name__}: {exc}") from None
    finally:
        if own:
            http.close()


def _answer(
    response: httpx.Response, url: str, deadline: float, timeout: float, max_bytes: int
) -> Fetched:
    if response.status_code == 304:
        return Fetched(
            None, url, response.headers.get("etag"), response.headers.get("last-modified")
        )
    if response.status_code != 200:
        raise FeedFetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedFetchError(f"{declared} bytes: larger than max_bytes ({max_bytes} bytes)")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FeedFetchError(f"larger than max_bytes ({max_bytes} bytes): not read further")
        if time.monotonic() > deadline:
            raise FeedFetchError(f"not complete within {timeout:g} s")
        chunks.append(chunk)
    return Fetched(
        b"".join(chunks),
        url,
        response.headers.get("etag"),
        response.headers.get("last-modified"),
        response.headers.get("content-type"),
    )
