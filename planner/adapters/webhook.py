"""Webhook: each post is POSTed as JSON to a URL (Zapier, n8n, Make or your own endpoint).

The request::

    POST <url>
    Content-Type: application/json; charset=utf-8
    Idempotency-Key: <the post's idempotency key>
    X-Planner-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>   (when signing)
    Authorization: <value of the authorization_env variable>                (when configured)

    {"post_id": 7, "account": "main", "network": "webhook", "item_id": "tip-1",
     "kind": "help", "text": "…", "url": "https://…" or null,
     "idempotency_key": "…", "sent_at": "2024-05-06T09:30:00+00:00"}

A post with images carries them in order as ``"media": [{"type": "image/png", "alt": "…",
"sha256": "<hex of the bytes>", "width": 800, "height": 600, "url": "https://…" (only for an
image the queue gave as a URL), "data": "<the bytes in base64>"}]``: the receiver gets the
very bytes that were checked at sync, and can check them against ``sha256``.

The body is UTF-8 JSON (not ``\\u``-escaped); ``network`` is the account's network name.
A receiver checks the signature by computing the HMAC-SHA256 of the bytes it received with
the shared secret and comparing in constant time; ``sent_at`` is inside the signed bytes,
so it can also refuse replays. A retried post carries a new ``sent_at`` (and signature)
but the same ``Idempotency-Key``.

The answer:

- 2xx: published. ``remote_id`` is the JSON body's ``id`` when there is one (Zapier's catch
  hooks answer ``{"id": …, "status": "success"}``), else the idempotency key; ``url`` is the
  body's ``url`` when it is an http(s) URL. A body is optional: ``OK``, an empty 204 or
  broken JSON still mean the receiver took the post, as its status code says.
- 429: :class:`~planner.errors.RateLimited` at ``Retry-After`` (seconds or an HTTP-date),
  else in 15 minutes.
- 401, 403: :class:`~planner.errors.AuthFailed`: the receiver refuses the signature or the
  authorization header, so it would refuse every post; the account pauses instead.
- 408, 5xx, a connection that never opened: ``Transient``; a read timeout, a connection
  closed before the answer, an answer that is not HTTP: ``Uncertain`` (the receiver may have
  the post; the pipeline re-sends it with the same ``Idempotency-Key``).
- Other 4xx, and 3xx (redirects are not followed: configure the final URL): ``Rejected``
  with the status and the start of the body.

Exactly once: ``supports_idempotency`` is True, and ``Idempotency-Key`` is always sent, so a
post found claimed after a crash is sent again with the same key. That is only safe when the
receiver honours the key: your own endpoint, or a Zapier/n8n/Make scenario that keeps the
keys it has seen and drops repeats (a filter or data-store step on the header). A receiver
that ignores it may get such a post twice.

``verify()`` sends nothing: a webhook has no "who am I", and the usual receivers run their
workflow on any request (a Zapier catch hook runs its Zap on a GET too), so a probe would
publish. It checks that the configured secrets are set and returns ``"webhook to
https://host"``.

Options: ``url`` (required, http or https), ``signature_header`` (default
``X-Planner-Signature``), ``auth_header`` (default ``Authorization``; used with the
``authorization_env`` credential), ``user_agent`` (default ``planner/<version>``),
``timeout`` (seconds, default 10). Config options are flat values, so there are no free-form
extra headers. Credentials: ``signing_secret_env``, ``authorization_env`` (both optional).

Secrets: webhook URLs usually hold a token in their path or query, so messages and this
module's logs show only ``scheme://host/***``, excerpts of the receiver's answer have the
URL's path pieces, the signing secret and the authorization value replaced by ``***``, and
urllib3's DEBUG line for the request shows the path as ``/***``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from planner.adapters.base import (
    AccountSettings,
    OptionProblem,
    OutgoingImage,
    OutgoingPost,
    Published,
    option_problems,
    require_valid,
)
from planner.adapters.http import (
    RATE_LIMIT_FALLBACK,
    USER_AGENT,
    excerpt,
    hide_path_in_library_logs,
    http_url,
    new_session,
    retry_after,
    scrub,
    send,
    timeout_option,
)
from planner.content.media_limits import ANY_LIMITS
from planner.errors import AuthFailed, InputError, RateLimited, Rejected, Transient
from planner.redact import redact_http_url

DEFAULT_SIGNATURE_HEADER = "X-Planner-Signature"
DEFAULT_AUTH_HEADER = "Authorization"

_OPTIONS = ("url", "signature_header", "auth_header", "user_agent", "timeout")
_CREDENTIALS = ("signing_secret_env", "authorization_env")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
_RESERVED_HEADERS = {"content-type", "content-length", "host", "idempotency-key", "user-agent"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _image(image: OutgoingImage) -> dict[str, Any]:
    described: dict[str, Any] = {
        "type": image.mime,
        "alt": image.alt,
        "sha256": image.sha256,
        "width": image.width,
        "height": image.height,
    }
    if image.is_url:
        described["url"] = image.source
    described["data"] = base64.b64encode(image.data).decode("ascii")
    return described


class WebhookAdapter:
    """POSTs each post as JSON to one URL, signed when a signing secret is configured.

    ``remote_id`` is the receiver's ``id`` or the post's idempotency key; ``url`` is the
    receiver's ``url`` or None.
    """

    supports_idempotency = True
    media_limits = ANY_LIMITS
    # Header names, not secrets (the secrets are in credentials): shown by `config check`.
    plain_options = ("auth_header", "signature_header")

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        require_valid(settings, self.check_options(settings))
        self.name = settings.name
        self.network = settings.network
        self.url = _url(settings)
        self.shown_url = redact_http_url(self.url)
        self.signature_header = _header_option(
            settings, "signature_header", DEFAULT_SIGNATURE_HEADER
        )
        self.auth_header = _header_option(settings, "auth_header", DEFAULT_AUTH_HEADER)
        self.timeout = timeout_option(settings)
        self._credentials = dict(settings.credentials)
        self._environ = environ
        self._clock = clock
        self._session = new_session(_user_agent(settings), only_url=self.url)
        self._url_secrets = _url_secrets(self.url)
        hide_path_in_library_logs(self.url)

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """Every problem with the account's options and credential keys; reads no secret."""
        return option_problems(
            settings,
            _OPTIONS,
            _CREDENTIALS,
            [
                ("url", lambda: _url(settings)),
                (
                    "signature_header",
                    lambda: _header_option(settings, "signature_header", DEFAULT_SIGNATURE_HEADER),
                ),
                (
                    "auth_header",
                    lambda: _header_option(settings, "auth_header", DEFAULT_AUTH_HEADER),
                ),
                ("auth_header", lambda: _headers_agree(settings)),
                ("user_agent", lambda: _user_agent(settings)),
                ("timeout", lambda: timeout_option(settings)),
            ],
        )

    # --- the interface --------------------------------------------------------------------

    def validate(self, text: str) -> list[str]:
        """No length rule; only an empty text is a problem."""
        return [] if text.strip() else ["empty post"]

    def publish(self, post: OutgoingPost) -> Published:
        """POST the post; see the module docstring for what each answer becomes."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        signing_secret = self._secret("signing_secret_env", "the signing secret")
        authorization = self._secret("authorization_env", f"the {self.auth_header} header")
        if authorization and not _fits_a_header(authorization):
            raise AuthFailed(
                f"the value of {self._credentials['authorization_env']} cannot be sent in the "
                f"{self.auth_header} header (a line break, or a character outside Latin-1)"
            )
        secrets = [*self._url_secrets, signing_secret or "", authorization or ""]
        body = self._body(post)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Idempotency-Key": post.idempotency_key,
        }
        if signing_secret:
            digest = hmac.new(signing_secret.encode(), body, hashlib.sha256).hexdigest()
            headers[self.signature_header] = f"sha256={digest}"
        if authorization:
            headers[self.auth_header] = authorization
        response = send(
            self._session,
            "POST",
            self.url,
            data=body,
            headers=headers,
            timeout=self.timeout,
            shown_url=self.shown_url,
            creates=True,
        )
        status = response.status_code
        if 200 <= status < 300:
            return self._published(response, post, secrets)
        said = f"the webhook at {self.shown_url} answered HTTP {status}"
        answer = response.content.decode("utf-8", "replace")
        if answer.strip():
            said += f": {excerpt(scrub(answer, secrets))}"  # scrubbed whole: no half secret
        if status == 429:
            now = self._clock().astimezone(UTC)
            reset_at = retry_after(response.headers.get("Retry-After"), now)
            raise RateLimited(reset_at or now + RATE_LIMIT_FALLBACK, said)
        if status in (401, 403):
            raise AuthFailed(f"{said} ({self._credentials_hint()})")
        if status == 408 or status >= 500:
            raise Transient(said)
        if 300 <= status < 400:
            raise Rejected(f"{said} (a redirect: set the option url to where it points)")
        raise Rejected(said)

    def verify(self) -> str:
        """Where posts go, ``"webhook to https://host"``, after checking the secrets are set.

        Nothing is sent (see the module docstring); raises :class:`AuthFailed` naming an
        unset environment variable.
        """
        self._secret("signing_secret_env", "the signing secret")
        self._secret("authorization_env", f"the {self.auth_header} header")
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
        return f"webhook to {parts.scheme}://{host}{port}"

    # --- helpers --------------------------------------------------------------------------

    def _secret(self, key: str, what: str) -> str | None:
        """The configured secret ``key``; None when it is not configured at all."""
        env = self._credentials.get(key)
        if env is None:
            return None
        value = self._environ.get(env, "").strip()  # a pasted value often ends in a newline
        if not value:
            raise AuthFailed(f"{what}: environment variable {env} is not set")
        return value

    def _credentials_hint(self) -> str:
        configured = [
            f"{what} in {self._credentials[key]}"
            for key, what in (
                ("signing_secret_env", "the signing secret"),
                ("authorization_env", f"the {self.auth_header} value"),
            )
            if key in self._credentials
        ]
        if not configured:
            return "it wants credentials: set signing_secret_env or authorization_env"
        return "check " + " and ".join(configured)

    def _body(self, post: OutgoingPost) -> bytes:
        record = {
            "post_id": post.post_id,
            "account": post.account,
            "network": self.network,
            "item_id": post.item_id,
            "kind": post.kind,
            "text": post.text,
            "url": post.url,
            "idempotency_key": post.idempotency_key,
            "sent_at": self._clock().astimezone(UTC).isoformat(timespec="seconds"),
        }
        if post.media:  # absent without images: a receiver written before them sees no change
            record["media"] = [_image(image) for image in post.media]
        return json.dumps(record, ensure_ascii=False).encode("utf-8")

    def _published(
        self, response: requests.Response, post: OutgoingPost, secrets: list[str]
    ) -> Published:
        try:
            answer: Any = json.loads(response.content)
        except ValueError:  # "OK", an empty body, broken JSON: the status code still counts
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        remote_id = post.idempotency_key
        given_id = answer.get("id")
        if isinstance(given_id, int) and not isinstance(given_id, bool):
            given_id = str(given_id)
        if isinstance(given_id, str) and given_id.strip():
            remote_id = given_id.strip()[:200]
        given_url = answer.get("url")
        url = None
        if isinstance(given_url, str) and given_url.startswith(("https://", "http://")):
            url = given_url
        # A receiver that echoes the webhook's own URL must not leak its token into history.
        if scrub(remote_id, secrets) != remote_id:
            remote_id = post.idempotency_key
        if url is not None and scrub(url, secrets) != url:
            url = None
        return Published(remote_id=remote_id, url=url)


# --- options --------------------------------------------------------------------------------


def _url(settings: AccountSettings) -> str:
    value = settings.options.get("url")
    if not isinstance(value, str) or not _sendable(value):
        try:
            shown = redact_http_url(value) if isinstance(value, str) else repr(value)
        except ValueError:  # urllib.parse refuses the port: the URL cannot even be shown
            shown = "a URL whose port is not a number from 0 to 65535"
        problem = "is required" if value is None else f"must be an http(s) URL, got {shown}"
        raise InputError(f'account "{settings.name}": option "url" {problem}')
    return value


@functools.lru_cache(maxsize=1024)
def _sendable(url: str) -> bool:
    """An http(s) URL requests can send to. Cached: an account's URL is checked at config
    load and again by its adapter, 0.2 ms each, for each of a brand's accounts."""
    if http_url(url) is None:
        return False
    try:  # what requests will do with it: a host it cannot encode
        requests.Request("POST", url).prepare()
    except (requests.RequestException, ValueError):
        return False
    return True


def _header_option(settings: AccountSettings, key: str, default: str) -> str:
    value = settings.options.get(key, default)
    if (
        not isinstance(value, str)
        or not _HEADER_NAME.match(value)
        or value.lower() in _RESERVED_HEADERS
    ):
        raise InputError(
            f'account "{settings.name}": option "{key}" must be an HTTP header name other '
            f"than {', '.join(sorted(_RESERVED_HEADERS))}, got {value!r}"
        )
    return value


def _headers_agree(settings: AccountSettings) -> None:
    """``auth_header`` needs its credential, and must not be the signature's header."""
    if "auth_header" in settings.options and "authorization_env" not in settings.credentials:
        raise InputError(
            f'account "{settings.name}": option "auth_header" needs the credential '
            '"authorization_env" (the environment variable holding the header\'s value)'
        )
    signature = settings.options.get("signature_header", DEFAULT_SIGNATURE_HEADER)
    auth = settings.options.get("auth_header", DEFAULT_AUTH_HEADER)
    if isinstance(signature, str) and isinstance(auth, str) and signature.lower() == auth.lower():
        raise InputError(
            f'account "{settings.name}": options "signature_header" and "auth_header" '
            f"name the same header {signature!r}"
        )


def _user_agent(settings: AccountSettings) -> str:
    value = settings.options.get("user_agent", USER_AGENT)
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise InputError(
            f'account "{settings.name}": option "user_agent" must be one line of text, '
            f"got {value!r}"
        )
    return value


def _fits_a_header(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return value.isprintable()


def _url_secrets(url: str) -> list[str]:
    """The parts of the webhook URL that may be a token, as a server might echo them."""
    parts = urlsplit(url)
    pieces = [parts.path, parts.query, parts.username or "", parts.password or ""]
    pieces += [segment for segment in parts.path.split("/") if _tokenish(segment)]
    pieces += [value for _, value in parse_qsl(parts.query) if _tokenish(value)]
    found = {piece for piece in pieces if piece and piece != "/"}
    return sorted(found | {unquote(piece) for piece in found})


def _tokenish(piece: str) -> bool:
    """Long, or with a digit in it: words like "hooks" or "webhook" are left readable."""
    return len(piece) >= 12 or (len(piece) >= 4 and any(c.isdigit() for c in piece))
