"""A stand-in for X's API v2 on 127.0.0.1, for tests of the X adapter and of whole runs.

It speaks the two endpoints the adapter uses, as X documents them
(docs.x.com/x-api/posts/create-post, docs.x.com/x-api/users/user-lookup-me,
docs.x.com/x-api/fundamentals/response-codes-and-errors, docs.x.com/fundamentals/rate-limits):

- ``POST /2/tweets`` with a JSON body ``{"text": ...}``: 201 ``{"data": {"id", "text",
  "edit_history_tweet_ids"}}``, ids counting up from :attr:`FakeX.first_id`;
- ``GET /2/users/me``: 200 ``{"data": {"id", "name", "username"}}``.

Errors use X's problem bodies (``{"title", "detail", "type", "status"}``). Switch what it
answers with :attr:`FakeX.behaviour` (one of :data:`BEHAVIOURS`); every request is kept in
:attr:`FakeX.requests`. Point the adapter at it with the ``api_base`` option::

    with FakeX() as x:
        settings = AccountSettings(name="brand", network="x",
                                   options={"api_base": x.url}, credentials=OAUTH1_CREDENTIALS)
        XAdapter(settings, FAKE_ENVIRON).publish(post)
        assert x.requests[-1].json == {"text": post.text}
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# What the fake can be told to answer.
BEHAVIOURS = (
    "ok",  # 201 / 200 with the documented bodies
    "rate_limited",  # 429 with x-rate-limit-* headers (reset at FakeX.reset_epoch)
    "daily_cap",  # 429: the 15-minute window has room, the user's 24-hour cap is spent
    "rate_limited_no_reset",  # 429 without any reset header
    "rate_limited_bad_reset",  # 429 whose x-rate-limit-reset is not epoch seconds
    "unauthorized",  # 401: bad or expired credentials
    "duplicate",  # 403: X's duplicate-content refusal
    "forbidden",  # 403: a refusal about the post ("not permitted")
    "read_only_app",  # 403 oauth1-permissions: the app may only read
    "app_only_token",  # 403 unsupported-authentication: an app-only bearer token
    "credits_depleted",  # 402 CreditsDepleted: the app's API credits are used up
    "invalid_request",  # 400 invalid-request with a per-parameter message
    "echo_auth",  # 400 whose detail quotes the Authorization header it received
    "server_error",  # 500 with a problem body
    "unavailable",  # 503 with a plain-text body
    "slow",  # answers "ok" after FakeX.delay seconds
    "malformed",  # 201 whose body is cut off mid-JSON
    "no_id",  # 201 with JSON that lacks data.id
    "wrong_shape",  # 400 whose body is JSON but not an object
    "hang_up",  # closes the connection without answering
)

# Ready-made credentials for tests: credential key -> variable -> a recognisable fake value.
OAUTH1_CREDENTIALS = {
    "api_key_env": "X_API_KEY",
    "api_secret_env": "X_API_SECRET",
    "access_token_env": "X_ACCESS_TOKEN",
    "access_token_secret_env": "X_ACCESS_TOKEN_SECRET",
}
OAUTH2_CREDENTIALS = {"oauth2_access_token_env": "X_OAUTH2_TOKEN"}
FAKE_ENVIRON = {
    "X_API_KEY": "fake-consumer-key-111",
    "X_API_SECRET": "fake-consumer-secret-222",
    "X_ACCESS_TOKEN": "123-fake-access-token-333",
    "X_ACCESS_TOKEN_SECRET": "fake-token-secret-444",
    "X_OAUTH2_TOKEN": "fake-oauth2-user-token-555",
}

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None


@dataclass
class FakeX:
    """The fake API: a context manager serving on an ephemeral loopback port."""

    behaviour: str = "ok"
    username: str = "brand"
    user_id: str = "2244994945"
    first_id: int = 1790000000000000000
    reset_epoch: int = 1_900_000_000  # 2030-03-17 17:46:40 UTC
    daily_reset_epoch: int = 1_900_050_000
    delay: float = 2.0  # how long "slow" waits; the test's timeout should be far shorter
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()
        self._ids = iter(range(self.first_id, self.first_id + 1_000_000))
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL to use as the adapter's ``api_base``."""
        if self._server is None:
            raise RuntimeError("FakeX is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeX:
        fake = self

        class Handler(_Handler):
            owner = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # A short poll interval: shutdown() waits until the loop looks at its flag again.
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        self._server = server
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()  # wakes a "slow" handler at once
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    # --- answers --------------------------------------------------------------------------

    def answer(self, received: Received) -> tuple[int, dict[str, str], bytes] | None:
        """Status, headers and body for ``received`` (None: hang up without answering)."""
        route = (received.method, received.path.split("?", 1)[0])
        if route not in (("POST", "/2/tweets"), ("GET", "/2/users/me")):
            return _problem(404, "Not Found Error", "The requested resource was not found.")
        behaviour = self.behaviour
        if behaviour == "slow":
            self._stopping.wait(self.delay)
            behaviour = "ok"
        if behaviour == "ok":
            return self._success(received, route[1])
        if behaviour == "hang_up":
            return None
        return self._failure(behaviour, received)

    def _success(self, received: Received, path: str) -> tuple[int, dict[str, str], bytes]:
        limits = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(self.reset_epoch),
        }
        if path == "/2/users/me":
            user = {"id": self.user_id, "name": "Brand", "username": self.username}
            return 200, limits, _json({"data": user})
        body = received.json
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "invalid-request",
            )
        tweet_id = self.next_id()
        tweet = {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}
        return 201, limits, _json({"data": tweet})

    def _failure(self, behaviour: str, received: Received) -> tuple[int, dict[str, str], bytes]:
        if behaviour.startswith("rate_limited") or behaviour == "daily_cap":
            status, headers, body = _problem(429, "Too Many Requests", "Too Many Requests")
            headers["x-rate-limit-limit"] = "100"
            headers["x-rate-limit-remaining"] = "0"
            if behaviour == "rate_limited":
                headers["x-rate-limit-reset"] = str(self.reset_epoch)
            elif behaviour == "rate_limited_bad_reset":
                headers["x-rate-limit-reset"] = "soon"
            elif behaviour == "daily_cap":
                headers["x-rate-limit-remaining"] = "99"
                headers["x-rate-limit-reset"] = str(self.reset_epoch)
                headers["x-user-limit-24hour-limit"] = "17"
                headers["x-user-limit-24hour-remaining"] = "0"
                headers["x-user-limit-24hour-reset"] = str(self.daily_reset_epoch)
            return status, headers, body
        if behaviour == "echo_auth":
            seen = received.headers.get("authorization", "")
            return _problem(400, "Invalid Request", f"Cannot use the header {seen!r}")
        if behaviour == "unavailable":
            return 503, {"Content-Type": "text/plain"}, b"Service Unavailable"
        if behaviour == "malformed":
            return 201, {}, b'{"data": {"id": "17900'
        if behaviour == "no_id":
            return 201, {}, _json({"data": {"text": "where is my id?"}})
        if behaviour == "wrong_shape":
            return 400, {}, b'["not", "an", "object"]'
        if behaviour in _PROBLEMS:
            return _problem(*_PROBLEMS[behaviour])
        raise ValueError(f"unknown behaviour {behaviour!r} (expected one of {BEHAVIOURS})")


# behaviour -> (status, title, detail, problem type)
_PROBLEMS: dict[str, tuple[int, str, str, str | None]] = {
    "unauthorized": (401, "Unauthorized", "Unauthorized", None),
    "duplicate": (403, "Forbidden", DUPLICATE_DETAIL, None),
    "forbidden": (403, "Forbidden", "You are not permitted to perform this action.", None),
    "read_only_app": (
        403,
        "Forbidden",
        "Your client app is not configured with the appropriate oauth1 app permissions "
        "for this endpoint.",
        "oauth1-permissions",
    ),
    "app_only_token": (
        403,
        "Unsupported Authentication",
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        "unsupported-authentication",
    ),
    "credits_depleted": (
        402,
        "CreditsDepleted",
        "Your enrolled account does not have any credits to fulfill this request.",
        "credits",
    ),
    "invalid_request": (
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "invalid-request",
    ),
    "server_error": (500, "Internal Server Error", "Something went wrong.", None),
}


def _problem(
    status: int, title: str, detail: str, problem: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    kind = f"https://api.twitter.com/2/problems/{problem}" if problem else "about:blank"
    body: dict[str, Any] = {"title": title, "detail": detail, "type": kind, "status": status}
    if problem == "invalid-request":
        body["errors"] = [
            {"parameters": {"text": ["..."]}, "message": "The `text` field is invalid."}
        ]
    return status, {}, _json(body)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeX
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        received = Received(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            json=body,
        )
        self.owner.requests.append(received)
        answer = self.owner.answer(received)
        if answer is None:
            self.close_connection = True
            return
        status, headers, payload = answer
        try:
            self.send_response(status)
            headers = {"Content-Type": "application/json; charset=utf-8", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (a timeout test): nobody to answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are in FakeX.requests."""
