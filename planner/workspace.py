"""``planner init``: lay out a working folder to start from.

The defaults it copies are the repository's own ``config.example.toml``, ``queue/`` and
``templates/``. A wheel carries them inside the package (``planner/_defaults``, see
pyproject.toml); a source checkout or editable install reads them from the repository root.

The preview page (``templates/preview.html.j2``) is not copied: a copy in the workspace would
replace the built-in page and freeze it at this version. A person who wants their own page
copies it from :func:`default_templates_dir` on purpose (the README says how).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from planner.config.settings import CONFIG_FILENAME
from planner.errors import DomainError, InputError

_PACKAGE_DIR = Path(__file__).parent
# Built-in templates that stay in the package: a workspace copy would override them for good.
_NOT_COPIED = frozenset({"preview.html.j2"})


def defaults_dir() -> Path:
    """The folder holding config.example.toml, queue/ and templates/."""
    for candidate in (_PACKAGE_DIR / "_defaults", _PACKAGE_DIR.parent):
        if (candidate / "config.example.toml").is_file() and (candidate / "templates").is_dir():
            return candidate
    raise DomainError(f"the planner's default files are missing from {_PACKAGE_DIR}")


def default_templates_dir() -> Path:
    """Where the built-in post templates are; a user's templates folder overrides them."""
    return defaults_dir() / "templates"


@dataclass
class InitReport:
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def init_workspace(target: Path, *, force: bool = False) -> InitReport:
    """Write planner.toml, queue/ and templates/ into ``target``.

    Existing files are kept (listed in the report) unless ``force``; nothing is deleted.
    Raises :class:`InputError` naming the path when a file stands where a folder must go (or
    a folder where a file must), before anything is written, and when a folder cannot be
    written.
    """
    source = defaults_dir()
    report = InitReport()
    pairs = [(source / "config.example.toml", target / CONFIG_FILENAME)]
    for folder in ("queue", "templates"):
        for path in sorted((source / folder).rglob("*")):
            if folder == "templates" and path.name in _NOT_COPIED:
                continue
            if path.is_file() and "__pycache__" not in path.parts:
                pairs.append((path, target / folder / path.relative_to(source / folder)))
    for _, destination in pairs:
        _check_in_the_way(destination)
    for origin, destination in pairs:
        if destination.exists() and not force:
            report.kept.append(destination)
            continue
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, destination)
        except OSError as exc:
            raise InputError(f"cannot write {destination}: {exc.strerror or exc}") from None
        report.created.append(destination)
    return report


def _check_in_the_way(destination: Path) -> None:
    if destination.is_dir():
        raise InputError(f"cannot write {destination}: a folder of that name is in the way")
    for folder in destination.parents:
        if folder.exists() and not folder.is_dir():
            raise InputError(
                f"cannot write {destination}: {folder} is a file, not a folder (move it away "
                "or choose another directory)"
            )
