"""Shared plumbing for the benchmark suite: an isolated environment, timing, git setup and trace2 counting.

Nothing here talks to anything but the local file system and 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The test suite's support package: the isolated git environment, the seeded bare repository, the sshd.
from tests.support.gitenv import isolate  # noqa: E402  (needs ROOT on sys.path first)
from tests.support.servers import init_seeded_bare  # noqa: E402

# The interpreter the suite runs under, resolved to the real binary (not a pyenv shim: see docs/performance.md).
PYTHON = os.path.realpath(sys.executable)
GITCLAIM = [PYTHON, "-m", "gitclaim"]
GITCLAIM_TEXT = "python3 -m gitclaim"  # how commands are written in the report

# ---------------------------------------------------------------------------------------------------------------
# Isolation


class Workspace:
    """A temporary directory with HOME and git's global configuration inside it, exported to os.environ so that
    every child process (git, gitclaim, sshd's clients) sees only this configuration."""

    def __init__(self, base: str | None = None, keep: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gitclaim-bench-", dir=base))
        self.keep = keep
        self.home = self.root / "home"
        self.home.mkdir()
        self.gitconfig = isolate(self.home, os.environ.__setitem__, os.environ.__delitem__,
                                 name="Bench User", email="bench@example.invalid")
        self._n = 0

    def path(self, name: str) -> Path:
        self._n += 1
        p = self.root / f"{self._n:03d}-{name}"
        return p

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Running things


def run(argv: Sequence[str], cwd: Path | str | None = None, *, input: bytes | str | None = None,
        env: dict[str, str] | None = None, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    full = {**os.environ, **env} if env else None
    data = input.encode() if isinstance(input, str) else input
    res = subprocess.run(list(argv), cwd=cwd, input=data, env=full, capture_output=True,
                         timeout=timeout)
    if check and res.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} (in {cwd}) exited {res.returncode}:\n"
                           f"{res.stderr.decode(errors='replace')[-3000:]}")
    return res


def git(cwd: Path | str, *args: str, input: bytes | str | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> str:
    return run(["git", *args], cwd, input=input, env=env, check=check).stdout.decode().strip()


def gitclaim(cwd: Path | str, *args: str, env: dict[str, str] | None = None, check: bool = True
             ) -> subprocess.CompletedProcess:
    return run([*GITCLAIM, *args], cwd, env=env, check=check)


# What `timed` measures: "wall" (fork to exit), or "cpu": the user + system time of the process and every
# descendant it waited for (git, ssh clients), from the kernel's accounting. On a machine shared by many busy
# processes wall time mostly measures the queue for a CPU; CPU time does not (benchmarks/run.py --clock).
CLOCK = "wall"


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(argv: Sequence[str], cwd: Path | str | None = None, *, env: dict[str, str] | None = None,
          ok: Sequence[int] = (0,), input: bytes | None = None) -> float:
    """Wall time of one process, from fork to exit (output captured, as an agent capturing it would); with
    CLOCK == "cpu", its CPU time and that of its waited-for descendants instead."""
    full = {**os.environ, **env} if env else None
    c0, t0 = _children_cpu(), time.perf_counter()
    res = subprocess.run(list(argv), cwd=cwd, env=full, input=input, capture_output=True)
    dt = time.perf_counter() - t0 if CLOCK == "wall" else _children_cpu() - c0
    if res.returncode not in ok:
        raise RuntimeError(f"{shlex.join(argv)} (in {cwd}) exited {res.returncode}:\n"
                           f"{res.stderr.decode(errors='replace')[-3000:]}")
    return dt


# ---------------------------------------------------------------------------------------------------------------
# Statistics


@dataclass
class Sample:
    """Repeated wall times of one command, in seconds."""

    times: list[float] = field(default_factory=list)

    def add(self, t: float) -> None:
        self.times.append(t)

    @property
    def n(self) -> int:
        return len(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def spread(self) -> tuple[float, float, str]:
        """(low, high, label): p10-p90 from 10 repetitions on, min-max below."""
        ts = sorted(self.times)
        if len(ts) >= 10:
            q = statistics.quantiles(ts, n=10, method="inclusive")
            return q[0], q[-1], "p10–p90"
        return ts[0], ts[-1], "min–max"

    def to_json(self) -> dict:
        lo, hi, label = self.spread()
        return {"n": self.n, "median_s": self.median, "low_s": lo, "high_s": hi, "spread": label,
                "times_s": self.times}


def interleave(runs: dict[str, Callable[[int], float]], n: int, warmup: int = 2) -> dict[str, Sample]:
    """Run each named measurement `n` times, interleaved (a, b, a, b, ...) so that a change of machine load
    during the run affects all of them alike. Each callable gets the repetition index and returns seconds."""
    for i in range(warmup):
        for fn in runs.values():
            fn(-1 - i)
    out = {name: Sample() for name in runs}
    for i in range(n):
        for name, fn in runs.items():
            out[name].add(fn(i))
    return out


def ms(seconds: float) -> str:
    v = seconds * 1000
    if v >= 10000:
        return f"{v / 1000:.1f} s"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"


# ---------------------------------------------------------------------------------------------------------------
# Repositories


def seeded_bare(path: Path) -> Path:
    """A bare repository with one commit on main (README.md), built with plumbing: the test suite's own."""
    return init_seeded_bare(path)


def clone(url: str, path: Path, *, init: bool = True) -> Path:
    """A clone of `url` with `gitclaim init` run in it (fetch refspec, instance id, first fetch)."""
    git(path.parent, "clone", "-q", url, str(path))
    if init:
        gitclaim(path, "init")
    return path


def ref_oid(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", "--verify", "-q", ref)


# ---------------------------------------------------------------------------------------------------------------
# Bulk missions: one `git fast-import` stream into the bare remote


class FastImport:
    """One `git fast-import` stream into `bare`: commits of one file each, on the refs named (the bulk missions
    of every suite are written this way, by the benchmark's own Bench User)."""

    def __init__(self, bare: Path) -> None:
        self.proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=bare, stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stdin
        self.write = self.proc.stdin.write

    def commit(self, ref: str, secs: int, message: bytes, path: str, data: bytes) -> None:
        """A commit on `ref` (on top of its last one in this stream) holding `path` with `data`."""
        self.write(f"commit {ref}\n".encode())
        self.write(f"committer Bench User <bench@example.invalid> {secs} +0000\n".encode())
        self.write(f"data {len(message)}\n".encode() + message + b"\n")
        self.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n\n")

    def close(self) -> None:
        assert self.proc.stdin
        self.write(b"done\n")
        self.proc.stdin.close()
        err = self.proc.stderr.read() if self.proc.stderr else b""
        if self.proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed: {err.decode(errors='replace')[-2000:]}")


def bulk_missions(bare: Path, ids: Sequence[str], *, status: str = "QUEUED", priority: int = 2,
                  pack_refs: bool = True) -> float:
    """Create refs/missions/<id> for every id in one fast-import stream: mission.md in gitclaim's own format
    (gitclaim.core.mission.render), a create commit message with gitclaim's trailers. Returns the seconds taken."""
    from gitclaim.core import mission as m
    from gitclaim.core.message import MissionMessage

    t0 = time.perf_counter()
    stamp = "2026-01-01T00:00:00Z"
    epoch_secs = 1767225600
    stream = FastImport(bare)
    finished = status in (m.DONE, m.FAILED)
    for mid in ids:
        mis = m.Mission(
            mission_id=mid, title=f"Benchmark mission {mid}", status=status, priority=priority,
            created=stamp, last_activity=stamp,
            claimed_at=stamp if finished else None, claimed_by="bench agent" if finished else None,
            claim_user="Bench User" if finished else None, claim_instance="0123456789ab" if finished else None,
            claim_epoch=1 if finished else 0, summary="done in bulk" if finished else None,
            finished_at=stamp if finished else None,
            body="# Mission\n\nA mission created in bulk by benchmarks/common.py.\n",
        )
        blob = m.render(mis)
        msg = MissionMessage("create", mid, "create", trailers={"Instance": "0123456789ab"}).render().encode()
        stream.commit(f"refs/missions/{mid}", epoch_secs, msg, m.FILENAME, blob)
    stream.close()
    if pack_refs:
        git(bare, "pack-refs", "--all")
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------------------------
# trace2: counting git processes and round trips from git's own trace


REMOTE_CMDS = {"push": "push", "fetch": "fetch", "ls-remote": "ls-remote", "clone": "clone"}


@dataclass
class TraceCount:
    top_level: int = 0  # git processes started by the program itself
    all_git: int = 0  # every git process, including git's own children (receive-pack, index-pack, ...)
    pushes: int = 0
    fetches: int = 0
    ls_remotes: int = 0
    commands: list[str] = field(default_factory=list)  # top-level command names in order
    failed: list[str] = field(default_factory=list)  # top-level commands that exited non-zero, "name (exit N)"
    seconds: list[float] = field(default_factory=list)  # each top-level process's own run time (trace2 t_abs)

    @property
    def round_trips(self) -> int:
        return self.pushes + self.fetches + self.ls_remotes


def count_trace(path: Path) -> TraceCount:
    """Read a GIT_TRACE2_EVENT file: one 'start' event per git process; a process whose sid has no '/' was
    started by the program under test, one with a '/' by another git process."""
    out = TraceCount()
    names: dict[str, str] = {}
    top: list[str] = []
    exits: dict[str, int] = {}
    durations: dict[str, float] = {}
    if not path.exists():
        return out
    for line in path.read_text(errors="replace").splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        sid = ev.get("sid", "")
        if ev.get("event") == "start":
            out.all_git += 1
            if "/" not in sid:
                out.top_level += 1
                top.append(sid)
                argv = ev.get("argv") or []
                names.setdefault(sid, _git_subcommand(argv))
        elif ev.get("event") == "cmd_name" and "/" not in sid:
            names[sid] = ev.get("name") or names.get(sid, "?")
        elif ev.get("event") == "exit" and "/" not in sid:
            durations[sid] = float(ev.get("t_abs", 0.0))
            if ev.get("code", 0) != 0:
                exits[sid] = ev.get("code")
    for sid in top:
        name = names.get(sid, "?")
        out.commands.append(name)
        out.seconds.append(durations.get(sid, 0.0))
        if sid in exits:
            out.failed.append(f"{name} (exit {exits[sid]})")
        if name == "push":
            out.pushes += 1
        elif name == "fetch":
            out.fetches += 1
        elif name == "ls-remote":
            out.ls_remotes += 1
    return out


def _git_subcommand(argv: list[str]) -> str:
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-c" or a == "-C":
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return a
    return "?"


def traced(argv: Sequence[str], cwd: Path, trace_file: Path, *, ok: Sequence[int] = (0,)) -> TraceCount:
    if trace_file.exists():
        trace_file.unlink()
    res = run(argv, cwd, env={"GIT_TRACE2_EVENT": str(trace_file)}, check=False)
    if res.returncode not in ok:
        raise RuntimeError(f"{shlex.join(argv)} exited {res.returncode}: {res.stderr.decode(errors='replace')}")
    return count_trace(trace_file)


# ---------------------------------------------------------------------------------------------------------------
# The raw-git floor for one compare-and-swap push


FLOOR_SCRIPT = """#!/bin/sh
# The raw-git floor of a claim: build one commit on an existing tree and push it as a compare-and-swap
# creation of a new ref (the ref must not exist on the remote), reading git's porcelain answer.
# usage: floor.sh <remote> <ref> <tree> <message>
set -e
new=$(git commit-tree "$3" -m "$4")
git push --porcelain --force-with-lease="$2": "$1" "$new:$2" >/dev/null
"""


def floor_script(dirpath: Path) -> Path:
    p = dirpath / "floor.sh"
    p.write_text(FLOOR_SCRIPT)
    p.chmod(0o755)
    return p
