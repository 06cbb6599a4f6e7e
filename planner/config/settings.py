"""Load and validate ``planner.toml``.

The file is parsed with ``tomllib`` and validated with pydantic in strict mode: unknown keys,
wrong types, unknown timezones, bad slot specs and inconsistent balance settings are all
collected into one :class:`~planner.errors.ConfigError` whose lines name the file, the line
and the key. Secrets never live in the file: accounts name the *environment variables* that
hold them (``access_token_env = "X_ACCESS_TOKEN"``), read at publish time.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from planner.adapters.base import AccountSettings
from planner.adapters.registry import available_networks
from planner.config import bounds
from planner.config.bounds import PlainText
from planner.config.problems import describe_errors, format_loc, quoted
from planner.config.toml_locate import find_line
from planner.errors import ConfigError, Problem
from planner.plan import slots
from planner.rule import balancer

CONFIG_FILENAME = "planner.toml"
CONFIG_ENV_VAR = "PLANNER_CONFIG"
KIND_CLASSES = ("give", "pitch")

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
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


DEFAULT_KINDS: Mapping[str, KindConfig] = {
    "share": KindConfig.model_validate(
        {"class": "give", "weight": 4, "requires": ["url", "credit"]}
    ),
    "help": KindConfig.model_validate({"class": "give", "weight": 3}),
    "promo": KindConfig.model_validate({"class": "pitch", "weight": 1}),
}


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

    def settings(self) -> balancer.BalanceSettings:
        """The balancer settings these fields compile to (defaults: 4:1, 10 posts, 7 days, 24 h)."""
        if self.preset is not None:
            preset = balancer.preset_settings(self.preset)
            return balancer.BalanceSettings(
                max_pitch_share=preset.max_pitch_share,
                window_posts=self.window_posts or preset.window_posts,
                window_days=self.window_days
                if self.window_days is not None
                else preset.window_days,
                min_pitch_gap_hours=self.min_pitch_gap_hours
                if self.min_pitch_gap_hours is not None
                else preset.min_pitch_gap_hours,
                preset=self.preset,
            )
        return balancer.BalanceSettings(
            max_pitch_share=balancer.parse_ratio(self.give_to_pitch or "4:1"),
            window_posts=self.window_posts if self.window_posts is not None else 10,
            window_days=self.window_days if self.window_days is not None else 7,
            min_pitch_gap_hours=self.min_pitch_gap_hours
            if self.min_pitch_gap_hours is not None
            else 24,
        )


class DatabaseConfig(_Model):
    url: PlainText | None = None


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
        if not _NAME.fullmatch(value):
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


class RunConfig(_Model):
    """How ``planner run`` publishes: lateness, retries and the clock."""

    grace_minutes: float = Field(default=60, ge=0, le=bounds.MAX_GRACE_MINUTES)
    min_spacing_seconds: float = Field(default=120, ge=0, le=bounds.MAX_SPACING_SECONDS)
    max_attempts: int = Field(default=5, ge=1, le=bounds.MAX_ATTEMPTS)
    retry_base_seconds: float = Field(default=60, gt=0, le=bounds.MAX_RETRY_SECONDS)
    retry_cap_seconds: float = Field(default=3600, gt=0, le=bounds.MAX_RETRY_SECONDS)
    sweep_seconds: float = Field(default=30, gt=0, le=bounds.MAX_SWEEP_SECONDS)


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


@dataclass(frozen=True)
class Config:
    """A validated configuration together with the file it came from."""

    path: Path
    settings: PlannerSettings

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @cached_property
    def kinds(self) -> dict[str, KindConfig]:
        """The built-in kinds, extended or overridden by the file's ``[kinds]``."""
        return {**DEFAULT_KINDS, **self.settings.kinds}

    def kind_class(self, kind: str) -> str:
        return self.kinds[kind].class_

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL; a relative SQLite path is taken relative to the config file."""
        url = self.settings.database.url
        if url is None:
            return f"sqlite:///{self.base_dir / 'planner.db'}"
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            relative = url[len(prefix) :]
            if relative and relative != ":memory:":
                return prefix + str(self.base_dir / relative)
        return url

    @property
    def queue_path(self) -> Path:
        return self.base_dir / self.settings.queue_dir

    @property
    def templates_path(self) -> Path:
        return self.base_dir / self.settings.templates_dir

    def account_timezone(self, account: str) -> ZoneInfo:
        return ZoneInfo(self.settings.accounts[account].timezone or self.settings.timezone)

    def account_slots(self, account: str) -> list[slots.WeeklySlot]:
        return slots.parse_slots(self.settings.accounts[account].slots)

    def account_settings(self, account: str) -> AccountSettings:
        """An account's configuration as its network adapter receives it."""
        settings = self.settings.accounts[account]
        return AccountSettings(
            name=account,
            network=settings.network,
            base_dir=self.base_dir,
            options=settings.options,
            credentials=settings.credentials,
        )

    def balance_for_brand(self) -> balancer.BalanceSettings:
        """The top-level ``[balance]`` settings (brand-wide scope, and the accounts' default)."""
        return self.settings.balance.settings()

    def balance_for(self, account: str) -> balancer.BalanceSettings:
        """An account's own ``balance`` table if it has one, else the top-level one."""
        own = self.settings.accounts[account].balance
        return (own or self.settings.balance).settings()


def find_config(explicit: str | Path | None = None, cwd: Path | None = None) -> Path:
    """Where the configuration is: ``explicit``, else ``$PLANNER_CONFIG``, else ./planner.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    return (cwd or Path.cwd()) / CONFIG_FILENAME


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file; raise :class:`ConfigError` naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(path, "no configuration file here (create one with `planner init`)")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path, f"cannot read: {exc}")]) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate configuration ``text`` as if read from ``path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(path, f"not valid TOML: {exc}")]) from None
    try:
        settings = PlannerSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, text, path)) from None
    problems = _cross_check(settings, text, path)
    if problems:
        raise ConfigError(problems)
    return Config(path=path.resolve(), settings=settings)


def _cross_check(settings: PlannerSettings, text: str, path: Path) -> list[Problem]:
    """Rules that span keys: slot labels must name a known kind or class, balance fields agree."""
    problems: list[Problem] = []
    loc: tuple[str | int, ...]
    known = {**DEFAULT_KINDS, **settings.kinds}
    for name in settings.kinds:
        if not _NAME.fullmatch(name) or len(name) > bounds.MAX_KIND_NAME:
            loc = ("kinds", name)
            msg = (
                f"{quoted(name)} is not a valid kind name (lower-case letters, digits, - _; "
                f"at most {bounds.MAX_KIND_NAME} characters)"
            )
            problems.append(_problem(path, text, loc, msg))
    labels = set(known) | set(KIND_CLASSES)
    balances: list[tuple[tuple[str | int, ...], BalanceConfig]] = [(("balance",), settings.balance)]
    for account_name, account in settings.accounts.items():
        if not _NAME.fullmatch(account_name) or len(account_name) > bounds.MAX_ACCOUNT_NAME:
            loc = ("accounts", account_name)
            msg = (
                f"{quoted(account_name)} is not a valid account name (lower-case letters, "
                f"digits, - _; at most {bounds.MAX_ACCOUNT_NAME} characters)"
            )
            problems.append(_problem(path, text, loc, msg))
        for index, spec in enumerate(account.slots):
            label = slots.parse_slot(spec)[0].label  # every day of one spec has the same label
            if label is not None and label not in labels:
                loc = ("accounts", account_name, "slots", index)
                expected = ", ".join(sorted(labels))
                msg = f'"{spec}": unknown kind or class "{label}" (expected {expected})'
                problems.append(_problem(path, text, loc, msg))
        if account.balance is not None:
            balances.append((("accounts", account_name, "balance"), account.balance))
        networks = available_networks()
        if account.network not in networks:
            loc = ("accounts", account_name, "network")
            installed = ", ".join(sorted(networks)) or "none"
            msg = (
                f'unknown network "{account.network}" (installed: {installed}; a network is '
                "added by installing its adapter package)"
            )
            problems.append(_problem(path, text, loc, msg))
    for balance_loc, balance in balances:
        if balance.preset is not None and balance.give_to_pitch is not None:
            msg = "give preset or give_to_pitch, not both: a preset sets the ratio"
            problems.append(_problem(path, text, (*balance_loc, "give_to_pitch"), msg))
    return problems


def _problem(path: Path, text: str, loc: tuple[str | int, ...], message: str) -> Problem:
    return Problem(path, message, line=find_line(text, loc), where=format_loc(loc))


def validation_problems(exc: ValidationError, text: str, path: Path) -> list[Problem]:
    """Pydantic's errors as problems naming the file, line and key."""
    pairs = describe_errors(exc, CONFIG_KEYS)
    return [_problem(path, text, loc, message) for loc, message in pairs]


CONFIG_KEYS = {
    *PlannerSettings.model_fields,
    *AccountConfig.model_fields,
    *BalanceConfig.model_fields,
    *DatabaseConfig.model_fields,
    *PlanConfig.model_fields,
    *RunConfig.model_fields,
    "class",
    *(name for name in KindConfig.model_fields if name != "class_"),
}
