"""Command-line entry point.

`main()` answers `--version` before importing typer: agents call gitclaim in loops, and the CLI framework
alone costs more than the rest of start-up. Every other command goes through the typer app, whose commands
are thin wrappers over the library core; the one place that turns a library error into a message and an exit
code is `run_app` (cli/app.py). The hot commands (cli/fast.py) skip typer too, and end with `exit_now`
(cli/output.py), without the interpreter's teardown.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from gitclaim import __version__

        sys.stdout.write(f"gitclaim {__version__}\n")
        sys.exit(0)
    from gitclaim.cli.output import exit_now, run_guarded

    hot = False

    def dispatch(args: list[str]) -> int:
        nonlocal hot
        from gitclaim.cli import fast

        code = fast.run(args)  # claim, next, heartbeat, log, done, release, list: without the CLI framework
        if code is not None:
            hot = True
            return code
        from gitclaim.cli.app import run_app

        return run_app(args)

    code = run_guarded(args, dispatch)
    if hot:
        exit_now(code)
    sys.exit(code)
