"""Feed documents for tests, written as a publisher's software writes them: RSS 2.0 and Atom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    link: str
    published: datetime | None = None
    author: str | None = None
    summary: str = ""


def rss(
    entries: list[Entry], title: str = "Lena's blog", link: str = "https://lena.example.dev/"
) -> bytes:
    items = []
    for entry in entries:
        parts = [
            f"<title>{escape(entry.title)}</title>",
            f"<link>{escape(entry.link)}</link>",
            f'<guid isPermaLink="false">{escape(entry.guid)}</guid>',
            f"<description>{escape(entry.summary)}</description>",
        ]
        if entry.published is not None:
            parts.append(f"<pubDate>{format_datetime(entry.published, usegmt=True)}</pubDate>")
        if entry.author is not None:
            parts.append(f"<dc:creator>{escape(entry.author)}</dc:creator>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        "<description>Posts</description>" + "\n".join(items) + "</channel></rss>"
    ).encode()


def atom(entries: list[Entry], title: str = "Build notes") -> bytes:
    items = []
    for entry in entries:
        stamp = (entry.published or datetime(2026, 1, 1)).isoformat()
        author = f"<author><name>{escape(entry.author)}</name></author>" if entry.author else ""
        items.append(
            f"<entry><id>{escape(entry.guid)}</id><title>{escape(entry.title)}</title>"
            f'<link rel="alternate" href="{escape(entry.link)}"/>'
            f"<updated>{stamp}</updated><published>{stamp}</published>{author}"
            f"<summary>{escape(entry.summary)}</summary></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id>"
        "<updated>2026-11-30T00:00:00Z</updated>" + "\n".join(items) + "</feed>"
    ).encode()
