"""Render a post's text from its item, with the user's Jinja2 templates over the built-in ones.

Posts are rendered when they are planned, so a broken template or an item missing data shows
at ``planner plan``, not at a publish at 3 a.m.: the item is reported (template, line,
variable) and skipped, and the rest of the week is planned; a template file that cannot be
read at all stops the plan (exit 2). The rules, in order:

1. a per-network variant (``[item.variants.mastodon] text = "…"``) is the text, literally;
2. else a template: ``<kind>.<network>.txt.j2`` if present, else the kind's configured
   ``template``, else ``<kind>.txt.j2``; the user's templates folder overrides the built-in
   one file by file;
3. else, with no template at all, the item's own ``text`` (and its ``url`` if the text does
   not already contain it).

Templates run in Jinja's sandbox with strict undefined variables, bounded by
:data:`POST_LIMITS` (see :mod:`planner.plan.sandbox`): a template that loops or grows without
end is reported like any other template error instead of hanging the plan.

An optional item attribute that is not set (``title``, ``url``, ``credit``, ``text``) is
falsy in ``{% if %}`` but an error when printed, so ``"{{ credit }}"`` on an item without
credit is reported instead of publishing "None".

Errors::

    InputError
    └── RenderError             item, template, line and variable named; the item
                                is skipped
        └── TemplateFileError   a template file cannot be read (not UTF-8): no item renders

Why this module is long: choosing the template, rendering it and saying where it failed
(which file of which folder, which line, which variable) need the same folders and names;
the limits themselves live in :mod:`planner.plan.sandbox`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
)
from jinja2.exceptions import SecurityError

from planner.errors import InputError, Problem
from planner.plan.sandbox import (
    BoundedSandbox,
    Limits,
    TemplateLimitExceeded,
    innermost_template_line,
    not_utf8,
)
from planner.workspace import default_templates_dir

if TYPE_CHECKING:
    from planner.config.settings import Config

POST_TEMPLATE_SUFFIX = ".txt.j2"

# The variables every template sees; an item's fields may add others but not replace these.
BUILTIN_VARIABLES = frozenset(
    {"text", "title", "url", "credit", "tags", "kind", "id", "network", "account"}
)
_OPTIONAL = ("text", "title", "url", "credit")

_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined")
# Runs of spaces left by empty optional parts ("{{ a }} {{ b }} {{ c }}" with b empty), and
# spaces left at the end of a line. Indentation at the start of a line is kept.
_SPACE_RUN = re.compile(r"(?<=\S) {2,}")
_TRAILING_SPACES = re.compile(r" +(?=\n)")

_NO_TEMPLATE_NAMES: Mapping[str, str | None] = MappingProxyType({})

# What rendering one post may use. 65,536 characters is above the longest post any network
# takes (a Facebook Page post: 63,206), so no real post is refused; the step, work and time
# limits are a thousand times what the built-in templates need, and stop a runaway loop in
# well under a second.
POST_LIMITS = Limits(
    output_chars=65_536,
    value_chars=65_536,
    steps=100_000,
    chars_made=4 * 1024 * 1024,
    seconds=1.0,
    range_items=65_536,
)


class RenderError(InputError):
    """A post's text could not be rendered: a template or an item's data is wrong.

    ``item_id``, ``template`` (a template name such as ``share.txt.j2``), ``line`` and
    ``variable`` are ``None`` when they do not apply; ``reason`` is the message without them.
    """

    def __init__(
        self,
        reason: str,
        *,
        item_id: str | None = None,
        template: str | None = None,
        line: int | None = None,
        variable: str | None = None,
    ) -> None:
        self.reason = reason
        self.item_id = item_id
        self.template = template
        self.line = line
        self.variable = variable
        parts = []
        if item_id is not None:
            parts.append(f'item "{item_id}"')
        if template is not None:
            parts.append(f"template {template}" + (f" line {line}" if line is not None else ""))
        parts.append(reason)
        super().__init__(": ".join(parts))


class TemplateFileError(RenderError):
    """A template file cannot be read at all: every post it renders would fail.

    ``planner plan`` stops on it (exit 2) instead of skipping each item; at publish time it
    is a render error like any other.
    """


class _Missing(StrictUndefined):
    """An optional item attribute with no value: false in a test, an error when printed."""

    __slots__ = ()

    def __bool__(self) -> bool:  # type: ignore[override]  # the point of this class
        return False


_MISSING = {name: _Missing(name=name) for name in _OPTIONAL}


@dataclass(frozen=True)
class _Compiled:
    template: Template
    globals: Mapping[str, Any]  # the environment's globals (range, dict, …), merged once
    # Renders one text for every account of a network (see Renderer.same_for_every_account).
    account_free: bool


# What makes two renders of one item on one network differ: the account's name, and Jinja's
# random text and choices.
_PER_RENDER_NAMES = frozenset({"account", "lipsum"})
_PER_RENDER_FILTERS = frozenset({"random"})


class ItemLike(Protocol):
    """What :meth:`RenderInput.from_item` reads.

    ``planner.store.models.Item`` and ``QueueItem`` fit.
    """

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def credit(self) -> str | None: ...
    @property
    def fields(self) -> Mapping[str, Any]: ...
    @property
    def variants(self) -> Mapping[str, Any]: ...
    @property
    def tags(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class RenderInput:
    """The part of an item that its post text is made from."""

    id: str
    kind: str
    text: str | None = None
    title: str | None = None
    url: str | None = None
    credit: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    variants: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    tags: Sequence[str] = ()

    @classmethod
    def from_item(cls, item: ItemLike) -> RenderInput:
        """A detached copy of an item's content (safe to use after its session is closed)."""
        return cls(
            id=item.id,
            kind=item.kind,
            text=item.text,
            title=item.title,
            url=item.url,
            credit=item.credit,
            fields=dict(item.fields),
            variants={
                network: {key: str(value) for key, value in variant.items()}
                for network, variant in item.variants.items()
            },
            tags=tuple(item.tags),
        )


class Renderer:
    """Renders posts with the user's templates over the built-in ones.

    ``user_templates`` may be ``None`` or a folder that does not exist (then only the built-in
    templates are used). ``templates_by_kind`` maps a kind to its configured template file
    name (``[kinds.x] template``); ``None`` or a kind not listed means ``<kind>.txt.j2``.

    Templates are compiled once and kept for the life of the renderer: make a new renderer
    to see edited template files.
    """

    def __init__(
        self,
        user_templates: Path | None,
        default_templates: Path | None = None,
        templates_by_kind: Mapping[str, str | None] = _NO_TEMPLATE_NAMES,
    ) -> None:
        if default_templates is None:
            default_templates = default_templates_dir()
        self.folders: tuple[Path, ...] = tuple(
            folder for folder in (user_templates, default_templates) if folder is not None
        )
        self.templates_by_kind = dict(templates_by_kind)
        self.environment = BoundedSandbox(
            POST_LIMITS,
            loader=ChoiceLoader([FileSystemLoader(folder) for folder in self.folders]),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        # (kind, network) -> the template to use, or None when there is none at all.
        self._chosen: dict[tuple[str, str], _Compiled | None] = {}

    @classmethod
    def from_config(cls, config: Config) -> Renderer:
        """A renderer for a :class:`~planner.config.settings.Config`: its templates and kinds."""
        return cls(
            config.templates_path,
            templates_by_kind={name: kind.template for name, kind in config.kinds.items()},
        )

    def render(self, item: RenderInput, network: str, account: str) -> str:
        """The text of ``item``'s post on ``network`` for ``account``: stripped, never empty.

        Raises :class:`RenderError` naming the item, template, line and variable at fault.
        """
        for name in item.fields:
            if name in BUILTIN_VARIABLES:
                raise RenderError(
                    f'field "{name}" would hide the template variable of the same name: '
                    "rename it in the item's fields",
                    item_id=item.id,
                    variable=name,
                )
        variant = item.variants.get(network)
        if variant is not None and "text" in variant:
            text = variant["text"].strip()
            if not text:
                raise RenderError(f"the {network} variant's text is empty", item_id=item.id)
            return text

        compiled = self._template_for(item, network)
        if compiled is None:
            return self._plain_text(item)
        template = compiled.template
        context: dict[str, Any] = {**compiled.globals, **item.fields}
        context.update(
            text=_MISSING["text"] if item.text is None else item.text,
            title=_MISSING["title"] if item.title is None else item.title,
            url=_MISSING["url"] if item.url is None else item.url,
            credit=_MISSING["credit"] if item.credit is None else item.credit,
            tags=tuple(item.tags),
            kind=item.kind,
            id=item.id,
            network=network,
            account=account,
        )
        # Template.render() would merge the globals (a ChainMap) into a new dict for every
        # post, two thirds of the cost of a short template; they are merged once instead.
        environment = self.environment
        try:
            with environment.budget():
                rendered = environment.render_bounded(
                    template.root_render_func(template.new_context(context, shared=True))
                )
        except Exception:  # a user's template may fail in any way: report, don't crash
            try:
                self.environment.handle_exception()  # re-raises with the template's lines
            except Exception as exc:
                self._raise_for(exc, item, template)
            raise
        text = _tidy(rendered)
        if not text:
            raise RenderError("the rendered post is empty", item_id=item.id, template=template.name)
        return text

    def render_shared(
        self, item: RenderInput, network: str, account: str, texts: dict[str, str]
    ) -> str:
        """:meth:`render`, for one item on many accounts: ``texts`` (one per item, empty at
        first) keeps per network the text no account can change, and gives it back rather
        than render it again (see :meth:`same_for_every_account`)."""
        text = texts.get(network)
        if text is None:
            text = self.render(item, network, account)
            if self.same_for_every_account(item, network):
                texts[network] = text
        return text

    def same_for_every_account(self, item: RenderInput, network: str) -> bool:
        """Whether :meth:`render` gives ``item`` one text on ``network`` whatever the account:
        a variant's text, the item's own text, or a template that names no ``account`` and
        nothing random, and includes, imports or extends no other template (whose names it
        does not look at). A brand posting one item on many accounts renders it once each
        network. Ask after a render of ``item`` on ``network`` succeeded."""
        variant = item.variants.get(network)
        if variant is not None and "text" in variant:
            return True
        compiled = self._template_for(item, network)
        return compiled is None or compiled.account_free

    def check_templates(self) -> list[str]:
        """Compile every post template (``*.txt.j2``) in both folders; describe each problem.

        A built-in file overridden by the user's file of the same name is not checked (it is
        never used). A kind configured with a template that exists in neither folder is a
        problem too. An empty list means every template compiles.
        """
        problems: list[str] = []
        every = set(self.environment.list_templates())
        names = {name for name in every if name.endswith(POST_TEMPLATE_SUFFIX)}
        for kind, configured in sorted(self.templates_by_kind.items()):
            if configured is None:
                continue
            if configured in every:
                names.add(configured)
            else:
                problems.append(f'kind "{kind}": {self._not_found(configured)}')
        for name in sorted(names):
            try:
                self.environment.get_template(name)
            except UnicodeDecodeError as exc:
                problems.append(not_utf8(self._path_of(name), exc))
            except TemplateSyntaxError as exc:
                where = exc.filename or name
                problems.append(str(Problem(where, exc.message or str(exc), exc.lineno)))
            except TemplateError as exc:
                problems.append(str(Problem(name, exc.message or str(exc))))
        return problems

    # -- internals -----------------------------------------------------------------------

    def _template_for(self, item: RenderInput, network: str) -> _Compiled | None:
        key = (item.kind, network)
        try:
            return self._chosen[key]
        except KeyError:
            pass
        template = self._load(f"{item.kind}.{network}{POST_TEMPLATE_SUFFIX}", item.id)
        if template is None:
            configured = self.templates_by_kind.get(item.kind)
            if configured is not None:
                template = self._load(configured, item.id)
                if template is None:
                    raise RenderError(
                        f'kind "{item.kind}" is configured with {self._not_found(configured)}',
                        item_id=item.id,
                    )
            else:
                template = self._load(f"{item.kind}{POST_TEMPLATE_SUFFIX}", item.id)
        compiled = (
            None
            if template is None
            else _Compiled(template, dict(template.globals), self._account_free(template))
        )
        self._chosen[key] = compiled
        return compiled

    def _account_free(self, template: Template) -> bool:
        loader = self.environment.loader
        if loader is None or template.name is None:
            return False
        source, _, _ = loader.get_source(self.environment, template.name)
        tree = self.environment.parse(source)
        if next(iter(meta.find_referenced_templates(tree)), None) is not None:
            return False
        # Every name read, not only the undeclared ones: lipsum is one of the globals.
        if any(name.name in _PER_RENDER_NAMES for name in tree.find_all(nodes.Name)):
            return False
        return not any(used.name in _PER_RENDER_FILTERS for used in tree.find_all(nodes.Filter))

    def _load(self, name: str, item_id: str) -> Template | None:
        try:
            return self.environment.get_template(name)
        except TemplateNotFound as exc:
            if exc.name != name:  # the template exists but refers to one that does not
                raise RenderError(str(exc.message), item_id=item_id, template=name) from None
            return None
        except TemplateSyntaxError as exc:
            raise RenderError(
                exc.message or str(exc), item_id=item_id, template=exc.name or name, line=exc.lineno
            ) from None
        except UnicodeDecodeError as exc:  # raised for the file itself or one it includes
            raise TemplateFileError(not_utf8(self._path_of(name), exc)) from None

    def _path_of(self, name: str) -> Path:
        """Where the template ``name`` is read from: the first folder that has it."""
        for folder in self.folders:
            if (folder / name).is_file():
                return folder / name
        return Path(name)

    def _not_found(self, name: str) -> str:
        folders = " or ".join(str(folder) for folder in self.folders)
        return f'template "{name}", which is not in {folders}'

    def _plain_text(self, item: RenderInput) -> str:
        if not item.text or not item.text.strip():
            raise RenderError(
                f"no template {item.kind}{POST_TEMPLATE_SUFFIX} and no text", item_id=item.id
            )
        text = item.text.strip()
        if item.url and item.url not in text:
            text = f"{text} {item.url}"
        return text

    def _raise_for(self, exc: Exception, item: RenderInput, template: Template) -> NoReturn:
        name, line = self._where(exc.__traceback__, template)
        variable = None
        if isinstance(exc, TemplateSyntaxError):  # an included template does not compile
            name, line = exc.name or name, exc.lineno
            reason = exc.message or str(exc)
        elif isinstance(exc, TemplateLimitExceeded):
            reason = str(exc)
        elif isinstance(exc, SecurityError):
            reason = f"unsafe operation: {exc}"
        elif isinstance(exc, UndefinedError):
            message = str(exc)
            found = _UNDEFINED_NAME.match(message)
            if found:
                variable = found.group(1)
                reason = f'variable "{variable}" is undefined'
                if variable in _OPTIONAL and getattr(item, variable) is None:
                    reason += f" (the item has no {variable})"
            else:
                reason = message
        elif isinstance(exc, TemplateError):
            reason = exc.message or str(exc)
        elif isinstance(exc, UnicodeDecodeError):  # a template it includes
            reason = f"an included template is not UTF-8 text ({exc.reason} at {exc.start})"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise RenderError(
            reason, item_id=item.id, template=name, line=line, variable=variable
        ) from exc

    def _where(
        self, traceback: TracebackType | None, template: Template
    ) -> tuple[str | None, int | None]:
        """The innermost template frame of a traceback: (template name, line)."""
        found = innermost_template_line(traceback)
        if found is None:
            return template.name, None
        return self._template_name(found[0]), found[1]

    def _template_name(self, filename: str) -> str:
        """A template file's name relative to the folder it is in (its path if in neither)."""
        for folder in self.folders:
            relative = os.path.relpath(filename, folder)
            if not relative.startswith(os.pardir):
                return Path(relative).as_posix()
        return filename


def _tidy(text: str) -> str:
    """Strip the text and collapse the runs of spaces left by empty optional parts."""
    text = text.strip()
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    if " \n" in text:
        text = _TRAILING_SPACES.sub("", text)
    return text
