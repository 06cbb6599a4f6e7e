"""The package's layout rules, read from the code: what each stage may import.

``planner/`` is laid out by the stages of a post's way (rule, content, plan, publish, reports,
over the store, the config and the adapters; ``cli`` on top). Each subpackage's docstring
says what it may import; this file holds the same rules as data and checks every import
statement of every module against them, lazy imports inside functions included.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "planner"

# Pure modules: plain values in and out, no database, no network, no clock, no click.
PURE = frozenset(
    {
        "planner.rule",
        "planner.rule.balancer",
        "planner.rule.windows",
        "planner.plan.slots",
        "planner.plan.mix",
        "planner.plan.model",
        "planner.plan.engine",
        "planner.plan.leftovers",
        "planner.plan.pools",
        "planner.plan.feeds",
        "planner.plan.reserve",
        "planner.content.links",
        "planner.content.etiquette",
        "planner.content.images",
        "planner.content.media_limits",
        "planner.text",
    }
)
# What a pure module may take from the standard library: values and their arithmetic. A new
# entry here is a decision (is it really free of I/O?), not a formality.
PURE_STDLIB = frozenset(
    {
        "__future__",
        "abc",
        "bisect",
        "collections",
        "copy",
        "dataclasses",
        "datetime",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "math",
        "operator",
        "re",
        "types",
        "typing",
        "urllib.parse",
        "zoneinfo",
    }
)
# Modules every stage may use (besides the pure ones).
SHARED = frozenset({"planner.errors", "planner.heap", "planner.redact", "planner.text"})
# Stage -> the other stages it may import; the order of a post's way, bottom to top.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "planner.rule": frozenset(),
    "planner.store": frozenset(),
    "planner.adapters": frozenset(),
    "planner.config": frozenset({"planner.adapters"}),
    "planner.workspace": frozenset({"planner.config"}),
    "planner.content": frozenset({"planner.config", "planner.store"}),
    "planner.plan": frozenset(
        {
            "planner.adapters",
            "planner.config",
            "planner.content",
            "planner.store",
            "planner.workspace",
        }  # fmt: skip
    ),
    "planner.publish": frozenset(
        {
            "planner.adapters",
            "planner.config",
            "planner.content",
            "planner.plan",
            "planner.store",
        }  # fmt: skip
    ),
    "planner.reports": frozenset(
        {
            "planner.adapters",
            "planner.config",
            "planner.content",
            "planner.plan",
            "planner.publish",
            "planner.store",
            "planner.workspace",
        }  # fmt: skip
    ),
}
# Only the command line may import click, and nothing imports the command line.
CLI = "planner.cli"
ENTRY_POINTS = frozenset({"planner", "planner.__main__", CLI})
LONG_MODULE = 420  # lines; a longer module says why in its docstring, with this phrase:
WHY_LONG = "Why this module is long:"


@dataclass(frozen=True)
class Import:
    module: str  # what is imported: "sqlalchemy.orm", "planner.store.models"
    names: tuple[str, ...]  # with "from X import a, b": ("a", "b")
    line: int


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(source: str) -> list[Import]:
    """Every import; ``from planner.plan import slots`` counts as ``planner.plan.slots``."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names = tuple(a.name for a in node.names)
            submodules = [f"{module}.{n}" for n in names if _is_module(f"{module}.{n}")]
            if module.startswith("planner") and submodules:
                found += [Import(sub, (), node.lineno) for sub in submodules]
            else:
                found.append(Import(module, names, node.lineno))
    return found


def stage_of(module: str) -> str:
    """``planner.reports.preview.read`` -> ``planner.reports``; ``planner.errors`` stays."""
    return ".".join(module.split(".")[:2])


def _within(module: str, allowed: frozenset[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def violations(module: str, source: str) -> list[str]:
    """Each import of ``module`` (its dotted name) that the layout rules forbid, explained."""
    found: list[str] = []
    stage = stage_of(module)
    pure = module in PURE
    for imp in imports_of(source):
        where = f"{module} line {imp.line}: imports {imp.module}"
        if imp.module.startswith("."):
            found.append(f"{where}: use absolute imports")
            continue
        own = imp.module == "planner" or imp.module.startswith("planner.")
        if imp.module == "planner" and imp.names == ("__version__",):
            continue
        if stage not in {CLI, "planner.__main__"} and _within(
            imp.module, frozenset({"click", CLI})
        ):
            found.append(f"{where}: only planner.cli may use click or the command line")
        elif pure:
            if own and not _within(imp.module, PURE):
                found.append(f"{where}: a pure module imports only pure modules")
            elif not own and not _within(imp.module, PURE_STDLIB):
                found.append(f"{where}: a pure module imports only value types")
        elif own and stage not in ENTRY_POINTS | {CLI}:
            target = stage_of(imp.module)
            allowed = MAY_IMPORT.get(stage, frozenset()) | SHARED | PURE | {stage}
            if not _within(imp.module, allowed) and target not in allowed:
                found.append(f"{where}: {stage} may not import {target}")
    return found


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:  # Alembic's scripts, run by Alembic, not imported
            continue
        name = ".".join(parts).removesuffix(".__init__")
        found.append((name, path))
    return found


def test_every_stage_is_a_subpackage_with_a_docstring_saying_what_it_may_import() -> None:
    for stage in ("rule", "content", "plan", "publish", "reports", "store", "config"):
        init = PACKAGE / stage / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "import" in doc, f"{init}: the docstring says nothing of what the stage imports"


def test_every_module_keeps_the_layout_rules() -> None:
    found = [v for name, path in modules() for v in violations(name, path.read_text())]
    assert found == []


def test_every_module_belongs_to_a_known_stage() -> None:
    known = set(MAY_IMPORT) | SHARED | ENTRY_POINTS
    strays = [name for name, _ in modules() if stage_of(name) not in known]
    assert strays == [], "a new stage needs its rules in MAY_IMPORT"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("planner.rule.balancer", "from planner.store.database import open_database\n"),
        ("planner.rule.windows", "import sqlalchemy\n"),
        ("planner.plan.engine", "def f():\n    import click\n"),
        ("planner.plan.mix", "from planner.config.settings import Config\n"),
        ("planner.plan.slots", "import time\n"),
        ("planner.store.models", "from planner.plan.store import plan_weeks\n"),
        ("planner.adapters.x", "from planner.store.models import Post\n"),
        ("planner.publish.pipeline", "from planner.reports.status import build_status\n"),
        ("planner.reports.status", "import click\n"),
        ("planner.content.store", "from .files import QueueItem\n"),
    ],
)
def test_the_rules_catch_a_forbidden_import(module: str, source: str) -> None:
    assert violations(module, source) != []


def test_the_rules_allow_what_the_stages_do() -> None:
    assert violations("planner.rule.windows", "from planner.text import plural\n") == []
    assert violations("planner.plan.engine", "from planner.rule.balancer import X\n") == []
    assert violations("planner.cli.plan_cmd", "import click\n") == []
    assert violations("planner.reports.status", "from planner.store.models import Post\n") == []


def test_long_modules_say_why_they_are_long() -> None:
    unexplained = []
    for name, path in modules():
        source = path.read_text()
        if source.count("\n") > LONG_MODULE:
            doc = ast.get_docstring(ast.parse(source)) or ""
            if WHY_LONG not in doc:
                unexplained.append(f"{name}: {source.count(chr(10))} lines")
    assert unexplained == [], f"split these, or say {WHY_LONG!r} in the docstring"


def test_every_stage_docstring_names_each_of_its_modules() -> None:
    unnamed = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        folder = init.parent
        if folder in (PACKAGE, PACKAGE / "cli", PACKAGE / "adapters"):
            continue  # the top, the commands and the networks are listed in the README
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        for module in sorted(folder.glob("*.py")):
            if module.stem != "__init__" and module.stem not in doc:
                unnamed.append(f"{module.relative_to(PACKAGE.parent)}")
    assert unnamed == [], "say in the package's docstring what each module holds"
