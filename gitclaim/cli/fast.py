"""A parser for plain invocations of the hot commands, so that they run without importing typer and click.

Importing the CLI framework and dispatching through it cost more than a claim's own Python work (about 47 ms of
a claim's fixed cost on the benchmark machine). This module recognises only well-formed invocations of claim,
next, heartbeat, log, done, release and list: known options (`--opt value` or `--opt=value`), the right number of
arguments, integers written as plain digits. Anything else (help, an unknown or misspelt option, a missing value,
an argument starting with '-', a bad number) returns None and goes through the typer app, which says what is
wrong exactly as it always has. Both ways end in the same functions of cli/hot.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

# command -> (positional names, minimum positionals, {option: (parameter, kind)}); kind: "str", "int" or "flag"
_JSON = {"--json": ("json_out", "flag")}
_EPOCH = {"--epoch": ("epoch", "int")}
SPECS: dict[str, tuple[tuple[str, ...], int, dict[str, tuple[str, str]]]] = {
    "claim": (("mission_id",), 1, {"--as": ("as_text", "str"), "--steal": ("steal", "flag"),
                                   "--force": ("force", "flag"), "--reason": ("reason", "str"), **_JSON}),
    "next": ((), 0, {"--as": ("as_text", "str"), **_JSON}),
    "heartbeat": (("mission_id",), 1, {**_EPOCH, **_JSON}),
    "release": (("mission_id",), 1, {"--note": ("note", "str"), **_EPOCH, **_JSON}),
    "done": (("mission_id",), 1, {"--summary": ("summary", "str"), **_EPOCH, **_JSON}),
    "log": (("mission_id", "message"), 1, {
        "--kind": ("kind", "str"), "--progress": ("progress", "int"), "--question": ("question", "str"),
        "--chosen": ("chosen", "str"), "--severity": ("severity", "str"), "--needs-human": ("needs_human", "flag"),
        "--task": ("task", "str"), **_EPOCH, **_JSON}),
    # `list --archived` goes through typer: it reads the archive, which a warm listing does not need.
    "list": ((), 0, {"--status": ("status", "str"), "--stale": ("stale", "flag"), "--offline": ("offline", "flag"),
                     **_JSON}),
}
_INT = re.compile(r"-?[0-9]+")


def parse(args: list[str]) -> tuple[str, dict[str, Any]] | None:
    """(command, keyword arguments) for a plain invocation of a hot command, else None (let typer decide)."""
    if not args or args[0] not in SPECS:
        return None
    names, required, options = SPECS[args[0]]
    positionals: list[str] = []
    kwargs: dict[str, Any] = {}
    rest = iter(args[1:])
    for arg in rest:
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            continue
        name, eq, value = arg.partition("=")
        spec = options.get(name)
        if spec is None:
            return None  # -h, --help, `--`, an unknown or misspelt option: typer's message
        param, kind = spec
        if kind == "flag":
            if eq:
                return None
            kwargs[param] = True
            continue
        if not eq:
            value = next(rest, None)  # type: ignore[assignment]
            if value is None or value.startswith("-"):
                return None
        if kind == "int":
            if not _INT.fullmatch(value):
                return None
            kwargs[param] = int(value)
        else:
            kwargs[param] = value
    if not required <= len(positionals) <= len(names):
        return None
    kwargs.update(zip(names, positionals, strict=False))
    return args[0], kwargs


def run(args: list[str]) -> int | None:
    """Run a plain hot-command invocation; None when it is not one (the caller runs the typer app)."""
    if os.environ.get("GITCLAIM_NO_FAST_PATH"):
        return None
    parsed = parse(args)
    if parsed is None:
        return None
    command, kwargs = parsed
    from gitclaim.cli.output import OutputFailed, fail, internal_error, interrupted
    from gitclaim.errors import GitclaimError

    if command == "list":
        from gitclaim.cli.listing import list_missions

        targets: dict[str, Callable[..., None]] = {"list": list_missions}
    else:
        from gitclaim.cli import hot

        targets = {"claim": hot.claim, "next": hot.next_mission, "heartbeat": hot.heartbeat, "log": hot.log,
                   "done": hot.done, "release": hot.release}
    # The same answers as cli/app.py run_app gives for these failures.
    try:
        targets[command](**kwargs)
    except GitclaimError as err:
        return fail(err, args)
    except KeyboardInterrupt:
        return interrupted(args)
    except OutputFailed:
        raise  # stdout failed: cli/output.py run_guarded answers it, not as a bug
    except Exception as exc:  # a bug: still one line, with the traceback only on request
        if os.environ.get("GITCLAIM_DEBUG"):
            raise
        return internal_error(exc, args)
    return 0
