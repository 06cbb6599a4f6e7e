"""The first run works as written: the README's Quick start and what `planner init` prints
next, pasted into a new shell whose PATH does not know the planner's virtual environment
(as after `make demo`)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.cli.init_cmd import Invocation, how_to_run, next_steps

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
needs_venv = pytest.mark.skipif(
    sys.prefix == sys.base_prefix or not (VENV / "bin" / "activate").is_file()
    or not (VENV / "bin" / "planner").is_file(),
    reason="the suite is not running from a virtual environment with `planner` installed",
)  # fmt: skip


def new_shell_env(*, with_venv: bool = False) -> dict[str, str]:
    """The environment of a new terminal: the planner's venv is on the PATH only if asked."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PLANNER_CONFIG"}}
    env["PATH"] = (f"{VENV / 'bin'}:" if with_venv else "") + "/usr/bin:/bin"
    return env


class Shell:
    """Runs pasted lines as a new shell would, the planner's own ones in this process.

    Starting the planner as a process costs seconds on a busy machine, so only what a shell
    decides is asked of a real shell: what `. activate` puts on the PATH and which program
    `planner` then names. The planner's commands run through CliRunner, in the folder the
    lines have `cd`-ed to, with `> FILE` written as the shell would.
    """

    def __init__(self, cwd: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.cwd = cwd
        self.env = env
        self.monkeypatch = monkeypatch
        monkeypatch.delenv("PLANNER_CONFIG", raising=False)

    def which_planner(self, setup: str = "") -> str:
        found = subprocess.run(
            ["sh", "-c", f"{setup}\ncommand -v planner || true"],
            cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert found.returncode == 0, found.stderr
        return found.stdout.strip()

    def run(self, line: str) -> None:
        words = shlex.split(line)
        if words[0] == ".":
            self.env["PATH"] = self.path_after(line)
            return
        if words[0] == "cd":
            self.cwd = (self.cwd / words[1]).resolve()
            assert self.cwd.is_dir(), f"{line}: no such folder"
            return
        program = shutil.which(words[0], path=self.env["PATH"]) if "/" not in words[0] else None
        program = program or str(self.cwd / words[0])
        assert Path(program).resolve() == (VENV / "bin" / "planner").resolve(), (
            f"{line}: `{words[0]}` is not this planner in a new shell ({program})"
        )
        args, target = words[1:], None
        if ">" in args:
            args, target = args[: args.index(">")], args[args.index(">") + 1]
        self.monkeypatch.chdir(self.cwd)
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        if target is not None:
            (self.cwd / target).write_text(result.stdout)

    def path_after(self, setup: str) -> str:
        found = subprocess.run(
            ["sh", "-e", "-c", f'{setup}\nprintf %s "$PATH"'],
            cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert found.returncode == 0, f"{setup}: {found.stderr}"
        return found.stdout


def pasted(text: str) -> list[str]:
    """Command lines as a person pastes them: comments (after `  # `) and blank lines dropped."""
    lines = (re.split(r"\s+# ", line)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def quick_start() -> list[str]:
    section = REPO.joinpath("README.md").read_text().split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's Quick start has no ```sh block"
    return pasted(block.group(1))


@needs_venv
def test_the_readme_quick_start_works_line_by_line_in_a_new_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = quick_start()
    assert lines[0] == "make demo"
    # `make demo` builds .venv in the checkout and runs `.venv/bin/planner init demo`:
    # stand in for it with this suite's own environment, then take every line as written.
    (tmp_path / ".venv").symlink_to(VENV)
    shell = Shell(tmp_path, new_shell_env(), monkeypatch)
    assert shell.which_planner() == "", "this test needs a PATH without the planner"
    for line in [".venv/bin/planner init demo", *lines[1:]]:
        shell.run(line)
    assert "<html" in (tmp_path / "demo" / "week.html").read_text()


@needs_venv
def test_what_init_prints_next_works_in_a_new_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = new_shell_env()
    # The only planner started as a process: the hint depends on how it was started.
    init = subprocess.run(
        [str(VENV / "bin" / "planner"), "init", "my workspace"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    steps = pasted(init.stdout.split("\nNext:\n", 1)[1])
    assert steps[:2] == [f". {VENV.resolve() / 'bin' / 'activate'}", "cd 'my workspace'"]
    assert steps[2:] == ["planner queue sync", "planner plan", "planner preview"]
    shell = Shell(tmp_path, env, monkeypatch)
    for line in steps:
        shell.run(line)
    assert shell.cwd == (tmp_path / "my workspace").resolve()
    assert (shell.cwd / "planner.db").is_file()


def test_outside_a_virtual_environment_the_hint_calls_the_planner_by_its_path(
    tmp_path: Path,
) -> None:
    script = tmp_path / "bin" / "planner"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    invocation = how_to_run(str(script), "/usr/bin", "/usr", "/usr", "/usr/bin/python3", tmp_path)
    assert invocation == Invocation(None, str(script))
    steps = next_steps(tmp_path / "ws", invocation, tmp_path)
    assert steps[0] == (f"cd {tmp_path / 'ws'}", "")
    assert steps[1][0] == f"{script} queue sync"


def test_a_planner_on_the_path_is_called_plainly_and_init_here_needs_no_cd(
    tmp_path: Path,
) -> None:
    script = tmp_path / "bin" / "planner"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    invocation = how_to_run(str(script), str(script.parent), "/usr", "/usr", "python3", tmp_path)
    assert invocation == Invocation(None, "planner")
    assert [c for c, _ in next_steps(tmp_path, invocation, tmp_path)] == [
        "planner queue sync",
        "planner plan",
        "planner preview",
    ]


def test_python_dash_m_without_a_planner_on_the_path_is_repeated_as_such(tmp_path: Path) -> None:
    invocation = how_to_run("-m", "/nowhere", "/usr", "/usr", "/opt/py 3/python", tmp_path)
    assert invocation == Invocation(None, "'/opt/py 3/python' -m planner")
