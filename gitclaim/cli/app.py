"""The typer application and the single place where library errors become messages and exit codes."""

from __future__ import annotations

import os
import sys

import click
import typer

from gitclaim.cli.output import OutputFailed, fail, internal_error, interrupted, json_error
from gitclaim.errors import USAGE, GitclaimError

app = typer.Typer(
    name="gitclaim",
    help="Claim missions atomically through a shared git remote (refs/missions/<id>).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _group() -> None:
    # Always a group of commands: when a call loads a module that defines a single command (check-msg, run by
    # the commit-msg hook), typer would otherwise make it the whole program and read its name as an argument.
    pass


# Which module defines each command, so that a call imports only what its command needs: agents run gitclaim
# in loops, and importing every command's dependencies would cost more than the work itself. `--help`, an
# unknown name or no name imports them all. tests/cli/test_registry.py keeps this table complete.
COMMAND_MODULES = {
    **dict.fromkeys(["init", "new", "list", "show", "claim", "release", "done", "fail", "heartbeat", "log",
                     "unblock", "sync"], "mission_cmds"),
    **dict.fromkeys(["next", "start", "demo"], "session_cmds"),
    "check-msg": "commits",
    "hooks": "hooks_cmds",
    **dict.fromkeys(["import", "export", "archive", "migrate"], "transfer_cmds"),
    **dict.fromkeys(["approve", "context", "validate", "task", "mcp"], "workflow_cmds"),
    **dict.fromkeys(["edit", "reopen", "cancel"], "corrections"),
    "guard": "guard_cmds",
    "completion": "completion_cmd",
    "doctor": "doctor_cmd",
    **dict.fromkeys(["board", "watch"], "board_cmds"),
    "verify": "verify_cmd",
}


def _register_commands(args: list[str]) -> None:
    # Each module adds its commands to `app` when imported.
    import importlib

    name = next((a for a in args if not a.startswith("-")), None)
    if name in COMMAND_MODULES and not any(a in ("-h", "--help") for a in args[:1]):
        importlib.import_module(f"gitclaim.cli.{COMMAND_MODULES[name]}")
    else:
        importlib.import_module("gitclaim.cli.commands")


def add_examples() -> None:
    """Put each command's example (cli/examples.py) at the end of its --help."""
    from gitclaim.cli.examples import EXAMPLES

    infos = [("", info) for info in app.registered_commands]
    infos += [(f"{group.name} ", info) for group in app.registered_groups if group.typer_instance
              for info in group.typer_instance.registered_commands]
    for prefix, info in infos:
        name = prefix + (info.name or info.callback.__name__.replace("_", "-") if info.callback else "")
        if name in EXAMPLES and not info.epilog:
            info.epilog = f"Example: {EXAMPLES[name]}"


def run_app(args: list[str]) -> int:
    if not args and os.environ.get("_GITCLAIM_COMPLETE"):  # the completion script asking (cli/completion_cmd.py)
        from typer.completion import completion_init

        completion_init()  # typer's completion classes, which speak the script's protocol
    _register_commands(args)
    if any(a in ("-h", "--help") for a in args):
        add_examples()
    try:
        result = app(args=args, prog_name="gitclaim", standalone_mode=False)
    except OutputFailed:
        raise  # stdout failed: cli/output.py run_guarded answers it, not as a bug
    except GitclaimError as err:
        return fail(err, args)
    except click.ClickException as err:  # usage errors, as one line instead of a usage box
        text = err.format_message() if hasattr(err, "format_message") else str(err)
        name = next((a for a in args if not a.startswith("-")), "")
        where = f"gitclaim {name} --help" if name in COMMAND_MODULES else "gitclaim --help"
        sys.stderr.write(f"gitclaim: {text} (see: {where})\n")
        code = int(getattr(err, "exit_code", USAGE) or USAGE)
        json_error(args, code, f"{text} (see: {where})")
        return code
    except (KeyboardInterrupt, click.exceptions.Abort):
        return interrupted(args)
    except Exception as exc:  # a bug: still one line, with the traceback only on request
        if os.environ.get("GITCLAIM_DEBUG"):
            raise
        return internal_error(exc, args)
    return result if isinstance(result, int) else 0
