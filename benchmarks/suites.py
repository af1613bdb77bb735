"""The benchmarks. Each suite sets up its own remotes and clones in the workspace, measures, and returns a
Section: markdown tables (every row with the command that produced it), the raw numbers, and its targets.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
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


# ---------------------------------------------------------------------------------------------------------------
# 1. Claim latency against the raw-git floor, file and ssh remotes


def claim_latency(ctx: Ctx) -> Section:
    sec = Section("claim", "Claim latency against the raw-git floor")
    sec.intro = (
        "The floor is `benchmarks/common.py:FLOOR_SCRIPT`, a shell script that runs `git commit-tree` on an "
        "existing tree and `git push --porcelain --force-with-lease=<ref>: origin <oid>:<ref>` (one "
        "compare-and-swap creation of a new ref). gitclaim's row is `claim <id>` of a QUEUED mission whose state "
        "is known locally (the clone ran `gitclaim init`, whose fetch brought every mission), so it is one push. "
        "The 'unknown' row claims a mission created on the remote after the clone's last fetch: one fetch, then "
        "one push. Floor and gitclaim runs are interleaved."
    )
    n = ctx.reps(30, 6)
    rows = []
    for kind in ("file", "ssh"):
        ctx.log(f"claim latency: {kind}")
        remote = new_remote(ctx, kind, f"claim-{kind}")
        ids = [f"c-{i:04d}" for i in range(2 * n + 8)]
        c.bulk_missions(remote.bare, ids)
        clone = new_clone(ctx, remote, f"claim-{kind}-clone")
        tree = c.git(clone, "rev-parse", f"refs/missions/{ids[0]}^{{tree}}")
        floor, floor_cmd = floor_runner(ctx, clone, remote, tree, "floor")
        known = iter(ids)
        unknown_n = iter(range(10**6))

        def claim_known(i: int) -> float:
            return c.timed([*GITCLAIM, "claim", next(known), "--as", "bench"], clone, env=remote.env)

        def claim_unknown(i: int) -> float:
            mid = f"u-{next(unknown_n):04d}"
            c.bulk_missions(remote.bare, [mid], pack_refs=False)  # created behind the clone's back, not timed
            return c.timed([*GITCLAIM, "claim", mid, "--as", "bench"], clone, env=remote.env)

        def lib_claim(i: int) -> float:
            return c.timed([PYTHON, "-c", LIB_CLAIM, next(known)], clone, env=remote.env)

        got = c.interleave({"floor": floor, "known": claim_known, "unknown": claim_unknown, "lib": lib_claim},
                           n, warmup=2)
        rows.append(time_row(f"{kind}: floor (commit-tree + CAS push)", got["floor"], None, floor_cmd))
        rows.append(time_row(f"{kind}: claim, state known locally", got["known"], got["floor"],
                             f"{GITCLAIM_TEXT} claim c-<n> --as bench"))
        rows.append(time_row(f"{kind}: same claim through the library, no CLI framework", got["lib"],
                             got["floor"], "python3 -c \"$LIB_CLAIM\" c-<n>"))
        rows.append(time_row(f"{kind}: claim, state unknown locally", got["unknown"], got["floor"],
                             f"{GITCLAIM_TEXT} claim u-<n> --as bench"))
        sec.raw[kind] = {k: v.to_json() for k, v in got.items()}
        if kind == "ssh":
            ratio = got["known"].median / got["floor"].median
            sec.targets.append(Target(
                "claim wall time within 1.5× the floor over ssh", ratio <= 1.5,
                f"ssh: claim {ms(got['known'].median)} vs floor {ms(got['floor'].median)} = {ratio:.2f}×"))
        sec.raw[f"{kind}_url"] = remote.url.replace(str(ctx.ws.root), "<tmp>")
    sec.table(TIME_HEADERS, rows)
    sec.notes.append(f"`$LIB_CLAIM` is `{LIB_CLAIM}`: the same library call the CLI makes, without typer.")
    _claim_breakdown(ctx, sec, n)
    if ctx._sshd is not None:
        sec.notes.append(f"ssh server: {_describe_sshd()}; a new ssh connection per git command, as a user "
                         "without ControlMaster has.")
    return sec


LIB_CLAIM = ("import sys; from gitclaim.missions import workspace as service; "
             "from gitclaim.core import transitions as claims; s = service.open_store(); "
             "claims.claim(s, claims.actor_for(s, 'bench'), sys.argv[1])")

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


def _describe_sshd() -> str:
    ver = subprocess.run(["ssh", "-V"], capture_output=True, text=True)
    return (f"OpenSSH sshd on 127.0.0.1, key auth ({(ver.stderr or ver.stdout).strip()}), "
            "via tests.support.servers.SshServer")


def _claim_breakdown(ctx: Ctx, sec: Section, n: int) -> None:
    ctx.log("claim latency: breakdown")
    remote = new_remote(ctx, "file", "breakdown")
    ids = [f"b-{i:04d}" for i in range(n + 2)]
    c.bulk_missions(remote.bare, ids)
    clone = new_clone(ctx, remote, "breakdown-clone")
    med, flags = breakdown(ctx, clone, lambda i: ["claim", ids[i], "--as", "bench"], n)
    breakdown_table(sec, f"where a CLI claim's time goes (file remote, N={n})", med, flags, "claim b-<n> --as bench")
    sec.raw["breakdown_median_s"] = med


# ---------------------------------------------------------------------------------------------------------------
# 2. Round trips and git processes per command, from git's own trace2 events


def round_trips(ctx: Ctx) -> Section:
    sec = Section("trips", "Round trips and git processes per command")
    sec.intro = (
        "Each command runs once with `GIT_TRACE2_EVENT=<file>`; every git process writes a `start` event. "
        "'git processes' counts those started by gitclaim itself (trace2 sid without '/'), 'incl. children' "
        "adds the ones git started (on a file remote, `receive-pack`/`upload-pack` run locally, plus "
        "`index-pack`/`rev-list` helpers). Round trips are the push, fetch and ls-remote processes. File remote."
    )
    remote = new_remote(ctx, "file", "trips")
    c.bulk_missions(remote.bare, [f"t-{i:03d}" for i in range(20)])
    clone = new_clone(ctx, remote, "trips-clone")
    other = new_clone(ctx, remote, "trips-other")
    c.gitclaim(other, "claim", "t-019", "--as", "other")
    c.gitclaim(clone, "sync")
    trace = ctx.ws.root / "trace2.json"
    cases: list[tuple[str, list[str], tuple[int, ...], Callable[[], None] | None]] = [
        ("--version", ["--version"], (0,), None),
        ("claim, state known locally", ["claim", "t-000", "--as", "bench"], (0,), None),
        ("claim, state unknown locally", ["claim", "late-1", "--as", "bench"], (0,),
         lambda: c.bulk_missions(remote.bare, ["late-1"], pack_refs=False)),
        ("claim, already mine (no-op)", ["claim", "t-000", "--as", "bench"], (0,), None),
        ("claim, held by another (exit 3)", ["claim", "t-019", "--as", "bench"], (3,), None),
        ("next", ["next", "--json", "--as", "bench"], (0,), None),
        ("log", ["log", "t-000", "benchmark note"], (0,), None),
        ("heartbeat", ["heartbeat", "t-000"], (0,), None),
        ("done", ["done", "t-000", "--summary", "benchmarked"], (0,), None),
        ("list (20 missions)", ["list"], (0,), None),
        ("show", ["show", "t-000"], (0,), None),
    ]
    rows = []
    for label, args, ok, before in cases:
        if before:
            before()
        t = c.traced([*GITCLAIM, *args], clone, trace, ok=ok)
        failed = f"; failed: {', '.join(t.failed)}" if t.failed else ""
        rows.append([label, str(t.pushes), str(t.fetches), str(t.ls_remotes), str(t.top_level), str(t.all_git),
                     ms(sum(t.seconds)), ", ".join(_runs(t.commands)) + failed,
                     f"`{GITCLAIM_TEXT} {shlex.join(args)}`"])
        if label == "claim, state known locally":
            per = ", ".join(f"{name} {ms(sec_)}" for name, sec_ in zip(t.commands, t.seconds, strict=False))
            sec.notes.append(f"Each git process of a known-state claim, as trace2 times it (t_abs: from the "
                             f"process's start to its exit, without fork/exec): {per}.")
        sec.raw[label] = {"pushes": t.pushes, "fetches": t.fetches, "ls_remote": t.ls_remotes,
                          "git_processes": t.top_level, "all_git": t.all_git, "commands": t.commands,
                          "failed": t.failed}
    floor_trace = c.traced(["sh", str(c.floor_script(ctx.ws.root)), "origin", "refs/bench/trip-floor",
                            c.git(clone, "rev-parse", "refs/missions/t-001^{tree}"), "floor"], clone, trace)
    rows.insert(0, ["floor (commit-tree + CAS push)", str(floor_trace.pushes), str(floor_trace.fetches), "0",
                    str(floor_trace.top_level), str(floor_trace.all_git), ms(sum(floor_trace.seconds)),
                    ", ".join(_runs(floor_trace.commands)), "`sh floor.sh origin <ref> <tree> <msg>`"])
    sec.table(["command", "pushes", "fetches", "ls-remote", "git processes", "incl. children",
               "time inside them", "gitclaim's git commands, in order", "command line"], rows)
    known, unknown = sec.raw["claim, state known locally"], sec.raw["claim, state unknown locally"]
    sec.targets.append(Target(
        "uncontended claim with known state: one round trip (one push, no fetch)",
        known["pushes"] == 1 and known["fetches"] == 0 and known["ls_remote"] == 0,
        f"{known['pushes']} push, {known['fetches']} fetch, {known['ls_remote']} ls-remote; "
        f"{known['git_processes']} git processes in all (floor: {floor_trace.top_level})"))
    sec.targets.append(Target(
        "claim with unknown state: at most one fetch and one push",
        unknown["pushes"] <= 1 and unknown["fetches"] <= 1 and unknown["ls_remote"] == 0,
        f"{unknown['pushes']} push, {unknown['fetches']} fetch"))
    return sec


def _runs(names: list[str]) -> list[str]:
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


# ---------------------------------------------------------------------------------------------------------------
# 3. Start-up


def startup(ctx: Ctx) -> Section:
    sec = Section("startup", "Start-up")
    n = ctx.reps(30, 8)
    remote = new_remote(ctx, "file", "startup")
    clone = new_clone(ctx, remote, "startup-clone")
    runs = {
        "py": lambda i: c.timed([PYTHON, "-c", "pass"]),
        "py-S": lambda i: c.timed([PYTHON, "-S", "-c", "pass"]),
        "version": lambda i: c.timed([*GITCLAIM, "--version"], clone),
        "list": lambda i: c.timed([*GITCLAIM, "list"], clone),
        "git": lambda i: c.timed(["git", "--version"]),
        "typer": lambda i: c.timed([PYTHON, "-c", "import typer"]),
        "pydantic": lambda i: c.timed([PYTHON, "-c", "import pydantic"]),
    }
    shim = _path_python_shim()
    if shim:
        runs["shim"] = lambda i: c.timed([shim, "-c", "pass"])
    ctx.log("startup")
    got = c.interleave(runs, n, warmup=2)
    base = got["py"]
    rows = [
        time_row("python3 -c pass (the floor)", base, None, f"{PYTHON} -c pass"),
        time_row("python3 -S -c pass (no site, no .pth)", got["py-S"], base, f"{PYTHON} -S -c pass"),
        time_row("gitclaim --version", got["version"], base, f"{GITCLAIM_TEXT} --version"),
        time_row("gitclaim list, empty remote", got["list"], base, f"{GITCLAIM_TEXT} list"),
        time_row("git --version", got["git"], base, "git --version"),
        time_row("import typer (what the CLI imports first)", got["typer"], base, f"{PYTHON} -c 'import typer'"),
        time_row("import pydantic (typer ≥ 0.22 imports it; gitclaim pins typer below)", got["pydantic"], base,
                 f"{PYTHON} -c 'import pydantic'"),
    ]
    if shim:
        rows.append(time_row("python3 through the PATH shim", got["shim"], base, f"{shim} -c pass"))
    sec.table(TIME_HEADERS, rows)
    sec.raw = {k: v.to_json() for k, v in got.items()}
    sec.raw["python"] = PYTHON
    sec.raw["path_python3"] = shim
    certifi = _import_cost([PYTHON, "-X", "importtime", "-c", "pass"], clone, top="certifi")
    site = _import_cost([PYTHON, "-X", "importtime", "-c", "pass"], clone, top="site")
    sec.notes.append(
        f"`python3 -c pass` on this machine runs a site `.pth` file (`_sandboxing_egress_ca.pth`) that imports "
        f"`certifi`: `-X importtime` puts `site` at {ms(site)} cumulative, of which `certifi` {ms(certifi)} "
        f"(one run); `-S` skips site and the .pth: {ms(base.median - got['py-S'].median)} less per interpreter "
        f"start at the median. Every gitclaim process pays it; a user's machine without that .pth does not.")
    if shim:
        sec.notes.append(
            f"`python3` on PATH is {shim}, a pyenv shim (a bash script that execs the interpreter): "
            f"{ms(got['shim'].median - base.median)} more per start. The suite runs the real interpreter "
            f"({PYTHON}) directly, as `{PYTHON} -m gitclaim` with PYTHONPATH at the repository root; "
            + (f"the `gitclaim` script on PATH ({_which('gitclaim')}) is not used." if _which("gitclaim")
               else "no `gitclaim` script is on PATH."))
    imports = _import_table([PYTHON, "-X", "importtime", "-m", "gitclaim", "claim", "s-none", "--as", "b"], clone)
    sec.table(["top-level package imported by `claim` (one `-X importtime` run)", "cumulative", "command"],
              [[name, ms(t), f"`{GITCLAIM_TEXT} claim <id>` with `-X importtime`"] for name, t in imports[:12]])
    sec.raw["claim_imports"] = imports
    v = got["version"].median
    sec.targets.append(Target("`gitclaim --version` under 120 ms", v < 0.120,
                              f"{ms(v)} median ({ms(v - base.median)} over `python3 -c pass`, "
                              f"{ms(v - got['py-S'].median)} over `python3 -S -c pass`)"))
    return sec


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def _path_python_shim() -> str | None:
    """`python3` as a user's shell finds it, when that is not the interpreter itself (a pyenv shim). `pyenv exec`
    puts the version's own bin first on PATH of the processes it starts, so shim directories are looked at first."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    for d in [d for d in dirs if d.rstrip("/").endswith("shims")] + dirs:
        p = os.path.join(d, "python3")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p if os.path.realpath(p) != PYTHON else None
    return None


def _importtime(argv: list[str], cwd: Path) -> list[tuple[int, int, str]]:
    res = c.run(argv, cwd, check=False)
    out = []
    for line in res.stderr.decode(errors="replace").splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            out.append((len(m.group(3)), int(m.group(2)), m.group(4)))
    return out


def _import_cost(argv: list[str], cwd: Path, top: str) -> float:
    for _depth, cum, name in _importtime(argv, cwd):
        if name == top:
            return cum / 1e6
    return 0.0


def _import_table(argv: list[str], cwd: Path) -> list[tuple[str, float]]:
    """Cumulative import time per top-level package (the outermost import of each)."""
    totals: dict[str, float] = {}
    entries = _importtime(argv, cwd)
    min_depth = min((d for d, _, _ in entries), default=1)
    for depth, cum, name in entries:
        if depth == min_depth:
            root = name.split(".")[0] if not name.startswith("gitclaim") else name
            totals[root] = totals.get(root, 0) + cum / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])


# ---------------------------------------------------------------------------------------------------------------
# 4. list and show at 1,000 / 10,000 / 100,000 missions


def scale(ctx: Ctx) -> Section:
    sec = Section("scale", "`list` and `show` with many missions")
    sizes = [1000, 10000] if ctx.quick else [1000, 10000, 100000]
    sec.intro = (
        "Missions are created in bulk with ONE `git fast-import` stream into the bare remote (mission.md from "
        "`gitclaim.core.mission.render`, a create commit with gitclaim's trailers, one commit per mission), then "
        "`git pack-refs --all` on the remote. The clone is a plain `git clone` plus `gitclaim init` (whose fetch "
        "brings every mission ref). Measured runs of `list` and `show` therefore include a **no-op fetch** "
        "(every gitclaim read fetches first); the fetch alone is its own row. The list floor is "
        "`git for-each-ref` piped into one `git cat-file --batch` reading every mission.md; the show floor is "
        "one `git cat-file --batch` of the tip commit and its mission.md."
    )
    rows = []
    list_10k = None
    list_breakdown: tuple[dict[str, float], dict[str, Any]] = ({}, {})
    for size in sizes:
        ctx.log(f"scale: {size} missions")
        n = 3 if (ctx.quick or size >= 100000) else 10
        remote = new_remote(ctx, "file", f"scale-{size}")
        ids = [f"m-{i:06d}" for i in range(size)]
        t_bulk = c.bulk_missions(remote.bare, ids)
        t0 = time.perf_counter()
        clone = new_clone(ctx, remote, f"scale-{size}-clone")
        t_init = time.perf_counter() - t0
        loose = sum(1 for _ in (clone / ".git" / "refs" / "missions").iterdir()) \
            if (clone / ".git" / "refs" / "missions").exists() else 0
        mid = ids[size // 2]
        floor_list = ("git for-each-ref --format='%(objectname):mission.md' refs/missions/ "
                      "| git cat-file --batch | wc -c")
        floor_show = f"printf 'refs/missions/{mid}\\nrefs/missions/{mid}:mission.md\\n' | git cat-file --batch"
        runs = {
            "floor_list": lambda i: c.timed(["sh", "-c", floor_list], clone),
            "fetch": lambda i: c.timed(["git", *FETCH_ARGS], clone),
            "list": lambda i: c.timed([*GITCLAIM, "list"], clone),
            "floor_show": lambda i: c.timed(["sh", "-c", floor_show], clone),
            "show": lambda i: c.timed([*GITCLAIM, "show", mid], clone),
        }
        got = c.interleave(runs, n, warmup=1)
        out = c.run([*GITCLAIM, "list", "--json"], clone).stdout
        listed = len(json.loads(out))
        label = f"{size:,}"
        rows += [
            time_row(f"{label}: list floor (for-each-ref + cat-file --batch)", got["floor_list"], None,
                     floor_list),
            time_row(f"{label}: no-op fetch alone (as gitclaim runs it)", got["fetch"], got["floor_list"],
                     "git " + shlex.join(FETCH_ARGS)),
            time_row(f"{label}: gitclaim list (incl. no-op fetch)", got["list"], got["floor_list"],
                     f"{GITCLAIM_TEXT} list"),
            time_row(f"{label}: show floor (cat-file of tip + mission.md)", got["floor_show"], None, floor_show),
            time_row(f"{label}: gitclaim show (incl. no-op fetch)", got["show"], got["floor_show"],
                     f"{GITCLAIM_TEXT} show {mid}"),
        ]
        if size == 10000:
            list_10k = got["list"]
            list_breakdown = breakdown(ctx, clone, lambda i: ["list"], n)
            sec.raw["list_10k_breakdown_median_s"] = list_breakdown[0]
        # The same reads once the clone's mission refs are packed (git pack-refs --all), as gc would leave them.
        c.git(clone, "pack-refs", "--all")
        packed = c.interleave({k: runs[k] for k in ("floor_list", "fetch", "list")}, n, warmup=1)
        rows += [
            time_row(f"{label}, clone's refs packed: list floor", packed["floor_list"], None, floor_list),
            time_row(f"{label}, clone's refs packed: no-op fetch alone", packed["fetch"], packed["floor_list"],
                     "git " + shlex.join(FETCH_ARGS)),
            time_row(f"{label}, clone's refs packed: gitclaim list", packed["list"], packed["floor_list"],
                     f"{GITCLAIM_TEXT} list"),
        ]
        sec.raw[f"{size}-packed"] = {k: v.to_json() for k, v in packed.items()}
        sec.raw[str(size)] = {**{k: v.to_json() for k, v in got.items()}, "bulk_create_s": t_bulk,
                              "clone_and_init_s": t_init, "loose_mission_refs_in_clone": loose,
                              "listed": listed}
        sec.notes.append(f"{label} missions: fast-import + pack-refs on the remote {t_bulk:.1f} s; `git clone` + "
                         f"`gitclaim init` {t_init:.1f} s; the clone holds {loose:,} loose mission refs after "
                         f"init (git fetch writes loose refs); `list --json` returned {listed:,} missions.")

    sec.table(TIME_HEADERS, rows)
    if list_10k is not None:
        breakdown_table(sec, "where `list` of 10,000 missions spends its time", *list_breakdown, "list")
        sec.targets.append(Target("`list` of 10,000 missions under 1 s", list_10k.median < 1.0,
                                  f"{ms(list_10k.median)} median (including its no-op fetch)"))
    return sec


# ---------------------------------------------------------------------------------------------------------------
# 5. Contention: 16 agents over 200 missions


def start_agents(agent_py: Path, go: Path, clones: list[Path], stem: Path, env: dict[str, str] | None = None
                 ) -> tuple[list[subprocess.Popen[bytes]], list[Path], list[Path]]:
    """One AGENT process per clone, each waiting for `go` to exist: (processes, result files, trace2 files),
    the files named `<stem>-<n>.json` and `<stem>-<n>.trace`."""
    procs, outs, traces = [], [], []
    for a, clone in enumerate(clones):
        out, trace = Path(f"{stem}-{a}.json"), Path(f"{stem}-{a}.trace")
        outs.append(out)
        traces.append(trace)
        procs.append(subprocess.Popen([PYTHON, str(agent_py), str(go), str(out), str(trace), f"agent-{a}",
                                       *GITCLAIM, "next", "--json"], cwd=clone, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs, outs, traces


AGENT = r"""
import json, os, subprocess, sys, time
go, out_path, trace, name = sys.argv[1:5]
cmd = sys.argv[5:]
deadline = time.time() + 120
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.001)
env = dict(os.environ, GIT_TRACE2_EVENT=trace)
results, errors = [], []
stop = time.time() + 900
for _ in range(1000):
    if time.time() > stop:
        errors.append("time limit")
        break
    res = subprocess.run(cmd + ["--as", name], env=env, capture_output=True, text=True)
    if res.returncode == 0:
        results.append(json.loads(res.stdout))
    elif res.returncode == 5:
        break
    else:
        errors.append(f"exit {res.returncode}: {res.stderr.strip()[-300:]}")
json.dump({"claims": results, "errors": errors, "end": time.time()}, open(out_path, "w"))
"""


def contention(ctx: Ctx) -> Section:
    sec = Section("contention", "Contention: 16 agents over 200 missions")
    agents, missions = 16, 200
    runs = ctx.reps(3, 1)
    sec.intro = (
        f"{agents} clones of one file remote, each with its own `gitclaim init` (own instance id); {missions} "
        "QUEUED missions of the same priority created in bulk. One process per clone loops on "
        f"`{GITCLAIM_TEXT} next --json` until exit 5 (nothing ready); all start at one file barrier. Wall time "
        "runs from the barrier to the last agent's exit. 'push attempts' are counted twice: from the `pushes` "
        "field of each successful `next --json` and from git's trace2 events of every agent (the latter also "
        "counts pushes made by `next` calls that then lost and found nothing left). Double claims are checked "
        "on the remote: `git log` of every mission ref, counting `Gitclaim-Action: claim` trailers."
    )
    rows = []
    agent_py = ctx.ws.root / "agent.py"
    agent_py.write_text(AGENT)
    worst = 0.0
    for r in range(runs):
        ctx.log(f"contention: run {r + 1}/{runs}")
        remote = new_remote(ctx, "file", f"contention-{r}")
        ids = [f"job-{i:03d}" for i in range(missions)]
        c.bulk_missions(remote.bare, ids)
        clones = [new_clone(ctx, remote, f"contention-{r}-agent-{a:02d}") for a in range(agents)]
        go = ctx.ws.root / f"go-{r}"
        procs, outs, traces = start_agents(agent_py, go, clones, ctx.ws.root / f"agent-{r}")
        time.sleep(1.0)
        t0 = time.time()
        go.write_text("go")
        for p in procs:
            p.wait(timeout=1200)
        data = [json.loads(o.read_text()) for o in outs]
        wall = max(d["end"] for d in data) - t0
        won = sum(len(d["claims"]) for d in data)
        pushes_json = sum(cl["pushes"] for d in data for cl in d["claims"])
        lost = sum(cl["lost_races"] for d in data for cl in d["claims"])
        trace_counts = [c.count_trace(t) for t in traces]
        pushes_trace = sum(t.pushes for t in trace_counts)
        fetches_trace = sum(t.fetches for t in trace_counts)
        errors = [e for d in data for e in d["errors"]]
        per_agent = sorted(len(d["claims"]) for d in data)
        claims_per_mission, claimed_ids = _claims_on_remote(remote.bare)
        doubles = sum(1 for v in claims_per_mission.values() if v > 1)
        unclaimed = sum(1 for v in claims_per_mission.values() if v == 0)
        agent_won = sorted(cl["mission_id"] for d in data for cl in d["claims"])
        consistent = agent_won == sorted(claimed_ids) and len(set(agent_won)) == len(agent_won)
        ratio = pushes_trace / won if won else float("inf")
        worst = max(worst, ratio)
        rows.append([str(r + 1), f"{wall:.1f} s", str(won), str(pushes_json), f"{pushes_json / won:.3f}",
                     str(pushes_trace), f"{ratio:.3f}", str(lost), str(fetches_trace),
                     f"{doubles} double, {unclaimed} unclaimed", "yes" if consistent else "NO",
                     f"{per_agent[0]}–{per_agent[-1]}", str(len(errors))])
        sec.raw[f"run{r + 1}"] = {"wall_s": wall, "won": won, "pushes_json": pushes_json,
                                  "pushes_trace": pushes_trace, "lost_races": lost, "fetches": fetches_trace,
                                  "double_claims": doubles, "unclaimed": unclaimed, "agents_match_remote":
                                  consistent, "per_agent": per_agent, "errors": errors[:20]}
    sec.table(["run", "wall", "claims won", "pushes (json)", "pushes/claim (json)", "push attempts (trace2)",
               "attempts/claim (trace2)", "lost races", "fetches (trace2)", "remote check", "agents' claims = "
               "remote's", "claims per agent", "errors"], rows)
    sec.notes.append(f"command per agent: `{GITCLAIM_TEXT} next --json --as agent-<k>` in a loop until exit 5 "
                     "(benchmarks/suites.py: AGENT)")
    sec.targets.append(Target("16 agents over 200 missions: at most 1.3 push attempts per won claim",
                              worst <= 1.3, f"worst run {worst:.3f} push attempts per won claim (trace2), "
                              f"{sum(v['double_claims'] for v in sec.raw.values())} double claims over "
                              f"{runs} runs"))
    return sec


def _claims_on_remote(bare: Path) -> tuple[dict[str, int], list[str]]:
    out = c.git(bare, "log", "--format=%S %(trailers:key=Gitclaim-Action,valueonly,separator=%x2C)",
                "--source", "--glob=refs/missions/*")
    counts: dict[str, int] = {}
    for ref in c.git(bare, "for-each-ref", "--format=%(refname)", "refs/missions/").splitlines():
        counts[ref[len("refs/missions/"):]] = 0
    for line in out.splitlines():
        ref, _, action = line.partition(" ")
        if action.strip() == "claim":
            counts[ref[len("refs/missions/"):]] += 1
    return counts, [k for k, v in counts.items() if v >= 1]


# ---------------------------------------------------------------------------------------------------------------
# 6. Claim cost against finished missions, live or archived


def archive(ctx: Ctx) -> Section:
    sec = Section("archive", "Claim cost against the number of finished missions, live or archived")
    n = ctx.reps(20, 5)
    sec.intro = (
        "Each remote holds K DONE missions (bulk, one commit each) plus QUEUED missions to claim. 'live': the "
        "DONE missions stay under refs/missions/; 'archived': `gitclaim archive` (gitclaim/missions/archive.py) moved "
        "them to refs/gitclaim/archive. The claimer is a fresh clone + `gitclaim init` made after that, and "
        "claims QUEUED missions whose state it knows (one push). Every remote is set up first; then every floor "
        "and claim of every remote runs interleaved, so that a change of the machine's load reaches them all alike. "
        "'without the archive ref': the floor on a copy of the archived remote with `refs/gitclaim/archive` "
        "deleted, everything else the same."
    )
    runners: dict[str, Callable[[int], float]] = {}
    commands: dict[str, str] = {}
    for size, mode in ((0, "live"), (1000, "live"), (1000, "archived"), (10000, "live"), (10000, "archived")):
        label = f"K={size:,} DONE, {mode}"
        ctx.log(f"archive: {label}")
        remote, clone, tree = _archive_remote(ctx, sec, size, mode, n)
        runners[f"{label}: floor"], commands[f"{label}: floor"] = floor_runner(ctx, clone, remote, tree, "afloor")
        if mode == "archived":
            runners[f"{label}: floor without the archive ref"] = unarchived_floor(ctx, remote, size, tree)
            commands[f"{label}: floor without the archive ref"] = commands[f"{label}: floor"]
        runners[f"{label}: claim"] = _claimer(clone, n + 2)
        commands[f"{label}: claim"] = f"{GITCLAIM_TEXT} claim q-<n> --as bench"
    ctx.log("archive: measuring every remote, interleaved")
    got = c.interleave(runners, n, warmup=1)
    rows = []
    for name, sample in got.items():
        floor = got[name.replace(": claim", ": floor")] if name.endswith(": claim") else None
        rows.append(time_row(name, sample, floor, commands[name]))
    sec.table(TIME_HEADERS, rows)
    sec.raw = {name: sample.to_json() for name, sample in got.items()}
    for size in (1000, 10000):
        label = f"K={size:,} DONE, archived"
        ratio = got[f"{label}: floor"].median / got[f"{label}: floor without the archive ref"].median
        sec.notes.append(f"K={size:,}: the floor on the archived remote is {ratio:.2f}× the floor on its copy "
                         "without `refs/gitclaim/archive`: what the archive's history costs a plain push")
    base = got["K=0 DONE, live: claim"]
    archived = {k: got[f"K={k:,} DONE, archived: claim"] for k in (1000, 10000)}
    worst = max(s.median / base.median for s in archived.values())
    detail = ", ".join(f"K={k:,}: {ms(s.median)}" for k, s in archived.items())
    sec.targets.append(Target("claim cost flat in the number of archived missions", worst <= 1.10,
                              f"claim median with K=0: {ms(base.median)}; archived {detail} "
                              f"(worst {worst:.2f}× of K=0; 'flat' taken as within 10%)"))
    return sec


def _claimer(clone: Path, count: int) -> Callable[[int], float]:
    """Claims q-000, q-001, ... in `clone`, one per call."""
    ids = iter(f"q-{i:03d}" for i in range(count))
    return lambda i: c.timed([*GITCLAIM, "claim", next(ids), "--as", "bench"], clone)


def _archive_remote(ctx: Ctx, sec: Section, size: int, mode: str, n: int) -> tuple[Remote, Path, str]:
    """A remote of `size` DONE missions, left live or archived by `gitclaim archive`, with n + 2 QUEUED ones,
    and a fresh clone of it made afterwards."""
    remote = new_remote(ctx, "file", f"archive-{size}-{mode}")
    if size:
        c.bulk_missions(remote.bare, [f"old-{i:05d}" for i in range(size)], status="DONE")
    c.bulk_missions(remote.bare, [f"q-{i:03d}" for i in range(n + 2)])
    if mode == "archived":
        admin = new_clone(ctx, remote, f"archive-{size}-admin")
        t0 = time.perf_counter()
        # K × R ref comparisons in git's push (docs/archive.md): minutes at K=10,000 on a busy machine
        res = c.run([*GITCLAIM, "archive", "--json"], admin, timeout=3600)
        seconds = time.perf_counter() - t0
        arch = json.loads(res.stdout)
        left = len(c.git(remote.bare, "for-each-ref", "refs/missions/").splitlines())
        sec.notes.append(f"K={size:,}: `{GITCLAIM_TEXT} archive` moved {arch['count']:,} missions in "
                         f"{arch['pushes']} push(es), {len(arch['commits'])} commit(s), {seconds:.1f} s; "
                         f"{left} refs left under refs/missions/")
    clone = new_clone(ctx, remote, f"archive-{size}-{mode}-clone")
    return remote, clone, c.git(clone, "rev-parse", "refs/missions/q-000^{tree}")


def unarchived_floor(ctx: Ctx, remote: Remote, size: int, tree: str) -> Callable[[int], float]:
    """The floor on a copy of an archived remote with the archive ref deleted: everything else (packs, packed-refs,
    deleted mission refs) the same, so the difference between the two floors is the archive's history alone."""
    bare = ctx.ws.path(f"archive-{size}-unarchived") / "remote.git"
    shutil.copytree(remote.bare, bare, symlinks=True)
    c.git(bare, "update-ref", "-d", "refs/gitclaim/archive")
    copy = Remote("file", bare.as_uri(), bare, {})
    return floor_runner(ctx, new_clone(ctx, copy, f"archive-{size}-unarchived-clone"), copy, tree,
                        "ufloor")[0]


# ---------------------------------------------------------------------------------------------------------------
# 7. MCP tool call latency on a warm server


def mcp(ctx: Ctx) -> Section:
    sec = Section("mcp", "MCP tool call on a warm server, against the floor and the CLI")
    n = ctx.reps(30, 6)
    sec.intro = (
        "One `python3 -m gitclaim mcp` server (stdio) per remote is started in a clone with the MCP SDK's own "
        "stdio client and initialized; warm-up calls run first. Then, interleaved: the floor script, the CLI "
        "`claim`, the `claim_mission` tool call (a fresh QUEUED mission each time, state known locally: one "
        "push) and the `heartbeat` tool call on a mission the server holds (one push). A tool call's time is "
        "the client's `await session.call_tool(...)`. File remote, then ssh on loopback."
    )
    try:
        import anyio  # noqa: F401
        import mcp as _mcp  # noqa: F401
    except ImportError as exc:
        sec.notes.append(f"not measured: the MCP SDK is not importable ({exc})")
        sec.targets.append(Target("a warm MCP tool call within 1.2× the floor", None, "MCP SDK missing"))
        return sec
    rows = []
    ratios = {}
    for kind in ("file", "ssh"):
        ctx.log(f"mcp: {kind}")
        got, counts = _mcp_measure(ctx, kind, n, count=(kind == "file"))
        rows += [
            time_row(f"{kind}: floor (commit-tree + CAS push)", got["floor"], None, got["floor_cmd"]),
            time_row(f"{kind}: CLI claim (new process)", got["cli"], got["floor"],
                     f"{GITCLAIM_TEXT} claim p-<n> --as bench"),
            time_row(f"{kind}: MCP claim_mission, warm server", got["mcp_claim"], got["floor"],
                     "session.call_tool('claim_mission', {'mission_id': 'p-<n>', 'session': 'bench'})"),
            time_row(f"{kind}: MCP heartbeat, warm server", got["mcp_heartbeat"], got["floor"],
                     "session.call_tool('heartbeat', {'mission_id': <held>})"),
        ]
        for name, t in counts.items():
            sec.notes.append(f"`{name}` tool call, counted with GIT_TRACE2_EVENT on the server: {t.pushes} push, "
                             f"{t.fetches} fetch, {t.top_level} git processes ({', '.join(_runs(t.commands))}"
                             + (f"; failed: {', '.join(t.failed)}" if t.failed else "") + ")")
        sec.raw[kind] = {k: v.to_json() for k, v in got.items() if isinstance(v, Sample)}
        if counts:
            sec.raw["counts"] = {k: {"pushes": t.pushes, "fetches": t.fetches, "git_processes": t.top_level,
                                     "commands": t.commands} for k, t in counts.items()}
        ratios[kind] = (got["mcp_claim"].median / got["floor"].median, got["mcp_claim"].median,
                        got["floor"].median, got["mcp_heartbeat"].median / got["floor"].median,
                        got["cli"].median / got["floor"].median)
    sec.table(TIME_HEADERS, rows)
    f, sh = ratios["file"], ratios["ssh"]
    sec.targets.append(Target(
        "a warm MCP tool call within 1.2× the floor", f[0] <= 1.2 and sh[0] <= 1.2,
        f"file: claim_mission {ms(f[1])} vs floor {ms(f[2])} = {f[0]:.2f}× (heartbeat {f[3]:.2f}×, CLI claim "
        f"{f[4]:.2f}×); ssh: {ms(sh[1])} vs {ms(sh[2])} = {sh[0]:.2f}× (heartbeat {sh[3]:.2f}×, CLI claim "
        f"{sh[4]:.2f}×)"))
    return sec


def _mcp_measure(ctx: Ctx, kind: str, n: int, count: bool) -> tuple[dict[str, Any], dict[str, c.TraceCount]]:
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    remote = new_remote(ctx, kind, f"mcp-{kind}")
    ids = [f"p-{i:03d}" for i in range(3 * n + 20)]
    c.bulk_missions(remote.bare, ids)
    clone = new_clone(ctx, remote, f"mcp-{kind}-clone")
    tree = c.git(clone, "rev-parse", f"refs/missions/{ids[0]}^{{tree}}")
    floor, floor_cmd = floor_runner(ctx, clone, remote, tree, "mfloor")
    pool = iter(ids)
    trace = ctx.ws.root / f"mcp-{kind}-trace2.json"

    async def main(traced: bool) -> Any:
        env = {**os.environ, **remote.env}
        if traced:
            env["GIT_TRACE2_EVENT"] = str(trace)
        params = StdioServerParameters(command=PYTHON, args=["-m", "gitclaim", "mcp"], cwd=str(clone), env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()

            async def tool(name: str, **args: Any) -> float:
                t0 = time.perf_counter()
                res = await session.call_tool(name, args)
                dt = time.perf_counter() - t0
                if res.is_error:
                    raise RuntimeError(f"{name}: {res.content[0].text}")
                return dt

            held = next(pool)
            await tool("claim_mission", mission_id=held, session="bench")
            if traced:
                counts = {}
                for name, args in (("claim_mission", None), ("heartbeat", {"mission_id": held})):
                    if trace.exists():
                        trace.unlink()
                    await tool(name, **(args or {"mission_id": next(pool), "session": "bench"}))
                    counts[name] = c.count_trace(trace)
                return counts
            for _ in range(3):  # warm-up
                await tool("claim_mission", mission_id=next(pool), session="bench")
                await tool("heartbeat", mission_id=held)
            samples: dict[str, Any] = {k: Sample() for k in ("floor", "cli", "mcp_claim", "mcp_heartbeat")}
            for i in range(n):
                samples["floor"].add(floor(i))
                samples["cli"].add(c.timed([*GITCLAIM, "claim", next(pool), "--as", "bench"], clone,
                                           env=remote.env))
                samples["mcp_claim"].add(await tool("claim_mission", mission_id=next(pool), session="bench"))
                samples["mcp_heartbeat"].add(await tool("heartbeat", mission_id=held))
            samples["floor_cmd"] = floor_cmd
            return samples

    counts = anyio.run(main, True) if count else {}
    got = anyio.run(main, False)
    return got, counts


SUITES: dict[str, Callable[[Ctx], Section]] = {
    "startup": startup,
    "trips": round_trips,
    "claim": claim_latency,
    "mcp": mcp,
    "archive": archive,
    "scale": scale,
    "contention": contention,
}
