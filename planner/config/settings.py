"""Load and validate ``planner.toml`` (its schema: :mod:`planner.config.schema`).

The file is parsed with ``tomllib`` and validated with pydantic in strict mode: unknown keys,
wrong types, unknown timezones, bad slot specs and inconsistent balance settings are all
collected into one :class:`~planner.errors.ConfigError` whose lines name the file, the line
and the key. Secrets never live in the file: accounts name the *environment variables* that
hold them (``access_token_env = "X_ACCESS_TOKEN"``), read at publish time.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import (
    ValidationError,
)

from planner.adapters.base import AccountSettings
from planner.adapters.registry import available_networks
from planner.config import bounds
from planner.config.adapter_options import adapter_problems
from planner.config.names import CONFIG_ENV_VAR as CONFIG_ENV_VAR
from planner.config.names import CONFIG_FILENAME as CONFIG_FILENAME
from planner.config.problems import describe_errors, format_loc, quoted
from planner.config.schema import (
    DEFAULT_KINDS,
    KIND_CLASSES,
    NAME,
    AccountConfig,
    BalanceConfig,
    DatabaseConfig,
    FeedConfig,
    FeedsConfig,
    KindConfig,
    LintConfig,
    PlanConfig,
    PlannerSettings,
    RunConfig,
)
from planner.config.toml_locate import find_line
from planner.errors import ConfigError, Problem
from planner.plan import slots
from planner.rule import balancer


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

    def balance_scope(self, account: str) -> str:
        """The window ``account``'s posts count in: the brand's (``"*brand*"``, shared by every
        account, with ``[balance] scope = "brand"``) or the account's own (its name)."""
        return "*brand*" if self.settings.balance.scope == "brand" else account

    def balance_for_brand(self) -> balancer.BalanceSettings:
        """The top-level ``[balance]`` settings (brand-wide scope, and the accounts' default)."""
        return self.settings.balance.settings()

    def balance_for(self, account: str) -> balancer.BalanceSettings:
        """An account's rule: its own ``balance`` table over the top-level one.

        Each key the account's table leaves out comes from ``[balance]`` (see
        :meth:`~planner.config.schema.BalanceConfig.settings`); no table: the top-level rule.
        """
        brand = self.balance_for_brand()
        own = self.settings.accounts[account].balance
        return brand if own is None else own.settings(brand)


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
        if not NAME.fullmatch(name) or len(name) > bounds.MAX_KIND_NAME:
            loc = ("kinds", name)
            msg = (
                f"{quoted(name)} is not a valid kind name (lower-case letters, digits, - _; "
                f"at most {bounds.MAX_KIND_NAME} characters)"
            )
            problems.append(_problem(path, text, loc, msg))
    labels = set(known) | set(KIND_CLASSES)
    balances: list[tuple[tuple[str | int, ...], BalanceConfig]] = [(("balance",), settings.balance)]
    for account_name, account in settings.accounts.items():
        if not NAME.fullmatch(account_name) or len(account_name) > bounds.MAX_ACCOUNT_NAME:
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
        if balance_loc[0] == "accounts" and "scope" in balance.model_fields_set:
            msg = (
                'scope is brand-wide: set it in [balance] (scope = "brand" makes every account '
                "share the top-level rule)"
            )
            problems.append(_problem(path, text, (*balance_loc, "scope"), msg))
        elif balance_loc[0] == "accounts" and settings.balance.scope == "brand":
            msg = (
                'not used: with [balance] scope = "brand" every account follows the top-level '
                'rule (remove this table, or set scope = "account" in [balance])'
            )
            problems.append(_problem(path, text, balance_loc, msg))
    problems += adapter_problems(settings.accounts, text, path)  # what `run` would refuse
    problems += _feed_problems(settings, known, text, path)
    return problems


def _feed_problems(
    settings: PlannerSettings, kinds: dict[str, KindConfig], text: str, path: Path
) -> list[Problem]:
    """Each feed's name, kinds and accounts name what exists."""
    problems: list[Problem] = []
    for name, feed in settings.feeds.sources.items():
        loc: tuple[str | int, ...] = ("feeds", name)
        if not NAME.fullmatch(name) or len(name) > bounds.MAX_ACCOUNT_NAME:
            msg = (
                f"{quoted(name)} is not a valid feed name (lower-case letters, digits, - _; "
                f"at most {bounds.MAX_ACCOUNT_NAME} characters)"
            )
            problems.append(_problem(path, text, loc, msg))
        for key, kind_class in (("kind", None), ("pitch_kind", "pitch")):
            kind = getattr(feed, key)
            if kind not in kinds:
                expected = ", ".join(sorted(kinds))
                msg = f'unknown kind "{kind}" (expected one of: {expected})'
                problems.append(_problem(path, text, (*loc, key), msg))
            elif kind_class is not None and kinds[kind].class_ != kind_class:
                msg = (
                    f'"{kind}" is a give kind: entries linking to your own_domains are pitches, '
                    "name a pitch kind"
                )
                problems.append(_problem(path, text, (*loc, key), msg))
        for account in feed.accounts:
            if account not in settings.accounts:
                expected = ", ".join(sorted(settings.accounts)) or "none configured"
                msg = f'unknown account "{account}" (expected: {expected})'
                problems.append(_problem(path, text, (*loc, "accounts"), msg))
    return problems


def _problem(path: Path, text: str, loc: tuple[str | int, ...], message: str) -> Problem:
    return Problem(path, message, line=find_line(text, loc), where=format_loc(loc))


def validation_problems(exc: ValidationError, text: str, path: Path) -> list[Problem]:
    """Pydantic's errors as problems naming the file, line and key."""
    pairs = describe_errors(exc, CONFIG_KEYS)
    return [_problem(path, text, _written(loc), message) for loc, message in pairs]


def _written(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """A key path as the file spells it: ``[feeds.NAME]`` tables are validated under
    ``feeds.sources.NAME``."""
    if loc[:2] == ("feeds", "sources") and len(loc) > 2:
        return ("feeds", *loc[2:])
    return loc


CONFIG_KEYS = {
    *PlannerSettings.model_fields,
    *AccountConfig.model_fields,
    *BalanceConfig.model_fields,
    *DatabaseConfig.model_fields,
    *PlanConfig.model_fields,
    *RunConfig.model_fields,
    *FeedsConfig.model_fields,
    *FeedConfig.model_fields,
    *LintConfig.model_fields,
    "class",
    *(name for name in KindConfig.model_fields if name != "class_"),
}
