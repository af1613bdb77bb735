"""Printing for the CLI: JSON for agents (stable snake_case fields, docs/json.md), short lines for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from gitclaim.errors import GitclaimError


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def line(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"gitclaim: {text}\n")


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        line("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


# ---- failures: shared by the typer app (cli/app.py run_app) and the hot commands' fast path (cli/fast.py)

def fail(err: GitclaimError, args: list[str] | None = None) -> int:
    """One line on stderr, the documented exit code: the only way an expected failure leaves the CLI."""
    sys.stderr.write(f"gitclaim: {err}\n")
    json_error(args, err.exit_code, str(err), err.details)
    return err.exit_code


LINE_JSON = frozenset({"watch"})


def json_error(args: list[str] | None, code: int, message: str, details: dict | None = None) -> None:
    """Under --json, the failure is also a JSON object on stdout, so an agent never parses prose."""
    if not args or "--json" not in args[:args.index("--") if "--" in args else len(args)]:
        return
    from gitclaim.errors import KINDS

    kind = "interrupted" if code == 130 else KINDS.get(code, "error")
    error = {"exit_code": code, "kind": kind, "message": message, **(details or {})}
    # A command whose --json output is one object a line (watch) ends with its error on one line too.
    indent = None if next((a for a in args if not a.startswith("-")), "") in LINE_JSON else 2
    try:
        sys.stdout.write(json.dumps({"error": error}, indent=indent, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # stdout closed or full: the stderr line has said it already
        pass
