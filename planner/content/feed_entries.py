"""A feed document read with feedparser: its title and entries, links made canonical.

feedparser reads RSS 0.9x, 1.0 and 2.0 and Atom, and recovers what it can from malformed
XML; a document from which it recovers neither a feed nor an entry is refused with its
reason. Relative links resolve against the URL the document came from. A link is made
canonical for comparing and sharing: the fragment and the tracking parameters (``utm_*``,
``fbclid``, ``gclid`` and a few of their kin) are dropped, everything else is kept in order.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser

from planner.config.bounds import CONTROL

TRACKING = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid"})
_RSS_AUTHOR = re.compile(r"^\S+@\S+\s*\((?P<name>[^)]+)\)$")  # "ann@example.org (Ann)"
_EMAIL = re.compile(r"^\S+@\S+$")
_SPACE = re.compile(r"\s+")


class FeedParseError(Exception):
    """Not a feed: nothing could be recovered from the document."""


@dataclass(frozen=True)
class FeedEntry:
    """One entry as the planner uses it."""

    key: str  # what identifies it across fetches: the GUID, else the canonical link
    title: str | None
    link: str | None  # canonical, http(s) only
    author: str | None
    published: datetime | None  # aware UTC
    summary: str
    image: str | None = None  # an image's http(s) URL: its enclosure or media:content

    def digest(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]
    recovered: str | None  # what feedparser had to recover from, for the report


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Read ``body`` (fetched from ``url``); raise :class:`FeedParseError` if it is no feed."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never the bytes themselves: feedparser opens bytes that name an existing
    # file and reads that file instead, so a server answering "/etc/passwd" (or the path of
    # a feed on this machine) would have it read.
    document = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    if document.get("bozo") and not document.entries and not document.get("version"):
        reason = str(document.get("bozo_exception") or "unreadable")
        raise FeedParseError(f"not a feed: {one_line(reason, 200)}")
    if not document.get("version") and not document.entries:
        raise FeedParseError("not a feed: no RSS or Atom document found")
    entries: list[FeedEntry] = []
    for raw in document.entries:
        link = canonical_link(raw.get("link"))
        key = (raw.get("id") or "").strip() or link
        if not key:
            continue  # neither a GUID nor a link: nothing to know it by next time
        entries.append(
            FeedEntry(
                key=key,
                title=one_line(raw.get("title") or "", 1000) or None,
                link=link,
                author=_author(raw),
                published=_date(raw.get("published_parsed") or raw.get("updated_parsed")),
                summary=str(raw.get("summary") or ""),
                image=_image(raw),
            )
        )
    recovered = None
    problem = document.get("bozo_exception")
    # A wrong or missing content type or charset label is no damage to the document.
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    if document.get("bozo") and not isinstance(problem, benign):
        recovered = one_line(str(document.get("bozo_exception") or "malformed"), 200)
    title = one_line(str(document.feed.get("title") or ""), 500) or None
    return ParsedFeed(title, entries, recovered)


def canonical_link(link: str | None) -> str | None:
    """``link`` without its fragment and tracking parameters; None unless http(s)."""
    if not link:
        return None
    try:
        parts = urlsplit(link.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not host or CONTROL.search(link):
        return None
    if any(char.isspace() for char in link.strip()):
        return None
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (control characters and runs of space made one space), cut."""
    flat = _SPACE.sub(" ", CONTROL.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _image(raw: dict[str, Any]) -> str | None:
    """The entry's first image: an ``<enclosure>`` (or Atom ``rel="enclosure"`` link) or a
    ``<media:content>`` whose type or medium says image, with an http(s) URL."""
    candidates: list[tuple[object, object]] = []
    for enclosure in raw.get("enclosures") or []:
        if isinstance(enclosure, dict):
            candidates.append((enclosure.get("href"), enclosure.get("type")))
    for content in raw.get("media_content") or []:
        if isinstance(content, dict):
            medium = "image/" if content.get("medium") == "image" else content.get("type")
            candidates.append((content.get("url"), medium))
    for url, kind in candidates:
        if isinstance(url, str) and isinstance(kind, str) and kind.startswith("image/"):
            link = canonical_link(url)
            if link is not None:
                return link
    return None


def _author(raw: dict[str, object]) -> str | None:
    author = one_line(str(raw.get("author") or ""), 200)
    match = _RSS_AUTHOR.match(author)
    if match:
        return match["name"].strip() or None
    if _EMAIL.match(author):
        return None  # an address alone is no credit
    return author or None


def _date(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None
