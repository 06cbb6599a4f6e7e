"""Finding network adapters through the ``planner.adapters`` entry-point group.

A network is whatever an installed distribution declares in that group: the built-ins
(``outbox``, ``console``) are declared in the planner's own ``pyproject.toml`` exactly as a
third-party package would declare ``acme = "acme_network:AcmeAdapter"``. Nothing here imports
an adapter module until that network is asked for, so a broken plugin only breaks the
accounts that use it.

Every failure is an :class:`~planner.errors.InputError` (exit 2): the fix is to correct the
configured network name or to install (or repair) the adapter package.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from planner.adapters.base import (
    ENTRY_POINT_GROUP,
    AccountSettings,
    Adapter,
    AdapterFactory,
    OptionProblem,
)
from planner.errors import InputError

_networks: dict[str, EntryPoint] | None = None


def available_networks() -> dict[str, EntryPoint]:
    """The installed networks, by name, sorted; read from the installed metadata once.

    When two distributions declare the same name, the one earlier on ``sys.path`` wins, as
    it would for an import. The result is a fresh dict the caller may change.
    """
    global _networks
    if _networks is None:
        found: dict[str, EntryPoint] = {}
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            found.setdefault(entry_point.name, entry_point)
        _networks = dict(sorted(found.items()))
    return dict(_networks)


def refresh() -> None:
    """Forget what was found, so the next call sees packages installed (or removed) since."""
    global _networks
    _networks = None
    importlib.invalidate_caches()  # the metadata finder caches directory listings too


def load_factory(network: str) -> AdapterFactory:
    """The callable that builds adapters for ``network`` (usually the adapter class).

    Raises :class:`InputError` when no installed package declares ``network``, or when its
    entry point cannot be imported or does not name a callable.
    """
    networks = available_networks()
    entry_point = networks.get(network)
    if entry_point is None:
        installed = ", ".join(networks) or "none"
        raise InputError(
            f'unknown network "{network}" (installed: {installed}; '
            "a network is added by installing its adapter package)"
        )
    try:
        factory = entry_point.load()
    except Exception as exc:  # a plugin's import can fail in any way; report, don't crash
        where = _where(network, entry_point)
        raise InputError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if not callable(factory):
        raise InputError(
            f"{_where(network, entry_point)} names {factory!r}, which is not callable "
            "(expected an adapter class or factory)"
        )
    result: AdapterFactory = factory
    return result


def make_adapter(settings: AccountSettings, environ: Mapping[str, str]) -> Adapter:
    """The adapter for one account: its network's factory called with the settings.

    Errors the factory raises on purpose (an :class:`InputError` for a bad option) pass
    through; an object that lacks the :class:`~planner.adapters.base.Adapter` members is an
    :class:`InputError` naming the account, the network and what is missing.
    """
    factory = load_factory(settings.network)
    adapter: object = factory(settings, environ)
    missing = _missing_members(adapter)
    if missing:
        raise InputError(
            f'account "{settings.name}": the adapter for network "{settings.network}" '
            f"built a {type(adapter).__name__}, which is not an adapter "
            f"(missing: {', '.join(missing)})"
        )
    return cast(Adapter, adapter)  # its members were just checked


def check_account(settings: AccountSettings) -> list[OptionProblem]:
    """What is wrong with an account's options and credential keys for its network, with no
    secret read and nothing sent; an empty list when it is fine.

    Uses the factory's ``check_options`` when it has one. A factory without it (a
    third-party adapter written before the hook) is called with an empty environment, as
    ``planner plan`` calls it, and an :class:`InputError` it raises becomes one problem
    about the account's options; it cannot say which key. Any other exception from either
    is reported by its type, never raised: a plugin's bug must not stop the config from
    loading with a traceback. Raises :class:`InputError` only when the network's adapter
    cannot be found or loaded (:func:`load_factory`).
    """
    factory = load_factory(settings.network)
    hook = getattr(factory, "check_options", None)
    prefix = f'account "{settings.name}": '
    try:
        if callable(hook):
            found = hook(settings)
            if not isinstance(found, list | tuple) or not all(
                isinstance(problem, OptionProblem) for problem in found
            ):
                return [_broken(settings, "its check_options() did not return OptionProblems")]
            return list(found)
        make_adapter(settings, {})
    except InputError as exc:
        return [OptionProblem("", str(exc).removeprefix(prefix))]
    except Exception as exc:  # a plugin's bug: name it, never a traceback
        return [_broken(settings, f"it failed with {type(exc).__name__}")]
    return []


def public_url_options(network: str) -> frozenset[str]:
    """The options of ``network`` that hold the public address of a service (an adapter's
    ``public_url_options``), which may be shown in full; empty when the adapter declares
    none or cannot be loaded, so that every URL option is then hidden."""
    return _declared(network, "public_url_options")


def plain_options(network: str) -> frozenset[str]:
    """The options of ``network`` whose names look secret but whose values are not (an
    adapter's ``plain_options``: a header's name, say), which may be shown as written."""
    return _declared(network, "plain_options")


def _declared(network: str, attribute: str) -> frozenset[str]:
    try:
        factory = load_factory(network)
    except InputError:
        return frozenset()
    declared = getattr(factory, attribute, ())
    if not isinstance(declared, tuple | list | frozenset | set):
        return frozenset()
    return frozenset(key for key in declared if isinstance(key, str))


def _broken(settings: AccountSettings, what: str) -> OptionProblem:
    return OptionProblem(
        "", f'the adapter for network "{settings.network}" cannot check this account: {what}'
    )


def _missing_members(adapter: object) -> list[str]:
    missing = []
    if not isinstance(getattr(adapter, "supports_idempotency", None), bool):
        missing.append("supports_idempotency (a bool)")
    for method in ("validate", "publish"):
        if not callable(getattr(adapter, method, None)):
            missing.append(f"{method}()")
    return missing


def _where(network: str, entry_point: EntryPoint) -> str:
    # Only for messages: naming the package reads its metadata (an email-format file parsed
    # each time), which cost 15 ms per account when every load built it.
    return f'the adapter for network "{network}" ({entry_point.value}{_package(entry_point)})'


def _package(entry_point: EntryPoint) -> str:
    dist = entry_point.dist
    return f", from package {dist.name} {dist.version}" if dist is not None else ""
