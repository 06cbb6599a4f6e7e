"""Check at sync what planning will need: each item renders, and fits, on every account it
goes to.

``planner queue sync`` and ``queue add`` run this on the items they are about to write, so a
share without the ``title`` its template prints, or a tip too long for X, is refused when it
is written (exit 2, file, line, item and account named) instead of being skipped by a plan
weeks later. It is the same work :mod:`planner.plan.store` does at plan time: the same
:class:`~planner.plan.render.Renderer` (each account's network picks the template or the
item's variant) and each account's own adapter ``validate`` (built without secrets).

What is refused, per item and target account:

- a render error (an undefined variable, a template error, an empty text), named once for
  all the accounts it hits;
- a text the network refuses (too long, …), with the network's limit and the measured
  length from the adapter, and the fix: a shorter text or ``[item.variants.NETWORK] text``;
- a variant for a network that is not installed (``[item.variants.mastodn]``), which no
  account could ever use.

A template file that cannot be read at all (:class:`TemplateFileError`) is not an item's
fault: it propagates and stops the command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from planner.adapters.registry import available_networks, make_adapter
from planner.config.problems import format_loc
from planner.config.settings import Config
from planner.content.files import ItemFailure, QueueItem, item_failures_error
from planner.content.media_limits import (
    MediaFacts,
    MediaLimits,
    media_problems,
    network_limits,
)
from planner.plan.render import Renderer, RenderError, RenderInput, TemplateFileError

Validator = Callable[[str], list[str]]
_PROGRESS_STEP = 500  # items between two progress reports


class ItemChecker:
    """Renders items for their accounts and collects what would stop them being planned."""

    def __init__(
        self,
        config: Config,
        renderer: Renderer | None = None,
        validators: Mapping[str, Validator] | None = None,
    ) -> None:
        self.config = config
        self.renderer = renderer or Renderer.from_config(config)
        accounts = config.settings.accounts
        self.network = {name: account.network for name, account in accounts.items()}
        adapters: dict[str, object] = {}
        if validators is None:
            # Validating a text never needs the secrets: adapters built without them.
            adapters = {name: make_adapter(config.account_settings(name), {}) for name in accounts}
            validators = {name: adapter.validate for name, adapter in adapters.items()}  # type: ignore[attr-defined]
        self.validators = validators
        # What each account's network takes as images (None: no images), and why not.
        self.media_limits: dict[str, MediaLimits | None] = {}
        self.media_unavailable: dict[str, str] = {}
        for name, account in accounts.items():
            adapter = adapters.get(name)
            if adapter is None:  # validators given: the built-in limits of the network
                self.media_limits[name] = network_limits(account.network, account.options)
                continue
            self.media_limits[name] = getattr(adapter, "media_limits", None)
            reason = getattr(adapter, "media_unavailable", None)
            if isinstance(reason, str):
                self.media_unavailable[name] = reason
        self.networks = sorted(available_networks())

    def failures(self, item: QueueItem) -> list[ItemFailure]:
        """What stops ``item`` on its accounts (all accounts when it names none)."""
        content = RenderInput.from_item(item)
        render_errors: dict[tuple[tuple[str | int, ...], str], list[str]] = {}
        found: list[ItemFailure] = []
        texts: dict[str, str] = {}  # an item for 50 accounts of one network renders once
        for account in item.accounts or list(self.network):
            network = self.network[account]
            try:
                text = self.renderer.render_shared(content, network, account, texts)
            except TemplateFileError:
                raise
            except RenderError as error:
                render_errors.setdefault((_render_key(error, item), _reason(error)), []).append(
                    account
                )
                continue
            invalid = self.validators[account](text)
            if invalid:
                key: tuple[str | int, ...] = (
                    ("variants", network, "text") if network in item.variants else ("text",)
                )
                found.append((item, key, _refused(account, network, invalid, item)))
        found[:0] = [
            (item, key, f"{reason} (rendering for {_names(accounts)})")
            for (key, reason), accounts in render_errors.items()
        ]
        if item.media:
            found += self._media_failures(item)
        for network in item.variants:
            if network not in self.networks:
                installed = ", ".join(self.networks)
                message = f'unknown network "{network}" (installed: {installed})'
                found.append((item, ("variants", network), message))
        return found

    def _media_failures(self, item: QueueItem) -> list[ItemFailure]:
        """What the item's accounts' networks refuse of its images, each problem once for
        all the accounts of one network."""
        facts = [MediaFacts(image.mime, image.size, image.alt) for image in item.media]
        by_problem: dict[tuple[tuple[str | int, ...], str], list[str]] = {}
        for account in item.accounts or list(self.network):
            network = self.network[account]
            limits = self.media_limits.get(account)
            if limits is None:
                problem = self.media_unavailable.get(
                    account, f"the {network} adapter posts no images"
                )
                by_problem.setdefault((("media",), problem), []).append(account)
                continue
            for index, key, message in media_problems(facts, limits, network):
                where: tuple[str | int, ...] = (
                    ("media",) if index is None else ("media", index, key)
                )
                if index is not None and key == "path" and item.media[index].is_url:
                    where = ("media", index, "url")
                by_problem.setdefault((where, message), []).append(account)
        return [
            (item, where, f"{message} ({_names(accounts)})")
            for (where, message), accounts in by_problem.items()
        ]

    def check(
        self,
        items: Sequence[QueueItem],
        name_key: Callable[[tuple[str | int, ...]], str] = format_loc,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Raise :class:`~planner.errors.QueueFileError` naming every failure among ``items``.

        ``name_key`` names the key at fault for an item not read from a file (``queue add``
        names its option); ``progress`` is told the number of items checked, in batches.
        """
        failures: list[ItemFailure] = []
        for start in range(0, len(items), _PROGRESS_STEP):
            batch = items[start : start + _PROGRESS_STEP]
            failures += [failure for item in batch for failure in self.failures(item)]
            if progress is not None:
                progress(len(batch))
        if failures:
            raise item_failures_error(failures, name_key)


def _render_key(error: RenderError, item: QueueItem) -> tuple[str | int, ...]:
    """The item key a render error points at: the undefined variable when the item could have
    set it (``title``, a field), else the item itself."""
    variable = error.variable
    if variable is None:
        return ()
    if variable in {"text", "title", "url", "credit"}:
        return (variable,)
    return ("fields", variable) if variable in item.fields else ()


def _reason(error: RenderError) -> str:
    template = f"template {error.template}" if error.template else ""
    if template and error.line is not None:
        template += f" line {error.line}"
    return f"{template}: {error.reason}" if template else error.reason


def _refused(account: str, network: str, invalid: list[str], item: QueueItem) -> str:
    verb = "shorten" if any("too long" in problem for problem in invalid) else "change"
    if network in item.variants:
        fix = f"{verb} its [item.variants.{network}] text"
    else:
        fix = f'{verb} the text, or give {network} its own: [item.variants.{network}] text = "…"'
    return f'account "{account}" ({network}): {"; ".join(invalid)}: {fix}'


def _names(accounts: Sequence[str]) -> str:
    quoted = ", ".join(f'"{name}"' for name in accounts)
    return f"account{'s' if len(accounts) > 1 else ''} {quoted}"
