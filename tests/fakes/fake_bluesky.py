"""A fake Bluesky PDS on 127.0.0.1 that speaks the XRPC endpoints the Bluesky adapter uses.

Written from the public lexicons and the PDS's documented behaviour (docs.bsky.app, the
``com.atproto.*`` lexicons in bluesky-social/atproto):

- ``POST /xrpc/com.atproto.server.createSession`` (identifier + app password -> accessJwt,
  refreshJwt, handle, did, didDoc naming this server as the PDS),
- ``POST /xrpc/com.atproto.server.refreshSession`` (Bearer refreshJwt -> a new pair; the old
  refresh token is spent),
- ``GET /xrpc/com.atproto.server.getSession`` (Bearer accessJwt -> handle, did),
- ``POST /xrpc/com.atproto.repo.createRecord`` (-> uri, cid, commit, validationStatus),
- ``GET /xrpc/com.atproto.identity.resolveHandle`` (-> did, or 400 "Unable to resolve handle"),
- ``POST /xrpc/com.atproto.repo.uploadBlob`` (the bytes, typed by ``Content-Type`` -> ``{"blob":
  {"$type": "blob", "ref": {"$link": cid}, "mimeType", "size"}}``; over 1,000,000 bytes is
  400 ``BlobTooLarge``). ``blobs`` lists the uploads; a record whose ``embed`` names a blob
  this fake never stored is refused (400 ``InvalidRequest``, "Could not find blob").
  ``upload_behaviour`` switches uploadBlob alone (``ok``, ``server_error``).

Errors are XRPC error bodies ``{"error": ..., "message": ...}``; an expired access token is
400 ``ExpiredToken`` and an unknown one 400 ``InvalidToken``, as the PDS answers; a wrong
password is 401 ``AuthenticationRequired``; a rate limit is 429 with the ``ratelimit-limit``,
``ratelimit-remaining``, ``ratelimit-reset`` (epoch seconds) and ``ratelimit-policy``
headers. Tokens are real (unsigned) JWTs with ``exp``, since the SDK reads it to decide when
to refresh.

Usage::

    with FakeBluesky() as fake:
        ...  # point the adapter at fake.url
        fake.behaviour = "rate_limit"  # createRecord and getSession now answer 429
        assert fake.count("com.atproto.server.createSession") == 1
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from typing import Any

from fakes import fake_http
from fakes.fake_http import RESET, Answer, LoopbackServer, Reply, json_answer

BEHAVIOURS = (
    "ok",  # answer as documented
    "rate_limit",  # 429 RateLimitExceeded with the ratelimit-* headers
    "auth",  # 401 AuthenticationRequired
    "expired",  # 400 ExpiredToken, whatever the token
    "reject",  # 400 InvalidRequest with the record validator's message
    "server_error",  # 500 InternalServerError
    "bad_gateway",  # 502 with an HTML body, as a proxy in front of the PDS answers
    "timeout",  # answer only after `delay` seconds
    "hang_up",  # read the request, then close the connection without answering
    "reset",  # read the request, then reset the connection (TCP RST) without answering
    "malformed",  # 200 with a body that is not JSON although it says it is
    "incomplete",  # 200 with JSON that lacks required fields
    "echo",  # 400 InvalidRequest quoting the whole request (echo_text, after echo_padding dots)
)

REJECT_MESSAGE = (
    "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
)
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as atproto TIDs use
_PUBLIC = {"com.atproto.server.createSession", "com.atproto.identity.resolveHandle"}
_UPLOAD = "com.atproto.repo.uploadBlob"
MAX_BLOB = 1_000_000
_REFRESH = "com.atproto.server.refreshSession"
_BEHAVING = {"com.atproto.repo.createRecord", "com.atproto.server.getSession"}


class Received(fake_http.Received):
    """One request the fake received."""

    @property
    def nsid(self) -> str:
        return self.path.removeprefix("/xrpc/")


class FakeBluesky(LoopbackServer[Received]):
    """A loopback PDS with one account and switchable behaviours.

    ``behaviour`` applies to the calls that do the work (createRecord, getSession);
    ``login_behaviour`` to createSession. ``access_ttl`` is the access tokens' lifetime in
    seconds (the SDK refreshes a token that expires within 15 minutes, so a short one makes
    it refresh before every call). ``reject_message`` is the message of the "reject"
    behaviour. ``account_status`` makes the sessions say the account is not active.
    ``rate_limit_reset`` is the epoch second sent in
    ``ratelimit-reset`` (None: no such header). ``handles`` maps the handles resolveHandle
    knows to their DIDs.
    """

    def __init__(
        self,
        *,
        handle: str = "brand.bsky.social",
        did: str = "did:plc:z72i7hdynmk6r22z27h6tvur",
        app_password: str = "abcd-efgh-ijkl-mnop",
        access_ttl: int = 7200,
        delay: float = 2.0,
    ) -> None:
        super().__init__(Received)
        self.handle = handle
        self.did = did
        self.app_password = app_password
        self.access_ttl = access_ttl
        self.delay = delay
        self.login_behaviour = "ok"
        self.refresh_behaviour = "ok"  # or "echo", for refreshSession
        self.reject_message = REJECT_MESSAGE
        self.account_status: str | None = None  # "deactivated", "takendown": not active
        self.rate_limit_reset: int | None = int(time.time()) + 300
        self.handles: dict[str, str] = {handle: did}
        self.records: list[dict[str, Any]] = []  # what createRecord stored, in order
        self.blobs: list[dict[str, Any]] = []  # what uploadBlob stored: cid, data, mime
        self.upload_behaviour = "ok"
        self._behaviour = "ok"
        self._access: dict[str, bool] = {}  # access token -> still valid
        self._refresh: set[str] = set()  # refresh tokens not yet spent
        self._issued_refresh: set[str] = set()  # every refresh token handed out
        self._serial = itertools.count(1)

    # --- the API for tests ---

    @property
    def behaviour(self) -> str:
        return self._behaviour

    @behaviour.setter
    def behaviour(self, value: str) -> None:
        if value not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {value!r} (known: {', '.join(BEHAVIOURS)})")
        self._behaviour = value

    def count(self, nsid: str) -> int:
        """How many requests reached the method ``nsid`` (``com.atproto.repo.createRecord``)."""
        return sum(1 for request in self.requests if request.nsid == nsid)

    def expire_sessions(self) -> None:
        """Expire every access token issued so far, as if the sessions had timed out."""
        with self._lock:
            self._access = dict.fromkeys(self._access, False)
            self._refresh.clear()

    def issued_tokens(self) -> set[str]:
        """Every access and refresh token handed out (spent or not): secrets too."""
        with self._lock:
            return set(self._access) | set(self._issued_refresh)

    # --- the server side ---

    def answer(self, request: Received) -> Reply:
        nsid = request.nsid
        if nsid == "com.atproto.server.createSession":
            if self.login_behaviour == "hang_up":
                return None
            if self.login_behaviour == "echo":  # quotes the app password back
                return _error(401, "AuthenticationRequired", self._echo(request))
            return self._behave(self.login_behaviour, nsid) or self._create_session(request)
        if nsid == _REFRESH:
            if self.refresh_behaviour == "echo":  # quotes the refresh token back
                return _error(400, "InvalidRequest", self._echo(request))
            return self._refresh_session(request)
        if nsid == _UPLOAD:
            return self._check_access(request) or self._upload_blob(request)
        if nsid not in _BEHAVING and nsid not in _PUBLIC:
            return _error(501, "MethodNotImplemented", "Method Not Implemented")
        if nsid not in _PUBLIC:
            refused = self._check_access(request)
            if refused:
                return refused
        if nsid in _BEHAVING:
            if self._behaviour == "hang_up":
                return None
            if self._behaviour == "reset":
                return RESET
            if self._behaviour == "echo":  # quotes the access token back
                return _error(400, "InvalidRequest", self._echo(request))
            answered = self._behave(self._behaviour, nsid)
            if answered:
                return answered
        if nsid == "com.atproto.server.getSession":
            return _json(200, self._session_body())
        if nsid == "com.atproto.identity.resolveHandle":
            found = self.handles.get(request.query.get("handle", [""])[-1].lower())
            if found is None:
                return _error(400, "InvalidRequest", "Unable to resolve handle")
            return _json(200, {"did": found})
        return self._create_record(request)

    def _echo(self, request: Received) -> str:
        return "Invalid request: " + fake_http.echo_text(request, self.echo_padding)

    def _behave(self, behaviour: str, nsid: str) -> Answer | None:
        if behaviour == "ok":
            return None
        if behaviour == "timeout":
            self.hold(self.delay)
            return None
        if behaviour == "rate_limit":
            headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0"}
            headers["ratelimit-policy"] = "5000;w=3600"
            if self.rate_limit_reset is not None:
                headers["ratelimit-reset"] = str(self.rate_limit_reset)
            return _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        if behaviour == "auth":
            return _error(401, "AuthenticationRequired", "Authentication Required")
        if behaviour == "expired":
            return _error(400, "ExpiredToken", "Token has expired")
        if behaviour == "reject":
            return _error(400, "InvalidRequest", self.reject_message)
        if behaviour == "server_error":
            return _error(500, "InternalServerError", "Internal Server Error")
        if behaviour == "bad_gateway":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return 502, {"Content-Type": "text/html"}, page
        if behaviour == "malformed":
            return 200, {"Content-Type": "application/json; charset=utf-8"}, b'{"uri": "at://'
        # "incomplete": valid JSON, but not the documented output of the method
        return _json(200, {"handle": self.handle} if "Session" in nsid else {"uri": 42})

    def _create_session(self, request: Received) -> Answer:
        body = request.json if isinstance(request.json, dict) else {}
        identifier = str(body.get("identifier", "")).lower().removeprefix("@")
        if identifier not in {self.handle, self.did} or body.get("password") != self.app_password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        return _json(200, {**self._session_body(), **self._new_tokens()})

    def _refresh_session(self, request: Received) -> Answer:
        token = _bearer(request)
        with self._lock:
            if token not in self._refresh:
                known = token in self._issued_refresh
                reason = ("ExpiredToken", "Token has expired") if known else None
                return _error(400, *(reason or ("InvalidToken", "Token could not be verified")))
            self._refresh.discard(token)
        return _json(200, {**self._session_body(), **self._new_tokens()})

    def _check_access(self, request: Received) -> Answer | None:
        token = _bearer(request)
        if token is None:
            return _error(401, "AuthMissing", "Authentication Required")
        with self._lock:
            valid = self._access.get(token)
        if valid is None:
            return _error(400, "InvalidToken", "Token could not be verified")
        if not valid:
            return _error(400, "ExpiredToken", "Token has expired")
        return None

    def _upload_blob(self, request: Received) -> Answer:
        if self.upload_behaviour == "server_error":
            return _error(500, "InternalServerError", "Internal Server Error")
        if len(request.body) > MAX_BLOB:
            return _error(400, "BlobTooLarge", f"This file is too large. Max size: {MAX_BLOB}")
        # A CIDv1 as a PDS makes for a blob: raw codec (0x55), SHA-256, base32 with "b".
        digest = b"\x01\x55\x12\x20" + hashlib.sha256(request.body).digest()
        cid = "b" + base64.b32encode(digest).decode().rstrip("=").lower()
        mime = request.header("Content-Type") or "application/octet-stream"
        with self._lock:
            self.blobs.append({"cid": cid, "data": request.body, "mime": mime})
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(request.body)}
        return _json(200, {"blob": blob})

    def _create_record(self, request: Received) -> Answer:
        body = request.json if isinstance(request.json, dict) else {}
        embed = (
            (body.get("record") or {}).get("embed")
            if isinstance(body.get("record"), dict)
            else None
        )
        if isinstance(embed, dict):
            stored = {blob["cid"] for blob in self.blobs}
            for image in embed.get("images", []):
                cid = ((image.get("image") or {}).get("ref") or {}).get("$link")
                if cid not in stored:
                    return _error(400, "InvalidRequest", f"Could not find blob: {cid}")
        if body.get("repo") not in {self.did, self.handle}:
            return _error(400, "InvalidRequest", f"Could not find repo: {body.get('repo')}")
        record = body.get("record")
        collection = body.get("collection")
        if not isinstance(record, dict) or record.get("$type") != collection:
            return _error(400, "InvalidRequest", "Invalid record: $type must match collection")
        rkey = body.get("rkey") or _tid(next(self._serial))
        with self._lock:
            self.records.append(record)
        digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).digest()
        cid = "bafyrei" + base64.b32encode(digest).decode().rstrip("=").lower()[:52]
        return _json(
            200,
            {
                "uri": f"at://{self.did}/{collection}/{rkey}",
                "cid": cid,
                "commit": {"cid": cid, "rev": _tid(next(self._serial))},
                "validationStatus": "valid",
            },
        )

    def _session_body(self) -> dict[str, Any]:
        return {
            "handle": self.handle,
            "did": self.did,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": self.did,
                "alsoKnownAs": [f"at://{self.handle}"],
                "verificationMethod": [],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": self.url,
                    }
                ],
            },
            "email": "social@brand.example",
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "active": self.account_status is None,
            **({"status": self.account_status} if self.account_status else {}),
        }

    def _new_tokens(self) -> dict[str, str]:
        now = int(time.time())
        serial = next(self._serial)
        access = _jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": self.did,
                "aud": "did:web:fake.pds.invalid",
                "iat": now,
                "exp": now + self.access_ttl,
                "jti": f"access-{serial}",
            }
        )
        refresh = _jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": self.did,
                "aud": "did:web:fake.pds.invalid",
                "iat": now,
                "exp": now + 90 * 86400,
                "jti": f"refresh-{serial}",
            }
        )
        with self._lock:
            self._access[access] = True
            self._refresh.add(refresh)
            self._issued_refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh}


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
    return json_answer(status, body, headers, "application/json; charset=utf-8")


def _error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    return _json(status, {"error": error, "message": message}, headers)


def _bearer(request: Received) -> str | None:
    value = request.headers.get("authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(payload: dict[str, Any]) -> str:
    header = {"typ": "at+jwt", "alg": "ES256K"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hashlib.sha256(signing_input.encode()).digest()  # not a real signature
    return f"{signing_input}.{_b64(signature)}"


def _tid(serial: int) -> str:
    """A record key in TID syntax: 53 bits of microseconds, 10 bits of clock id, base32."""
    value = ((int(time.time() * 1_000_000) + serial) << 10) | (serial & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))
