"""Suites for the targets of shared ssh connections, the read cache and fewer processes per write: each figure
against raw git measured in the same run (benchmarks/harness.py has the helpers every suite shares).

Sizes are options of benchmarks/run.py (`--sizes`, `--growth-sizes`, `--archived`, `--agents`, `--missions`),
so that the expensive rows (100,000 missions, 32 agents over 500 missions) can be run where there is time.
"""

from __future__ import annotations

import shlex
import shutil
import time
from pathlib import Path
from typing import Any

from benchmarks import bulkarchive, resident
from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, PYTHON, ms
from benchmarks.harness import (
    FETCH_ARGS,
    TIME_HEADERS,
    Ctx,
    Remote,
    Section,
    Target,
    floor_runner,
    import_table,
    new_clone,
    new_remote,
    run_lengths,
    time_row,
)

PUSH_FLOOR = """#!/bin/sh
# A plain `git push` of one ref (an existing commit to a new ref name), as a compare-and-swap creation.
# usage: push.sh <remote> <oid> <ref>
exec git push --porcelain --force-with-lease="$3": "$1" "$2:$3" >/dev/null
"""


def _push_floor(ctx: Ctx, clone: Path, remote: Remote, oid: str, prefix: str) -> tuple[Any, str]:
    script = ctx.ws.root / "push.sh"
    script.write_text(PUSH_FLOOR)
    script.chmod(0o755)
    counter = iter(range(10**9))

    def fn(i: int) -> float:
        return c.timed(["sh", str(script), "origin", oid, f"refs/bench/{prefix}-{next(counter)}"], clone,
                       env=remote.env)

    return fn, f"sh push.sh origin <oid> refs/bench/{prefix}-<n>  (git push --porcelain --force-with-lease=<ref>:)"


def _logins(ctx: Ctx) -> int:
    return ctx.sshd().log_tail(10**8).count("Accepted publickey")


# ---------------------------------------------------------------------------------------------------------------
# ssh: claim, heartbeat and log against one plain push over a fresh ssh connection


def ssh_reuse(ctx: Ctx) -> Section:
    sec = Section("ssh", "Over ssh: claim, heartbeat and log against a plain push over a fresh connection")
    n = ctx.reps(20, 6)
    sec.intro = (
        "The floor is a plain `git push --porcelain --force-with-lease=<ref>: origin <oid>:<ref>` of one ref (an "
        "existing commit to a new ref name) through `ssh` as a user without ControlMaster has it: a new ssh "
        "connection per push (the test suite's OpenSSH server on 127.0.0.1, key auth, `ssh` from PATH adding the "
        "key). gitclaim runs with its defaults, so its git processes share one connection per clone "
        "(docs/config.md, 'Shared ssh connections'); its master is warm because a command ran within the "
        "persistence time (60 s), as in an agent's loop of claims, heartbeats and log entries. The "
        "`GITCLAIM_SSH_MULTIPLEX=0` rows are the same commands each opening their own connection. The MCP rows "
        f"are one resident `{GITCLAIM_TEXT} mcp` server in the same clone (an agent that keeps one process: "
        "no interpreter start per call, the repository opened once, the clone's shared connection kept warm), "
        "driven "
        "by the MCP SDK's stdio client; a call's time is the client's `await session.call_tool(...)`. Its "
        "`log_milestone` with a `mission_id` is a mission-level entry, one commit, as the CLI's `log`. All "
        "interleaved."
    )
    remote = new_remote(ctx, "ssh", "reuse")
    ids = [f"s-{i:04d}" for i in range(3 * n + 10)]
    c.bulk_missions(remote.bare, ids)
    clone = new_clone(ctx, remote, "reuse-clone")
    oid = c.git(clone, "rev-parse", f"refs/missions/{ids[0]}")
    floor, floor_cmd = _push_floor(ctx, clone, remote, oid, "ssh-floor")
    held = ids[0]
    c.run([*GITCLAIM, "claim", held, "--as", "bench"], clone, env=remote.env)
    known = iter(ids[1:])
    off = {**remote.env, "GITCLAIM_SSH_MULTIPLEX": "0"}
    runs = {
        "floor": floor,
        "claim": lambda i: c.timed([*GITCLAIM, "claim", next(known), "--as", "bench"], clone, env=remote.env),
        "heartbeat": lambda i: c.timed([*GITCLAIM, "heartbeat", held], clone, env=remote.env),
        "log": lambda i: c.timed([*GITCLAIM, "log", held, "benchmark note"], clone, env=remote.env),
        "claim_off": lambda i: c.timed([*GITCLAIM, "claim", next(known), "--as", "bench"], clone, env=off),
        "heartbeat_off": lambda i: c.timed([*GITCLAIM, "heartbeat", held], clone, env=off),
    }
    why = resident.why_not_measured()
    server = None if why else resident.Resident(clone, remote.env)
    if server is not None:
        runs |= {
            "mcp_claim": lambda i: server.timed("claim_mission", mission_id=next(known), session="bench"),
            "mcp_heartbeat": lambda i: server.timed("heartbeat", mission_id=held),
            "mcp_log": lambda i: server.timed("log_milestone", message="benchmark note", mission_id=held),
        }
    ctx.log("ssh reuse")
    try:
        got = c.interleave(runs, n, warmup=1)
    finally:
        if server is not None:
            server.close()
    f = got["floor"]
    mcp_rows = [
        time_row("MCP claim_mission, resident server", got["mcp_claim"], f,
                 "session.call_tool('claim_mission', {'mission_id': 's-<n>', 'session': 'bench'})"),
        time_row("MCP heartbeat, resident server", got["mcp_heartbeat"], f,
                 f"session.call_tool('heartbeat', {{'mission_id': '{held}'}})"),
        time_row("MCP log_milestone, resident server", got["mcp_log"], f,
                 f"session.call_tool('log_milestone', {{'message': 'benchmark note', 'mission_id': '{held}'}})"),
    ] if server is not None else []
    sec.table(TIME_HEADERS, [
        time_row("floor: plain push of one ref, fresh ssh connection", f, None, floor_cmd),
        time_row("claim (state known locally), shared connection", got["claim"], f,
                 f"{GITCLAIM_TEXT} claim s-<n> --as bench"),
        time_row("heartbeat, shared connection", got["heartbeat"], f, f"{GITCLAIM_TEXT} heartbeat {held}"),
        time_row("log, shared connection", got["log"], f, f"{GITCLAIM_TEXT} log {held} 'benchmark note'"),
        time_row("claim, GITCLAIM_SSH_MULTIPLEX=0 (own connection)", got["claim_off"], f,
                 f"GITCLAIM_SSH_MULTIPLEX=0 {GITCLAIM_TEXT} claim s-<n> --as bench"),
        time_row("heartbeat, GITCLAIM_SSH_MULTIPLEX=0", got["heartbeat_off"], f,
                 f"GITCLAIM_SSH_MULTIPLEX=0 {GITCLAIM_TEXT} heartbeat {held}"),
        *mcp_rows,
    ])
    if why:
        sec.notes.append(f"MCP rows not measured: {why}")
    sec.raw = {k: v.to_json() for k, v in got.items()}
    # ssh logins the server saw, per command, with and without sharing (counted in sshd's own log)
    logins = {}
    for label, env in (("shared", remote.env), ("own", off)):
        before = _logins(ctx)
        for _ in range(5):
            c.run([*GITCLAIM, "heartbeat", held], clone, env=env)
        time.sleep(0.5)
        logins[label] = _logins(ctx) - before
    sec.notes.append(f"ssh logins seen by the server for 5 heartbeats: {logins['shared']} with the shared "
                     f"connection, {logins['own']} with GITCLAIM_SSH_MULTIPLEX=0 (sshd's log, 'Accepted "
                     "publickey').")
    trace = ctx.ws.root / "ssh-trace.json"
    t = c.traced([*GITCLAIM, "claim", next(known), "--as", "bench"], clone, trace)
    sec.notes.append(f"a claim over ssh, from git's trace2: {t.top_level} git processes ({', '.join(run_lengths(t.commands))}), "
                     f"{t.pushes} push, {t.fetches} fetch.")
    sec.raw["logins_per_5"] = logins
    _ssh_targets(sec, got)
    return sec


def _ssh_targets(sec: Section, got: dict[str, c.Sample]) -> None:
    """Each target for the CLI and, when measured, for a resident MCP server, in one line."""
    f = got["floor"]

    def ratio(key: str) -> float:
        return got[key].median / f.median

    def says(key: str, label: str) -> str:
        return f"{label} {ms(got[key].median)} = {ratio(key):.2f}×"

    has_mcp = "mcp_claim" in got
    cli_claim = (f"the CLI, an interpreter per command: {says('claim', 'claim')} vs push {ms(f.median)} "
                 f"(without sharing: {ratio('claim_off'):.2f}×)")
    met, verdict = resident.split_verdict(ratio("mcp_claim") <= 0.8 if has_mcp else None, ratio("claim") <= 0.8)
    sec.targets.append(Target(
        "claim over ssh, against a plain `git push` of one ref over a fresh ssh connection: ≤ 0.8×", met,
        (f"a resident MCP server: {says('mcp_claim', 'claim_mission')}; " if has_mcp else "") + cli_claim, verdict))
    worst = max(ratio("heartbeat"), ratio("log"))
    cli_hb = (f"the CLI: {says('heartbeat', 'heartbeat')}, {says('log', 'log')} (heartbeat without sharing: "
              f"{ratio('heartbeat_off'):.2f}×)")
    mcp_met = max(ratio("mcp_heartbeat"), ratio("mcp_log")) <= 0.8 if has_mcp else None
    met, verdict = resident.split_verdict(mcp_met, worst <= 0.8)
    sec.targets.append(Target(
        "heartbeat / log over ssh, same floor: ≤ 0.8×", met,
        (f"a resident MCP server: {says('mcp_heartbeat', 'heartbeat')}, {says('mcp_log', 'log_milestone')}; "
         if has_mcp else "") + cli_hb, verdict))


# ---------------------------------------------------------------------------------------------------------------
# The CLI's own cost of a claim on a local remote


def own_cost(ctx: Ctx) -> Section:
    sec = Section("own", "The CLI's own cost of a claim on a local remote")
    n = ctx.reps(30, 8)
    sec.intro = (
        "gitclaim's own cost of a claim is its wall time minus the raw-git floor (commit-tree + CAS push, "
        "`benchmarks/common.py:FLOOR_SCRIPT`) minus an interpreter that does nothing (`python3 -c pass`), all "
        "interleaved on one file remote. The 'typer path' row is the same claim with `GITCLAIM_NO_FAST_PATH=1` "
        "(the CLI framework parses it, as every command but the hot ones)."
    )
    remote = new_remote(ctx, "file", "own")
    ids = [f"o-{i:04d}" for i in range(2 * n + 8)]
    c.bulk_missions(remote.bare, ids)
    clone = new_clone(ctx, remote, "own-clone")
    tree = c.git(clone, "rev-parse", f"refs/missions/{ids[0]}^{{tree}}")
    floor, floor_cmd = floor_runner(ctx, clone, remote, tree, "ofloor")
    pool = iter(ids)
    runs = {
        "floor": floor,
        "pass": lambda i: c.timed([PYTHON, "-c", "pass"]),
        "claim": lambda i: c.timed([*GITCLAIM, "claim", next(pool), "--as", "bench"], clone),
        "typer": lambda i: c.timed([*GITCLAIM, "claim", next(pool), "--as", "bench"], clone,
                                   env={"GITCLAIM_NO_FAST_PATH": "1"}),
    }
    ctx.log("own cost")
    got = c.interleave(runs, n, warmup=2)
    f, p = got["floor"], got["pass"]
    sec.table(TIME_HEADERS, [
        time_row("floor (commit-tree + CAS push)", f, None, floor_cmd),
        time_row("python3 -c pass", p, f, f"{PYTHON} -c pass"),
        time_row("claim (fast path, no typer)", got["claim"], f, f"{GITCLAIM_TEXT} claim o-<n> --as bench"),
        time_row("claim through typer", got["typer"], f,
                 f"GITCLAIM_NO_FAST_PATH=1 {GITCLAIM_TEXT} claim o-<n> --as bench"),
    ])
    own = got["claim"].median - f.median - p.median
    own_typer = got["typer"].median - f.median - p.median
    trace = ctx.ws.root / "own-trace.json"
    t = c.traced([*GITCLAIM, "claim", next(pool), "--as", "bench"], clone, trace)
    sec.notes.append(f"claim from git's trace2: {t.top_level} git processes ({', '.join(run_lengths(t.commands))}); "
                     f"the floor: 2 (commit-tree, push).")
    # A claim that lands, as the timed ones do (a missing id would fetch and read the archive instead).
    imports = import_table([PYTHON, "-X", "importtime", "-m", "gitclaim", "claim", next(pool), "--as", "b"], clone)
    sec.table(["top-level module imported by `claim` (one `-X importtime` run)", "cumulative", "command"],
              [[name, ms(sec_), f"`{GITCLAIM_TEXT} claim <id>` with `-X importtime`"] for name, sec_ in imports[:10]])
    sec.raw = {k: v.to_json() for k, v in got.items()} | {"own_s": own, "own_typer_s": own_typer,
                                                          "claim_imports": imports}
    sec.targets.append(Target(
        "CLI claim over a local remote: gitclaim's own cost (claim − floor − `python3 -c pass`) ≤ 40 ms",
        own <= 0.040, f"{ms(got['claim'].median)} − {ms(f.median)} − {ms(p.median)} = {ms(own)} "
        f"(through typer: {ms(own_typer)}); {t.top_level} git processes"))
    return sec


# ---------------------------------------------------------------------------------------------------------------
# list with the read cache, online and offline


def list_cache(ctx: Ctx) -> Section:
    sec = Section("cache", "`list` with the read cache, online and offline")
    sizes = ctx.sizes or ([10000] if ctx.quick else [10000, 100000])
    sec.intro = (
        "Missions created in bulk (one `git fast-import`), the clone made with `git clone` + `gitclaim init` "
        "(which packs the mission refs). 'warm': the listing cache (`.git/gitclaim/cache/listing`: the rows as "
        "JSON text, stamped with the identity of the files holding the mission refs) was filled by an earlier "
        "`list` and no mission moved since, as in an agent's or a person's repeated `list`; 'cold': the cache "
        "directory (the listing and the parsed missions) is deleted before each run. Floors: online, the no-op "
        "fetch gitclaim runs plus `for-each-ref` piped into one `cat-file --batch` of every mission.md; "
        "offline, the latter alone. Interleaved."
    )
    rows = []
    for size in sizes:
        n = 3 if (ctx.quick or size >= 100000) else 10
        ctx.log(f"cache: {size} missions")
        remote = new_remote(ctx, "file", f"cache-{size}")
        c.bulk_missions(remote.bare, [f"m-{i:06d}" for i in range(size)])
        clone = new_clone(ctx, remote, f"cache-{size}-clone")
        loose = len(list((clone / ".git" / "refs" / "missions").glob("*")))
        c.run([*GITCLAIM, "list", "--json"], clone)  # fills the cache
        cache_dir = clone / ".git" / "gitclaim" / "cache"
        cache_file = cache_dir / "listing"
        read = "git for-each-ref --format='%(objectname):mission.md' refs/missions/ | git cat-file --batch >/dev/null"
        online = f"git {shlex.join(FETCH_ARGS)} && {read}"

        def cold(i: int, clone: Path = clone, cache_dir: Path = cache_dir) -> float:
            shutil.rmtree(cache_dir, ignore_errors=True)  # the listing and the parsed missions
            return c.timed([*GITCLAIM, "list", "--json"], clone)

        runs = {
            "floor_online": lambda i: c.timed(["sh", "-c", online], clone),
            "warm": lambda i: c.timed([*GITCLAIM, "list", "--json"], clone),
            "floor_offline": lambda i: c.timed(["sh", "-c", read], clone),
            "offline": lambda i: c.timed([*GITCLAIM, "list", "--offline", "--json"], clone),
            "cold": cold,
        }
        got = c.interleave(runs, n, warmup=1)
        c.run([*GITCLAIM, "list", "--json"], clone)
        label = f"{size:,}"
        rows += [
            time_row(f"{label}: floor, no-op fetch + for-each-ref + cat-file", got["floor_online"], None, online),
            time_row(f"{label}: list --json, cache warm", got["warm"], got["floor_online"],
                     f"{GITCLAIM_TEXT} list --json"),
            time_row(f"{label}: list --json, cache cold", got["cold"], got["floor_online"],
                     f"rm -r .git/gitclaim/cache; {GITCLAIM_TEXT} list --json"),
            time_row(f"{label}: floor, for-each-ref + cat-file", got["floor_offline"], None, read),
            time_row(f"{label}: list --offline --json, cache warm", got["offline"], got["floor_offline"],
                     f"{GITCLAIM_TEXT} list --offline --json"),
        ]
        trace = ctx.ws.root / "cache-trace.json"
        t = c.traced([*GITCLAIM, "list", "--json"], clone, trace)
        sec.notes.append(f"{label}: {loose} loose mission refs in the clone after init (packed); cache file "
                         f"{cache_file.stat().st_size / 1e6:.1f} MB; a warm `list --json` runs "
                         f"{', '.join(run_lengths(t.commands))} (trace2)")
        sec.raw[str(size)] = {k: v.to_json() for k, v in got.items()}
        on = got["warm"].median / got["floor_online"].median
        sec.targets.append(Target(f"`list --json` of {label} missions, warm, against no-op fetch + for-each-ref + "
                                  "cat-file of every mission.md: ≤ 1.0×", on <= 1.0,
                                  f"{ms(got['warm'].median)} vs {ms(got['floor_online'].median)} = {on:.2f}× "
                                  f"(cold cache {got['cold'].median / got['floor_online'].median:.2f}×)"))
        if size == 10000:
            off = got["offline"].median / got["floor_offline"].median
            sec.targets.append(Target("`list --offline` of 10,000 missions, against for-each-ref + cat-file of "
                                      "every mission.md: ≤ 0.5×", off <= 0.5,
                                      f"{ms(got['offline'].median)} vs {ms(got['floor_offline'].median)} = "
                                      f"{off:.2f}×"))
    sec.table(TIME_HEADERS, rows)
    return sec


# ---------------------------------------------------------------------------------------------------------------
# How claim, list and next grow with live and archived missions


# The clones' `gitclaim init`: its first fetch runs while git reports progress, and this bounds the time
# without any (a loaded machine may leave git silent for a while as it writes 100,000 refs).
INIT_TIMEOUT = 600


def growth(ctx: Ctx) -> Section:
    sec = Section("growth", "How claim, list and next grow with live and archived missions")
    live_sizes = ctx.growth_sizes or ([100, 1000] if ctx.quick else [100, 1000, 10000, 100000])
    archived = ctx.archived if ctx.archived is not None else (1000 if ctx.quick else 100000)
    n = ctx.reps(5, 3)
    sec.intro = (
        "A file remote with L live QUEUED missions (bulk) and, in the archived column, K DONE missions on "
        "`refs/gitclaim/archive` as `gitclaim archive` leaves them, written in bulk first "
        "(benchmarks/bulkarchive.py says why and how; once per column: the live missions are then added in bulk "
        "to the same remote, size after size). For each size a new clone (`git clone` + `gitclaim init`, "
        f"GITCLAIM_TIMEOUT={INIT_TIMEOUT}). Medians of: `claim` of a mission whose state is known (one push), "
        "`list --json` with the cache warm (one fetch), `next --json` (one fetch, one push)."
    )
    rows, medians = [], {}
    for k in (0, archived):
        remote = new_remote(ctx, "file", f"growth-{k}")
        if k:
            ctx.log(f"growth: {k} archived missions")
            took = bulkarchive.bulk_archive(remote.bare, [f"old-{i:06d}" for i in range(k)])
            sec.notes.append(f"{k:,} archived missions written in bulk in {took:.1f} s")
        have = 0
        for live in sorted(live_sizes):
            ctx.log(f"growth: {live} live, {k} archived")
            ids = [f"g-{i:06d}" for i in range(live)]
            c.bulk_missions(remote.bare, ids[have:])
            have = live
            clone = ctx.ws.path(f"growth-{live}-{k}-clone")
            c.run(["git", "clone", "-q", remote.url, str(clone)], timeout=3600)
            t0 = time.perf_counter()
            c.run([*GITCLAIM, "init"], clone, env={"GITCLAIM_TIMEOUT": str(INIT_TIMEOUT)}, timeout=3600)
            sec.notes.append(f"`gitclaim init` of {live:,} live, {k:,} archived: {time.perf_counter() - t0:.1f} s")
            c.run([*GITCLAIM, "list", "--json"], clone)
            pool = iter(ids[live // 2:])  # above the halves that smaller sizes claimed from
            got = c.interleave({
                "claim": lambda i: c.timed([*GITCLAIM, "claim", next(pool), "--as", "bench"], clone),
                "list": lambda i: c.timed([*GITCLAIM, "list", "--json"], clone),
                "next": lambda i: c.timed([*GITCLAIM, "next", "--json", "--as", "bench"], clone),
            }, n, warmup=1)
            medians[(live, k)] = {name: s.median for name, s in got.items()}
            rows.append([f"{live:,}", f"{k:,}", ms(got["claim"].median), ms(got["list"].median),
                         ms(got["next"].median)])
    sec.table(["live missions", "archived", "claim", "list --json (warm)", "next --json"], rows)
    sec.raw = {f"{live}-{k}": v for (live, k), v in medians.items()}
    if archived:
        worst = max(medians[(live, archived)]["claim"] / medians[(live, 0)]["claim"] for live in live_sizes)
        sec.targets.append(Target(
            f"claim, list, next at {', '.join(f'{s:,}' for s in live_sizes)} live missions and 0 / {archived:,} "
            "archived: a table of how each grows; claim flat in archived missions", worst <= 1.10,
            f"claim with {archived:,} archived is at worst {worst:.2f}× the same claim with none ('flat' taken as "
            "within 10%)"))
    return sec


SUITES_REUSE = {"ssh": ssh_reuse, "own": own_cost, "cache": list_cache, "growth": growth}
