"""A webhook receiver on 127.0.0.1, for testing the webhook adapter with real HTTP.

It behaves like a Zapier/n8n-style catch hook that checks signatures and honours
``Idempotency-Key``::

    with FakeWebhook(secret="s3cret") as hook:
        settings = AccountSettings(..., options={"url": hook.url}, ...)
        ...publish...
        assert hook.requests[0].json["text"] == "hello"
        hook.behaviour = "rate_limit"      # the next answers are 429 with Retry-After

``behaviour`` is one of :data:`BEHAVIOURS`. When ``secret`` is set, a request whose
signature header is missing or wrong is answered 401 whatever the behaviour, as a real
receiver would. With ``"success"`` a repeated idempotency key is answered with the first
answer and not delivered again (``delivered`` holds the bodies taken once each).
``images(n)`` decodes the ``media`` of the n-th delivery: each image's bytes (from base64),
type, alt text and SHA-256, checked against the bytes as a receiver would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fakes.fake_http import Answer, LoopbackServer, Received, Reply, echo_text
from fakes.fake_http import json_answer as _json

BEHAVIOURS = (
    "success",  # 200 {"id": "wh-<n>", "status": "success", "url": <if with_url>}
    "plain_ok",  # 200 text/plain "OK"
    "no_content",  # 204, no body
    "malformed",  # 200 application/json whose JSON is cut off
    "echo_url",  # 200 {"id": <the hook's full URL>, "url": <the same>}, as echo services do
    "rate_limit",  # 429 with Retry-After: <retry_after>
    "auth_failure",  # 401 {"error": "invalid credentials"}
    "forbidden",  # 403 text "Authorization data is wrong!" (n8n's words)
    "rejected",  # 422 {"error": "text is too long for the newsletter"}
    "not_found",  # 404 naming the path it was called on (n8n does)
    "redirect",  # 307 to /elsewhere
    "request_timeout",  # 408
    "server_error",  # 503 text "Service Unavailable"
    "timeout",  # answers only after `hang_seconds` (or when the server closes)
    "not_http",  # bytes that are not an HTTP response, then closes
    "echo",  # 422 text quoting the whole request (echo_text, after echo_padding dots)
)


class FakeWebhook(LoopbackServer[Received]):
    """A catch hook on ``url`` (a free loopback port); start it with ``with`` or start()."""

    methods = ("POST", "GET", "HEAD", "OPTIONS", "PUT")
    protocol_version = "HTTP/1.0"

    def __init__(
        self,
        path: str = "/hooks/catch/123456/abcdef1/",
        *,
        secret: str | None = None,
        signature_header: str = "X-Planner-Signature",
        with_url: bool = False,
    ) -> None:
        super().__init__(Received)
        self.path = path
        self.secret = secret
        self.signature_header = signature_header
        self.with_url = with_url
        self.behaviour = "success"
        self.retry_after = "120"
        self.hang_seconds = 5.0
        self.delivered: list[bytes] = []
        self._answers: dict[str, bytes] = {}  # idempotency key -> first answer

    @property
    def origin(self) -> str:
        return super().url

    @property
    def url(self) -> str:
        return self.origin + self.path

    def signature_of(self, body: bytes, secret: str | None = None) -> str:
        """What the signature header must say for ``body``."""
        key = (secret or self.secret or "").encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    # --- answering ------------------------------------------------------------------------

    def images(self, delivery: int = 0) -> list[dict[str, Any]]:
        """The images of a delivered post, their ``data`` decoded; a hash that does not
        match the bytes fails here, as a receiver checking it would refuse them."""
        body = json.loads(self.delivered[delivery])
        found = []
        for image in body.get("media", []):
            data = base64.b64decode(image["data"], validate=True)
            assert hashlib.sha256(data).hexdigest() == image["sha256"], "sha256 does not match"
            found.append({**image, "data": data})
        return found

    def answer(self, received: Received) -> Reply:
        if self.secret is not None:
            given = received.header(self.signature_header) or ""
            if not hmac.compare_digest(given, self.signature_of(received.body)):
                return _json(401, {"error": "invalid signature"})
        behaviour = self.behaviour
        if behaviour == "timeout":
            self.hold(self.hang_seconds)
            return _json(200, {"id": "too-late"})
        if behaviour == "not_http":
            return b"this is not HTTP\r\n\r\n"
        if behaviour == "success":
            return self._success(received)
        if behaviour == "plain_ok":
            self.delivered.append(received.body)
            return 200, {"Content-Type": "text/plain"}, b"OK"
        if behaviour == "no_content":
            self.delivered.append(received.body)
            return 204, {}, b""
        if behaviour == "malformed":
            self.delivered.append(received.body)
            return 200, {"Content-Type": "application/json"}, b'{"id": "wh-'
        if behaviour == "echo_url":
            self.delivered.append(received.body)
            return _json(200, {"id": self.url, "url": self.url})
        if behaviour == "rate_limit":
            return (
                429,
                {"Retry-After": self.retry_after, "Content-Type": "text/plain"},
                b"slow down",
            )
        if behaviour == "echo":
            echoed = echo_text(received, self.echo_padding)
            return 422, {"Content-Type": "text/plain"}, f"cannot take {echoed}".encode()
        if behaviour == "auth_failure":
            return _json(401, {"error": "invalid credentials"})
        if behaviour == "forbidden":
            return 403, {"Content-Type": "text/plain"}, b"Authorization data is wrong!"
        if behaviour == "rejected":
            return _json(422, {"error": "text is too long for the newsletter"})
        if behaviour == "not_found":
            hook = received.path.removeprefix("/")
            message = f'The requested webhook "POST {hook}" is not registered.'
            return _json(404, {"code": 404, "message": message})
        if behaviour == "redirect":
            return 307, {"Location": self.origin + "/elsewhere"}, b""
        if behaviour == "request_timeout":
            return 408, {"Content-Type": "text/plain"}, b"Request Timeout"
        if behaviour == "server_error":
            return 503, {"Content-Type": "text/plain"}, b"Service Unavailable"
        raise ValueError(f"unknown behaviour {behaviour!r} (known: {', '.join(BEHAVIOURS)})")

    def _success(self, received: Received) -> Answer:
        key = received.header("Idempotency-Key") or ""
        with self._lock:
            if key and key in self._answers:
                return 200, {"Content-Type": "application/json"}, self._answers[key]
            self.delivered.append(received.body)
            answer: dict[str, Any] = {"id": f"wh-{len(self.delivered)}", "status": "success"}
            if self.with_url:
                answer["url"] = f"https://cms.example.com/posts/{len(self.delivered)}"
            body = json.dumps(answer).encode()
            if key:
                self._answers[key] = body
        return 200, {"Content-Type": "application/json"}, body
