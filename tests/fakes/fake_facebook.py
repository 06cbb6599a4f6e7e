"""A Graph API on 127.0.0.1 that speaks the part the Facebook Page adapter uses.

``POST /{version}/{page-id}/feed`` (form fields ``message``, ``link``, ``access_token``,
``appsecret_proof``) answers ``{"id": "<page-id>_<n>"}``; ``GET /{version}/me`` answers
``{"id", "name"}`` of the Page the token belongs to. The token is read where the Graph API
reads it (form body, query string, or an ``Authorization: Bearer``/``OAuth`` header) and
checked; with ``app_secret`` set, ``appsecret_proof`` is required and checked too. Errors are
the Graph error object (``developers.facebook.com/docs/graph-api/guides/error-handling``)::

    with FakeGraphAPI(token="page-token") as graph:
        options = {"page_id": graph.page_id, "graph_url": graph.url}
        ...publish...
        assert graph.requests[0].form["message"] == "hello"
        graph.behaviour = "rate_limit"          # or GraphError(code=613, ...)

``behaviour`` is a name from :data:`BEHAVIOURS` or a :class:`GraphError` to answer with.

Photos (``POST /{version}/{page-id}/photos``, multipart ``source`` with ``caption``,
``alt_text_custom``, ``published``): a published photo answers ``{"id", "post_id"}`` and is a
post of its own; an unpublished one answers ``{"id"}`` and waits to be attached to a feed post
(``attached_media[i]={"media_fbid": id}``); a feed post naming a photo this fake does not keep
unattached is refused (code 100). ``photos`` lists every upload (``id``, ``data``,
``filename``, ``content_type``, ``caption``, ``alt``, ``published``, ``post``: the post it went
to). ``photo_behaviour`` switches the photos edge alone (``success``, ``temporary``), and
``feed_behaviour`` the feed edge alone (``success``, ``server_error``: 502).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fakes import fake_http
from fakes.fake_http import Answer, LoopbackServer, Reply
from fakes.fake_http import json_answer as _json

BEHAVIOURS = (
    "success",
    "rate_limit",  # code 32, with X-Business-Use-Case-Usage and X-Page-Usage headers
    "auth_failure",  # code 190, subcode 463: the token expired
    "permission",  # code 200: pages_manage_posts / pages_read_engagement missing
    "duplicate",  # code 506
    "spam",  # code 368
    "invalid_parameter",  # code 100
    "temporary",  # HTTP 500, code 2, is_transient
    "server_error",  # HTTP 502 with an HTML page
    "timeout",  # answers only after `hang_seconds` (or when the server closes)
    "hang_up",  # reads the request, then closes the connection without answering
    "malformed",  # HTTP 200 with a body that is not JSON
    "no_id",  # HTTP 200 {"success": true}
    "echo",  # code 12 (HTTP 400) quoting the whole request (echo_text, after echo_padding)
)


@dataclass
class GraphError:
    """An error answer: the Graph error object, its HTTP status and extra headers."""

    code: int
    message: str = "An error occurred"
    status: int = 400
    subcode: int | None = None
    type: str = "OAuthException"
    is_transient: bool | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fbtrace_id: str = "AbCdEfGh123"

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        error["fbtrace_id"] = self.fbtrace_id
        return {"error": error}


class Received(fake_http.Received):
    """One request as the server got it, with its form fields (the last value of each)."""

    @property
    def form(self) -> dict[str, str]:
        parts = self.parts
        if parts:
            return {name: part.text for name, part in parts.items() if part.filename is None}
        fields = parse_qs(self.body.decode(), keep_blank_values=True)
        return {key: values[-1] for key, values in fields.items()}


class FakeGraphAPI(LoopbackServer[Received]):
    """The Graph API of one Page on ``url`` (a free loopback port)."""

    methods = ("GET", "POST", "DELETE")
    protocol_version = "HTTP/1.0"

    def __init__(
        self,
        *,
        page_id: str = "1234567890",
        page_name: str = "Acme Coffee",
        token: str = "page-token",
        app_secret: str | None = None,
        api_version: str = "v25.0",
    ) -> None:
        super().__init__(Received)
        self.page_id = page_id
        self.page_name = page_name
        self.token = token
        self.app_secret = app_secret
        self.api_version = api_version
        self.behaviour: str | GraphError = "success"
        self.regain_minutes = 7  # estimated_time_to_regain_access in the rate-limit headers
        self.echo_token = False  # put the token it got into error messages (a leaky server)
        self.hang_seconds = 5.0
        self.posts: list[dict[str, str]] = []  # the form of each post created
        self.photos: list[dict[str, Any]] = []
        self.photo_behaviour = "success"
        self.feed_behaviour = "success"

    # --- answering ------------------------------------------------------------------------

    def answer(self, got: Received) -> Reply:
        token = _token_of(got)
        if not token:
            return _error(GraphError(190, "An access token is required to request this resource."))
        behaviour = self.behaviour
        if token != self.token or behaviour == "auth_failure":
            said = f" ({token})" if self.echo_token else ""
            return _error(
                GraphError(
                    190,
                    "Error validating access token: Session has expired on Monday, "
                    f"06-May-24 09:00:00 PDT{said}",
                    subcode=463,
                )
            )
        if self.app_secret is not None:
            proof = got.form.get("appsecret_proof") or _first(got.query.get("appsecret_proof"))
            expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256)
            if not proof:
                return _error(
                    GraphError(100, "API calls from the server require an appsecret_proof argument")
                )
            if not hmac.compare_digest(proof, expected.hexdigest()):
                return _error(
                    GraphError(100, "Invalid appsecret_proof provided in the API argument")
                )
        feed = f"/{self.api_version}/{self.page_id}/feed"
        me = f"/{self.api_version}/me"
        if got.method == "POST" and got.path == f"/{self.api_version}/{self.page_id}/photos":
            return self._photo(got)
        if got.path == feed and self.feed_behaviour == "server_error":
            return 502, {"Content-Type": "text/html"}, b"<h1>502 Bad Gateway</h1>"
        if not (
            (got.method == "POST" and got.path == feed) or (got.method == "GET" and got.path == me)
        ):
            return _error(
                GraphError(
                    100,
                    f"Unsupported {got.method.lower()} request. Object with ID "
                    f"'{got.path}' does not exist",
                    subcode=33,
                    type="GraphMethodException",
                )
            )
        if isinstance(behaviour, GraphError):
            return _error(behaviour)
        if behaviour == "timeout":
            self.hold(self.hang_seconds)
        if behaviour == "hang_up":
            return None
        named = _NAMED_ERRORS.get(behaviour)
        if named is not None:
            return _error(named(self))
        if behaviour == "echo":  # an error quoting the whole request
            echoed = fake_http.echo_text(got, self.echo_padding)
            return _error(GraphError(12, f"(#12) This call is deprecated: {echoed}"))
        if behaviour == "server_error":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return 502, {"Content-Type": "text/html"}, page
        if behaviour == "malformed":
            return 200, {"Content-Type": "text/html"}, b"<html>Sorry, something went wrong.</html>"
        if behaviour == "no_id":
            return _json(200, {"success": True})
        if behaviour not in ("success", "timeout"):
            raise ValueError(f"unknown behaviour {behaviour!r} (known: {', '.join(BEHAVIOURS)})")
        if got.method == "GET":
            return _json(200, {"id": self.page_id, "name": self.page_name})
        form = got.form
        with self._lock:
            attached = []
            for key in sorted(k for k in form if k.startswith("attached_media[")):
                fbid = json.loads(form[key]).get("media_fbid")
                photo = next((p for p in self.photos if p["id"] == fbid), None)
                if photo is None or photo["published"] or photo["post"] is not None:
                    return _error(GraphError(100, f"(#100) Invalid media_fbid: {fbid}"))
                attached.append(photo)
            self.posts.append(form)
            post_id = f"{self.page_id}_{1000 + len(self.posts)}"
            for photo in attached:
                photo["post"] = post_id
        return _json(200, {"id": post_id})

    def _photo(self, got: Received) -> Answer:
        if self.photo_behaviour == "temporary":
            return _error(_NAMED_ERRORS["temporary"](self))
        source = got.parts.get("source")
        if source is None:
            return _error(GraphError(324, "(#324) Requires upload file"))
        form = got.form
        published = form.get("published", "true") != "false"
        with self._lock:
            photo_id = str(900_000 + len(self.photos) + 1)
            photo: dict[str, Any] = {
                "id": photo_id,
                "data": source.data,
                "filename": source.filename,
                "content_type": source.content_type,
                "caption": form.get("caption"),
                "alt": form.get("alt_text_custom"),
                "published": published,
                "post": None,
            }
            self.photos.append(photo)
            if not published:
                return _json(200, {"id": photo_id})
            self.posts.append(form)
            photo["post"] = f"{self.page_id}_{1000 + len(self.posts)}"
        return _json(200, {"id": photo_id, "post_id": photo["post"]})

    def rate_limit_headers(self) -> dict[str, str]:
        """The usage headers of a throttled Page (Graph API "Rate limits")."""
        usage = {
            "type": "pages",
            "call_count": 100,
            "total_cputime": 12,
            "total_time": 14,
            "estimated_time_to_regain_access": self.regain_minutes,
        }
        return {
            "X-Business-Use-Case-Usage": json.dumps({self.page_id: [usage]}),
            "X-Page-Usage": json.dumps({k: v for k, v in usage.items() if k != "type"}),
        }


_NAMED_ERRORS: dict[str, Any] = {
    "rate_limit": lambda fake: GraphError(
        32, "(#32) Page request limit reached", status=403, headers=fake.rate_limit_headers()
    ),
    "permission": lambda fake: GraphError(
        200,
        "(#200) If posting to a page, requires both pages_read_engagement and "
        "pages_manage_posts as an admin with sufficient administrative permission",
        status=403,
    ),
    "duplicate": lambda fake: GraphError(506, "Duplicate status message"),
    "spam": lambda fake: GraphError(
        368,
        "It looks like you were misusing this feature by going too fast.",
        subcode=1390008,
    ),
    "invalid_parameter": lambda fake: GraphError(100, "(#100) Invalid parameter"),
    "temporary": lambda fake: GraphError(
        2,
        "An unexpected error has occurred. Please retry your request later.",
        status=500,
        type="OAuthException",
        is_transient=True,
    ),
}


def _token_of(got: Received) -> str | None:
    if "access_token" in got.form:
        return got.form["access_token"]
    if "access_token" in got.query:
        return got.query["access_token"][-1]
    authorization = got.header("Authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value:
        return value
    return None


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _error(error: GraphError) -> Answer:
    headers = {"WWW-Authenticate": 'OAuth "Facebook Platform"', **error.headers}
    return _json(error.status, error.body(), headers)
