"""Claim latency against the raw-git floor, the git processes and round trips per command, and start-up."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, PYTHON, ms
from benchmarks.harness import (
    TIME_HEADERS,
    Ctx,
    Section,
    Target,
    breakdown,
    breakdown_table,
    floor_runner,
    import_cost,
    import_table,
    new_clone,
    new_remote,
    python_shim,
    run_lengths,
    time_row,
    which,
)


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
                     ms(sum(t.seconds)), ", ".join(run_lengths(t.commands)) + failed,
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
                    ", ".join(run_lengths(floor_trace.commands)), "`sh floor.sh origin <ref> <tree> <msg>`"])
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
    shim = python_shim()
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
    certifi = import_cost([PYTHON, "-X", "importtime", "-c", "pass"], clone, top="certifi")
    site = import_cost([PYTHON, "-X", "importtime", "-c", "pass"], clone, top="site")
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
            + (f"the `gitclaim` script on PATH ({which('gitclaim')}) is not used." if which("gitclaim")
               else "no `gitclaim` script is on PATH."))
    imports = import_table([PYTHON, "-X", "importtime", "-m", "gitclaim", "claim", "s-none", "--as", "b"], clone)
    sec.table(["top-level package imported by `claim` (one `-X importtime` run)", "cumulative", "command"],
              [[name, ms(t), f"`{GITCLAIM_TEXT} claim <id>` with `-X importtime`"] for name, t in imports[:12]])
    sec.raw["claim_imports"] = imports
    v = got["version"].median
    sec.targets.append(Target("`gitclaim --version` under 120 ms", v < 0.120,
                              f"{ms(v)} median ({ms(v - base.median)} over `python3 -c pass`, "
                              f"{ms(v - got['py-S'].median)} over `python3 -S -c pass`)"))
    return sec


