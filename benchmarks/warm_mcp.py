"""A tool call on a warm MCP server, against the raw-git floor and the CLI."""

from __future__ import annotations

import os
import time
from typing import Any

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, PYTHON, Sample, ms
from benchmarks.harness import (
    TIME_HEADERS,
    Ctx,
    Section,
    Target,
    floor_runner,
    new_clone,
    new_remote,
    run_lengths,
    time_row,
)


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
                             f"{t.fetches} fetch, {t.top_level} git processes ({', '.join(run_lengths(t.commands))}"
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
