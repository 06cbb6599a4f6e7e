"""The one interface every network adapter implements.

An adapter turns a rendered post into a network call. It is constructed once per account
(``factory(account_name, account_config, environ)``) and then asked to:

- ``validate(text)``: the problems this text would have on the network (too long, missing
  credentials), as sentences; an empty list means fine. Called at plan time and before
  publishing; never touches the network.
- ``publish(post)``: publish and return :class:`Published`, or raise one of the planner's
  :class:`~planner.errors.PublishError` subclasses (``RateLimited``, ``AuthFailed``,
  ``Rejected``, ``Transient``); any other exception is treated as ``Transient``.

Optionally, ``verify()`` asks the network who the credentials belong to and returns it as
text (``"@brand on x.com"``), raising ``AuthFailed`` or ``Transient``; ``planner config check
--online`` calls it. ``validate`` must not touch the network nor require credentials: it
runs when a week is planned, possibly on a machine without the secrets.

Images: an adapter whose network takes them has a ``media_limits`` attribute (a
:class:`planner.content.media_limits.MediaLimits`, or None when this account cannot post
images, with ``media_unavailable`` saying why); ``queue sync`` checks every item's images
against it, and ``publish`` gets them in ``OutgoingPost.media`` (uploaded through
:func:`upload_each`). An adapter without the attribute gets no item with images.

``supports_idempotency`` says whether publishing the same ``idempotency_key`` twice is
guaranteed to create one post at most (Mastodon's Idempotency-Key header, a webhook's
header the receiver honours, the outbox's own ledger). The pipeline re-sends a post found
claimed after a crash only through such an adapter; elsewhere the post becomes ``unknown``.
An adapter whose network forgets keys after a while says so with an optional
``idempotency_window`` (a ``timedelta``); a claim older than that is not re-sent either
(:func:`resend_is_safe`).

Optionally, the factory (usually the adapter class) has ``check_options(settings) ->
list[OptionProblem]``: every problem with the account's options and credential *keys*,
one per key, without reading any secret, touching the network or the file system. Loading
the config calls it for every account (so ``planner config check`` refuses what ``planner
run`` would), and the built-in adapters call it first thing when they are constructed.
:func:`option_problems` builds it from the known names and one parser per option. A
factory without it is checked by being called with an empty environment, as ``planner
plan`` does (see :func:`planner.adapters.registry.check_account`).

Optionally, ``public_url_options`` (a tuple of option names) says which options hold the
public address of a service (a Mastodon instance): ``planner config check`` shows their
host and path. Every other URL option is shown as ``scheme://host/***``, since a URL like
a webhook's may carry a token (:mod:`planner.redact`).
``plain_options`` names options that look secret by name but are not (a header's name,
``auth_header``): shown as written instead of ``***``.

Adapters are found through the ``planner.adapters`` entry-point group (see
:mod:`planner.adapters.registry`): a third party adds a network by publishing a package
with such an entry point, and the built-ins are registered the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from planner.errors import InputError

ENTRY_POINT_GROUP = "planner.adapters"


@dataclass(frozen=True)
class OutgoingImage:
    """One image of a post: the bytes checked at sync, their type, pixel size (0 when the file
    does not say), alt text, SHA-256, and where they came from (a path as written in the queue
    file, or a URL when ``is_url``)."""

    data: bytes = field(repr=False)
    mime: str
    alt: str | None = None
    sha256: str = ""
    width: int = 0
    height: int = 0
    source: str = ""
    is_url: bool = False


UploadNote = Callable[[int, str], None]
"""Called by an adapter with an image's place and the network's id for it, as soon as the
upload succeeded and before the post is created (see :func:`upload_each`)."""


@dataclass(frozen=True)
class OutgoingPost:
    """What an adapter gets to publish.

    ``media`` are the post's images in order. ``uploaded`` holds, by place, the network's ids
    of images an earlier attempt of this same post uploaded (attach them, do not upload them
    again); ``on_upload`` records each new upload before the post is created, so that a post
    retried after a failure does not upload its images twice.
    """

    post_id: int
    account: str
    text: str
    idempotency_key: str
    url: str | None = None  # the item's link, for networks that attach it separately
    kind: str = ""
    item_id: str = ""
    media: tuple[OutgoingImage, ...] = ()
    uploaded: Mapping[int, str] = field(default_factory=dict)
    on_upload: UploadNote | None = field(default=None, compare=False, repr=False)


def upload_each(post: OutgoingPost, upload: Callable[[OutgoingImage], str]) -> list[str]:
    """The network's ids of the post's images, in order: those an earlier attempt uploaded,
    and ``upload(image)`` for the others, each recorded through ``post.on_upload`` at once.

    An upload that raises stops here; the ones before it stay recorded, so the retry of the
    post uploads only what is left.
    """
    ids: list[str] = []
    for position, image in enumerate(post.media):
        remote = post.uploaded.get(position)
        if remote is None:
            remote = upload(image)
            if post.on_upload is not None:
                post.on_upload(position, remote)
        ids.append(remote)
    return ids


@dataclass(frozen=True)
class Published:
    """Where the post ended up on the network."""

    remote_id: str
    url: str | None = None


@dataclass(frozen=True)
class AccountSettings:
    """An account's configuration as an adapter sees it."""

    name: str
    network: str
    base_dir: Path = Path(".")  # the config file's folder: relative paths in options start here
    options: Mapping[str, Any] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)  # key -> env var NAME

    def secret(self, key: str, environ: Mapping[str, str]) -> str | None:
        """The value of credential ``key`` from the environment (never stored anywhere)."""
        name = self.credentials.get(key)
        return environ.get(name) if name else None


@runtime_checkable
class Adapter(Protocol):
    """A network adapter for one account."""

    supports_idempotency: bool

    def validate(self, text: str) -> list[str]: ...

    def publish(self, post: OutgoingPost) -> Published: ...


AdapterFactory = Callable[[AccountSettings, Mapping[str, str]], Adapter]


def resend_is_safe(adapter: Adapter, first_sent: datetime | None, now: datetime) -> bool:
    """Whether a post that may have reached the network at ``first_sent`` can be sent again:
    only through an idempotent adapter, and only while the network still remembers the key
    (Mastodon forgets an Idempotency-Key after an hour)."""
    if not adapter.supports_idempotency:
        return False
    window: timedelta | None = getattr(adapter, "idempotency_window", None)
    return window is None or first_sent is None or now - first_sent < window


def unknown_names(
    settings: AccountSettings, what: str, given: Iterable[str], known: Sequence[str]
) -> str | None:
    """``'unknown option(s) for network "x": a, b (known: c, d)'``, or None when every name
    in ``given`` is known. ``what`` is "option" or "credential"."""
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    return (
        f'unknown {what}(s) for network "{settings.network}": {", ".join(unknown)} '
        f"(known: {', '.join(known) or 'none'})"
    )


def check_names(
    settings: AccountSettings, options: Sequence[str], credentials: Sequence[str]
) -> None:
    """Raise :class:`InputError` naming the first unknown option or credential key."""
    for what, given, known in (
        ("option", settings.options, options),
        ("credential", settings.credentials, credentials),
    ):
        problem = unknown_names(settings, what, given, known)
        if problem is not None:
            raise InputError(f'account "{settings.name}": {problem}')


@dataclass(frozen=True)
class OptionProblem:
    """One thing wrong with an account's configuration for its network.

    ``key`` is the option (or credential key) at fault, or ``""`` when the problem is about
    the whole table (no credentials at all); ``table`` says which table of the account it
    is in. ``message`` names the key and the value seen, not the account: the config names
    the file, the line and ``accounts.NAME.options.KEY`` in front of it.
    """

    key: str
    message: str
    table: Literal["options", "credentials"] = "options"


OptionCheck = tuple[str, Callable[[], object]]
"""An option's key and a parser that raises :class:`InputError` when its value is wrong."""


def option_problems(
    settings: AccountSettings,
    options: Sequence[str],
    credentials: Sequence[str],
    checks: Iterable[OptionCheck] = (),
    meant: Mapping[str, str] | None = None,
) -> list[OptionProblem]:
    """Unknown option and credential keys (with a "did you mean" hint), then what each
    parser in ``checks`` refuses, in order. The parsers are the ones the adapter's
    constructor uses, so the check and the construction cannot disagree. ``meant`` maps
    names people write by mistake to the option they mean, where spelling cannot guess it
    (``instance`` for Mastodon's ``api_base_url``)."""
    problems = [
        OptionProblem(key, _unknown(settings, "option", key, options, meant))
        for key in sorted(set(settings.options) - set(options))
    ]
    problems += [
        OptionProblem(key, _unknown(settings, "credential", key, credentials), "credentials")
        for key in sorted(set(settings.credentials) - set(credentials))
    ]
    prefix = f'account "{settings.name}": '
    for key, parse in checks:
        try:
            parse()
        except InputError as exc:
            problems.append(OptionProblem(key, str(exc).removeprefix(prefix)))
    return problems


def require_valid(settings: AccountSettings, problems: Sequence[OptionProblem]) -> None:
    """Raise one :class:`InputError` naming the account and every problem, if any."""
    if problems:
        raise InputError(f'account "{settings.name}": ' + "; ".join(p.message for p in problems))


def _unknown(
    settings: AccountSettings,
    what: str,
    key: str,
    known: Sequence[str],
    meant: Mapping[str, str] | None = None,
) -> str:
    # A stricter cutoff than difflib's 0.6, which offers "user_agent" for "secret"; the
    # known names follow anyway, should the guess be wrong.
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
    guess = (meant or {}).get(key) or (close[0] if close else None)
    hint = f'did you mean "{guess}"? ' if guess else ""
    names = ", ".join(known) or "none"
    return f'unknown {what} "{key}" for network "{settings.network}" ({hint}known: {names})'
