"""Bluesky: posts through the atproto SDK, logged in with an app password.

Options (``[accounts.NAME.options]``):

- ``handle`` (required): the account's handle, e.g. ``brand.bsky.social`` (a leading ``@``
  is dropped); it is the login identifier, not a secret.
- ``service`` (default ``https://bsky.social``): the PDS or entryway to log in at.
- ``timeout`` (default 10): seconds the HTTP client waits for the network.
- ``langs`` (default none): the posts' languages, comma-separated BCP 47 tags (``"en,de"``,
  at most 3), so Bluesky's language filters show them to the right readers.

Credential: ``app_password_env`` names the environment variable that holds an app password
(Settings > Privacy and security > App passwords); it is read at the first publish or
verify, never when the adapter is built, so a week can be planned without it.

The session: the adapter logs in once (``com.atproto.server.createSession``) at its first
publish or verify and keeps the session; the SDK refreshes the access token before it
expires (``refreshSession``). Should the server still refuse the session (401, or 400
``ExpiredToken``/``InvalidToken``: revoked, or expired while the process slept), the adapter
logs in again once and repeats the call; a second refusal is :class:`AuthFailed`.

The post: an ``app.bsky.feed.post`` record built here, with ``createdAt`` from the adapter's
clock and facets found the way Bluesky's own app finds them (the SDK's port of its
``detectFacets``): links (``https://…`` and bare domains with a known TLD), ``#hashtags``,
``$cashtags``, and ``@mentions`` of handles that resolve (``resolveHandle``; a handle that
does not resolve stays plain text). Facet offsets are UTF-8 byte offsets, as the lexicon
requires. ``remote_id`` is the record's ``at://`` URI and ``url`` its ``bsky.app`` page.
``OutgoingPost.url`` is not used: the rendered text carries the link.

Length: at most 300 graphemes (extended grapheme clusters, what a reader sees as one
character: an emoji ZWJ family, a flag, a letter with combining accents each count 1) and
at most 3000 bytes of UTF-8, the two limits of the lexicon's ``text`` field. A URL counts in
full: it is part of the text.

Errors: 429 is :class:`RateLimited` until the ``ratelimit-reset`` header (epoch seconds),
else ``retry-after``, else 15 minutes; 401/403 and refused sessions are :class:`AuthFailed`;
other 4xx (``InvalidRequest``: a record the server refuses) are :class:`Rejected` with the
server's message; 5xx, 408, timeouts, connection failures and answers that are not the
documented JSON are :class:`Transient`, except while creating the post: a timeout after
connecting, a connection closed before the answer or a garbled answer then means the record
may exist, and is :class:`Uncertain` (the pipeline marks the post ``unknown``). Library
exceptions never escape, and are not chained (``from None``): what the SDK raises for a
malformed answer quotes the answer, tokens included.

Secrets: the app password travels only in the createSession body and the tokens only in
the ``Authorization`` header; nothing this module raises, logs or returns contains them
(server messages are scrubbed of the password too). The atproto SDK does not log. Its HTTP
client logs: ``httpx`` each request's method, URL and status at INFO, and ``httpcore``
connection events and *response* headers at DEBUG; neither logs request headers or bodies.

Idempotency: none (``supports_idempotency = False``). ``createRecord`` has no idempotency
key. A caller-chosen ``rkey`` derived from the post's key would make a second create fail,
but a post's rkey must be a TID (a timestamp, here not the clock's), and bsky.social answers
a duplicate rkey with a bare 500, which cannot be told from a real server failure
(bluesky-social/indigo#873). A post found claimed after a crash therefore becomes
``unknown``.

Why this module is long: it is one network's whole contract (options, the login and the
call, the documented answers mapped to the planner's errors, and why each mapping holds),
read in one place; an eighth of it is this docstring.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

import regex

from planner.adapters.base import (
    AccountSettings,
    OptionProblem,
    OutgoingImage,
    OutgoingPost,
    Published,
    option_problems,
    require_valid,
    upload_each,
)
from planner.adapters.http import excerpt, http_url, scrub, timeout_problem
from planner.content.media_limits import BLUESKY_LIMITS
from planner.errors import (
    AuthFailed,
    InputError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

# The atproto SDK is imported inside the functions that use it ("slow: see the imports"):
# importing it takes seconds, and every command loads the config, which checks this
# adapter's options (check_options) without needing the SDK. The first login imports it.

logger = logging.getLogger(__name__)

DEFAULT_SERVICE = "https://bsky.social"
DEFAULT_TIMEOUT = 10.0
MAX_GRAPHEMES = 300  # app.bsky.feed.post lexicon: text maxGraphemes
MAX_BYTES = 3000  # app.bsky.feed.post lexicon: text maxLength (lexicon lengths are UTF-8 bytes)
MAX_LANGS = 3  # app.bsky.feed.post lexicon: langs maxLength
RATE_LIMIT_FALLBACK = timedelta(minutes=15)
PASSWORD_KEY = "app_password_env"
_MESSAGE_LIMIT = 300  # characters of a server's words kept in our messages

_OPTIONS = ("handle", "service", "timeout", "langs")
_CREDENTIALS = (PASSWORD_KEY,)
_GRAPHEME = regex.compile(r"\X")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# The PDS answers an expired or unknown access token with 400 and these XRPC errors (401 at
# the entryway); either way the session is gone and logging in again may help.
_SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    import httpx  # lazily: loading a config checks Bluesky options without it

    # httpx's own default, built once: loading the CA bundle takes ~0.1 s, and one context
    # serves every account's connections.
    return httpx.create_ssl_context()


def grapheme_count(text: str) -> int:
    """How many characters Bluesky counts in ``text``: extended grapheme clusters (UAX #29)."""
    return len(_GRAPHEME.findall(text))


class BlueskyAdapter:
    """Publishes to one Bluesky account; one login per adapter, reused between posts."""

    supports_idempotency = False
    public_url_options = ("service",)  # a PDS's address: shown by `config check`
    media_limits = BLUESKY_LIMITS
    # A PDS deletes a blob no record references "within a time window (eg, minutes)" (the
    # uploadBlob lexicon): a retry later than this uploads the image again.
    media_reuse_window = timedelta(minutes=10)

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.account = settings.name
        require_valid(settings, self.check_options(settings))
        where, options = f'account "{settings.name}"', settings.options
        self.handle = _handle(where, options.get("handle"))
        self.service = _service(where, options.get("service", DEFAULT_SERVICE))
        self.timeout = _timeout(where, options.get("timeout", DEFAULT_TIMEOUT))
        self.langs = _langs(where, options.get("langs", ""))
        self._password_var = settings.credentials.get(PASSWORD_KEY)
        self._environ = environ
        self._clock = clock
        self._lock = threading.Lock()  # one network conversation at a time per account
        self._client: Any = None  # an atproto Client, logged in; None until first needed
        self._did: str | None = None
        self._session_handle: str | None = None
        self._password: str | None = None  # kept only to scrub it from server messages
        self._tokens: set[str] = set()  # every session token seen, likewise

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """Every problem with the account's options and credential keys; reads no secret."""
        where, options = f'account "{settings.name}"', settings.options
        return option_problems(
            settings,
            _OPTIONS,
            _CREDENTIALS,
            [
                ("handle", lambda: _handle(where, options.get("handle"))),
                ("service", lambda: _service(where, options.get("service", DEFAULT_SERVICE))),
                ("timeout", lambda: _timeout(where, options.get("timeout", DEFAULT_TIMEOUT))),
                ("langs", lambda: _langs(where, options.get("langs", ""))),
            ],
        )

    # --- the adapter interface -------------------------------------------------------------

    def validate(self, text: str) -> list[str]:
        """Empty text, more than 300 graphemes or more than 3000 UTF-8 bytes are problems."""
        if not text.strip():
            return ["empty post"]
        problems = []
        graphemes = grapheme_count(text)
        if graphemes > MAX_GRAPHEMES:
            problems.append(
                f"too long for Bluesky: {graphemes} characters (graphemes), at most {MAX_GRAPHEMES}"
            )
        size = len(text.encode("utf-8"))
        if size > MAX_BYTES:
            problems.append(f"too long for Bluesky: {size} bytes in UTF-8, at most {MAX_BYTES}")
        return problems

    def publish(self, post: OutgoingPost) -> Published:
        """Post ``post.text`` with its facets; return the record's URI and its bsky.app URL."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        with self._lock:
            # Uploads create no record: what goes wrong there is never Uncertain.
            blobs = upload_each(
                post, lambda image: self._with_session(lambda client: self._upload(client, image))
            )
            uri = self._with_session(
                lambda client: self._create_post(client, post.text, post.media, blobs)
            )
            rkey = _post_rkey(uri)
            handle = self._session_handle or self.handle
        logger.info("account %s: posted to Bluesky as %s", self.account, uri)
        return Published(remote_id=uri, url=f"https://bsky.app/profile/{handle}/post/{rkey}")

    def verify(self) -> str:
        """Who the app password belongs to, as ``"@handle (did)"`` (``getSession``)."""
        with self._lock:
            info = self._with_session(lambda client: client.com.atproto.server.get_session())
        handle, did = str(info.handle), str(info.did)
        if info.active is False:
            status = info.status or "no reason given"
            raise AuthFailed(f"the Bluesky account @{handle} ({did}) is not active: {status}")
        return f"@{handle} ({did})"

    def close(self) -> None:
        """Drop the session and close the HTTP connections (a later call logs in again)."""
        with self._lock:
            self._drop_session()

    # --- the session -----------------------------------------------------------------------

    def _with_session(self, action: Callable[[Any], T]) -> T:
        """``action(client)`` on the kept session; after a refused session, once more."""
        client, fresh = self._session()
        try:
            return action(client)
        except Exception as exc:  # the SDK may raise anything; mapped below
            if fresh or not _session_refused(exc):
                raise self._mapped(exc) from None
            logger.info(
                "account %s: Bluesky refused the session (%s); logging in again",
                self.account,
                self._detail(exc),
            )
        self._drop_session()
        client, _ = self._session()
        try:
            return action(client)
        except Exception as exc:
            raise self._mapped(exc) from None

    def _session(self) -> tuple[Any, bool]:
        """The logged-in client, and whether it logged in just now."""
        import httpx  # lazily: loading a config checks Bluesky options without it

        if self._client is not None:
            return self._client, False
        password = self._read_password()
        # No keep-alive: posts are hours apart, so an idle connection would only go stale
        # (and an adapter nobody closes would leave its socket to the garbage collector).
        from atproto import Client, Request  # slow: see the imports

        limits = httpx.Limits(max_keepalive_connections=0)
        request = Request(timeout=self.timeout, limits=limits, verify=_tls_context())
        client = Client(base_url=self.service, request=request)
        client.on_session_change(self._remember)
        try:
            # No profile lookup: it is an app.bsky call the PDS proxies, and posting needs
            # only the DID, which the session carries.
            client.login(self.handle, password, fetch_bsky_profile=False)
        except Exception as exc:
            client.request.close()
            raise self._mapped(exc, login=True) from None
        if self._did is None:
            client.request.close()
            raise Transient("Bluesky's createSession answer carried no DID")
        logger.info(
            "account %s: logged in to Bluesky as @%s (%s)",
            self.account,
            self._session_handle,
            self._did,
        )
        self._client = client
        return client, True

    def _remember(self, event: object, session: Any) -> None:
        # Called by the SDK on login and on every refresh; the handle may have changed.
        self._did = str(session.did)
        self._session_handle = str(session.handle)
        for token in (getattr(session, "access_jwt", None), getattr(session, "refresh_jwt", None)):
            if isinstance(token, str) and token:
                self._tokens.add(token)

    def _drop_session(self) -> None:
        if self._client is not None:
            self._client.request.close()
        self._client = None
        self._did = None
        self._session_handle = None

    def _read_password(self) -> str:
        if self._password_var is None:
            raise AuthFailed(
                f'account "{self.account}" has no credential {PASSWORD_KEY} '
                "(the environment variable holding a Bluesky app password)"
            )
        password = self._environ.get(self._password_var)
        if not password:
            raise AuthFailed(
                f"environment variable {self._password_var} is not set "
                f'(credential {PASSWORD_KEY} of account "{self.account}")'
            )
        self._password = password
        return password

    # --- the post --------------------------------------------------------------------------

    def _upload(self, client: Any, image: OutgoingImage) -> str:
        """``com.atproto.repo.uploadBlob`` with the image's own type: the blob's reference,
        as JSON (``{"cid", "mimeType", "size"}``) to be remembered for the post."""
        # Through invoke_procedure with ``content``: the SDK's upload_blob hands httpx the
        # bytes as ``data``, which httpx deprecates.
        response = client.invoke_procedure(
            "com.atproto.repo.uploadBlob",
            content=image.data,
            headers={"Content-Type": image.mime},
            output_encoding="application/json",
        )
        blob = _mapping(_mapping(response.content).get("blob"))
        cid, size = _mapping(blob.get("ref")).get("$link"), blob.get("size")
        if not isinstance(cid, str) or not isinstance(size, int):
            raise Transient("Bluesky took an image but answered without its blob reference")
        return json.dumps(
            {"cid": cid, "mimeType": blob.get("mimeType") or image.mime, "size": size}
        )

    def _create_post(
        self,
        client: Any,
        text: str,
        images: Sequence[OutgoingImage] = (),
        blobs: Sequence[str] = (),
    ) -> str:
        from atproto import models  # slow: see the imports

        facets = client.detect_facets(text)  # resolves @mentions: network calls
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=_iso(self._clock()),
            facets=facets or None,
            langs=list(self.langs) or None,
            embed=_images_embed(images, blobs) if images else None,
        )
        try:
            response = client.app.bsky.feed.post.create(self._did, record)
        except Exception as exc:
            error = self._mapped(exc)
            if isinstance(error, Transient) and _may_have_arrived(exc):
                # The record may exist: Bluesky has no idempotency key, so say "unknown".
                raise Uncertain(error.reason) from None
            raise
        return str(response.uri)

    # --- errors ----------------------------------------------------------------------------

    def _mapped(self, exc: BaseException, *, login: bool = False) -> PublishError:
        """The planner's error for what the SDK raised; its message names no secret.

        ``login``: the SDK was logging in, so a refusal is about the handle and the app
        password, not about a session.
        """
        import httpx  # lazily: loading a config checks Bluesky options without it
        from atproto import exceptions as atproto_errors  # slow: see the imports

        if isinstance(exc, PublishError):
            return exc
        if isinstance(exc, atproto_errors.InvokeTimeoutError):
            return Transient(f"Bluesky ({self.service}) did not answer within {self.timeout:g} s")
        if isinstance(exc, atproto_errors.RequestErrorBase):
            response = exc.response
            if response is None:  # a transport failure: no answer
                cause = exc.__cause__
                why = f"{type(cause).__name__}: {cause}" if cause else type(exc).__name__
                if isinstance(cause, httpx.ReadError):  # connected and sent, then it broke
                    return Transient(self._scrub(f"{self._connection_failed}: {why}"))
                return Transient(self._scrub(f"cannot reach Bluesky at {self.service}: {why}"))
            status = int(response.status_code)
            error, _ = _xrpc_error(response.content)
            detail = self._detail(exc)
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                return RateLimited(self._reset_at(response.headers), detail)
            if status in (401, 403) or error in _SESSION_ERRORS:
                return AuthFailed(self._refusal(detail, login))
            if status >= 500 or status == HTTPStatus.REQUEST_TIMEOUT:
                return Transient(detail)
            return Rejected(detail)
        if isinstance(exc, atproto_errors.AtProtocolError | ValueError):
            # ModelError (a body that is not the documented model), TokenDecodeError (a
            # session token that is not a JWT), ValueError (invalid JSON), LoginRequiredError.
            return Transient(f"Bluesky sent a malformed answer ({type(exc).__name__})")
        if isinstance(exc, httpx.TransportError):  # not wrapped by the SDK: RemoteProtocolError
            return Transient(f"{self._connection_failed}: {type(exc).__name__}")
        return Transient(f"unexpected {type(exc).__name__} while talking to Bluesky")

    def _refusal(self, detail: str, login: bool) -> str:
        """What a refused login or session means and what a person should do."""
        where = f"the app password in {self._password_var}"
        if login:
            return (
                f"Bluesky refused the login of @{self.handle} with {where}: the handle or the "
                "app password is wrong, or the app password was revoked (create one under "
                f"Settings > Privacy and security > App passwords). {detail}"
            )
        return (
            f"Bluesky refused a session just opened for @{self.handle} with {where}: the "
            f"app password may have been revoked, or the account suspended. {detail}"
        )

    @property
    def _connection_failed(self) -> str:
        return f"the connection to Bluesky ({self.service}) failed"

    def _detail(self, exc: BaseException) -> str:
        """``"InvalidRequest: the server's message (HTTP 400)"``, or the status alone."""
        response = getattr(exc, "response", None)
        if response is None:
            return type(exc).__name__
        status = int(response.status_code)
        error, message = _xrpc_error(response.content)
        said = (f"{error}: {message}" if message else error) if error else _status_phrase(status)
        return f"Bluesky said {self._scrub(said)} (HTTP {status})"

    def _reset_at(self, headers: Mapping[str, str]) -> datetime:
        now = self._clock().astimezone(UTC)
        try:  # documented: ratelimit-reset is the end of the window, in epoch seconds
            reset = datetime.fromtimestamp(int(headers["ratelimit-reset"]), UTC)
        except (KeyError, ValueError, OverflowError, OSError):
            try:
                reset = now + timedelta(seconds=float(headers["retry-after"]))
            except (KeyError, ValueError, OverflowError):
                reset = now + RATE_LIMIT_FALLBACK
        return max(reset, now)

    def _scrub(self, text: str) -> str:
        """``text`` without the app password or any session token, then cut short: scrubbed
        first, so that a token cut in two by the shortening cannot survive in part."""
        return excerpt(scrub(text, [self._password, *self._tokens]), _MESSAGE_LIMIT)


# --- helpers ------------------------------------------------------------------------------


def _session_refused(exc: BaseException) -> bool:
    from atproto import exceptions as atproto_errors  # slow: see the imports

    if not isinstance(exc, atproto_errors.RequestErrorBase) or exc.response is None:
        return False
    error, _ = _xrpc_error(exc.response.content)
    return bool(exc.response.status_code == 401 or error in _SESSION_ERRORS)


def _xrpc_error(content: object) -> tuple[str, str]:
    """The ``error`` and ``message`` of an XRPC error body, or empty strings."""
    if isinstance(content, dict):
        error, message = content.get("error"), content.get("message")
    else:  # the SDK's XrpcError model, or bytes that were not JSON
        error, message = getattr(content, "error", None), getattr(content, "message", None)
    return (
        error if isinstance(error, str) else "",
        message if isinstance(message, str) else "",
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "an unknown status"


def _may_have_arrived(exc: BaseException) -> bool:
    """Whether Bluesky may have stored the record although no usable answer came back: a
    timeout after connecting, or a success answer that is not the documented model."""
    import httpx  # lazily: loading a config checks Bluesky options without it
    from atproto import exceptions as atproto_errors  # slow: see the imports

    if isinstance(exc, atproto_errors.InvokeTimeoutError):
        return not isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)
    if isinstance(exc, atproto_errors.RequestErrorBase):
        # An HTTP answer says what happened. Without one, the SDK wraps httpx's transport
        # error: reading failed (the request went out) or connecting/writing did (it did not).
        return exc.response is None and isinstance(exc.__cause__, httpx.ReadError)
    if isinstance(exc, httpx.RemoteProtocolError):
        return True  # the server closed the connection instead of answering: it had the request
    return isinstance(exc, atproto_errors.AtProtocolError | ValueError)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _images_embed(images: Sequence[OutgoingImage], blobs: Sequence[str]) -> Any:
    """An ``app.bsky.embed.images`` embed: each blob with its alt text and aspect ratio."""
    from atproto import models

    blob_ref, link = models.blob_ref.BlobRef, models.blob_ref.IpldLink
    embedded = []
    for image, remembered in zip(images, blobs, strict=True):
        ref = json.loads(remembered)
        blob = blob_ref(mime_type=ref["mimeType"], size=ref["size"], ref=link(link=ref["cid"]))
        ratio = None
        if image.width > 0 and image.height > 0:
            ratio = models.AppBskyEmbedDefs.AspectRatio(width=image.width, height=image.height)
        embedded.append(
            models.AppBskyEmbedImages.Image(alt=image.alt or "", image=blob, aspect_ratio=ratio)
        )
    return models.AppBskyEmbedImages.Main(images=embedded)


def _post_rkey(uri: str) -> str:
    """The record key of ``at://<did>/app.bsky.feed.post/<rkey>``."""
    authority, _, path = uri.removeprefix("at://").partition("/")
    collection, _, rkey = path.partition("/")
    if not uri.startswith("at://") or not authority or collection != "app.bsky.feed.post":
        raise Uncertain(f"Bluesky answered with a record URI that is not a post: {uri!r}")
    if not rkey or "/" in rkey:
        raise Uncertain(f"Bluesky answered with a record URI that is not a post: {uri!r}")
    return rkey


def _iso(moment: datetime) -> str:
    """``2024-05-06T09:30:00.000Z``: the datetime format the lexicon and the app use."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _handle(where: str, raw: object) -> str:
    if raw is None:
        raise InputError(f'{where}: option "handle" is required (e.g. "brand.bsky.social")')
    handle = raw.strip().removeprefix("@") if isinstance(raw, str) else ""
    if not handle or any(c.isspace() for c in handle):
        raise InputError(
            f'{where}: option "handle" must be a Bluesky handle like "brand.bsky.social", '
            f"got {raw!r}"
        )
    return handle


def _service(where: str, raw: object) -> str:
    if not isinstance(raw, str) or http_url(raw) is None:
        raise InputError(
            f'{where}: option "service" must be an http(s) URL like "{DEFAULT_SERVICE}", '
            f"got {raw!r}"
        )
    return raw.rstrip("/")


def _timeout(where: str, raw: object) -> float:
    problem = timeout_problem(raw)
    if problem is not None:
        raise InputError(f"{where}: {problem}")
    assert isinstance(raw, int | float)
    return float(raw)


def _langs(where: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, str):
        raise InputError(f'{where}: option "langs" must be a string like "en,de", got {raw!r}')
    langs = tuple(part.strip() for part in raw.split(",") if part.strip())
    bad = [lang for lang in langs if not _LANG.match(lang)]
    if bad or len(langs) > MAX_LANGS:
        raise InputError(
            f'{where}: option "langs" must list at most {MAX_LANGS} language tags '
            f'like "en" or "pt-BR", separated by commas, got {raw!r}'
        )
    return langs
