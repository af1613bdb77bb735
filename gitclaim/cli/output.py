"""Printing for the CLI: JSON for agents (stable snake_case fields, docs/json.md), short lines for people."""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from gitclaim.core import jsontext
from gitclaim.errors import OUTPUT, GitclaimError


class OutputFailed(Exception):
    """Standard output could not be written. A closed pipe (`gitclaim list | head -1`) is not a failure: the
    reader has what it wanted, as with git. Anything else (`>/dev/full`, `>&-`) is reported in one line."""

    def __init__(self, exc: OSError | None) -> None:
        self.closed_pipe = isinstance(exc, BrokenPipeError) or getattr(exc, "errno", None) == errno.EPIPE
        reason = exc.strerror if exc is not None and exc.strerror else "standard output is closed"
        super().__init__(f"cannot write the output: {reason}")


class GuardedStdout:
    """Wraps sys.stdout for one command so that every write to it, by gitclaim, typer or click, fails as
    OutputFailed, which run_guarded tells apart from a bug. With stdout closed at start (`>&-`), Python sets
    sys.stdout to None: writing then fails the same way."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is None:
            raise OutputFailed(None)
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            raise OutputFailed(exc) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputFailed(exc) from None

    def write_bytes(self, data: bytes) -> None:
        """UTF-8 text already encoded (a listing from the cache): past the text layer, not decoded and encoded
        again, when the stream writes UTF-8 anyway."""
        if self._stream is None:
            raise OutputFailed(None)
        try:
            buffer = getattr(self._stream, "buffer", None)
            if buffer is None or (getattr(self._stream, "encoding", "") or "").lower() not in ("utf-8", "utf8"):
                self._stream.write(data.decode())
                return
            self._stream.flush()
            buffer.write(data)
        except OSError as exc:
            raise OutputFailed(exc) from None

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise OutputFailed(None)
        return getattr(self._stream, name)


def run_guarded(args: list[str], dispatch: Callable[[list[str]], int]) -> int:
    """Run one command with its output guarded: the one place where a failed write to stdout is answered,
    for the fast path (cli/fast.py) and the typer app alike. Also takes the global `--instance ID` and prints
    the notices the library collected (core/repo.py NOTICES), after the command's own lines."""
    args = _global_instance(args)
    real, sys.stdout = sys.stdout, GuardedStdout(sys.stdout)
    try:
        code = dispatch(args)
        sys.stdout.flush()  # here, not at exit: a failed write must still be reported (or ignored) by us
        return code
    except OutputFailed as err:
        discard_stdout()
        if err.closed_pipe:
            return 0  # the reader stopped reading (`| head -1`): it has what it wanted, as with git
        sys.stderr.write(f"gitclaim: {err}\n")
        return OUTPUT
    finally:
        sys.stdout = real
        from gitclaim.core.repo import NOTICES

        for text in NOTICES:
            sys.stderr.write(f"gitclaim: {text}\n")
        NOTICES.clear()


def exit_now(code: int) -> NoReturn:
    """End the process at once, without the interpreter's teardown: a hot command (cli/fast.py) has written
    everything and waited for every git process it started, and freeing each module and object one by one
    took about 18 ms of a claim's wall time on the benchmark machine (docs/performance.md). Hot commands start
    no threads and leave no file open for writing, and nothing they run registers an atexit handler. Anything
    not flushed cleanly takes the normal exit, which reports it."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def _global_instance(args: list[str]) -> list[str]:
    """`gitclaim --instance ID <command> ...`: act as instance ID for this one process (as GITCLAIM_INSTANCE)."""
    if args[:1] == ["--instance"] and len(args) > 1:
        os.environ["GITCLAIM_INSTANCE"] = args[1]
        return args[2:]
    if args and args[0].startswith("--instance="):
        os.environ["GITCLAIM_INSTANCE"] = args[0].partition("=")[2]
        return args[1:]
    return args


def discard_stdout() -> None:
    """After a failed write, point fd 1 at /dev/null, so the interpreter's flush at exit cannot fail again
    (it would print "Exception ignored ... BrokenPipeError")."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass


# Whether this process has written its --json document: a command that reports a failure in its own document
# (doctor's failed checks, import's conflicts) and then exits non-zero must not add a second document after it.
_document_written = False


def emit_json(data: Any) -> None:
    global _document_written
    _document_written = True
    sys.stdout.write((jsontext.rows(data) if isinstance(data, list) else None)
                     or json.dumps(data, indent=2, ensure_ascii=False))
    sys.stdout.write("\n")


def emit_json_bytes(data: bytes) -> None:
    """A JSON document already written as UTF-8 text (a listing from the listing cache, missions/listcache.py)."""
    global _document_written
    _document_written = True
    write = getattr(sys.stdout, "write_bytes", None)
    if write is None:  # not the CLI's guarded stdout (the library called from a script)
        sys.stdout.write(data.decode() + "\n")
        return
    write(data)
    write(b"\n")


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


def interrupted(args: list[str] | None) -> int:
    sys.stderr.write("gitclaim: interrupted\n")
    json_error(args, 130, "interrupted")
    return 130


def internal_error(exc: Exception, args: list[str] | None) -> int:
    """A bug: one line too, never a traceback unless GITCLAIM_DEBUG asks for it (the callers re-raise then)."""
    text = f"internal error: {type(exc).__name__}: {exc} (run again with GITCLAIM_DEBUG=1 for the traceback, " \
           "and report it)"
    sys.stderr.write(f"gitclaim: {text}\n")
    json_error(args, 1, text, {"kind": "internal"})
    return 1


LINE_JSON = frozenset({"watch"})


def json_error(args: list[str] | None, code: int, message: str, details: dict | None = None) -> None:
    """Under --json, the failure is also a JSON object on stdout, so an agent never parses prose."""
    if not args or "--json" not in args[:args.index("--") if "--" in args else len(args)]:
        return
    from gitclaim.errors import KINDS

    # A command whose --json output is one object a line (watch) ends with its error on one line too.
    one_a_line = next((a for a in args if not a.startswith("-")), "") in LINE_JSON
    if _document_written and not one_a_line:
        return  # stdout holds one JSON document, and it already says what failed
    kind = "interrupted" if code == 130 else KINDS.get(code, "error")
    error = {"exit_code": code, "kind": kind, "message": message, **(details or {})}
    indent = None if one_a_line else 2
    try:
        sys.stdout.write(json.dumps({"error": error}, indent=indent, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError, OutputFailed):  # stdout closed or full: the stderr line has said it already
        discard_stdout()
