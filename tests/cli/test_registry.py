"""Every command is in the lazy-import table, has help text, and is documented in the README."""

from __future__ import annotations

import importlib

from gitclaim.cli.app import COMMAND_MODULES, app
from tests.helpers import ROOT, run_gitclaim


def _registered() -> dict[str, str]:
    importlib.import_module("gitclaim.cli.commands")
    names = {}
    for cmd in app.registered_commands:
        names[cmd.name or cmd.callback.__name__.replace("_", "-")] = cmd.callback.__module__
    for group in app.registered_groups:
        names[group.name] = group.typer_instance.registered_commands[0].callback.__module__
    return names


def test_every_command_is_in_the_lazy_table_with_its_module() -> None:
    for name, module in _registered().items():
        assert COMMAND_MODULES.get(name) == module.rsplit(".", 1)[1], name


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for cmd in app.registered_commands:
        assert (cmd.callback.__doc__ or cmd.help), cmd.name
    for name in _registered():
        assert f"`{name}" in readme or f" {name} " in readme or f"`{name} " in readme, name


def test_help_of_one_command_works_without_the_others(tmp_path) -> None:
    res = run_gitclaim(tmp_path, "claim", "--help")
    assert res.returncode == 0 and "--steal" in res.stdout
    res = run_gitclaim(tmp_path, "--help")
    assert res.returncode == 0 and "check-msg" in res.stdout


def test_each_command_runs_as_a_command_with_only_its_own_module_imported(tmp_path) -> None:
    # `gitclaim <name> --help` imports only the module of <name> (doctor's imports only cli/options.py besides):
    # the app must stay a group, or typer runs that module's single command directly and reads its name as an
    # argument.
    for name in sorted(COMMAND_MODULES):
        res = run_gitclaim(tmp_path, name, "--help")
        assert res.returncode == 0, (name, res.stderr)
        assert f"Usage: gitclaim {name} " in res.stdout, (name, res.stdout[:300])
