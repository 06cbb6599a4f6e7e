"""Mastodon: publishes each post as a status through Mastodon.py (``POST /api/v1/statuses``).

Options (``[accounts.NAME.options]``):

- ``api_base_url`` (required): the instance, e.g. ``"https://mastodon.social"`` (a bare host
  means https).
- ``visibility``: ``public`` (default), ``unlisted``, ``private`` or ``direct``.
- ``language``: the posts' ISO 639 language code (``"en"``); by default the instance guesses.
- ``max_characters``: the instance's limit, 500 by default (Mastodon's own default; an
  instance shows its own as ``configuration.statuses.max_characters`` in ``/api/v2/instance``).
- ``media_max_bytes``, ``media_max_images``: the instance's image limits, 16 MB and 4 by
  default (an instance shows its own as ``configuration.media_attachments.image_size_limit``
  and ``configuration.statuses.max_media_attachments`` in ``/api/v2/instance``); checked at
  sync (:mod:`planner.content.media_limits`).
- ``timeout``: seconds to wait for the instance to accept the connection and for each read
  of its answer (10 by default).

Credential (``[accounts.NAME.credentials]``): ``access_token_env``, the name of the
environment variable holding an access token with the ``write:statuses`` scope
(``write:media`` for images, and ``read:accounts`` for :meth:`MastodonAdapter.verify`). It is
read when a post is published, never when the adapter is created, so plans can be made on a
machine without it.

The length rule is Mastodon's own (``app/validators/status_length_validator.rb``): the text
is measured in grapheme clusters (Ruby's ``each_grapheme_cluster``, so an emoji with skin
tone or a ZWJ family, a flag and a letter with combining accents each count 1), after every
link (``https://``, ``http://`` and Mastodon's other schemes) is replaced by 23 characters
whatever its length and every mention ``@user@domain`` by ``@user``. Links and mentions are
found with rules modelled on Mastodon's (twitter-text with Mastodon's changes, and
``Account::MENTION_RE``). Two differences: any alphabetic top-level domain of two or more
letters makes a link, where Mastodon checks a list of known ones; and grapheme clusters follow
the Unicode version of the ``regex`` package, which may be newer than the instance's Ruby
(it matters only for the newest rules, such as Indic conjuncts).

Images: each goes up with ``media_post`` (``POST /api/v2/media``, its alt text as
``description``); an instance that answers 202 is still processing it, and the adapter looks
again (``GET /api/v1/media/:id``, 206 until done) up to ten times a second apart before the
status names the ids in ``media_ids``. One still processing after that fails the attempt as
:class:`Transient`; its id is remembered, so the retry only attaches it.

Exactly once: the post's idempotency key goes out as the ``Idempotency-Key`` header, and
Mastodon answers a key it has seen from the same account with the status it created the first
time instead of posting again. It remembers keys for one hour (docs.joinmastodon.org,
"Post a new status"): a post re-sent later than that is posted a second time.

What the instance answers becomes:

=============================================  ========================================
200 with a status                              :class:`Published` (status ``id``, ``url``)
429 Too Many Requests                          ``RateLimited`` at ``X-RateLimit-Reset``
                                               (now + 15 min when the header is missing)
401 (a wrong, expired or revoked token)        ``AuthFailed``, saying to issue a new token
403 (a token without write:statuses, a         ``AuthFailed``, naming the scope
disabled or unconfirmed login)
408                                            ``Transient``
any other 4xx (422 "Text character limit of    ``Rejected``, with the instance's message
500 exceeded", 404, ...)
5xx, a connection that never opened           ``Transient``
a read timeout, a connection closed before     ``Uncertain``: the status may exist. The
the answer, a success body that is not the     pipeline re-sends it with the same key,
JSON expected                                  but only within the hour the instance
                                               remembers the key (``idempotency_window``)
=============================================  ========================================

Secrets: the token goes only into the ``Authorization`` header. Mastodon.py does not use
:mod:`logging` (it prints requests only with ``debug_requests``, which this adapter never
sets); below it, urllib3 logs at DEBUG the connection and the request line (method, path,
status), never headers. Messages quote what the instance said, with the token replaced by
``***`` should an instance echo it (replaced in the whole message before it is cut to 300
characters, so no piece of it survives), and errors are raised without the library's exception
chained, since its text may quote the instance's body.

Why this module is long: it is one network's whole contract (options, the call, the
character count, the documented answers mapped to the planner's errors, and why each
mapping holds), read in one place; an eighth of it is this docstring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import regex
import requests

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
from planner.adapters.http import excerpt, may_have_arrived, scrub, timeout_problem
from planner.content.media_limits import MAX_IMAGES, mastodon_limits
from planner.errors import (
    AuthFailed,
    InputError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

if TYPE_CHECKING:
    from mastodon import Mastodon
    from mastodon.errors import MastodonAPIError

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_TIMEOUT = 10.0
DEFAULT_VISIBILITY = "public"
VISIBILITIES = ("public", "unlisted", "private", "direct")
URL_CHARACTERS = 23  # Mastodon's characters_reserved_per_url
RATE_LIMIT_FALLBACK = timedelta(minutes=15)
ASSUMED_VERSION = "4.0.0"
# An image still processing after this many looks (one a second) is left for the retry: it
# is remembered for the post, which then attaches it without uploading it again.
MEDIA_POLLS = 10
MEDIA_POLL_SECONDS = 1.0
TOKEN_KEY = "access_token_env"

_OPTIONS = (
    "api_base_url",
    "language",
    "max_characters",
    "media_max_bytes",
    "media_max_images",
    "timeout",
    "visibility",
)
_CREDENTIALS = (TOKEN_KEY,)
_LANGUAGE = regex.compile(r"[a-z]{2,3}", regex.IGNORECASE)
_MESSAGE_LIMIT = 300  # characters of an instance's error message kept in ours
_USER_AGENT = "planner (Mastodon.py)"
# What people write for the instance's address (the names other tools use).
_MEANT = dict.fromkeys(("instance", "server", "url", "base_url", "host"), "api_base_url")


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- the length rule ----------------------------------------------------------------------
# Modelled on Mastodon's config/initializers/twitter_regex.rb (twitter-text's URL pattern
# with Mastodon's path, query and scheme changes); only links with a scheme count, as
# Mastodon extracts them with extract_url_without_protocol: false.
_UCHARS = (
    r"\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    r"\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    r"\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    r"\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    r"\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_BALANCED = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_URL = regex.compile(
    r"(?<![a-z0-9@＠$#＃])"
    r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
    r"(?:[\w-]+\.)+(?:xn--[a-z0-9-]+|[^\W\d_]{2,})"  # host, ending in a top-level domain
    r"(?::\d+)?"
    rf"(?P<path>/(?:{_PATH_CHAR}|{_BALANCED})*)?"
    rf"(?P<query>\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]*)?",
    regex.IGNORECASE,
)
# A path may not end in these; one ending in a balanced ")" or a "/" is fine.
_PATH_BAD_END = regex.compile(r"[!*\"'「」<>;:=,.$%\[\]~&|@]+$")
_QUERY_BAD_END = regex.compile(rf"[^a-z0-9_&=#/\-{_UCHARS}]+$", regex.IGNORECASE)
# Account::MENTION_RE, and twitter-text's end_mention_match (what may not follow a mention).
_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<username>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    regex.IGNORECASE,
)
_END_MENTION = regex.compile(
    r"[@＠]|://|[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257"
    r"\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff]"
)
_GRAPHEME = regex.compile(r"\X")


def count_characters(text: str) -> int:
    """The length of ``text`` as Mastodon counts it (see the module docstring)."""
    entities: list[tuple[int, int, str]] = []  # start, end, what Mastodon counts instead
    for match in _URL.finditer(text):
        entities.append((match.start(), _url_end(match), "x" * URL_CHARACTERS))
    for match in _MENTION.finditer(text):
        if not _END_MENTION.match(text, match.end()):
            entities.append((match.start(), match.end(), "@" + match["username"]))
    pieces = []
    position = 0
    for start, end, replacement in sorted(entities):
        if start < position:  # overlaps the entity kept before it, as twitter-text drops it
            continue
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return len(_GRAPHEME.findall("".join(pieces)))


def _url_end(match: regex.Match[str]) -> int:
    """Where the link ends, once the characters a link may not end with are given back."""
    query = match["query"]
    if query:
        kept = _QUERY_BAD_END.sub("", query[1:])
        if kept:
            return match.start("query") + 1 + len(kept)
    path = match["path"]
    if path:  # its leading "/" always stays
        return match.start("path") + len(_PATH_BAD_END.sub("", path))
    return match.start("query") if query else match.end()


# --- the adapter ---------------------------------------------------------------------------


class MastodonAdapter:
    """Publishes to one Mastodon account.

    ``remote_id`` is the status id and ``url`` its public page
    (``https://instance/@user/<id>``). The client is made when first needed, and again when
    the token in the environment changes; one call at a time goes to the instance.
    """

    supports_idempotency = True
    public_url_options = ("api_base_url",)  # an instance's address: shown by `config check`
    # Mastodon keeps an Idempotency-Key for one hour: a claim older than that is not re-sent.
    idempotency_window = timedelta(hours=1)

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        require_valid(settings, self.check_options(settings))
        self.media_limits = mastodon_limits(settings.options)
        self._sleep = sleep  # between two looks at an image the instance is processing
        self.api_base_url = _base_url(settings)
        # "mastodon.social": who we name in messages
        self.instance = urlsplit(self.api_base_url).netloc
        self.visibility = _visibility(settings)
        self.language = _language(settings)
        self.max_characters = _max_characters(settings)
        self.timeout = _timeout(settings)
        self.account = settings.name
        self._token_env = settings.credentials.get(TOKEN_KEY)
        self._environ = environ
        self._clock = clock
        self._lock = threading.Lock()
        self._api: Mastodon | None = None

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """Every problem with the account's options and credential keys; reads no secret."""
        return option_problems(
            settings,
            _OPTIONS,
            _CREDENTIALS,
            [
                ("api_base_url", lambda: _base_url(settings)),
                ("visibility", lambda: _visibility(settings)),
                ("language", lambda: _language(settings)),
                ("max_characters", lambda: _max_characters(settings)),
                ("media_max_bytes", lambda: _whole(settings, "media_max_bytes", 1024, 2**31 - 1)),
                ("media_max_images", lambda: _whole(settings, "media_max_images", 1, MAX_IMAGES)),
                ("timeout", lambda: _timeout(settings)),
            ],
            meant=_MEANT,
        )

    def validate(self, text: str) -> list[str]:
        """Empty text, or text longer than the instance allows as Mastodon counts it."""
        if not text.strip():
            return ["empty post"]
        length = count_characters(text)
        if length > self.max_characters:
            return [
                f"{length} characters, more than the {self.max_characters} this Mastodon "
                f"instance allows (each link counts {URL_CHARACTERS}, a mention without its "
                "domain)"
            ]
        return []

    def publish(self, post: OutgoingPost) -> Published:
        """Post the status with the post's idempotency key, or raise what the instance said."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        with self._lock:
            api, token = self._client()
            log.debug(
                "posting post %s to %s with idempotency key %s",
                post.post_id,
                self.instance,
                post.idempotency_key,
            )
            _forget_rate_limit(api)
            # An upload creates no status: what goes wrong there is never Uncertain.
            media_ids = upload_each(post, lambda image: self._upload(api, token, image))
            self._wait_processed(api, token, media_ids)
            try:
                status = api.status_post(
                    post.text,
                    idempotency_key=post.idempotency_key,
                    visibility=self.visibility,
                    language=self.language,
                    media_ids=media_ids or None,
                )
            except Exception as exc:  # every library error maps to one of ours
                error = self._translate(exc, api, token)
                if isinstance(error, Transient) and _may_have_arrived(exc):
                    error = Uncertain(error.reason)
                raise error from None
        remote_id, url = _fields(status, "id", "url")
        if remote_id is None:
            raise Uncertain(f"{self.instance} answered without a status id")
        log.debug("post %s is status %s on %s", post.post_id, remote_id, self.instance)
        return Published(remote_id=remote_id, url=url)

    def _upload(self, api: Mastodon, token: str, image: OutgoingImage) -> str:
        """``POST /api/v2/media`` with the image and its alt text (``description``): the
        attachment's id. The instance may answer 202 and process it later."""
        try:
            attachment = api.media_post(
                image.data,
                mime_type=image.mime,
                description=image.alt or None,
                file_name=f"image-{image.sha256[:12]}.{_EXTENSIONS.get(image.mime, 'img')}",
            )
        except Exception as exc:
            raise self._translate(exc, api, token) from None
        (media_id,) = _fields(attachment, "id")
        if media_id is None:
            raise Transient(f"{self.instance} took an image but answered without its id")
        log.debug("uploaded an image to %s as media %s", self.instance, media_id)
        return media_id

    def _wait_processed(self, api: Mastodon, token: str, media_ids: list[str]) -> None:
        """Wait until the instance has processed every attachment (``GET /api/v1/media/:id``
        answers 206 with no ``url`` until then): a status cannot take one before."""
        for media_id in media_ids:
            for look in range(MEDIA_POLLS):
                try:
                    attachment = api.media(media_id)
                except Exception as exc:
                    raise self._translate(exc, api, token) from None
                (url,) = _fields(attachment, "url")
                if url is not None:
                    break
                if look + 1 < MEDIA_POLLS:
                    self._sleep(MEDIA_POLL_SECONDS)
            else:
                raise Transient(
                    f"{self.instance} is still processing image {media_id}: the retry "
                    "attaches it without uploading it again"
                )

    def verify(self) -> str:
        """Who the token belongs to, as ``"@acct on instance (id N)"``."""
        with self._lock:
            api, token = self._client()
            _forget_rate_limit(api)
            try:
                account = api.account_verify_credentials()
            except Exception as exc:
                raise self._translate(exc, api, token) from None
        acct, account_id = _fields(account, "acct", "id")
        if not acct or account_id is None:
            raise Transient(f"{self.instance} answered without the account's name and id")
        return f"@{acct} on {self.instance} (id {account_id})"

    def close(self) -> None:
        """Close the connections to the instance (a later call opens new ones)."""
        with self._lock:
            if self._api is not None:
                self._api.session.close()
                self._api = None

    # --- internals --------------------------------------------------------------------------

    def _token(self) -> str:
        if not self._token_env:
            raise AuthFailed(
                f'account "{self.account}" has no access token: set {TOKEN_KEY} in '
                f"[accounts.{self.account}.credentials] to the name of the environment "
                "variable that holds it"
            )
        token = (self._environ.get(self._token_env) or "").strip()
        if not token:
            raise AuthFailed(
                f'account "{self.account}": the environment variable {self._token_env} '
                f"({TOKEN_KEY}) is not set"
            )
        return token

    def _client(self) -> tuple[Mastodon, str]:
        from mastodon import Mastodon  # lazily: loading a config checks options without it

        token = self._token()
        api = self._api
        if api is None or api.access_token != token:
            if api is not None:
                api.session.close()
            api = Mastodon(
                api_base_url=self.api_base_url,
                ratelimit_method="throw",
                request_timeout=self.timeout,
                # A version given: no /api/v1/instance request to learn it. 4.0 is one that
                # has every call used here (``POST /api/v2/media`` came with 3.1.4).
                mastodon_version=ASSUMED_VERSION,
                version_check_mode="created",
                user_agent=_USER_AGENT,
            )
            # Set after construction: given to the constructor, a token that happens to name
            # an existing file would be read from that file instead.
            api.access_token = token
            self._api = api
        return api, token

    def _translate(self, exc: Exception, api: Mastodon, token: str) -> PublishError:
        """The planner's error for what Mastodon.py raised; never quotes the token."""
        from mastodon.errors import MastodonAPIError, MastodonNetworkError, MastodonRatelimitError

        where = self.instance
        if isinstance(exc, MastodonRatelimitError):
            return RateLimited(self._reset_at(api), f"{where} answered 429 Too Many Requests")
        if isinstance(exc, MastodonNetworkError):
            cause = exc.__context__  # the requests exception it was raised while handling
            if isinstance(cause, requests.Timeout):
                return Transient(f"{where} did not answer within {self.timeout:g} s")
            if isinstance(cause, requests.exceptions.InvalidHeader):  # its text quotes the token
                return AuthFailed(
                    f"the access token in {self._token_env} has characters an HTTP header "
                    "cannot carry"
                )
            if isinstance(cause, requests.ConnectionError):
                return Transient(f"connection to {where} failed ({type(cause).__name__})")
            return Transient(f"network error talking to {where} ({type(cause).__name__})")
        if isinstance(exc, MastodonAPIError):
            status, reason, message = _http_error(exc)
            if status is None:  # raised when a 2xx body is not JSON
                return Transient(f"{where} sent an answer that is not valid JSON")
            # Scrubbed whole before it is cut short: a cut could leave half a token behind.
            said = excerpt(scrub(message or reason or "no message", [token]), _MESSAGE_LIMIT)
            if status == 401:
                return AuthFailed(
                    f"{where} does not accept the access token in {self._token_env}: it is "
                    f"wrong, expired or revoked: {said} (HTTP 401; create a new token under "
                    "Preferences > Development and set it in that variable)"
                )
            if status == 403:
                return AuthFailed(
                    f"{where} refused the access token in {self._token_env}: {said} (HTTP 403: "
                    "the token lacks the write:statuses (or, for images, write:media) scope, "
                    "or the account's login is disabled or unconfirmed)"
                )
            if status == 408:
                return Transient(f"{where} timed out reading the request: {said} (HTTP 408)")
            if 400 <= status < 500:
                return Rejected(f"{said} (HTTP {status} from {where})")
            return Transient(f"{where} answered HTTP {status}: {said}")
        return Transient(f"unexpected error talking to {where}: {type(exc).__name__}")

    def _reset_at(self, api: Mastodon) -> datetime:
        # Mastodon.py parses X-RateLimit-Reset (ISO 8601 on Mastodon, epoch seconds on some
        # other servers), moves it to our clock using the answer's Date header, and leaves
        # None when the header is missing or already past.
        reset: Any = getattr(api, "ratelimit_reset", None)
        if isinstance(reset, int | float) and not isinstance(reset, bool) and reset > 0:
            return datetime.fromtimestamp(reset, UTC)
        return self._clock().astimezone(UTC) + RATE_LIMIT_FALLBACK


_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def _forget_rate_limit(api: Mastodon) -> None:
    """Clear the reset time an earlier answer left, so that only this call's is read."""
    # Mastodon.py stores None there itself; its attribute is only inferred as an int.
    api.ratelimit_reset = None  # type: ignore[assignment]


def _base_url(settings: AccountSettings) -> str:
    """``scheme://host[:port]`` of the instance, from what a person wrote (a bare host
    means https); an :class:`InputError` with the fix when it is anything else."""
    raw = settings.options.get("api_base_url")
    wrong = (
        'option "api_base_url" must be the address of your Mastodon instance, like '
        f'"https://mastodon.social", got {raw!r}'
    )
    if not isinstance(raw, str) or not raw.strip():
        raise _option_error(settings, wrong)
    value = raw.strip()
    if not value.isprintable() or any(c.isspace() for c in value):  # urlsplit drops them
        raise _option_error(settings, wrong)
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise _option_error(settings, wrong) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
        raise _option_error(settings, wrong)
    base = f"{parts.scheme}://{parts.netloc}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        # A profile or page address pasted instead of the instance's: say what to write.
        raise _option_error(
            settings,
            f'option "api_base_url" must be the instance\'s address without a path, got '
            f'{raw!r}: use "{base}"',
        )
    return base


def _visibility(settings: AccountSettings) -> str:
    value = settings.options.get("visibility", DEFAULT_VISIBILITY)
    if value not in VISIBILITIES:
        raise _option_error(
            settings,
            f'option "visibility" must be one of {", ".join(VISIBILITIES)}, got {value!r}',
        )
    return str(value)


def _language(settings: AccountSettings) -> str | None:
    value = settings.options.get("language")
    if value is None:
        return None
    if not (isinstance(value, str) and _LANGUAGE.fullmatch(value)):
        raise _option_error(
            settings, f'option "language" must be an ISO 639 language code like "en", got {value!r}'
        )
    return value.lower()


def _max_characters(settings: AccountSettings) -> int:
    value = settings.options.get("max_characters", DEFAULT_MAX_CHARACTERS)
    if not _is_number(value, int) or value < 1:
        raise _option_error(
            settings, f'option "max_characters" must be a whole number above 0, got {value!r}'
        )
    return int(value)


def _whole(settings: AccountSettings, key: str, low: int, high: int) -> int | None:
    value = settings.options.get(key)
    if value is None:
        return None
    if not _is_number(value, int) or not low <= value <= high:
        raise _option_error(
            settings, f'option "{key}" must be a whole number from {low} to {high}, got {value!r}'
        )
    return int(value)


def _timeout(settings: AccountSettings) -> float:
    value = settings.options.get("timeout", DEFAULT_TIMEOUT)
    problem = timeout_problem(value)
    if problem is not None:
        raise _option_error(settings, problem)
    return float(value)


def _option_error(settings: AccountSettings, problem: str) -> InputError:
    return InputError(f'account "{settings.name}": {problem}')


def _is_number(value: object, types: type | tuple[type, ...]) -> bool:
    return isinstance(value, types) and not isinstance(value, bool)


def _fields(entity: object, *keys: str) -> tuple[str | None, ...]:
    """The named fields of an entity the instance sent, as text (None when missing)."""
    if not isinstance(entity, Mapping):
        return (None,) * len(keys)
    values = (entity.get(key) for key in keys)
    return tuple(None if value in (None, "") else str(value) for value in values)


def _http_error(exc: MastodonAPIError) -> tuple[int | None, str, str | None]:
    """Status, reason and the instance's ``error`` text of an HTTP error Mastodon.py raised.

    Mastodon.py raises ``(message, status, reason, error)`` for an HTTP error, and other
    shapes (with no status) for an answer it could not parse.
    """
    args = exc.args
    if len(args) != 4 or not isinstance(args[1], int) or isinstance(args[1], bool):
        return None, "", None
    message = args[3]
    if message is not None and not isinstance(message, str):
        message = str(message)
    return args[1], str(args[2] or ""), message or None


def _may_have_arrived(exc: Exception) -> bool:
    """Whether the instance may have created the status although no usable answer came back:
    the request went out and the answer was lost, or was a 2xx body that is not JSON."""
    from mastodon.errors import MastodonAPIError, MastodonNetworkError

    if isinstance(exc, MastodonNetworkError):
        cause = exc.__context__  # the requests exception it was raised while handling
        return cause is not None and may_have_arrived(cause)
    if isinstance(exc, MastodonAPIError):
        status, _, _ = _http_error(exc)
        return status is None
    return False
