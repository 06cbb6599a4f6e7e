"""A stand-in for X's API v2 on 127.0.0.1, for tests of the X adapter and of whole runs.

It speaks the two endpoints the adapter uses, as X documents them
(docs.x.com/x-api/posts/create-post, docs.x.com/x-api/users/user-lookup-me,
docs.x.com/x-api/fundamentals/response-codes-and-errors, docs.x.com/fundamentals/rate-limits):

- ``POST /2/tweets`` with a JSON body ``{"text": ...}``: 201 ``{"data": {"id", "text",
  "edit_history_tweet_ids"}}``, ids counting up from :attr:`FakeX.first_id`;
- ``GET /2/users/me``: 200 ``{"data": {"id", "name", "username"}}``;
- ``POST /1.1/media/upload.json`` (multipart ``media``, on upload.twitter.com, OAuth 1.0a
  only): 200 ``{"media_id", "media_id_string", "size", "expires_after_secs", "image"}``;
- ``POST /1.1/media/metadata/create.json`` with ``{"media_id", "alt_text": {"text"}}``:
  200 with an empty body; alt text over 1,000 characters is refused (400).

A tweet's ``media.media_ids`` must name uploads of this fake not yet attached (else 400).
``uploads`` lists every upload (``id``, ``data``, ``filename``, ``alt``, ``tweet``) and
``tweets`` every tweet created (``id``, ``text``, ``media_ids``). ``upload_behaviour``
switches the upload endpoint alone (``ok``, ``server_error``).

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

from dataclasses import dataclass
from typing import Any

from fakes.fake_http import Answer, LoopbackServer, Received, Reply, echo_text, json_answer

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
    "echo",  # 400 whose detail quotes the whole request (echo_text, after echo_padding dots)
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


@dataclass
class FakeX(LoopbackServer[Received]):
    """The fake API: a context manager serving on an ephemeral loopback port."""

    behaviour: str = "ok"
    username: str = "brand"
    user_id: str = "2244994945"
    first_id: int = 1790000000000000000
    reset_epoch: int = 1_900_000_000  # 2030-03-17 17:46:40 UTC
    daily_reset_epoch: int = 1_900_050_000
    delay: float = 2.0  # how long "slow" waits; the test's timeout should be far shorter
    upload_behaviour: str = "ok"

    def __post_init__(self) -> None:
        super().__init__(Received)
        self._ids = iter(range(self.first_id, self.first_id + 1_000_000))
        self.uploads: list[dict[str, Any]] = []
        self.tweets: list[dict[str, Any]] = []

    def next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    # --- answers --------------------------------------------------------------------------

    def answer(self, received: Received) -> Reply:
        route = (received.method, received.path)
        if route == ("POST", "/1.1/media/upload.json"):
            return self._upload(received)
        if route == ("POST", "/1.1/media/metadata/create.json"):
            return self._metadata(received)
        if route not in (("POST", "/2/tweets"), ("GET", "/2/users/me")):
            return _problem(404, "Not Found Error", "The requested resource was not found.")
        behaviour = self.behaviour
        if behaviour == "slow":
            self.hold(self.delay)
            behaviour = "ok"
        if behaviour == "ok":
            return self._success(received, route[1])
        if behaviour == "hang_up":
            return None
        return self._failure(behaviour, received)

    def _success(self, received: Received, path: str) -> Answer:
        limits = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(self.reset_epoch),
        }
        if path == "/2/users/me":
            user = {"id": self.user_id, "name": "Brand", "username": self.username}
            return _json(200, {"data": user}, limits)
        body = received.json
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "invalid-request",
            )
        media_ids = (body.get("media") or {}).get("media_ids", [])
        with self._lock:
            attached = [u for u in self.uploads if u["id"] in media_ids and u["tweet"] is None]
            if len(attached) != len(media_ids):
                return _problem(400, "Invalid Request", "Your media IDs are invalid.")
            tweet_id = str(next(self._ids))
            for upload in attached:
                upload["tweet"] = tweet_id
            self.tweets.append({"id": tweet_id, "text": body["text"], "media_ids": media_ids})
        tweet = {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}
        return _json(201, {"data": tweet}, limits)

    def _upload(self, received: Received) -> Answer:
        if not (received.header("authorization") or "").startswith("OAuth "):
            return _v1_error(403, 220, "Your credentials do not allow access to this resource.")
        if self.upload_behaviour == "server_error":
            return _v1_error(500, 131, "Internal error")
        part = received.parts.get("media")
        if part is None:
            return _v1_error(400, 38, "media parameter is missing.")
        with self._lock:
            media_id = str(next(self._ids))
            self.uploads.append(
                {"id": media_id, "data": part.data, "filename": part.filename, "alt": None,
                 "tweet": None}
            )  # fmt: skip
        return _json(
            200,
            {"media_id": int(media_id), "media_id_string": media_id, "size": len(part.data),
             "expires_after_secs": 86400, "image": {"image_type": "image/png", "w": 1, "h": 1}},
        )  # fmt: skip

    def _metadata(self, received: Received) -> Answer:
        body = received.json if isinstance(received.json, dict) else {}
        alt = (body.get("alt_text") or {}).get("text")
        with self._lock:
            upload = next((u for u in self.uploads if u["id"] == str(body.get("media_id"))), None)
            if upload is None:
                return _v1_error(400, 324, "The media_id is not found.")
            if not isinstance(alt, str) or len(alt) > 1000:
                return _v1_error(400, 44, "alt_text.text must be at most 1000 characters.")
            upload["alt"] = alt
        return 200, {}, b""

    def _failure(self, behaviour: str, received: Received) -> Answer:
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
        if behaviour == "echo":
            detail = echo_text(received, self.echo_padding)
            return _problem(400, "Invalid Request", f"Cannot accept {detail}")
        if behaviour == "echo_auth":
            seen = received.headers.get("authorization", "")
            return _problem(400, "Invalid Request", f"Cannot use the header {seen!r}")
        if behaviour == "unavailable":
            return 503, {"Content-Type": "text/plain"}, b"Service Unavailable"
        if behaviour == "malformed":
            return 201, _JSON, b'{"data": {"id": "17900'
        if behaviour == "no_id":
            return _json(201, {"data": {"text": "where is my id?"}})
        if behaviour == "wrong_shape":
            return 400, _JSON, b'["not", "an", "object"]'
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


def _problem(status: int, title: str, detail: str, problem: str | None = None) -> Answer:
    kind = f"https://api.twitter.com/2/problems/{problem}" if problem else "about:blank"
    body: dict[str, Any] = {"title": title, "detail": detail, "type": kind, "status": status}
    if problem == "invalid-request":
        body["errors"] = [
            {"parameters": {"text": ["..."]}, "message": "The `text` field is invalid."}
        ]
    return _json(status, body)


_JSON = {"Content-Type": "application/json; charset=utf-8"}


def _v1_error(status: int, code: int, message: str) -> Answer:
    """An API v1.1 error body."""
    return _json(status, {"errors": [{"code": code, "message": message}]})


def _json(status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
    return json_answer(status, value, headers, _JSON["Content-Type"])
