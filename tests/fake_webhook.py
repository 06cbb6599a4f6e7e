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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
)


@dataclass
class Received:
    """One request as the server got it."""

    method: str
    target: str  # the request line's target: path and query string, as sent
    headers: dict[str, str]
    body: bytes
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = parts.path
        self.query = parse_qs(parts.query)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (the adapter's timeout) is part of the tests


class FakeWebhook:
    """A catch hook on ``url`` (a free loopback port); start it with ``with`` or start()."""

    def __init__(
        self,
        path: str = "/hooks/catch/123456/abcdef1/",
        *,
        secret: str | None = None,
        signature_header: str = "X-Planner-Signature",
        with_url: bool = False,
    ) -> None:
        self.path = path
        self.secret = secret
        self.signature_header = signature_header
        self.with_url = with_url
        self.behaviour = "success"
        self.retry_after = "120"
        self.hang_seconds = 5.0
        self.requests: list[Received] = []
        self.delivered: list[bytes] = []
        self._answers: dict[str, bytes] = {}  # idempotency key -> first answer
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        )

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.origin + self.path

    def start(self) -> FakeWebhook:
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()  # let a hanging "timeout" answer go
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> FakeWebhook:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def signature_of(self, body: bytes, secret: str | None = None) -> str:
        """What the signature header must say for ``body``."""
        key = (secret or self.secret or "").encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    # --- answering ------------------------------------------------------------------------

    def _answer(self, received: Received) -> tuple[int, dict[str, str], bytes] | None:
        """Status, headers and body for a request; None to answer with garbage."""
        if self.secret is not None:
            given = received.header(self.signature_header) or ""
            if not hmac.compare_digest(given, self.signature_of(received.body)):
                return _json(401, {"error": "invalid signature"})
        behaviour = self.behaviour
        if behaviour == "timeout":
            self._release.wait(self.hang_seconds)
            return _json(200, {"id": "too-late"})
        if behaviour == "not_http":
            return None
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

    def _success(self, received: Received) -> tuple[int, dict[str, str], bytes]:
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


def _json(status: int, value: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


def _handler(fake: FakeWebhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received = Received(
                method=self.command,
                target=self.path,
                headers=dict(self.headers.items()),
                body=self.rfile.read(length),
            )
            with fake._lock:
                fake.requests.append(received)
            answer = fake._answer(received)
            if answer is None:
                self.wfile.write(b"this is not HTTP\r\n\r\n")
                self.close_connection = True
                return
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET = do_HEAD = do_OPTIONS = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    return Handler
