"""`gitclaim completion bash|zsh|fish`: the shell completion script, from typer's own completion machinery.

The script calls gitclaim back with `_GITCLAIM_COMPLETE` set; typer answers those calls before any command
runs (commands, options, and mission ids from the local mirror: see options.complete_mission_id). This module
is imported only for `completion` itself and for those calls, never by the other commands.
"""

from __future__ import annotations

import sys

import typer

import gitclaim.cli.commands  # noqa: F401  (the script covers every command; a lone command would be the app)
from gitclaim.cli.app import app
from gitclaim.errors import InvalidInput

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_GITCLAIM_COMPLETE"  # click's default name for prog_name "gitclaim"


@app.command()
def completion(shell: str = typer.Argument(..., metavar="SHELL", help="The shell: bash, zsh or fish.")) -> None:
    """Print the shell completion script for gitclaim: commands, options and mission ids (read from this
    clone's refs/missions/*, without fetching). Load it from your shell's start-up file."""
    if shell not in SHELLS:
        raise InvalidInput(f"unknown shell {shell!r}: use one of {', '.join(SHELLS)}")
    from typer.completion import get_completion_script

    sys.stdout.write(get_completion_script(prog_name="gitclaim", complete_var=COMPLETE_VAR, shell=shell) + "\n")
