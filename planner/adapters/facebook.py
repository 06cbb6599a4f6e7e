"""Facebook Page: posts go to a Page's feed through the Graph API.

One post is one request (Pages API, "Posts": ``developers.facebook.com/docs/pages-api/posts``)::

    POST {graph_url}/{api_version}/{page_id}/feed
    Content-Type: application/x-www-form-urlencoded

    message=<text>&link=<the post's url, when it has one>&access_token=<Page token>
    [&appsecret_proof=<hex HMAC-SHA256 of the token keyed by the app secret>]

Images ("Page Photos" in the Graph API reference; ``alt_text_custom`` is the photo's alt
text): a post with one image is one ``POST {page_id}/photos`` (multipart ``source``, the text
as ``caption``, published at once; its ``post_id`` is the Page post). With several, each
image is first a ``POST {page_id}/photos`` with ``published=false`` (its id recorded, so a
retry does not upload it again), then the feed post names them as
``attached_media[i]={"media_fbid": "<photo id>"}``; a link preview is not sent with images.

The token travels in the body, never in the URL: URLs end up in logs (urllib3 logs them at
DEBUG) and proxies. ``appsecret_proof`` ("Securing requests" in the Graph API docs) is sent
when the ``app_secret_env`` credential is configured, which apps with "Require App Secret"
need. The answer ``{"id": "<page-id>_<post-id>"}`` gives the remote id, and the URL
``https://www.facebook.com/<page-id>_<post-id>``, a form facebook.com resolves to the post
(the canonical ``permalink_url`` would cost a second call).

Errors come as ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``
and are mapped by ``code`` ("Handling errors" and "Rate limits" in the Graph API docs):

============================================  ============  ====================================
code                                          raised        why
============================================  ============  ====================================
4, 17, 32, 341, 613, 80000-80014              RateLimited   app, user, Page or business-use-case
                                                            throttling (80001: Pages)
102, 190                                      AuthFailed    the token expired, was revoked, or
                                                            its user lost the Page
3, 10, 200-299                                AuthFailed    a permission is missing
100, 368, 506                                 Rejected      invalid parameter, blocked as
                                                            abusive, duplicate post (but 100
                                                            about appsecret_proof: AuthFailed)
1, 2, or ``"is_transient": true``             Transient     "temporary issue, wait and retry"
no error object, or another code              by HTTP       401 AuthFailed, 429 RateLimited,
                                              status        5xx Transient, other 4xx Rejected
============================================  ============  ====================================

A missing permission is :class:`~planner.errors.AuthFailed`, not ``Rejected``: it is not
about this post. Every post of the account would be refused the same way until a person
issues a new token with ``pages_manage_posts`` and ``pages_read_engagement``; ``Rejected``
would fail the week's posts one by one, while ``AuthFailed`` pauses the account and says
what to fix, and its posts go out once it is resumed.

A rate limit resets after the largest ``estimated_time_to_regain_access`` (minutes) in the
``X-Business-Use-Case-Usage`` and ``X-Page-Usage`` headers, or after 15 minutes when
neither gives one. A connection that never opened, 5xx and unreadable error answers are
``Transient``. A read timeout, a connection closed before the answer, or an unreadable answer
to a *successful* request, means the post may be on the Page already: that is ``Uncertain``,
and as the Graph API has no idempotency key
(``supports_idempotency`` is False) the pipeline marks the post ``unknown`` instead of
re-sending it, as it does with a post found claimed after a crash.

Length: a Page post's message holds at most 63,206 characters (Unicode code points).

Options: ``page_id`` (required, the Page's numeric id), ``graph_url`` (default
``https://graph.facebook.com``; plain http only for a loopback host), ``api_version``
(default ``v25.0``), ``timeout`` (seconds, default 10). Credentials: ``page_access_token_env``
(required to publish), ``app_secret_env`` (optional).

Secrets never leave through this module: messages quote Facebook's words with the token,
the app secret and the proof replaced by ``***``, and name environment variables, not values.

Why this module is long: it is one network's whole contract (options, the call, the
Graph API's documented error codes mapped to the planner's errors, and its rate-limit
headers), read in one place; a seventh of it is this docstring.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlencode

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
from planner.adapters.http import (
    RATE_LIMIT_FALLBACK,
    excerpt,
    hide_path_in_library_logs,
    http_url,
    new_session,
    scrub,
    send,
    timeout_option,
)
from planner.content.images import EXTENSIONS
from planner.content.media_limits import FACEBOOK_LIMITS
from planner.errors import AuthFailed, InputError, RateLimited, Rejected, Transient, Uncertain

MAX_LENGTH = 63_206
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
# Available until 2028-07-29 by the Graph API changelog (v21.0 ends on 2027-01-21).
DEFAULT_API_VERSION = "v25.0"
POST_URL = "https://www.facebook.com/{id}"

_OPTIONS = ("page_id", "graph_url", "api_version", "timeout")
_CREDENTIALS = ("page_access_token_env", "app_secret_env")
_API_VERSION = re.compile(r"^v\d{1,3}\.\d{1,3}$")

_RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613}) | frozenset(range(80000, 80015))
_TOKEN_CODES = frozenset({102, 190})
_PERMISSION_CODES = frozenset({3, 10}) | frozenset(range(200, 300))
_REJECTED_CODES = frozenset({100, 368, 506})
_TRANSIENT_CODES = frozenset({1, 2})
_PERMISSIONS = ("pages_manage_posts", "pages_read_engagement")
_USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-Page-Usage")

# Subcodes of code 190 ("Handling errors", "Authentication error subcodes").
_TOKEN_SUBCODES = {
    458: "the app was removed from the account that issued the token",
    459: "the user who issued the token must log in at facebook.com to unlock the account",
    460: "the password of the user who issued the token changed",
    463: "the token expired",
    464: "the user who issued the token is not confirmed",
    467: "the token is invalid",
    492: "the user who issued the token is no longer allowed on the Page",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FacebookPageAdapter:
    """Publishes to one Facebook Page's feed with a Page access token.

    ``remote_id`` is the Graph id ``"<page-id>_<post-id>"``; ``url`` is
    ``https://www.facebook.com/<page-id>_<post-id>``.
    """

    supports_idempotency = False
    media_limits = FACEBOOK_LIMITS
    public_url_options = ("graph_url",)  # the Graph API's address: shown by `config check`

    def __init__(
        self,
        settings: AccountSettings,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        require_valid(settings, self.check_options(settings))
        self.name = settings.name
        self.page_id = _page_id(settings)
        self.graph_url = _graph_url(settings)
        self.api_version = _api_version(settings)
        self.timeout = timeout_option(settings)
        self._credentials = dict(settings.credentials)
        self._environ = environ
        self._clock = clock
        self._session = new_session()
        self._feed_url = f"{self.graph_url}/{self.api_version}/{self.page_id}/feed"
        self._photos_url = f"{self.graph_url}/{self.api_version}/{self.page_id}/photos"

    @staticmethod
    def check_options(settings: AccountSettings) -> list[OptionProblem]:
        """Every problem with the account's options and credential keys; reads no secret."""
        return option_problems(
            settings,
            _OPTIONS,
            _CREDENTIALS,
            [
                ("page_id", lambda: _page_id(settings)),
                ("graph_url", lambda: _graph_url(settings)),
                ("api_version", lambda: _api_version(settings)),
                ("timeout", lambda: timeout_option(settings)),
            ],
        )

    # --- the interface --------------------------------------------------------------------

    def validate(self, text: str) -> list[str]:
        """Empty text, or more than 63,206 characters, is a problem."""
        if not text.strip():
            return ["empty post"]
        if len(text) > MAX_LENGTH:
            return [
                f"{len(text):,} characters, over Facebook's limit of {MAX_LENGTH:,} for a Page post"
            ]
        return []

    def publish(self, post: OutgoingPost) -> Published:
        """Post ``post.text`` (and ``post.url`` as the link) to the Page's feed; with one
        image, a photo post with the text as its caption; with several, a feed post with the
        images uploaded first as unpublished photos."""
        problems = self.validate(post.text)
        if problems:
            raise Rejected("; ".join(problems))
        token, secrets, proof = self._token()
        if len(post.media) == 1 and not post.uploaded:
            return self._photo_post(post, token, secrets, proof)
        form = {"message": post.text}
        if post.url and not post.media:  # a link preview and photos do not go together
            form["link"] = post.url
        photo_ids = upload_each(
            post, lambda image: self._upload(image, token, secrets, proof, published=False)
        )
        for index, photo_id in enumerate(photo_ids):
            form[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        form["access_token"] = token
        if proof:
            form["appsecret_proof"] = proof
        response = send(
            self._session,
            "POST",
            self._feed_url,
            data=form,
            timeout=self.timeout,
            shown_url=self._feed_url,
            creates=True,
        )
        return self._published(response, "id", secrets)

    def _photo_post(
        self, post: OutgoingPost, token: str, secrets: list[str], proof: str | None
    ) -> Published:
        """One image: ``POST /{page-id}/photos`` with the text as its caption, published at
        once; the answer's ``post_id`` is the Page post."""
        response = self._send_photo(post.media[0], token, proof, caption=post.text)
        return self._published(response, "post_id", secrets)

    def _upload(
        self,
        image: OutgoingImage,
        token: str,
        secrets: list[str],
        proof: str | None,
        *,
        published: bool,
    ) -> str:
        """An unpublished photo of the Page, to attach to a feed post: its id."""
        try:
            response = self._send_photo(image, token, proof, published=published)
            body = self._answer(response, secrets)
        except Uncertain as lost:  # a photo nobody sees yet: uploading it again is harmless
            raise Transient(lost.reason) from None
        photo_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(photo_id, str) or not photo_id:
            raise Transient(
                f"Facebook took a photo but answered without its id "
                f"({_describe_body(response, secrets)})"
            )
        return photo_id

    def _send_photo(
        self,
        image: OutgoingImage,
        token: str,
        proof: str | None,
        *,
        caption: str | None = None,
        published: bool = True,
    ) -> requests.Response:
        form = {"published": "true" if published else "false", "access_token": token}
        if caption is not None:
            form["caption"] = caption
        if image.alt:
            form["alt_text_custom"] = image.alt
        if proof:
            form["appsecret_proof"] = proof
        name = f"image-{image.sha256[:12]}.{EXTENSIONS.get(image.mime, 'img')}"
        return send(
            self._session,
            "POST",
            self._photos_url,
            data=form,
            files={"source": (name, image.data, image.mime)},
            timeout=self.timeout,
            shown_url=self._photos_url,
            creates=published,
        )

    def _published(self, response: requests.Response, key: str, secrets: list[str]) -> Published:
        body = self._answer(response, secrets)
        post_id = body.get(key) if isinstance(body, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise Uncertain(
                f"Facebook answered HTTP {response.status_code} without a post id "
                f"({_describe_body(response, secrets)}): the post may be on the Page already, "
                "check it before this one is retried"
            )
        return Published(remote_id=post_id, url=POST_URL.format(id=post_id))

    def verify(self) -> str:
        """Who the token is: ``"Page <name> (id <id>)"``, from ``GET /me?fields=id,name``.

        Raises :class:`AuthFailed` when the token is refused, or belongs to anything but
        the configured Page (a user token, another Page).
        """
        token, secrets, proof = self._token()
        params = {"fields": "id,name"}
        if proof:  # a hash of the token: it goes in the query string of a GET
            params["appsecret_proof"] = proof
        url = f"{self.graph_url}/{self.api_version}/me"
        target = f"{url}?{urlencode(params)}"
        if proof:  # urllib3 logs the query string at DEBUG: not this one
            hide_path_in_library_logs(target)
        response = send(
            self._session,
            "GET",
            target,
            headers={"Authorization": f"Bearer {token}"},
            timeout=self.timeout,
            shown_url=url,
        )
        body = self._answer(response, secrets)
        who = body if isinstance(body, dict) else {}
        found_id, name = who.get("id"), who.get("name")
        if not isinstance(found_id, str) or not isinstance(name, str):
            raise Transient(
                "Facebook answered /me without an id and name "
                f"({_describe_body(response, secrets)})"
            )
        name = scrub(name, secrets)
        if found_id != self.page_id:
            raise AuthFailed(
                f"the token in {self._env_name('page_access_token_env')} belongs to "
                f"{name} (id {found_id}), not to Page {self.page_id}: use a Page access token "
                "of that Page"
            )
        return f"Page {name} (id {found_id})"

    # --- credentials ----------------------------------------------------------------------

    @property
    def _token_env(self) -> str:
        return self._env_name("page_access_token_env")

    def _env_name(self, key: str) -> str:
        return self._credentials.get(key, "")

    def _secret(self, key: str, what: str) -> str:
        env = self._credentials.get(key)
        if not env:
            raise AuthFailed(
                f'account "{self.name}" has no credential "{key}" ({what}): add '
                f'{key} = "SOME_ENV_VAR" under [accounts.{self.name}.credentials]'
            )
        value = self._environ.get(env, "").strip()
        if not value:
            raise AuthFailed(f"{what}: environment variable {env} is not set")
        return value

    def _token(self) -> tuple[str, list[str], str | None]:
        """The Page token, every secret to keep out of messages, and the appsecret_proof."""
        token = self._secret("page_access_token_env", "the Page access token")
        secrets = [token]
        proof = None
        if "app_secret_env" in self._credentials:
            app_secret = self._secret("app_secret_env", "the app secret")
            proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            secrets += [app_secret, proof]
        return token, secrets, proof

    # --- answers --------------------------------------------------------------------------

    def _answer(self, response: requests.Response, secrets: list[str]) -> Any:
        """The decoded body of a successful answer; raise the right error for the others."""
        body = _json(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            self._raise_graph_error(response, error, secrets)
        status = response.status_code
        if 200 <= status < 300:
            return body
        reason = f"Facebook answered HTTP {status} ({_describe_body(response, secrets)})"
        _raise_by_status(status, reason, self._reset_at(response), self._token_env)

    def _raise_graph_error(
        self, response: requests.Response, error: dict[str, Any], secrets: list[str]
    ) -> NoReturn:
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        said = _describe_error(error, secrets)
        if code in _RATE_LIMIT_CODES:
            raise RateLimited(self._reset_at(response), said)
        token_env = self._env_name("page_access_token_env")
        if code in _TOKEN_CODES:
            why = _TOKEN_SUBCODES.get(subcode or 0, "the token expired, was revoked or is invalid")
            raise AuthFailed(
                f"the Page access token in {token_env} was refused: {why}; issue a new one. {said}"
            )
        if code in _PERMISSION_CODES:
            message = str(error.get("message", ""))
            named = [p for p in _PERMISSIONS if p in message] or list(_PERMISSIONS)
            raise AuthFailed(
                f"the Page access token in {token_env} lacks a permission: issue a new one "
                f"with {' and '.join(named)}, by a person who may create content on the Page. "
                f"{said}"
            )
        if code == 100 and "appsecret_proof" in str(error.get("message", "")):
            # Not about this post: without the right app secret every call is refused.
            raise AuthFailed(
                f"Facebook refused the appsecret_proof: check the app secret in "
                f"{self._env_name('app_secret_env') or 'app_secret_env'} (needed when the app "
                f"requires it). {said}"
            )
        if code in _REJECTED_CODES:
            raise Rejected(said)
        if code in _TRANSIENT_CODES or error.get("is_transient") is True:
            raise Transient(said)
        _raise_by_status(response.status_code, said, self._reset_at(response), self._token_env)

    def _reset_at(self, response: requests.Response) -> datetime:
        now = self._clock().astimezone(UTC)
        minutes = max(_regain_minutes(response.headers.get(h)) for h in _USAGE_HEADERS)
        return now + (timedelta(minutes=minutes) if minutes > 0 else RATE_LIMIT_FALLBACK)


def _raise_by_status(status: int, reason: str, reset_at: datetime, token_env: str) -> NoReturn:
    if status == 401:  # not about a permission (those have codes): the token itself
        raise AuthFailed(
            f"the Page access token in {token_env} was refused: it is wrong, expired or "
            f"revoked; issue a new one. {reason}"
        )
    if status == 429:
        raise RateLimited(reset_at, reason)
    if status >= 500:
        raise Transient(reason)
    if 200 <= status < 300:  # an error object in a successful answer: nothing was posted
        raise Transient(reason)
    raise Rejected(reason)


def _json(response: requests.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:  # not JSON, or not UTF-8
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _describe_error(error: Mapping[str, Any], secrets: Sequence[str]) -> str:
    """Facebook's own words, e.g. ``Facebook: "(#506) Duplicate status message" (code 506,
    fbtrace_id AbC)``."""
    message = str(error.get("message") or "no message")
    user_message = error.get("error_user_msg")
    if isinstance(user_message, str) and user_message and user_message not in message:
        message += f" — {user_message}"
    facts = [f"code {error.get('code')}"]
    if error.get("error_subcode") is not None:
        facts.append(f"subcode {error.get('error_subcode')}")
    if error.get("fbtrace_id"):
        facts.append(f"fbtrace_id {error.get('fbtrace_id')}")
    # Scrubbed before it is cut short, so that no secret is left half-hidden.
    said = f'Facebook: "{excerpt(scrub(message, secrets), 300)}" ({", ".join(facts)})'
    return scrub(said, secrets)


def _describe_body(response: requests.Response, secrets: Sequence[str]) -> str:
    text = response.content.decode("utf-8", "replace")
    return excerpt(scrub(text, secrets)) if text.strip() else "empty body"


def _regain_minutes(header: str | None) -> float:
    """The largest ``estimated_time_to_regain_access`` in a usage header (0 when none).

    ``X-Page-Usage`` is one object; ``X-Business-Use-Case-Usage`` maps business ids to
    lists of objects: the key is looked for at any depth.
    """
    if not header:
        return 0
    try:
        found = json.loads(header)
    except ValueError:
        return 0
    best = 0.0
    pending = [found]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            minutes = value.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and not isinstance(minutes, bool):
                best = max(best, float(minutes))
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return min(best, 24 * 60)  # a day at most: a garbled header must not park a post for years


# --- options --------------------------------------------------------------------------------


def _page_id(settings: AccountSettings) -> str:
    value = settings.options.get("page_id")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    problem = "is required" if value is None else f"must be the Page's numeric id, got {value!r}"
    raise InputError(
        f'account "{settings.name}": option "page_id" {problem} (the Page id is shown '
        "under the Page's About > Page transparency, or in Meta Business Suite settings)"
    )


def _graph_url(settings: AccountSettings) -> str:
    value = settings.options.get("graph_url", DEFAULT_GRAPH_URL)
    parts = http_url(value)
    ok = (
        parts is not None
        and not parts.query
        and not parts.fragment
        and (parts.scheme == "https" or _is_loopback(parts.hostname or ""))
    )
    if not ok:
        raise InputError(
            f'account "{settings.name}": option "graph_url" must be an https:// URL '
            f"(http:// only for a loopback host), got {value!r}"
        )
    assert isinstance(value, str)
    return value.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_version(settings: AccountSettings) -> str:
    value = settings.options.get("api_version", DEFAULT_API_VERSION)
    if not isinstance(value, str) or not _API_VERSION.match(value):
        raise InputError(
            f'account "{settings.name}": option "api_version" must look like '
            f'"{DEFAULT_API_VERSION}", got {value!r}'
        )
    return value
