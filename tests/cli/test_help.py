"""--help of every command (issue 11, item 31): positional arguments described, one example each, the priority
names documented; and shell completion (item 29) through a real bash and the real CLI."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from gitclaim.cli.app import add_examples
from gitclaim.cli.examples import EXAMPLES
from tests.helpers import ROOT, cli_commands, run_gitclaim


def _commands() -> dict[str, click.Command]:
    importlib.import_module("gitclaim.cli.commands")
    add_examples()  # before click builds the commands, as run_app does for --help
    return cli_commands()


COMMANDS = sorted(_commands())


def test_every_command_has_an_example_and_the_table_no_stale_ones() -> None:
    assert sorted(EXAMPLES) == COMMANDS
    for name, example in EXAMPLES.items():
        assert example.startswith(f"gitclaim {name}") or name in ("mcp", "completion"), name


@pytest.mark.parametrize("name", COMMANDS)
def test_help_describes_arguments_and_shows_the_example(name: str, tmp_path: Path) -> None:
    cmd = _commands()[name]
    for param in cmd.params:
        if isinstance(param, click.Argument):
            assert getattr(param, "help", None), f"{name}: argument {param.name} has no help"
    res = run_gitclaim(tmp_path, *name.split(), "--help", env={"COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    assert f"Example: {EXAMPLES[name]}" in res.stdout


@pytest.mark.parametrize("name", ["new", "edit"])
def test_priority_names_are_documented(name: str, tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, name, "--help", env={"COLUMNS": "200"})
    assert "critical/high/medium/low (= 0/1/2/3)" in res.stdout


def test_claim_help_names_the_mission_argument(tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "claim", "--help", env={"COLUMNS": "200"})
    assert "Usage: gitclaim claim [OPTIONS] MISSION" in res.stdout
    assert "The mission's id (refs/missions/<id>), as gitclaim list shows it." in res.stdout


# ---- completion --------------------------------------------------------------------------------------------

@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `gitclaim` command on PATH running the code under test, as the installed script would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gitclaim").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitclaim "$@"\n')
    (bin_dir / "gitclaim").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def complete(cwd: Path, words: list[str]) -> list[str]:
    """What bash offers for the last word, with the script `gitclaim completion bash` prints loaded."""
    script = ('source <(gitclaim completion bash) && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && '
              '_gitclaim_completion gitclaim && printf "%s\\n" "${COMPREPLY[@]}"')
    res = subprocess.run(["bash", "-c", script, "bash", *words], cwd=cwd, text=True, capture_output=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    return [w for w in res.stdout.splitlines() if w]


def test_bash_completes_commands_options_and_mission_ids(on_path: None, make_clone: Callable[..., Path],
                                                          bare_remote: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    for mission_id in ("fix-login", "fix-logout", "docs"):
        assert run_gitclaim(a, "new", mission_id, "--title", mission_id).returncode == 0
    assert complete(a, ["gitclaim", "cl"]) == ["claim"]
    assert complete(a, ["gitclaim", "claim", "fix"]) == ["fix-login", "fix-logout"]
    assert complete(a, ["gitclaim", "done", ""]) == ["docs", "fix-login", "fix-logout"]
    assert complete(a, ["gitclaim", "claim", "--st"]) == ["--steal"]
    assert complete(a, ["gitclaim", "hooks", "un"]) == ["uninstall"]
    # from the local mirror, without fetching: b has not fetched the new missions yet
    assert complete(b, ["gitclaim", "claim", "fix"]) == []
    assert complete(b.parent, ["gitclaim", "claim", ""]) == []  # outside a clone: nothing, and no error


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "complete -o default -F _gitclaim_completion gitclaim"),
    ("zsh", "compdef _gitclaim_completion gitclaim"),
    ("fish", "complete --command gitclaim"),
])
def test_completion_prints_a_script(shell: str, marker: str, tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "completion", shell)
    assert res.returncode == 0 and res.stderr == ""
    assert marker in res.stdout and "_GITCLAIM_COMPLETE" in res.stdout


def test_completion_of_an_unknown_shell(tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "completion", "tcsh")
    assert (res.returncode, res.stdout, res.stderr) == (2, "", "gitclaim: unknown shell 'tcsh': use one of bash, "
                                                               "zsh, fish\n")


def test_completion_is_not_on_the_hot_commands_import_path() -> None:
    code = ("import sys, gitclaim.cli.mission_cmds, gitclaim.cli.session_cmds; "
            "print('gitclaim.cli.completion_cmd' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True, capture_output=True, check=True)
    assert res.stdout == "False\n"
