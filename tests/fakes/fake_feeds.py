"""A feed server on 127.0.0.1: real RSS and Atom documents over real HTTP.

::

    with FakeFeeds() as server:
        server.documents["/feed.xml"] = Document(rss(entries), etag='"v1"')
        ...  # point [feeds.NAME] url at server.url + "/feed.xml"
        server.documents["/feed.xml"].behaviour = "error"   # the next answers are 500

A document's ``behaviour`` is one of :data:`BEHAVIOURS`. With an ``etag`` or
``last_modified`` set, a request that sends the same value back (``If-None-Match``,
``If-Modified-Since``) is answered 304 Not Modified, as a real server does. Unknown paths
are answered 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakes.fake_http import LoopbackServer, Received, Reply

BEHAVIOURS = (
    "ok",  # 200 with the document
    "error",  # 500 Internal Server Error
    "slow",  # answers only after `delay` seconds (or when the server closes)
    "huge",  # 200 with a body of `huge_bytes` and its Content-Length
    "huge_undeclared",  # 200 with `huge_bytes` and no Content-Length, cut only by closing
    "redirect",  # 301 to `redirect_to`
)


@dataclass
class Document:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    behaviour: str = "ok"
    redirect_to: str = ""


class FakeFeeds(LoopbackServer[Received]):
    """Serves ``documents`` by path; see the module docstring."""

    methods = ("GET",)

    def __init__(self) -> None:
        super().__init__(Received)
        self.documents: dict[str, Document] = {}
        self.delay = 5.0
        self.huge_bytes = 20 * 1024 * 1024

    def answer(self, received: Received) -> Reply:
        document = self.documents.get(received.path)
        if document is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        if document.behaviour == "error":
            return 500, {"Content-Type": "text/plain"}, b"database on fire"
        if document.behaviour == "slow":
            self.hold(self.delay)
        if document.behaviour == "redirect":
            return 301, {"Location": document.redirect_to}, b""
        if document.behaviour == "huge":
            return 200, {"Content-Type": document.content_type}, b" " * self.huge_bytes
        if document.behaviour == "huge_undeclared":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {document.content_type}\r\n"
            return (head + "Connection: close\r\n\r\n").encode() + b" " * self.huge_bytes
        headers = {"Content-Type": document.content_type}
        if document.etag:
            headers["ETag"] = document.etag
            if received.header("If-None-Match") == document.etag:
                return 304, headers, b""
        if document.last_modified:
            headers["Last-Modified"] = document.last_modified
            if received.header("If-Modified-Since") == document.last_modified:
                return 304, headers, b""
        return 200, headers, document.body
