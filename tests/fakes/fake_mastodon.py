"""A fake Mastodon instance on 127.0.0.1, speaking the part of the REST API the adapter uses.

Usage::

    with FakeMastodon(token="t0ken") as server:
        adapter = MastodonAdapter(settings(api_base_url=server.url), {"TOKEN": "t0ken"})
        server.behaviour = "rate_limited"
        ...
        assert server.requests[-1].headers["idempotency-key"] == "key-1"

Endpoints, as documented on docs.joinmastodon.org:

- ``POST /api/v1/statuses``: form-encoded or JSON ``status``, ``visibility``, ``language``;
  answers the new Status. A repeated ``Idempotency-Key`` from the same token answers the
  status it created the first time, as Mastodon does (Mastodon forgets keys after an hour;
  this fake never does). Blank text and text over ``max_characters`` grapheme clusters
  (links and mentions are not shortened here) are refused with 422, as Mastodon words it.
- ``GET /api/v1/accounts/verify_credentials``: the CredentialAccount of the token's owner.
- ``POST /api/v2/media``: multipart ``file`` and ``description``; answers the new
  MediaAttachment, 202 with ``url: null`` while it is processing (``processing_looks``
  more looks), else 200. ``GET /api/v1/media/:id`` answers 206 with ``url: null``
  until then, 200 after, as docs.joinmastodon.org describes. A status given an attachment
  still processing is refused with 422, as Mastodon does; one already attached elsewhere too.
  ``media`` lists every upload (id, bytes, type, description, the status it went to).
  ``media_behaviour`` switches the uploads alone (``ok``, ``server_error``), and
  ``failing_uploads`` names uploads by their number (1 the first) answered 503 all the same;
  ``status_behaviour`` switches the statuses alone (``ok``, ``unavailable``: 503).

Every request needs ``Authorization: Bearer <token>`` (else 401). Every answer carries
Mastodon's rate-limit headers (``X-RateLimit-Limit``, ``-Remaining``, and ``-Reset`` in
ISO 8601) and a ``Date`` header on the server's clock, which runs ``clock_skew`` ahead.
Errors are Mastodon's ``{"error": "..."}`` bodies, except where noted below.

``behaviour`` switches how it answers every request from then on:

=================  ===================================================================
``ok``             as above
``rate_limited``   429 ``{"error": "Too many requests"}``, ``X-RateLimit-Remaining: 0``,
                   reset ``reset_in`` from now (no reset header when ``reset_in`` is None)
``unauthorized``   401 ``{"error": "The access token is invalid"}``
``forbidden``      403 ``{"error": "This action is outside the authorized scopes"}``
``rejected``       422 ``{"error": "Validation failed: Text character limit of 500 exceeded"}``
``not_found``      404 ``{"error": "Record not found"}``
``server_error``   500 ``{"error": "Internal Server Error"}``
``unavailable``    503 with an HTML page (a proxy in front of an instance being upgraded)
``timeout``        does what ``ok`` does (the status *is* created), then holds the answer
                   back for ``delay`` seconds (released early when the server closes)
``malformed``      200 with a truncated JSON body
``no_id``          200 with valid JSON that is not a status
``leaky``          422 whose error message quotes the request's Authorization header
``echo``           422 whose error message quotes the whole request (``echo_text``,
                   after ``echo_padding`` dots)
=================  ===================================================================

``requests`` lists what arrived (method, target, path, query, headers with lower-case names,
body, and ``params``: the form fields or JSON object); ``statuses`` the statuses created.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import regex

from fakes import fake_http
from fakes.fake_http import Answer, LoopbackServer, Reply

BEHAVIOURS = (
    "ok",
    "rate_limited",
    "unauthorized",
    "forbidden",
    "rejected",
    "not_found",
    "server_error",
    "unavailable",
    "timeout",
    "hang_up",  # posts the status, then closes the connection without answering
    "malformed",
    "no_id",
    "leaky",
    "echo",
)

RATE_LIMIT = 300  # Mastodon's default: 300 requests per 5 minutes per account
FIRST_STATUS_ID = 113_502_748_000_000_001  # the shape of Mastodon's snowflake ids

_ERRORS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "The access token is invalid"),
    "forbidden": (403, "This action is outside the authorized scopes"),
    "not_found": (404, "Record not found"),
    "rejected": (422, "Validation failed: Text character limit of 500 exceeded"),
    "rate_limited": (429, "Too many requests"),
    "server_error": (500, "Internal Server Error"),
}


class Received(fake_http.Received):
    """One request as the fake server got it."""

    @property
    def params(self) -> dict[str, Any]:
        """The form fields or JSON object of the body."""
        if not self.body:
            return {}
        if (self.header("Content-Type") or "").startswith("application/json"):
            value = json.loads(self.body)
            return value if isinstance(value, dict) else {"_json": value}
        fields = parse_qs(self.body.decode(), keep_blank_values=True)
        return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}


@dataclass
class FakeMastodon(LoopbackServer[Received]):
    """A Mastodon instance on 127.0.0.1 (a free port), running from ``start()`` to ``close()``.

    Also a context manager. ``url`` is the instance's base URL for ``api_base_url``.
    """

    token: str = "fake-mastodon-token"
    username: str = "brand"
    account_id: str = "109348212345678"
    max_characters: int = 500
    behaviour: str = "ok"
    reset_in: timedelta | None = timedelta(minutes=5)
    clock_skew: timedelta = timedelta(0)
    delay: float = 2.0
    statuses: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    processing_looks: int = 0
    media_behaviour: str = "ok"
    failing_uploads: set[int] = field(default_factory=set)
    status_behaviour: str = "ok"

    def __post_init__(self) -> None:
        super().__init__(Received)
        self._ids = itertools.count(FIRST_STATUS_ID)
        self._by_key: dict[tuple[str, str], dict[str, Any]] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "behaviour" and value not in BEHAVIOURS:  # fail in the test, not the server
            raise ValueError(f"unknown behaviour {value!r} (known: {', '.join(BEHAVIOURS)})")
        super().__setattr__(name, value)

    def requests_to(self, path: str) -> list[Received]:
        """The requests received for ``path``, in order."""
        return [request for request in self.requests if request.path == path]

    def now(self) -> datetime:
        """The server's clock."""
        return datetime.now(UTC) + self.clock_skew

    # --- what the handler calls -----------------------------------------------------------

    def answer(self, received: Received) -> Reply:
        behaviour = self.behaviour
        if behaviour in _ERRORS:
            return self._error(*_ERRORS[behaviour], limited=behaviour == "rate_limited")
        if behaviour == "unavailable":
            page = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
            return 503, {"Content-Type": "text/html"}, page
        if behaviour == "malformed":
            return 200, _JSON, b'{"id": "1", "url": "https://'
        if behaviour == "no_id":
            return 200, _JSON, b'{"message": "this is not a status"}'
        if behaviour == "echo":
            echoed = fake_http.echo_text(received, self.echo_padding)
            return self._error(422, f"Validation failed: {echoed}")
        if behaviour == "leaky":
            echoed = received.headers.get("authorization", "none")
            return self._error(422, f"Validation failed: cannot post with {echoed}")
        answer = self._api(received)
        if behaviour == "timeout":
            self.hold(self.delay)
        if behaviour == "hang_up":
            return None
        return answer

    def _api(self, received: Received) -> Answer:
        authorization = received.headers.get("authorization")
        if authorization is None:
            return self._error(401, "This method requires an authenticated user")
        if authorization != f"Bearer {self.token}":
            return self._error(401, "The access token is invalid")
        if received.method == "GET" and received.path == "/api/v1/accounts/verify_credentials":
            return self._json(200, self._account())
        if received.method == "POST" and received.path == "/api/v1/statuses":
            return self._post_status(received)
        if received.method == "POST" and received.path == "/api/v2/media":
            return self._post_media(received)
        if received.method == "GET" and received.path.startswith("/api/v1/media/"):
            return self._get_media(received.path.rsplit("/", 1)[1])
        return self._error(404, "Record not found")

    def _post_media(self, received: Received) -> Answer:
        number = len(self.requests_to("/api/v2/media"))
        if self.media_behaviour == "server_error" or number in self.failing_uploads:
            return self._error(500, "Internal Server Error")
        parts = received.parts
        if "file" not in parts:
            return self._error(422, "Validation failed: File can't be blank")
        description = parts["description"].text if "description" in parts else None
        if description is not None and len(description) > 1500:
            return self._error(422, "Validation failed: Description is too long")
        with self._lock:
            media_id = str(next(self._ids))
            upload = {
                "id": media_id,
                "data": parts["file"].data,
                "mime": parts["file"].content_type,
                "filename": parts["file"].filename,
                "description": description,
                "looks_left": self.processing_looks,
                "status": None,
            }
            self.media.append(upload)
        return self._json(202 if upload["looks_left"] else 200, self._attachment(upload))

    def _get_media(self, media_id: str) -> Answer:
        with self._lock:
            upload = next((m for m in self.media if m["id"] == media_id), None)
            if upload is None:
                return self._error(404, "Record not found")
            if upload["looks_left"]:
                upload["looks_left"] -= 1
                return self._json(206, self._attachment(upload, processing=True))
        return self._json(200, self._attachment(upload))

    def _attachment(
        self, upload: dict[str, Any], *, processing: bool | None = None
    ) -> dict[str, Any]:
        pending = upload["looks_left"] > 0 if processing is None else processing
        return {
            "id": upload["id"],
            "type": "image",
            "url": None if pending else f"{self.url}/system/media/{upload['id']}.png",
            "preview_url": f"{self.url}/system/media/{upload['id']}-small.png",
            "remote_url": None,
            "description": upload["description"],
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        }

    def _post_status(self, received: Received) -> Answer:
        if self.status_behaviour == "unavailable":
            return 503, {"Content-Type": "text/html"}, b"<h1>503 upgrading</h1>"
        text = str(received.params.get("status") or "")
        if not text.strip():
            return self._error(422, "Validation failed: Text can't be blank")
        if len(regex.findall(r"\X", text)) > self.max_characters:
            return self._error(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        key = received.headers.get("idempotency-key")
        media_ids = received.params.get("media_ids[]", received.params.get("media_ids", []))
        media_ids = [media_ids] if isinstance(media_ids, str) else list(media_ids)
        with self._lock:
            if key is not None and (self.token, key) in self._by_key:
                return self._json(200, self._by_key[(self.token, key)])
            attached = []
            for media_id in media_ids:
                upload = next((m for m in self.media if m["id"] == str(media_id)), None)
                if upload is None or upload["status"] is not None:
                    return self._error(422, "Validation failed: Media attachments are invalid")
                if upload["looks_left"]:
                    return self._error(
                        422,
                        "Cannot attach files that have not finished processing. "
                        "Try again in a moment!",
                    )
                attached.append(upload)
            status_id = str(next(self._ids))
            for upload in attached:
                upload["status"] = status_id
            status = {
                "id": status_id,
                "created_at": self.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                "sensitive": False,
                "spoiler_text": "",
                "visibility": received.params.get("visibility", "public"),
                "language": received.params.get("language"),
                "uri": f"{self.url}/users/{self.username}/statuses/{status_id}",
                "url": f"{self.url}/@{self.username}/{status_id}",
                "replies_count": 0,
                "reblogs_count": 0,
                "favourites_count": 0,
                "content": f"<p>{_escape(text)}</p>",
                "reblog": None,
                "account": self._account(),
                "media_attachments": [self._attachment(upload) for upload in attached],
                "mentions": [],
                "tags": [],
                "emojis": [],
                "card": None,
                "poll": None,
            }
            self.statuses.append(status)
            if key is not None:
                self._by_key[(self.token, key)] = status
        return self._json(200, status)

    def _account(self) -> dict[str, Any]:
        return {
            "id": self.account_id,
            "username": self.username,
            "acct": self.username,  # a local account's acct has no domain
            "display_name": "Brand",
            "locked": False,
            "bot": True,
            "created_at": "2022-11-12T00:00:00.000Z",
            "note": "",
            "url": f"{self.url}/@{self.username}",
            "followers_count": 12,
            "following_count": 3,
            "statuses_count": len(self.statuses),
            "source": {"privacy": "public", "sensitive": False, "language": "", "note": ""},
        }

    def _error(self, status: int, message: str, *, limited: bool = False) -> Answer:
        code, headers, body = self._json(status, {"error": message})
        if limited:
            headers["X-RateLimit-Remaining"] = "0"
            if self.reset_in is None:
                del headers["X-RateLimit-Reset"]
        return code, headers, body

    def _json(self, status: int, payload: object) -> Answer:
        reset = self.now() + (self.reset_in or timedelta(minutes=5))
        headers = {
            **_JSON,
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(RATE_LIMIT - 1),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        return status, headers, json.dumps(payload).encode()


_JSON = {"Content-Type": "application/json; charset=utf-8"}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
