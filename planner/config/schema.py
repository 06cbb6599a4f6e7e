"""What ``planner.toml`` may say: its tables and keys as pydantic models, in strict mode.

Each model refuses unknown keys and wrong types, and its validators check what a type cannot
(timezones, slot specs, ratios, presets, domain names, names of environment variables);
:mod:`planner.config.bounds` holds the numeric limits. Loading the file, cross-checks between
tables and the resolved :class:`~planner.config.settings.Config` are in
:mod:`planner.config.settings`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from planner.config import bounds
from planner.config.bounds import PlainText
from planner.config.problems import quoted
from planner.plan import slots
from planner.rule import balancer

KIND_CLASSES = ("give", "pitch")

NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {quoted(value)} "
            '(expected an IANA name like "Europe/Berlin" or "UTC")'
        ) from None
    return value


def _credential_key(key: str) -> str:
    if not key.endswith("_env"):
        raise ValueError(
            f'credential key "{key}" must end in "_env" and name an environment variable '
            f'(e.g. {key}_env = "MY_SECRET"): secrets never go in this file'
        )
    return key


def _env_var_name(value: str) -> str:
    if not _ENV_VAR_NAME.fullmatch(value):
        # Never echo the value: a secret pasted here must not end up in a log.
        raise ValueError(
            "must be the name of an environment variable (letters, digits and _), "
            "not the secret itself"
        )
    return value


CredentialKey = Annotated[str, AfterValidator(_credential_key)]
EnvVarName = Annotated[str, AfterValidator(_env_var_name)]


class _Model(BaseModel):
    # inf and nan are valid TOML floats but no duration: refused for every float key.
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class KindConfig(_Model):
    """A content category and its class (give or pitch)."""

    class_: Literal["give", "pitch"] = Field(alias="class")
    weight: int = Field(
        default=1, ge=0, le=bounds.MAX_WEIGHT, description="share of open slots in the target mix"
    )
    template: PlainText | None = None
    requires: list[PlainText] = Field(default_factory=list)
    # Evergreen limits for the kind's items that set none of their own: reposts per account
    # after the first post, and the dates the kind is active (items get them as not_before
    # and not_after).
    max_reposts: int | None = Field(default=None, ge=0, le=bounds.MAX_REPOSTS)
    active_from: date | None = None
    active_until: date | None = None

    @model_validator(mode="after")
    def _active_range_in_order(self) -> KindConfig:
        if self.active_from and self.active_until and self.active_until < self.active_from:
            raise ValueError("active_until must not be before active_from")
        return self


DEFAULT_KINDS: Mapping[str, KindConfig] = {
    "share": KindConfig.model_validate(
        {"class": "give", "weight": 4, "requires": ["url", "credit"]}
    ),
    "help": KindConfig.model_validate({"class": "give", "weight": 3}),
    "promo": KindConfig.model_validate({"class": "pitch", "weight": 1}),
}


RULE_KEYS = ("ratio", "window_posts", "window_days", "min_pitch_gap_hours")


class BalanceConfig(_Model):
    """The give-to-pitch rule, by preset or by its fields."""

    preset: str | None = None
    give_to_pitch: str | None = None
    window_posts: int | None = Field(default=None, ge=1, le=bounds.MAX_WINDOW_POSTS)
    window_days: float | None = Field(
        default=None, ge=bounds.MIN_WINDOW_DAYS, le=bounds.MAX_WINDOW_DAYS
    )
    min_pitch_gap_hours: float | None = Field(default=None, ge=0, le=bounds.MAX_GAP_HOURS)
    scope: Literal["account", "brand"] = "account"

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in balancer.PRESETS:
            names = ", ".join(sorted(balancer.PRESETS))
            raise ValueError(f'unknown preset "{value}" (expected one of: {names})')
        return value

    @field_validator("give_to_pitch")
    @classmethod
    def _valid_ratio(cls, value: str | None) -> str | None:
        if value is not None:
            balancer.parse_ratio(value)
        return value

    def settings(self, base: balancer.BalanceSettings | None = None) -> balancer.BalanceSettings:
        """The balancer settings these fields compile to.

        Without ``base`` (the top-level ``[balance]``): a preset's ratio and count window, or
        ``give_to_pitch`` (default 4:1) over ``window_posts`` (default 10); ``window_days``
        and ``min_pitch_gap_hours`` default to 7 days and 24 h without a preset, and to none
        with one. With ``base`` (an account's own table over the top-level rule): every key
        the table leaves out comes from ``base``, a preset or ``give_to_pitch`` replaces only
        the ratio (and a preset the count window), so an account's preset keeps the brand's
        days window and gap between pitches unless the account sets its own.
        """
        if base is not None:
            return self._over(base)
        if self.preset is not None:
            preset = balancer.preset_settings(self.preset)
            return balancer.BalanceSettings(
                max_pitch_share=preset.max_pitch_share,
                window_posts=self.window_posts or preset.window_posts,
                window_days=_given(self.window_days, preset.window_days),
                min_pitch_gap_hours=_given(self.min_pitch_gap_hours, preset.min_pitch_gap_hours),
                preset=self.preset,
            )
        return balancer.BalanceSettings(
            max_pitch_share=balancer.parse_ratio(self.give_to_pitch or "4:1"),
            window_posts=_given(self.window_posts, 10),
            window_days=_given(self.window_days, 7),
            min_pitch_gap_hours=_given(self.min_pitch_gap_hours, 24),
        )

    def inherited(self) -> list[str]:
        """What an account's table leaves to the top-level ``[balance]``, among ``ratio``,
        ``window_posts``, ``window_days`` and ``min_pitch_gap_hours``."""
        keys = []
        if self.preset is None and self.give_to_pitch is None:
            keys.append("ratio")
        if self.preset is None and self.window_posts is None:
            keys.append("window_posts")
        keys += [
            key for key in ("window_days", "min_pitch_gap_hours") if getattr(self, key) is None
        ]
        return keys

    def _over(self, base: balancer.BalanceSettings) -> balancer.BalanceSettings:
        share, posts, preset = base.max_pitch_share, base.window_posts, base.preset
        if self.preset is not None:
            compiled = balancer.preset_settings(self.preset)
            share, posts, preset = compiled.max_pitch_share, compiled.window_posts, self.preset
        elif self.give_to_pitch is not None:
            share, preset = balancer.parse_ratio(self.give_to_pitch), None
        return balancer.BalanceSettings(
            max_pitch_share=share,
            window_posts=_given(self.window_posts, posts),
            window_days=_given(self.window_days, base.window_days),
            min_pitch_gap_hours=_given(self.min_pitch_gap_hours, base.min_pitch_gap_hours),
            preset=preset,
        )


_T = TypeVar("_T")


def _given(value: _T | None, default: _T | None) -> _T | None:
    return value if value is not None else default


class DatabaseConfig(_Model):
    url: PlainText | None = None
    # How long a command waits for another writer to let go of a SQLite file (a runner's
    # claims take milliseconds; a year's plan a few seconds). Unused on PostgreSQL.
    busy_timeout_seconds: float = Field(default=30, gt=0, le=bounds.MAX_BUSY_TIMEOUT_SECONDS)


class AccountConfig(_Model):
    """One destination: a network, credentials by reference, a timezone and weekly slots."""

    network: str
    timezone: str | None = None
    slots: list[str] = Field(default_factory=list)
    credentials: dict[CredentialKey, EnvVarName] = Field(default_factory=dict)
    options: bounds.PlainOptions = Field(default_factory=dict)
    balance: BalanceConfig | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("network")
    @classmethod
    def _network_name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            expected = '(expected e.g. "x", "mastodon")'
            raise ValueError(f"{quoted(value)} is not a network name {expected}")
        return value

    @field_validator("slots")
    @classmethod
    def _valid_slots(cls, value: list[str]) -> list[str]:
        slots.parse_slots(value)  # raises SlotSpecError (a ValueError) naming the bad spec
        return value


class PlanConfig(_Model):
    """How ``planner plan`` fills slots beyond the ratio rule."""

    duplicate_url_days: int = Field(default=30, ge=0, le=bounds.MAX_WINDOW_DAYS)
    # An image without alt text is refused at sync (False: allowed, posted without one).
    require_alt: bool = True


class MediaConfig(_Model):
    """``[media]``: images of items (``[[item.media]]``)."""

    # Shrink an image too large for a network it goes to (Pillow: planner[images]), keeping
    # its aspect ratio and dropping its metadata (EXIF, GPS location); off: refused at sync.
    resize: bool = False
    # An image given by URL is fetched at sync: the whole fetch, and the most bytes read.
    timeout_seconds: float = Field(default=20, gt=0, le=bounds.MAX_FEED_TIMEOUT_SECONDS)
    max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=bounds.MAX_FEED_BYTES)


class RunConfig(_Model):
    """How ``planner run`` publishes: lateness, retries and the clock."""

    grace_minutes: float = Field(default=60, ge=0, le=bounds.MAX_GRACE_MINUTES)
    min_spacing_seconds: float = Field(default=120, ge=0, le=bounds.MAX_SPACING_SECONDS)
    max_attempts: int = Field(default=5, ge=1, le=bounds.MAX_ATTEMPTS)
    retry_base_seconds: float = Field(default=60, gt=0, le=bounds.MAX_RETRY_SECONDS)
    retry_cap_seconds: float = Field(default=3600, gt=0, le=bounds.MAX_RETRY_SECONDS)
    sweep_seconds: float = Field(default=30, gt=0, le=bounds.MAX_SWEEP_SECONDS)
    # How many accounts publish at once (threads, each waiting on its network).
    concurrency: int = Field(default=32, ge=1, le=bounds.MAX_CONCURRENCY)


def _feed_url(value: str) -> str:
    if not value.startswith(("http://", "https://", "file://")) and "://" in value:
        raise ValueError(
            f"{quoted(value)}: a feed is an http(s):// or file:// URL, or a path to a file"
        )
    if not value.strip():
        raise ValueError("empty: give the feed's URL or a path to a feed file")
    return value


class FeedConfig(_Model):
    """One RSS or Atom feed whose entries become queue items (``[feeds.NAME]``)."""

    url: Annotated[PlainText, AfterValidator(_feed_url)]
    kind: PlainText = "share"
    accounts: list[PlainText] = Field(default_factory=list)
    credit: PlainText | None = Field(default=None, min_length=1, max_length=500)
    tags: list[PlainText] = Field(default_factory=list)
    max_per_week: int | None = Field(default=None, ge=1, le=bounds.MAX_PER_WEEK)
    not_after_days: int | None = Field(default=None, ge=1, le=bounds.MAX_FEED_DAYS)
    include: list[PlainText] = Field(default_factory=list)
    exclude: list[PlainText] = Field(default_factory=list)
    first_sync_days: float = Field(default=14, ge=0, le=bounds.MAX_FEED_DAYS)
    priority: int = Field(default=0, ge=-(2**31), le=2**31 - 1)  # of the items, as in a queue
    # Entries linking to an own domain are your own promotion: this kind (a pitch).
    pitch_kind: PlainText = "promo"


class FeedsConfig(_Model):
    """``[feeds]``: how feeds are fetched, and each ``[feeds.NAME]`` (in ``sources``)."""

    refresh_minutes: float | None = Field(default=None, gt=0, le=bounds.MAX_REFRESH_MINUTES)
    timeout_seconds: float = Field(default=20, gt=0, le=bounds.MAX_FEED_TIMEOUT_SECONDS)
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=bounds.MAX_FEED_BYTES)
    max_redirects: int = Field(default=5, ge=0, le=bounds.MAX_FEED_REDIRECTS)
    sources: dict[str, FeedConfig] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _tables_are_feeds(cls, data: Any) -> Any:
        # [feeds.NAME] tables sit beside the [feeds] keys: gather them under `sources`
        # (error messages name them feeds.NAME again, see planner.config.settings).
        if isinstance(data, Mapping) and "sources" not in data:
            feeds = {key: value for key, value in data.items() if isinstance(value, Mapping)}
            rest = {key: value for key, value in data.items() if key not in feeds}
            return {**rest, "sources": feeds}
        return data


DEFAULT_ASK_PATTERNS = (
    # English
    r"\bplease\s+(?:rt|retweet|share|boost|repost)\b",
    r"\bpl[sz]e?\s+(?:rt|retweet|share|boost|repost)\b",
    r"\bretweet\b",
    r"\brt\s+(?:if|this|pls|please)\b",
    r"\b(?:share|boost|repost)\s+(?:this|if|pls|please)\b",
    r"\bfollow\s+(?:me|us)\b",
    r"\bfollow\s+back\b",
    r"#ff\b",
    r"#followfriday\b",
    r"\bfollow\s+friday\b",
    r"\bsmash\s+(?:that|the)\s+(?:like|follow)\b",
    # German
    r"\bbitte\s+(?:rt|retweeten|teilen|weitersagen|folgen)\b",
    r"\bfolgt\s+(?:mir|uns)\b",
    # French
    r"\bmerci\s+de\s+(?:rt|retweeter|partager)\b",
    r"\bsuivez[-\s](?:moi|nous)\b",
    # Spanish
    r"\b(?:por\s+favor\s+)?(?:comparte|compartan|retuitea|rt\s+por\s+favor)\b",
    r"\bs[ií]gue(?:me|nos)\b",
    # Portuguese
    r"\bme\s+siga\b|\bsiga-me\b",
    # Italian
    r"\bseguitemi\b|\bcondividete\b",
    # Dutch
    r"\bvolg\s+(?:mij|ons)\b",
)


def _compiles(patterns: list[str]) -> list[str]:
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {index + 1} {quoted(pattern)} is not valid: {exc}") from None
    return patterns


class LintConfig(_Model):
    """``[lint]``: the etiquette lint of item texts (asking for shares or follows, ...)."""

    mode: Literal["warn", "hold", "off"] = "warn"
    ask_patterns: Annotated[list[PlainText], AfterValidator(_compiles)] = Field(
        default_factory=lambda: list(DEFAULT_ASK_PATTERNS)
    )
    extra_ask_patterns: Annotated[list[PlainText], AfterValidator(_compiles)] = Field(
        default_factory=list
    )
    share_without_credit: bool = True
    link_only: bool = True


class PlannerSettings(_Model):
    """The whole ``planner.toml``, as validated."""

    timezone: str = "UTC"
    own_domains: list[str] = Field(default_factory=list)
    queue_dir: PlainText = "queue"
    templates_dir: PlainText = "templates"
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    kinds: dict[str, KindConfig] = Field(default_factory=dict)
    balance: BalanceConfig = Field(default_factory=BalanceConfig)
    plan: PlanConfig = Field(default_factory=PlanConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    feeds: FeedsConfig = Field(default_factory=FeedsConfig)
    media: MediaConfig = Field(default_factory=MediaConfig)
    lint: LintConfig = Field(default_factory=LintConfig)
    accounts: dict[str, AccountConfig] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        _check_timezone(value)
        return value

    @field_validator("own_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not _DOMAIN.fullmatch(domain):
                expected = '(expected e.g. "example.com")'
                raise ValueError(f"{quoted(domain)} is not a domain name {expected}")
        return value
