"""`gitclaim guard pre-receive` and `gitclaim guard install`: thin wrappers over gitclaim.server.guard and
gitclaim.hooks.install.

The pre-receive command writes each refusal as one line on stderr, which git relays to the pusher as
`remote: gitclaim-guard: <ref>: refused: <why>`, and exits 1 so the whole push is refused.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from gitclaim.cli.app import app
from gitclaim.core.git import Git
from gitclaim.errors import GitclaimError
from gitclaim.hooks.install import install_guard_hook
from gitclaim.server import guard
from gitclaim.server.push import parse_updates

guard_app = typer.Typer(help="Server-side guard: a pre-receive hook enforcing the mission protocol and the "
                             "commit policy on the shared remote (docs/server-guard.md).", no_args_is_help=True)
app.add_typer(guard_app, name="guard")


@guard_app.command("pre-receive")
def pre_receive() -> None:
    """Judge the '<old> <new> <ref>' lines a pre-receive hook reads on stdin; exit 1 refuses the push."""
    text = sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        refusals = guard.check_updates(Git(Path.cwd()), parse_updates(text), os.environ)
    except GitclaimError as err:
        # Fail closed, and still in the guard's voice: the pusher sees why, on one line.
        refusals = [guard.Refusal(None, f"the guard could not judge this push: {err}")]
    if refusals:
        out = "".join(r.line() + "\n" for r in refusals)
        sys.stderr.buffer.write(out.encode("utf-8", "replace"))  # UTF-8 whatever the hook's locale
        sys.stderr.flush()
        raise typer.Exit(1)


@guard_app.command("install")
def install(
    repo: Annotated[Path, typer.Argument(help="The repository that receives pushes (normally a bare one).")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing pre-receive.legacy with the current foreign hook.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (fields in docs/json.md).")] = False,
) -> None:
    """Install the guard as the repository's pre-receive hook (keeps an existing hook, which runs first)."""
    result = install_guard_hook(repo, force=force)
    if json_out:
        from gitclaim.cli.output import emit_json

        emit_json({"action": result.action, "hook": str(result.hook),
                   "legacy": str(result.legacy) if result.legacy else None})
    else:
        typer.echo(result.describe())
