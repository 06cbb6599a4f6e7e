"""A Jinja2 sandbox that a template cannot use to exhaust the machine.

Jinja's own sandbox stops a template from reaching Python's internals, but not from asking
for unbounded work: ``{% for i in range(100000) %}{% for j in range(100000) %}`` runs for
hours and ``{{ "x" * 100000000 }}`` makes a 100 MB string. :class:`BoundedSandbox` adds
limits (:class:`Limits`), enforced without threads or signals:

- **Loops**: every ``{% for %}`` iteration (and every item a recursive ``loop()`` walks) costs
  one step; a render may take ``steps`` of them, calls and filters included. This is what
  bounds a loop that prints nothing: ``range()`` is capped too, but a loop over a list made
  once can be nested.
- **Sizes**: no string or list a template makes (``*``, ``+``, ``~``, ``%``, a filter, a
  method call, a ``{% set %}`` block, ``list.extend``) may be longer than ``value_chars``,
  and no number larger than 32,768 bits. The operations whose result grows with an argument
  (``"x" * n``, ``|center(n)``, ``|indent(n)``, ``|replace``, ``|join``, ``|wordwrap``,
  ``|batch``, ``|slice``, ``|tojson(indent)``, ``|urlize(target)``, ``lipsum(n)``, format
  widths, ``**``) are refused *before* they allocate.
- **Work**: the characters all outputs, operations, filters and calls produce add up; a render
  may produce ``chars_made`` of them, so a loop cannot pile up a large text inside a macro or
  a ``{% set %}`` block either.
- **Time**: every step and every charge checks a deadline (``seconds`` after the render began).
- **Output**: the rendered text may be ``output_chars`` long (checked once it is joined;
  every piece was charged as **work** while it was made, so it cannot grow unbounded first).

Going over a limit raises :class:`TemplateLimitExceeded` from inside the template, so the
caller reports it with the template's file and line like any other template error. Limits
apply only within :meth:`BoundedSandbox.budget`; the size checks apply always (also when
Jinja folds constants at compile time).

Why this module is long: the limits hold only together. Every way a template does work
(operators, calls, filters, ``str.format``, loops and outputs in the compiled tree) has its
hook here, and a gap in any one would undo the others.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg, generate_lorem_ipsum, pass_context

from planner.errors import Problem


@dataclass(frozen=True)
class Limits:
    """What one render may use. See the module docstring for what each limit counts."""

    output_chars: int
    value_chars: int
    steps: int
    chars_made: int
    seconds: float
    range_items: int


class TemplateLimitExceeded(SecurityError):
    """A template asked for more than its :class:`Limits` allow."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"over a template limit: {detail}")


class _Budget:
    """What is left of one render's limits."""

    __slots__ = ("limits", "steps", "chars", "deadline", "checks")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = limits.steps
        self.chars = limits.chars_made
        self.deadline = time.monotonic() + limits.seconds
        self.checks = 0

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateLimitExceeded(
                f"more than {self.limits.steps:,} loop iterations and calls in one render"
            )
        self._in_time()

    def charge(self, size: int) -> None:
        self.chars -= size
        if self.chars < 0:
            raise TemplateLimitExceeded(
                f"more than {self.limits.chars_made:,} characters made in one render"
            )
        self._in_time()

    def _in_time(self) -> None:
        # Reading the clock costs as much as a step; every 256th is often enough, since no
        # single step can take long (the size checks come first).
        self.checks += 1
        if self.checks & 255 == 0 and time.monotonic() > self.deadline:
            raise TemplateLimitExceeded(f"rendering took longer than {self.limits.seconds:g} s")

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for value in iterable:
            self.step()
            yield value


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "planner_template_budget", default=None
)

_N = TypeVar("_N", bound=nodes.Node)

_MAX_BITS = 32 * 1024  # a number of ~10,000 digits: more than any post can print
_MAX_INDENT = 64

# Filters the code transformation below inserts; their names cannot be shadowed by a variable.
_LOOP_FILTER = "planner_counted"
_OUTPUT_FILTER = "planner_charged"
_CONST_FILTER = "planner_charge"
_SIZE_FILTER = "planner_sized"

# The width and precision of a %-format ("%10000000s", "%*s") and the spec of a str.format
# field ("{:>10000000}", "{:{width}}"): where a format can ask for a huge result.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}:]*:((?:[^{}]|\{[^{}]*\})*)\}")
_NUMBER = re.compile(r"\d+")


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox with :class:`Limits` on loops, sizes, work, time and output."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, limits: Limits, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits
        self.globals["range"] = self._range
        self.globals["lipsum"] = self._lipsum
        for name, function in list(self.filters.items()):
            self.filters[name] = self._bounded_filter(name, function)
        self.filters[_LOOP_FILTER] = _counted
        self.filters[_OUTPUT_FILTER] = _charged
        self.filters[_CONST_FILTER] = _charge_const
        self.filters[_SIZE_FILTER] = self._made

    @contextmanager
    def budget(self) -> Iterator[None]:
        """Within this block, renders in this thread and context count against the limits."""
        token = _BUDGET.set(_Budget(self.limits))
        try:
            yield
        finally:
            _BUDGET.reset(token)

    def render_bounded(self, stream: Iterable[str]) -> str:
        """Join a template's output stream (within :meth:`budget`); refuse it past the limit.

        Every piece of output was charged to the budget as it was made, so the stream cannot
        grow past ``chars_made`` before this check.
        """
        text = "".join(stream)
        if len(text) > self.limits.output_chars:
            raise TemplateLimitExceeded(
                f"the output is {len(text):,} characters long; at most "
                f"{self.limits.output_chars:,} are allowed"
            )
        return text

    # -- the hooks Jinja's sandbox offers ------------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if _sized(sequence) and isinstance(times, int):
                    self._fits(len(sequence) * max(times, 0), "a repetition")
            numbers = isinstance(left, int) and isinstance(right, int)
            if numbers and left.bit_length() + right.bit_length() > _MAX_BITS:
                raise TemplateLimitExceeded(f"a product of more than {_MAX_BITS:,} bits")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and left.bit_length() * right > _MAX_BITS:
                raise TemplateLimitExceeded(f"{left} ** {right} is too large a number")
        elif operator == "%" and isinstance(left, str):
            self._check_format(left, right if isinstance(right, tuple) else (right,))
        result = super().call_binop(context, operator, left, right)
        return self._made(result)

    # The odd parameter names are Jinja's: a template's own keyword arguments cannot clash.
    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.step()
            if isinstance(__obj, LoopContext) and args:  # a recursive loop walks a new list
                args = (budget.counted(args[0]), *args[1:])
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = __self._check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, list | dict | set):  # list.extend, dict.update, set.update, ...
            __self._fits(len(owner), f"a {type(owner).__name__}")
        return __self._made(result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            self._check_format(text, (*args, *kwargs.values()), braces=True)
            return wrapped(*args, **kwargs)

        return checked

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        _instrument(source, self)
        return super()._generate(source, name, filename, defer_init)

    # -- checks --------------------------------------------------------------------------

    def _fits(self, size: int, what: str) -> None:
        if size > self.limits.value_chars:
            raise TemplateLimitExceeded(
                f"{what} of {size:,} characters or items; at most "
                f"{self.limits.value_chars:,} are allowed"
            )

    def _made(self, value: Any) -> Any:
        """A value an operation made: within the size limit, and charged to the budget."""
        if _sized(value):
            self._fits(len(value), "a value")
            budget = _BUDGET.get()
            if budget is not None:
                budget.charge(len(value))
        elif isinstance(value, int) and value.bit_length() > _MAX_BITS:
            raise TemplateLimitExceeded(f"a number of {value.bit_length():,} bits")
        return value

    def _check_format(self, text: str, args: tuple[Any, ...], braces: bool = False) -> None:
        """Refuse a format whose widths (given, or taken from ``args``) are too large."""
        specs = (
            [m.group(1) for m in _BRACE_SPEC.finditer(text)]
            if braces
            else [f"{m.group(1) or ''}.{m.group(2) or ''}" for m in _PERCENT_SPEC.finditer(text)]
        )
        numbers = [int(found) for spec in specs for found in _NUMBER.findall(spec)]
        if any("*" in spec or "{" in spec for spec in specs):  # a width from the arguments
            numbers += [arg for arg in args if isinstance(arg, int)]
        if numbers:
            self._fits(max(numbers), "a format width")

    def _check_str_method(
        self, text: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Refuse a str method call whose result would be too large; may return new args."""
        values = [*args, *kwargs.values()]
        if method in {"center", "ljust", "rjust", "zfill"} and values:
            if isinstance(values[0], int):
                self._fits(values[0], f"str.{method}()")
        elif method == "expandtabs":
            size = values[0] if values and isinstance(values[0], int) else 8
            self._fits(len(text) + text.count("\t") * size, "str.expandtabs()")
        elif method == "replace" and len(values) >= 2:
            self._check_replace(text, values[0], values[1])
        elif method == "join" and args:
            items = _materialized(args[0])
            self._fits(len(text) * len(items), "str.join()")
            return (items, *args[1:])
        return args

    def _check_replace(self, text: str, old: Any, new: Any) -> None:
        if isinstance(old, str) and isinstance(new, str):
            count = len(text) + 1 if not old else text.count(old)
            self._fits(len(text) + count * (len(new) - len(old)), "a replacement")

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.limits.range_items:
            raise TemplateLimitExceeded(
                f"range() of {len(numbers):,} numbers; at most {self.limits.range_items:,}"
            )
        return numbers

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        self._fits(n * max * 16, "lipsum()")  # words are under 16 characters
        return generate_lorem_ipsum(n, html, min, max)

    def _bounded_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` with its size checked before (where it can grow) and after."""
        skip = 0 if _PassArg.from_obj(function) is None else 1  # the context Jinja passes

        @wraps(function)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            budget = _BUDGET.get()
            if budget is not None:
                budget.step()
            args = self._check_filter(name, args, skip, kwargs)
            return self._made(function(*args, **kwargs))

        return bounded

    def _check_filter(
        self, name: str, args: tuple[Any, ...], skip: int, kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Refuse a filter call whose result would be too large; may return new arguments."""
        if len(args) <= skip:
            return args
        value, rest = args[skip], args[skip + 1 :]

        def argument(position: int, key: str, default: Any) -> Any:
            return rest[position] if len(rest) > position else kwargs.get(key, default)

        text = value if isinstance(value, str) else None
        if name == "center":
            width = argument(0, "width", 80)
            if isinstance(width, int):
                self._fits(width, "|center")
        elif name == "indent" and text is not None:
            width = argument(0, "width", 4)
            size = len(width) if isinstance(width, str) else width
            if isinstance(size, int):
                self._fits(len(text) + (text.count("\n") + 1) * size, "|indent")
        elif name == "replace" and text is not None:
            self._check_replace(text, argument(0, "old", None), argument(1, "new", None))
        elif name == "wordwrap" and text is not None:
            wrap = argument(2, "wrapstring", None)
            extra = len(wrap) - 1 if isinstance(wrap, str) else 0
            self._fits(len(text) + (len(text) + 1) * extra, "|wordwrap")
        elif name == "format" and text is not None:
            self._check_format(text, (*rest, *kwargs.values()))
        elif name in {"batch", "slice"}:  # a count of items, or of lists, to make
            count = argument(0, "linecount" if name == "batch" else "slices", 1)
            if isinstance(count, int):
                self._fits(count, f"|{name}")
        elif name == "tojson":
            indent = argument(0, "indent", None)
            if isinstance(indent, int) and indent > _MAX_INDENT:
                raise TemplateLimitExceeded(f"|tojson indent {indent}; at most {_MAX_INDENT}")
        elif name == "urlize":
            added = [argument(2, "target", None), argument(3, "rel", None)]
            self._fits(sum(len(a) for a in added if isinstance(a, str)) * 64, "|urlize")
        elif name == "join":
            separator = argument(0, "d", "")
            items = _materialized(value)
            if isinstance(separator, str) and _sized(items):
                self._fits(len(separator) * len(items), "|join")
            return (*args[:skip], items, *args[skip + 1 :])
        return args


def _sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple | dict | set | frozenset | bytes)


def _materialized(value: Any) -> Any:
    """A sized value as it is; an iterator as a list, its items counted as loop steps."""
    if _sized(value) or isinstance(value, Undefined):
        return value
    budget = _BUDGET.get()
    return list(value if budget is None else budget.counted(value))


@pass_context
def _counted(context: Context, iterable: Any) -> Any:
    budget = _BUDGET.get()
    return iterable if budget is None else budget.counted(iterable)


@pass_context
def _charged(context: Context, value: Any) -> Any:
    budget = _BUDGET.get()
    if budget is not None:
        budget.chars -= len(value) if isinstance(value, str) else 16
        if budget.chars < 0:
            budget.charge(0)  # raises
    return value


@pass_context
def _charge_const(context: Context, value: str, size: int) -> str:
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(size)
    return value


def _instrument(template: nodes.Template, environment: BoundedSandbox) -> None:
    """Insert the counting filters into a parsed template, before Jinja compiles it.

    Every ``for`` counts its iterations; every output (``{{ }}`` and literal text, in a
    macro or a ``{% set %}`` block too) is charged; every ``~`` and captured block is sized.
    """

    def wrap(node: nodes.Node, name: str, *args: nodes.Expr) -> nodes.Filter:
        wrapped = nodes.Filter(node, name, list(args), [], None, None, lineno=node.lineno)
        wrapped.set_environment(environment)
        return wrapped

    for loop in _all(template, nodes.For):
        loop.iter = wrap(loop.iter, _LOOP_FILTER)
    for output in _all(template, nodes.Output):
        literal = sum(len(c.data) for c in output.nodes if isinstance(c, nodes.TemplateData))
        children: list[nodes.Expr] = [
            c if isinstance(c, nodes.TemplateData) else wrap(c, _OUTPUT_FILTER)
            for c in output.nodes
        ]
        if literal:
            empty = nodes.Const("", lineno=output.lineno)
            children.insert(0, wrap(empty, _CONST_FILTER, nodes.Const(literal)))
        output.nodes = children
    for concat in _all(template, nodes.Concat):
        _replace(template, concat, wrap(concat, _SIZE_FILTER))
    for block in _all(template, nodes.AssignBlock):
        inner = block.filter
        block.filter = nodes.Filter(inner, _SIZE_FILTER, [], [], None, None, lineno=block.lineno)
        block.filter.set_environment(environment)


def _all(root: nodes.Node, kind: type[_N]) -> list[_N]:
    """Every node of ``kind`` under ``root``, typed (Jinja's ``find_all`` is not)."""
    return [node for node in root.find_all(kind) if isinstance(node, kind)]


def _replace(root: nodes.Node, old: nodes.Node, new: nodes.Node) -> None:
    """Put ``new`` where ``old`` is in the tree (Jinja's nodes have no parent link)."""
    for parent in root.find_all(nodes.Node):
        if parent is new:
            continue
        for field, value in parent.iter_fields():
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for index, child in enumerate(value):
                    if child is old:
                        value[index] = new
                        return


def not_utf8(path: Path, error: UnicodeDecodeError) -> str:
    """``templates/x.txt.j2:3: not UTF-8 text (byte 0xff); …``: where a file stops decoding."""
    data = error.object if isinstance(error.object, bytes) else b""
    line = data.count(b"\n", 0, error.start) + 1
    bad = data[error.start : error.start + 1].hex() or "?"
    return str(
        Problem(
            path, f"not UTF-8 text (byte 0x{bad} at offset {error.start}); save it as UTF-8", line
        )
    )


def innermost_template_line(traceback: TracebackType | None) -> tuple[str, int] | None:
    """The file name and line of the innermost template frame of a render's traceback.

    Jinja rewrites a failed render's traceback so that its frames carry the template's file
    name and line (an included template's, when the error is in one).
    """
    found = None
    while traceback is not None:
        frame = traceback.tb_frame
        if "__jinja_exception__" in frame.f_globals:  # a frame Jinja made for a template
            found = frame.f_code.co_filename, traceback.tb_lineno
        traceback = traceback.tb_next
    return found
