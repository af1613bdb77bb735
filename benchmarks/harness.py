"""What every suite shares: the context a suite runs in (Ctx), what it returns (Section, Target), its remotes and
clones, the raw-git floor, time rows, the in-process breakdown of one command, and reading `-X importtime`.

Each suite sets up its own remotes and clones in the workspace, measures, and returns a Section: markdown tables
(every row with the command that produced it), the raw numbers, and its targets. The suites are in one module
each; benchmarks/run.py lists them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, PYTHON, Sample, ms

FETCH_ARGS = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "-c", "fetch.recurseSubmodules=false", "fetch",
              "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--prune", "--",
              "origin", "+refs/missions/*:refs/missions/*"]


@dataclass
class Target:
    text: str
    met: bool | None  # None: not measured in this run
    evidence: str
    verdict: str | None = None  # instead of met / missed, when the CLI and a resident MCP server differ


@dataclass
class Section:
    name: str
    title: str
    intro: str = ""
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        self.tables.append((headers, rows))


@dataclass
class Ctx:
    ws: c.Workspace
    quick: bool
    log: Callable[[str], None]
    _sshd: Any = None
    sizes: list[int] = field(default_factory=list)  # `cache` suite: missions per row (default by --quick)
    growth_sizes: list[int] = field(default_factory=list)  # `growth` suite: live missions per row
    archived: int | None = None  # `growth` suite: archived missions of the second column (None: its default)
    agents: int = 32  # `agents` suite
    missions: int = 500

    def sshd(self):
        if self._sshd is None:
            from tests.support.servers import SshServer  # the test suite's sshd (key auth, 127.0.0.1 only)

            self._sshd = SshServer(self.ws.root / "sshd").start()
        return self._sshd

    def close(self) -> None:
        if self._sshd is not None:
            self._sshd.stop()

    def reps(self, full: int, quick: int) -> int:
        return quick if self.quick else full


TIME_HEADERS = ["measurement", "N", "median", "spread", "× floor", "command"]


def time_row(label: str, s: Sample, floor: Sample | None, command: str) -> list[str]:
    lo, hi, kind = s.spread()
    ratio = f"{s.median / floor.median:.2f}" if floor is not None else "1.00 (floor)"
    return [label, str(s.n), ms(s.median), f"{ms(lo)}–{ms(hi)} ({kind})", ratio, f"`{command}`"]


def code(argv: list[str]) -> str:
    return shlex.join(argv).replace(PYTHON + " -m gitclaim", GITCLAIM_TEXT)


@dataclass
class Remote:
    """A bare repository on disk and how a client reaches it."""

    kind: str
    url: str
    bare: Path
    env: dict[str, str]


def new_remote(ctx: Ctx, kind: str, name: str) -> Remote:
    if kind == "ssh":
        r = ctx.sshd().new_repo(name)
        return Remote("ssh", r.url, r.bare_path, dict(r.env))
    bare = c.seeded_bare(ctx.ws.path(name) / "remote.git")
    return Remote("file", bare.as_uri(), bare, {})


def new_clone(ctx: Ctx, remote: Remote, name: str, *, init: bool = True) -> Path:
    path = ctx.ws.path(name)
    c.run(["git", "clone", "-q", remote.url, str(path)], env=remote.env)
    if init:
        c.run([*GITCLAIM, "init"], path, env=remote.env)
    return path


def floor_runner(ctx: Ctx, clone: Path, remote: Remote, tree: str, prefix: str) -> tuple[Callable[[int], float], str]:
    script = c.floor_script(ctx.ws.root)
    counter = iter(range(10**9))

    def fn(i: int) -> float:
        n = next(counter)
        return c.timed(["sh", str(script), "origin", f"refs/bench/{prefix}-{n}", tree, f"floor {n}"], clone,
                       env=remote.env)

    return fn, f"sh benchmarks/floor.sh origin refs/bench/{prefix}-<n> <tree> <msg>"


def run_lengths(names: list[str]) -> list[str]:
    """['a', 'a', 'b'] -> ['a ×2', 'b']"""
    out: list[str] = []
    prev, count = None, 0
    for name in [*names, None]:
        if name == prev:
            count += 1
            continue
        if prev is not None:
            out.append(prev if count == 1 else f"{prev} ×{count}")
        prev, count = name, 1
    return out


def which(name: str) -> str | None:

    return shutil.which(name)


def python_shim() -> str | None:
    """`python3` as a user's shell finds it, when that is not the interpreter itself (a pyenv shim). `pyenv exec`
    puts the version's own bin first on PATH of the processes it starts, so shim directories are looked at first."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    for d in [d for d in dirs if d.rstrip("/").endswith("shims")] + dirs:
        p = os.path.join(d, "python3")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p if os.path.realpath(p) != PYTHON else None
    return None


def importtime(argv: list[str], cwd: Path) -> list[tuple[int, int, str]]:
    res = c.run(argv, cwd, check=False)
    out = []
    for line in res.stderr.decode(errors="replace").splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            out.append((len(m.group(3)), int(m.group(2)), m.group(4)))
    return out


def import_cost(argv: list[str], cwd: Path, top: str) -> float:
    for _depth, cum, name in importtime(argv, cwd):
        if name == top:
            return cum / 1e6
    return 0.0


def import_table(argv: list[str], cwd: Path) -> list[tuple[str, float]]:
    """Cumulative import time per top-level package (the outermost import of each)."""
    totals: dict[str, float] = {}
    entries = importtime(argv, cwd)
    min_depth = min((d for d, _, _ in entries), default=1)
    for depth, cum, name in entries:
        if depth == min_depth:
            root = name.split(".")[0] if not name.startswith("gitclaim") else name
            totals[root] = totals.get(root, 0) + cum / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])


PHASES = [
    ("interpreter start-up (incl. site and its .pth)", "startup"),
    ("import the CLI app (typer)", "import_app"),
    ("import the command's module (and the core it imports)", "import_command"),
    ("typer dispatch up to the command body (parsing, coercion)", "dispatch"),
    ("open_store: repository, config, settings, commit policy", "open_store"),
    ("  of which git (rev-parse, config --list)", "git_in_open_store"),
    ("  of which settings.load (.gitclaim.yaml)", "settings"),
    ("the command body", "rest"),
    ("  of which waiting on git processes", "git_in_body"),
    ("  of which Python", "body_python"),
]


def breakdown(ctx: Ctx, clone: Path, argv_for: Callable[[int], list[str]], n: int,
              env: dict[str, str] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """Run benchmarks/breakdown.py n (+2 warm-up) times; median seconds per phase, and what was loaded."""
    import statistics

    script = c.ROOT / "benchmarks" / "breakdown.py"
    out = ctx.ws.root / "breakdown.json"
    phases: dict[str, list[float]] = {}
    flags: dict[str, Any] = {}
    for i in range(n + 2):
        wall = c.timed([PYTHON, str(script), *argv_for(i)], clone, env={**(env or {}), "BREAKDOWN_OUT": str(out)})
        got = json.loads(out.read_text())
        if i < 2:
            continue  # warm-up
        got["startup"] = wall - got["total"]
        got["wall"] = wall
        got["body_python"] = got["rest"] - got["git_in_body"]
        flags = {"pydantic": got["pydantic_loaded"], "yaml": got["yaml_loaded"], "git_runs": got["git_runs"]}
        for key, value in got.items():
            if isinstance(value, float):
                phases.setdefault(key, []).append(value)
    return {k: statistics.median(v) for k, v in phases.items()}, flags


def breakdown_table(sec: Section, title: str, med: dict[str, float], flags: dict[str, Any], command: str) -> None:
    rows = [[label, ms(med[key]), f"{med[key] / med['wall'] * 100:.0f}%"] for label, key in PHASES]
    rows.append(["whole process (wall, median)", ms(med["wall"]), "100%"])
    sec.table([title, "median", "share"], rows)
    sec.notes.append(
        f"{title}: `BREAKDOWN_OUT=<file> python3 benchmarks/breakdown.py {command}` instruments one process (phase "
        f"marks, every `Git.run` timed; medians per phase, so the parts need not add up exactly). pydantic was "
        f"{'imported' if flags.get('pydantic') else 'not imported'} (typer's parameter coercion imports it), yaml "
        f"{'imported' if flags.get('yaml') else 'not imported'}; {flags.get('git_runs')} `Git.run` calls.")
