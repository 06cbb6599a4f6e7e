"""X (Twitter): posts through tweepy's ``Client.create_tweet`` (API v2 ``POST /2/tweets``).

Credentials name environment variables (``[accounts.NAME.credentials]``), one of two sets:

- OAuth 1.0a user context: ``api_key_env`` and ``api_secret_env`` (the app's consumer key
  and secret), ``access_token_env`` and ``access_token_secret_env`` (the account's token and
  secret, created with "Read and write" permission). They do not expire.
- OAuth 2.0 user context: ``oauth2_access_token_env``, a *user* access token from the
  Authorization Code flow with PKCE (scopes ``tweet.read tweet.write users.read``). tweepy
  takes it as ``Client(bearer_token=...)`` and each call with ``user_auth=False``; passing it
  as ``access_token`` would sign OAuth 1.0a requests with it. An app-only bearer token cannot
  post (X answers 403 "Unsupported Authentication"). Such tokens expire after two hours
  unless renewed, which this adapter does not do.

A half-configured set, both sets, none, or an unknown key is an :class:`InputError` when the
adapter is created; the variables themselves are read only when publishing or verifying.

Images: each is uploaded with tweepy's ``API.simple_upload`` (``POST media/upload``, API
v1.1 on upload.twitter.com, OAuth 1.0a only), its alt text set with
``API.create_media_metadata``, and the media ids go on ``create_tweet(media_ids=...)``. An
upload's failure is :class:`Transient` or the matching error below, never
:class:`Uncertain`: a lost upload answer leaves no tweet behind. With OAuth 2.0 credentials
the account takes no images (``media_limits`` is None): ``queue sync`` refuses them.

Options: ``timeout`` (seconds per request, default 10) and ``api_base``, for tests and
API-compatible proxies: the requests tweepy addresses to ``https://api.twitter.com`` (and the
uploads to ``https://upload.twitter.com``) go to this base URL instead.

What X answers becomes (see ``docs.x.com/x-api/fundamentals/response-codes-and-errors``):

- 201 -> :class:`Published` with the tweet id and ``https://x.com/i/web/status/<id>``;
- 429 -> :class:`RateLimited` until the exhausted limit resets: a 24-hour cap
  (``x-user-limit-24hour-*``, ``x-app-limit-24hour-*``) when its remaining count is 0, else
  ``x-rate-limit-reset`` (epoch seconds); 15 minutes when X names no time;
- 401, and the 402/403 answers about the app rather than the post (problem types
  ``oauth1-permissions``: a read-only app; ``client-forbidden``: an app outside a project;
  ``unsupported-authentication``: an app-only token; ``credits``: no API credits left)
  -> :class:`AuthFailed`, which pauses the account: every post would fail the same way;
- any other 4xx, including 403 "duplicate content" -> :class:`Rejected` with X's message;
- 5xx, 408, a connection that never opened -> :class:`Transient`; when posting, a read
  timeout, a connection dropped before the answer or an answer that is not what X documents
  -> :class:`Uncertain` (the tweet may exist: X has no idempotency key, so the pipeline marks
  the post `unknown` instead of sending it twice).

Secrets: tweepy logs each request's headers and each response's body at DEBUG on
``tweepy.client`` (with OAuth 2 the ``Authorization: Bearer`` header), and requests-oauthlib
and oauthlib log the OAuth 1.0a header and signature base string (the consumer key and the
access token) at DEBUG. Every credential this module reads is replaced by ``***`` in the
records of those loggers, and in every message it builds from what X answers.

Why this module is long: it is one network's whole contract (options, both kinds of
credentials, the call, the documented answers mapped to the planner's errors, and the
redaction of tweepy's and oauthlib's debug logs), read in one place.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

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
from planner.adapters.http import http_url, may_have_arrived, timeout_option
from planner.adapters.x_length import MAX_WEIGHTED_LENGTH, URL_WEIGHT, measure
from planner.content.images import EXTENSIONS
from planner.content.media_limits import X_LIMITS
from planner.errors import (
    AuthFailed,
    InputError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)
from planner.redact import redact_http_url

API_HOST = "https://api.twitter.com"  # tweepy's fixed host
UPLOAD_HOST = "https://upload.twitter.com"  # tweepy.API's host for media uploads (v1.1)
RATE_LIMIT_FALLBACK = timedelta(minutes=15)
MIN_RATE_LIMIT_WAIT = timedelta(minutes=1)  # X's clock and ours may disagree on the reset

OAUTH1_KEYS = ("api_key_env", "api_secret_env", "access_token_env", "access_token_secret_env")
OAUTH2_KEYS = ("oauth2_access_token_env",)
_OPTIONS = ("api_base", "timeout")

# X's problem types (the last part of the "type" URI) that concern the app or the account's
# access, not the post: retrying another post cannot help until a person acts.
_ACCESS_PROBLEMS = frozenset(
    {"oauth1-permissions", "client-forbidden", "unsupported-authentication", "credits"}
)
_DUPLICATE = "duplicate content"
_MAX_MESSAGE = 300


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XAdapter:
    """Publishes to one X account; not idempotent (X has no idempotency key).

    ``remote_id`` is the tweet id and ``url`` is ``https://x.com/i/web/status/<id>``.
    """

    supports_idempotency = False
    public_url_options = ("api_base",)  # an API proxy's address: shown by `config check`

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._where = f'account "{settings.name}"'
        require_valid(settings, self.check_options(settings))
        self.timeout = timeout_option(settings)
        self.api_base = _api_base(settings)
        self._keys = _credential_keys(settings)
        self._oauth2 = self._keys == OAUTH2_KEYS
        # tweepy uploads media through API v1.1 only, which takes OAuth 1.0a alone.
        self.media_limits = None if self._oauth2 else X_LIMITS
        self.media_unavailable = (
            "X takes images from the planner only with OAuth 1.0a credentials (tweepy uploads "
            "them through API v1.1): set the four OAuth 1.0a keys for this account"
        )
        self._settings = settings
        self._environ = environ
        self._clock = clock

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """Every problem with the account's options and credential keys; reads no secret."""
        problems = option_problems(
            settings,
            _OPTIONS,
            OAUTH1_KEYS + OAUTH2_KEYS,
            [
                ("api_base", lambda: _api_base(settings)),
                ("timeout", lambda: timeout_option(settings)),
            ],
        )
        try:
            _credential_keys(settings)
        except InputError as exc:
            message = str(exc).removeprefix(f'account "{settings.name}": ')
            problems.append(OptionProblem("", message, "credentials"))
        return problems

    # --- the adapter interface ------------------------------------------------------------

    def validate(self, text: str) -> list[str]:
        """X's own rules: not empty, at most 280 weighted characters, no U+FFFE/FEFF/FFFF."""
        if not text.strip():
            return ["empty post"]
        measured = measure(text)
        problems = []
        if measured.weighted_length > MAX_WEIGHTED_LENGTH:
            problems.append(
                f"too long for X: {measured.weighted_length}/{MAX_WEIGHTED_LENGTH} weighted "
                f"characters (URLs count {URL_WEIGHT}, emoji and CJK characters 2)"
            )
        if measured.invalid_characters:
            problems.append(
                "contains characters X refuses: " + ", ".join(measured.invalid_characters)
            )
        return problems

    def publish(self, post: OutgoingPost) -> Published:
        """Create the tweet; raise the planner's errors for every other outcome."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        if post.media and self._oauth2:
            raise Rejected(self.media_unavailable)
        # Uploads create no tweet: what goes wrong there is Transient, never Uncertain.
        media_ids = upload_each(post, self._upload) or None
        response = self._call(
            lambda client: client.create_tweet(
                text=post.text, media_ids=media_ids, user_auth=not self._oauth2
            ),
            sending=True,
        )
        data = getattr(response, "data", None)
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(tweet_id, int) and not isinstance(tweet_id, bool):
            tweet_id = str(tweet_id)
        if not isinstance(tweet_id, str) or not tweet_id.isdecimal():
            raise Uncertain("X answered without a tweet id (malformed response)")
        return Published(remote_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")

    def verify(self) -> str:
        """Who the credentials belong to, from ``GET /2/users/me``: ``"@brand (id 123)"``."""
        try:
            response = self._call(lambda client: client.get_me(user_auth=not self._oauth2))
        except Rejected as refused:  # nothing but the credentials is sent: it is about them
            raise AuthFailed(refused.reason) from None
        user = getattr(response, "data", None)
        username, user_id = getattr(user, "username", None), getattr(user, "id", None)
        if not isinstance(username, str) or not isinstance(user_id, int | str):
            raise Transient("X answered without a user name and id (malformed response)")
        return f"@{username} (id {user_id})"

    def _upload(self, image: OutgoingImage) -> str:
        """``POST media/upload`` (API v1.1, OAuth 1.0a), then the alt text with
        ``POST media/metadata/create``: the media id, good for 24 hours."""

        def upload(api: Any) -> str:
            name = f"image-{image.sha256[:12]}.{EXTENSIONS.get(image.mime, 'img')}"
            # simple_upload, not media_upload: images never need the chunked upload, and
            # media_upload imports imghdr to guess the type (deprecated; the type is known).
            media = api.simple_upload(name, file=io.BytesIO(image.data))
            media_id = str(getattr(media, "media_id_string", "") or "")
            if not media_id.isdecimal():
                raise Transient("X took an image but answered without its media id")
            if image.alt:
                api.create_media_metadata(media_id, image.alt)
            return media_id

        return str(self._call(upload, api=True))

    # --- calling X ------------------------------------------------------------------------

    def _call(
        self, action: Callable[[Any], Any], *, sending: bool = False, api: bool = False
    ) -> Any:
        """Run ``action(client)`` with a fresh client (``api``: a ``tweepy.API`` for v1.1,
        else a ``tweepy.Client``); every failure as a planner error.

        ``sending``: the action creates something, so an answer lost after the request went
        out (a read timeout, a garbled body) is :class:`Uncertain`, not :class:`Transient`.
        """
        secrets = self._secrets()
        _redactor.remember(secrets.values())
        client = self._api(secrets) if api else self._client(secrets)
        with contextlib.closing(client.session):
            try:
                return action(client)
            except PublishError:
                raise
            except Exception as exc:  # whatever the library raises, none escapes
                error = self._translate(exc)
                if sending and isinstance(error, Transient) and _may_have_arrived(exc):
                    error = Uncertain(error.reason)
                raise error from None  # its traceback may quote X's answer

    def _secrets(self) -> dict[str, str]:
        """The credentials from the environment, read now; AuthFailed naming what is missing."""
        values: dict[str, str] = {}
        missing = []
        for key in self._keys:
            value = self._settings.secret(key, self._environ)
            if value:
                values[key] = value
            else:
                missing.append(self._settings.credentials[key])
        if missing:
            raise AuthFailed(
                f"{self._where}: environment variable(s) not set: {', '.join(missing)}"
            )
        return values

    def _client(self, secrets: Mapping[str, str]) -> Any:
        import tweepy  # lazily: loading a config checks X options without it

        if self._oauth2:
            client = tweepy.Client(
                bearer_token=secrets["oauth2_access_token_env"], wait_on_rate_limit=False
            )
        else:
            client = tweepy.Client(
                consumer_key=secrets["api_key_env"],
                consumer_secret=secrets["api_secret_env"],
                access_token=secrets["access_token_env"],
                access_token_secret=secrets["access_token_secret_env"],
                wait_on_rate_limit=False,
            )
        client.session.mount(API_HOST, _Transport(self.timeout, self.api_base))
        return client

    def _api(self, secrets: Mapping[str, str]) -> Any:
        import tweepy  # lazily: loading a config checks X options without it

        handler = tweepy.OAuth1UserHandler(
            secrets["api_key_env"],
            secrets["api_secret_env"],
            secrets["access_token_env"],
            secrets["access_token_secret_env"],
        )
        api = tweepy.API(handler, timeout=self.timeout, retry_count=0)
        api.session.mount(UPLOAD_HOST, _Transport(self.timeout, self.api_base, UPLOAD_HOST))
        return api

    def _translate(self, exc: Exception) -> PublishError:
        """The planner's error for what happened to a request (see the module docstring)."""
        import tweepy  # lazily: loading a config checks X options without it

        if isinstance(exc, tweepy.HTTPException):
            return self._translate_answer(exc)
        if isinstance(exc, requests.Timeout):
            return Transient(f"X did not answer within {self.timeout:g} s")
        if isinstance(exc, requests.JSONDecodeError):
            return Transient("X answered with a body that is not JSON (malformed response)")
        if isinstance(exc, requests.ConnectionError):
            if may_have_arrived(exc):
                return Transient(
                    f"the connection to X closed before its answer: {_excerpt(str(exc))}"
                )
            return Transient(f"cannot reach X: {_excerpt(str(exc))}")
        if isinstance(exc, requests.RequestException | tweepy.TweepyException):
            return Transient(f"request to X failed: {type(exc).__name__}: {_excerpt(str(exc))}")
        # tweepy trips over bodies that are JSON but not the documented shape.
        return Transient(f"unexpected answer from X ({type(exc).__name__}, malformed response)")

    def _translate_answer(self, exc: Any) -> PublishError:
        import tweepy  # lazily: loading a config checks X options without it

        status = int(getattr(exc.response, "status_code", 0))
        message = _x_message(exc)
        problem = _problem_type(exc.response)
        if isinstance(exc, tweepy.TooManyRequests):
            return RateLimited(_reset_at(exc.response.headers, self._clock()), message)
        if isinstance(exc, tweepy.Unauthorized):
            return AuthFailed(f"X refused the credentials: {message}")
        if problem in _ACCESS_PROBLEMS or status == 402:
            return AuthFailed(f"X refused the app's access ({problem or status}): {message}")
        if isinstance(exc, tweepy.TwitterServerError) or status == 408:
            return Transient(f"X answered {status}: {message}")
        if _DUPLICATE in message.lower():
            return Rejected(f"{_DUPLICATE}: {message}")
        return Rejected(f"X answered {status}: {message}")


def _api_base(settings: AccountSettings) -> str | None:
    value = settings.options.get("api_base")
    if value is None:
        return None
    if http_url(value) is not None:
        assert isinstance(value, str)  # http_url said so
        return value.rstrip("/")
    shown = redact_http_url(value) if isinstance(value, str) else repr(value)
    raise InputError(
        f'account "{settings.name}": option "api_base" must be an http(s) URL such as '
        f'"http://127.0.0.1:8080", got {shown}'
    )


def _credential_keys(settings: AccountSettings) -> tuple[str, ...]:
    """Which set of credentials the account names; an InputError for none, both or half."""
    where = f'account "{settings.name}"'
    given = set(settings.credentials)
    oauth1, oauth2 = given & set(OAUTH1_KEYS), given & set(OAUTH2_KEYS)
    choose = (
        f"set either the four OAuth 1.0a keys ({', '.join(OAUTH1_KEYS)}) "
        f"or the OAuth 2.0 user token ({OAUTH2_KEYS[0]})"
    )
    if oauth1 and oauth2:
        raise InputError(f"{where}: both OAuth 1.0a and OAuth 2.0 credentials: {choose}")
    if oauth2:
        return OAUTH2_KEYS
    if not oauth1:
        raise InputError(f"{where}: no credentials for X: {choose}")
    missing = [key for key in OAUTH1_KEYS if key not in oauth1]
    if missing:
        raise InputError(
            f"{where}: incomplete OAuth 1.0a credentials: missing {', '.join(missing)}"
        )
    return OAUTH1_KEYS


class _Transport(HTTPAdapter):
    """Sends tweepy's requests with a timeout and, with ``api_base``, to another host.

    Also drops an ``x-rate-limit-reset`` header that is not epoch seconds, on which tweepy
    itself would fail with a ValueError; the adapter then falls back to 15 minutes.
    """

    def __init__(self, timeout: float, api_base: str | None, host: str = API_HOST) -> None:
        super().__init__(max_retries=0)  # never send a post twice on our own
        self._timeout = timeout
        self._api_base = api_base
        self._host = host

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        if self._api_base and url.startswith(self._host):
            request.url = self._api_base + url[len(self._host) :]
            proxies = get_environ_proxies(request.url)  # those of the host we now talk to
        response = super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )
        reset = response.headers.get("x-rate-limit-reset")
        if reset is not None and not reset.strip().isdecimal():
            del response.headers["x-rate-limit-reset"]
        return response


def _x_message(exc: Any) -> str:
    """X's own words for a refusal, without secrets: its messages, else the status line."""
    messages = [str(m) for m in getattr(exc, "api_messages", []) if m]
    response = exc.response
    text = "; ".join(messages) or f"{response.status_code} {response.reason}"
    return _excerpt(text)


def _problem_type(response: Any) -> str | None:
    """The last part of the problem ``type`` URI of an X error body, if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(kind, str) or "/problems/" not in kind:
        return None
    return kind.rsplit("/", 1)[-1]


def _reset_at(headers: Mapping[str, str], now: datetime) -> datetime:
    """When to try again after a 429, from X's rate-limit headers."""
    exhausted_caps = [
        _epoch(headers.get(f"x-{who}-limit-24hour-reset"))
        for who in ("user", "app")
        if (headers.get(f"x-{who}-limit-24hour-remaining") or "").strip() == "0"
    ]
    resets = [reset for reset in exhausted_caps if reset is not None]
    window = _epoch(headers.get("x-rate-limit-reset"))
    reset_at = max(resets) if resets else window
    if reset_at is None:
        return now + RATE_LIMIT_FALLBACK
    return max(reset_at, now + MIN_RATE_LIMIT_WAIT)


def _epoch(value: str | None) -> datetime | None:
    if value is None or not value.strip().isdecimal():
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):  # a year beyond what datetime holds
        return None


def _excerpt(text: str) -> str:
    text = _redactor.redact(" ".join(text.split()))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


class _Redactor(logging.Filter):
    """Replaces every credential read so far by ``***``: in messages, and in the records of
    the library loggers that print request headers or bodies."""

    LOGGERS = (
        "tweepy.client",
        "requests_oauthlib.oauth1_auth",
        "oauthlib",
        "oauthlib.oauth1.rfc5849",
        "oauthlib.oauth1.rfc5849.signature",
    )

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._installed = False

    def remember(self, secrets: Iterable[str]) -> None:
        # A signature base string percent-encodes a value once, and its parameters twice.
        forms = {form for s in secrets if s for form in (s, quote(s, ""), quote(quote(s, ""), ""))}
        with self._lock:
            if not forms <= set(self._secrets):
                # Longest first, so that no secret is half-replaced by a shorter one inside it.
                self._secrets = tuple(sorted(forms | set(self._secrets), key=len, reverse=True))
            if not self._installed:
                for name in self.LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self._installed = True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's broken format string is for logging to report
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_redactor = _Redactor()


def _may_have_arrived(exc: Exception) -> bool:
    """Whether X may have received the request although no usable answer came back: not for
    a connection that never opened, nor for an HTTP error answer (X said what happened)."""
    import tweepy  # lazily: loading a config checks X options without it

    if isinstance(exc, tweepy.HTTPException):
        return False
    if isinstance(exc, requests.RequestException):
        return may_have_arrived(exc)
    return True  # tweepy could not read a success answer: the tweet may exist
