"""Starting git: `Git.run`, the one place gitclaim starts a git process (argument lists, no shell, a timeout
that kills the process group, an environment that never prompts and never localizes).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitclaim.core.gitrecords import GitObject, batch_header, describe_stderr
from gitclaim.errors import GitclaimError, NotARepository, RemoteError

# Git must never stop to ask a person anything, and must speak the same language whatever the user's locale.
_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "LANG": "C",
    "GIT_OPTIONAL_LOCKS": "0",
}


class Result(NamedTuple):
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    def error_line(self) -> str:
        """What git said went wrong, for messages only, never for decisions: its `fatal:` / `error:` lines
        when it printed any (the lines after them are advice such as "Please make sure you have the correct
        access rights and the repository exists", which on its own says nothing), else all its lines joined."""
        return describe_stderr(self.stderr) or f"git exited with {self.returncode}"


class GitTimeout(RemoteError):
    """A git process ran past its time limit and was killed with its children."""


class Git:
    """Runs git in one repository (or plain directory), with a fixed environment."""

    def __init__(self, cwd: Path | str, env: dict[str, str] | None = None) -> None:
        self.cwd = Path(cwd)
        self.env = {**os.environ, **_BASE_ENV, **(env or {})}
        # Set by a long-lived process (the MCP server, missions/workspace.py StoreCache): object reads go through
        # one `cat-file --batch` kept open between calls instead of a process each (objectio.cat_file_batch).
        self.reader: KeptReader | None = None

    def keep_reader(self) -> None:
        """Read objects through one kept `cat-file --batch` from now on (see KeptReader)."""
        if self.reader is None:
            self.reader = KeptReader(self)

    def close(self) -> None:
        """Stop the kept reader, if any: later reads start a process each again."""
        reader, self.reader = self.reader, None
        if reader is not None:
            reader.close()

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        idle: bool = False,
    ) -> Result:
        """Run `git <args>`; raise GitclaimError on a non-zero exit when `check`, GitTimeout past `timeout`.
        `idle`: `timeout` bounds the time git goes without writing anything (a command that reports its
        progress, such as a first fetch of many missions, runs as long as it makes progress)."""
        proc = self._start(args, input, env)
        return self._finish(proc, args, input, check, timeout, idle)

    def run_together(self, commands: Sequence[Sequence[str]], *, timeout: float | None = None) -> list[Result]:
        """Run independent git commands at the same time and return their results in order, unchecked. For
        reads that do not depend on each other (the two that open a repository): their start-up, most of what
        such a read costs, overlaps instead of adding up."""
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for args in commands:
                procs.append(self._start(args, None, None))
            return [self._finish(proc, args, None, False, timeout) for proc, args in zip(procs, commands,
                                                                                          strict=True)]
        except BaseException:
            for proc in procs:
                if proc.returncode is None:
                    _kill_group(proc)
            raise

    def _start(self, args: Sequence[str], input: bytes | None, env: dict[str, str] | None
               ) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                ("git", *args),
                cwd=self.cwd,
                env={**self.env, **env} if env else self.env,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # so a timeout can kill ssh and the helpers git started, too
            )
        except FileNotFoundError as exc:
            raise GitclaimError("git is not installed or not on PATH") from exc
        except NotADirectoryError as exc:
            raise NotARepository(f"not a directory: {self.cwd}") from exc

    def _finish(self, proc: subprocess.Popen[bytes], args: Sequence[str], input: bytes | None, check: bool,
                timeout: float | None, idle: bool = False) -> Result:
        try:
            if idle and timeout is not None and input is None:
                out, err = _read_while_active(proc, timeout)
            else:
                out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            what = "without any progress for" if idle else "after"
            raise GitTimeout(f"git {_subcommand(args)} timed out {what} {timeout:g}s (the limit is GITCLAIM_TIMEOUT "
                             "or git config gitclaim.timeout)") from exc
        except BaseException:
            _kill_group(proc)
            raise
        res = Result(("git", *args), proc.returncode, out, err)
        if check and not res.ok:
            raise GitclaimError(f"git {_subcommand(args)} failed: {res.error_line()}")
        return res


def _read_while_active(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """Read git's output until it exits; TimeoutExpired once it has written nothing for `timeout` seconds."""
    assert proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    err: list[bytes] = []
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        while sel.get_map():
            ready = sel.select(timeout)
            if not ready:
                raise subprocess.TimeoutExpired(proc.args, timeout)
            for key, _ in ready:
                data = os.read(key.fd, 65536)
                if data:
                    key.data.append(data)
                else:
                    sel.unregister(key.fileobj)
    proc.stdout.close()
    proc.stderr.close()
    proc.wait(timeout)  # both pipes are closed: git is exiting
    return b"".join(out), b"".join(err)


def _subcommand(args: Sequence[str]) -> str:
    """The git command's name for messages: the first argument that is not a `-c key=value` option."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return args[0] if args else "git"


# How long a git process stopped by a timeout gets to clean up after SIGTERM before it is killed outright.
TERM_GRACE = 2.0


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop git and every process it started. SIGTERM first: git removes the lock files it holds
    (packed-refs.lock, <ref>.lock, index.lock) on SIGTERM, never on SIGKILL, and a lock left behind makes
    every later ref change in the clone fail with "File exists" until someone deletes it by hand. SIGKILL
    only for what is still running TERM_GRACE seconds later."""
    if _signal_group(proc.pid, signal.SIGTERM):
        deadline = time.monotonic() + TERM_GRACE
        while time.monotonic() < deadline:
            proc.poll()  # reaps git itself, so that only live processes answer the probe below
            if not _signal_group(proc.pid, 0):
                break
            time.sleep(0.02)
        else:
            _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the process group (0: only probe it); False when no process of the group is left."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class ReaderGone(GitclaimError):
    """A `cat-file --batch` process ended while it was being read: its answers so far are still good, the rest
    cannot be told apart from "no such object", so they are never guessed."""


class CatFile:
    """One long-lived `cat-file --batch` for walks where each read decides the next (a commit's parent)."""

    def __init__(self, git: Git) -> None:
        try:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"], cwd=git.cwd, env=git.env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            raise GitclaimError("git is not installed or not on PATH") from exc
        except NotADirectoryError as exc:
            raise NotARepository(f"not a directory: {git.cwd}") from exc

    def get(self, spec: str) -> GitObject | None:
        self.send([spec])
        return self.receive()

    def send(self, specs: Sequence[str]) -> None:
        """Ask for `specs` without reading the answers yet (receive() them in order). The caller keeps what it
        sends at a time within a pipe's buffer: git stops reading while its answers are not read."""
        assert self._proc.stdin
        try:
            self._proc.stdin.write(b"".join(spec.encode() + b"\n" for spec in specs))
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:  # ValueError: the pipe was closed here after a failure
            raise ReaderGone("git cat-file --batch ended before it was asked") from exc

    def receive(self) -> GitObject | None:
        """The next answer: the object, or None when its spec names nothing (`<spec> missing`)."""
        assert self._proc.stdout
        line = self._proc.stdout.readline()
        if not line.endswith(b"\n"):
            raise ReaderGone("git cat-file --batch ended while it was read")
        header = batch_header(line[:-1])
        if header is None:
            return None
        oid, kind, size = header
        data = self._proc.stdout.read(size + 1)
        if len(data) != size + 1:
            raise ReaderGone("git cat-file --batch ended in the middle of an object")
        return GitObject(oid, kind, data[:-1])

    def close(self) -> None:
        if self._proc.stdin:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc.wait()

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Specs sent to a kept reader before its answers are read: well within a pipe's 64 KiB (git stops reading its
# input while its output is not read, so a larger burst could block both sides).
_BURST_BYTES = 16384


class KeptReader:
    """One `cat-file --batch` kept open by a long-lived process: a warm MCP call reads a mission's state without
    starting a process (a claim is then one git process, its push). git resolves every spec when it reads it
    (loose refs from their files, packed-refs again when it changed, packs rescanned when an object is not
    found), so a kept reader sees what other processes wrote since it started. Calls on worker threads take
    turns. A reader that died (killed, the repository moved) is started again once per batch, which asks again
    only for what it had not answered."""

    def __init__(self, git: Git) -> None:
        import threading  # only servers keep a reader; commands never pay for the import

        self._git = git
        self._cat: CatFile | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # processes started so far (tests)

    def read(self, specs: Sequence[str]) -> list[GitObject | None] | None:
        """The objects `specs` name, in order (None for one that names nothing); None when the reader was closed
        meanwhile (the caller reads without it)."""
        with self._lock:
            if self._closed:
                return None
            out: list[GitObject | None] = []
            restarted = False
            while len(out) < len(specs):
                try:
                    out += self._burst(specs[len(out):])
                except ReaderGone:
                    self._stop()
                    if restarted:
                        raise
                    restarted = True
            return out

    def _burst(self, specs: Sequence[str]) -> list[GitObject | None]:
        if self._cat is None:
            self._cat = CatFile(self._git)
            self.started += 1
        burst: list[str] = []
        size = 0
        for spec in specs:
            if burst and size + len(spec) + 1 > _BURST_BYTES:
                break
            burst.append(spec)
            size += len(spec) + 1
        self._cat.send(burst)
        return [self._cat.receive() for _ in burst]

    def _stop(self) -> None:
        if self._cat is not None:
            cat, self._cat = self._cat, None
            try:
                cat.close()
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()
