"""The `agents` race: many agents over ssh, each on its own clone, against as many raw pushers, in two variants:
agents that run the CLI (`next --json`, an interpreter per command) and agents that keep one process (a resident
`gitclaim mcp` server each, calling `next_mission`; benchmarks/resident.py). Sizes: `--agents`, `--missions`.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import common as c
from benchmarks import resident
from benchmarks.common import GITCLAIM_TEXT, PYTHON
from benchmarks.contention import AGENT, claims_on_remote, start_agents
from benchmarks.harness import Ctx, Remote, Section, Target, new_clone, new_remote

RAW_PUSHER = r"""
import os, subprocess, sys, time
go, oid, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(count):
    ref = f"refs/bench/{prefix}-{i}"
    subprocess.run(["git", "push", "--porcelain", f"--force-with-lease={ref}:", "origin", f"{oid}:{ref}"],
                   capture_output=True, check=True)
print(time.time())
"""

LIMIT = 3600  # seconds any agent or pusher may take before the race counts it as stuck


@dataclass
class Race:
    """One race's outcome, checked against the remote's histories."""

    wall: float
    won: int
    pushes: int  # push attempts, from git's trace2 events of every agent
    lost: int  # lost races the agents' won claims report (`lost_races` of next --json / next_mission)
    doubles: int
    unclaimed: int
    consistent: bool  # the agents' claims are exactly the remote's
    errors: list[str]
    missions: int
    ready_s: float = 0.0  # how long the agents took to be ready at the barrier (MCP: server start and warm-up)

    @property
    def rate(self) -> float:
        return self.won / self.wall

    @property
    def attempts(self) -> float:
        return self.pushes / self.won if self.won else float("inf")

    @property
    def once(self) -> bool:
        return self.doubles == 0 and self.unclaimed == 0 and self.consistent and self.won == self.missions

    def met(self, raw_rate: float) -> bool:
        return self.once and self.attempts <= 1.2 and self.rate >= 0.7 * raw_rate

    def row(self, label: str) -> list[str]:
        return [label, f"{self.wall:.1f} s", str(self.won), f"{self.rate:.2f}", str(self.pushes),
                f"{self.attempts:.3f}", str(self.lost), f"{self.doubles} double, {self.unclaimed} unclaimed",
                "yes" if self.consistent else "NO", str(len(self.errors))]

    def evidence(self, raw_rate: float) -> str:
        return (f"{'exactly once' if self.once else 'NOT exactly once'} ({self.doubles} double, {self.unclaimed} "
                f"unclaimed); {self.attempts:.3f} push attempts per claim; {self.rate:.2f} claims/s vs "
                f"{raw_rate:.2f} raw pushes/s = {self.rate / raw_rate:.2f}×")

    def to_json(self) -> dict:
        return {"wall_s": self.wall, "won": self.won, "pushes": self.pushes, "lost": self.lost, "doubles": self.doubles,
                "unclaimed": self.unclaimed, "consistent": self.consistent, "errors": self.errors[:20],
                "ready_s": self.ready_s}


def _setup(ctx: Ctx, name: str) -> tuple[Remote, list[Path]]:
    remote = new_remote(ctx, "ssh", name)
    c.bulk_missions(remote.bare, [f"job-{i:04d}" for i in range(ctx.missions)])
    ctx.log(f"agents: {ctx.agents} clones of {name}")
    return remote, [new_clone(ctx, remote, f"{name}-{a:02d}") for a in range(ctx.agents)]


def _wait_all(procs: list[subprocess.Popen], what: str) -> None:
    """Wait for every process; one still running after LIMIT is a stuck agent: kill the rest, and say so."""
    deadline = time.time() + LIMIT
    for p in procs:
        try:
            p.wait(timeout=max(1.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise RuntimeError(f"{what}: an agent was still running after {LIMIT} s (pid {p.pid})") from None


def _raw_pushers(ctx: Ctx, remote: Remote, clones: list[Path], oid: str) -> float:
    """Wall time of as many raw pushers as agents pushing `missions` distinct new refs between them."""
    raw_py = ctx.ws.root / "raw_pusher.py"
    raw_py.write_text(RAW_PUSHER)
    go = ctx.ws.root / "go-raw"
    agents, missions = len(clones), ctx.missions
    share = [missions // agents + (1 if a < missions % agents else 0) for a in range(agents)]
    env = {**os.environ, **remote.env}
    procs = [subprocess.Popen([PYTHON, str(raw_py), str(go), oid, f"raw-{a}", str(share[a])], cwd=clone, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for a, clone in enumerate(clones)]
    time.sleep(1.0)
    t0 = time.time()
    go.write_text("go")
    ends = []
    for p in procs:
        out, err = p.communicate(timeout=LIMIT)
        if p.returncode != 0:
            raise RuntimeError(f"raw pusher failed: {err[-2000:]}")
        ends.append(float(out.strip()))
    return max(ends) - t0


def _outcome(remote: Remote, outs: list[Path], traces: list[Path], t0: float, missions: int) -> Race:
    data = [json.loads(o.read_text()) for o in outs]
    per_mission, claimed = claims_on_remote(remote.bare)
    agent_won = sorted(cl["mission_id"] for d in data for cl in d["claims"])
    return Race(
        wall=max(d["end"] for d in data) - t0, won=len(agent_won),
        pushes=sum(c.count_trace(t).pushes for t in traces),
        lost=sum(cl.get("lost_races", 0) for d in data for cl in d["claims"]),
        doubles=sum(1 for v in per_mission.values() if v > 1),
        unclaimed=sum(1 for v in per_mission.values() if v == 0),
        consistent=agent_won == sorted(claimed) and len(set(agent_won)) == len(agent_won),
        errors=[e for d in data for e in d["errors"]], missions=missions)


def _cli_race(ctx: Ctx, remote: Remote, clones: list[Path]) -> Race:
    """Each agent loops on `next --json` until exit 5 (the AGENT loop of the contention suite)."""
    agent_py = ctx.ws.root / "agent.py"
    agent_py.write_text(AGENT)
    go = ctx.ws.root / "go-agents"
    procs, outs, traces = start_agents(agent_py, go, clones, ctx.ws.root / "agents", {**os.environ, **remote.env})
    time.sleep(1.0)
    t0 = time.time()
    go.write_text("go")
    _wait_all(procs, "CLI race")
    return _outcome(remote, outs, traces, t0, ctx.missions)


def _mcp_race(ctx: Ctx, remote: Remote, clones: list[Path]) -> Race:
    """Each agent is one driver process with its own resident server (benchmarks/resident.py: MCP_AGENT); the
    barrier opens once every server is initialized and warm."""
    agent_py = ctx.ws.root / "mcp_agent.py"
    agent_py.write_text(resident.MCP_AGENT)
    go = ctx.ws.root / "go-mcp-agents"
    env = {**os.environ, **remote.env}
    procs, outs, traces, readies = [], [], [], []
    started = time.time()
    for a, clone in enumerate(clones):
        out_p, trace = ctx.ws.root / f"mcp-agents-{a}.json", ctx.ws.root / f"mcp-agents-{a}.trace"
        ready, log = ctx.ws.root / f"mcp-agents-{a}.ready", ctx.ws.root / f"mcp-agents-{a}.log"
        outs.append(out_p)
        traces.append(trace)
        readies.append(ready)
        with open(log, "wb") as err:  # the driver's and its server's stderr, for a failed run
            procs.append(subprocess.Popen([PYTHON, str(agent_py), str(ready), str(go), str(out_p), str(trace),
                                           f"agent-{a}", PYTHON], cwd=clone, env=env,
                                          stdout=subprocess.DEVNULL, stderr=err))
    while not all(r.exists() for r in readies):
        failed = [p for p in procs if p.poll() is not None]
        if failed or time.time() - started > 600:
            for p in procs:
                p.kill()
            raise RuntimeError(f"MCP agents not ready: {len(failed)} exited before the barrier; see "
                               f"{ctx.ws.root}/mcp-agents-*.log")
        time.sleep(0.05)
    ready_s = time.time() - started
    time.sleep(1.0)
    t0 = time.time()
    go.write_text("go")
    _wait_all(procs, "MCP race")
    race = _outcome(remote, outs, traces, t0, ctx.missions)
    race.ready_s = ready_s
    return race


def agents_race(ctx: Ctx) -> Section:
    agents, missions = ctx.agents, ctx.missions
    sec = Section("agents", f"{agents} agents over {missions} missions over ssh, against {agents} raw pushers")
    sec.intro = (
        f"{agents} clones of one ssh remote (each with `gitclaim init`); {missions} QUEUED missions of one priority. "
        f"CLI agents: each loops on `{GITCLAIM_TEXT} next --json` until exit 5, all released at one barrier (the "
        "AGENT loop of the contention suite), with gitclaim's defaults (shared ssh connections). MCP agents: a "
        f"second remote with the same {missions} missions and {agents} fresh clones; each agent is one driver "
        f"process (as each coding agent is its own process) with its own `{GITCLAIM_TEXT} mcp` server in its "
        "clone, started with the MCP SDK's stdio client and warmed by one `list_missions` (repository open, "
        "missions read, ssh connection up) before the barrier; then it calls `next_mission` until the tool error "
        "with exit code 5. The floor: "
        f"{agents} processes pushing {missions} distinct new refs between them (`git push --porcelain "
        "--force-with-lease=<ref>:`, a fresh ssh connection each, no contention), from the CLI agents' clones; "
        "claims per second is missions over wall time in all three. Exactly once is checked on each remote's "
        "histories (`Gitclaim-Action: claim` trailers); push attempts come from git's trace2 events of every "
        "agent (its server's, for MCP agents)."
    )
    remote, clones = _setup(ctx, "agents")
    oid = c.git(clones[0], "rev-parse", "refs/missions/job-0000")
    # The raw pushers first (they do not touch refs/missions/).
    raw_wall = _raw_pushers(ctx, remote, clones, oid)
    raw_rate = missions / raw_wall
    ctx.log(f"agents: raw pushers {raw_wall:.1f} s; now the CLI agents")
    cli = _cli_race(ctx, remote, clones)
    ctx.log(f"agents: CLI agents {cli.wall:.1f} s")
    rows = [[f"{agents} raw pushers, distinct refs", f"{raw_wall:.1f} s", str(missions), f"{raw_rate:.2f}",
             str(missions), "1.000", "-", "-", "-", "0"],
            cli.row(f"{agents} CLI agents, `next --json` loops")]
    sec.raw = {"raw_wall_s": raw_wall, "cli": cli.to_json()}
    mcp: Race | None = None
    why = resident.sdk_missing()
    if why is None:
        mcp_remote, mcp_clones = _setup(ctx, "mcp-agents")
        ctx.log("agents: now the MCP agents")
        mcp = _mcp_race(ctx, mcp_remote, mcp_clones)
        ctx.log(f"agents: MCP agents {mcp.wall:.1f} s (ready after {mcp.ready_s:.1f} s)")
        rows.append(mcp.row(f"{agents} MCP agents, resident server each, `next_mission` loops"))
        sec.raw["mcp"] = mcp.to_json()
        sec.notes.append(f"the MCP agents' drivers and servers were all started, initialized and warm "
                         f"{mcp.ready_s:.1f} s after the first was started (not part of the race's wall time)")
    else:
        sec.notes.append(f"MCP agents not measured: {why}")
    sec.table(["run", "wall", "missions", "per second", "push attempts (trace2)", "attempts per claim",
               "lost races (reported)", "remote check", "agents' claims = remote's", "errors"], rows)
    for label, race in (("CLI", cli), ("MCP", mcp)):
        if race is not None and race.errors:
            sec.notes.append(f"first errors ({label}): " + "; ".join(race.errors[:3]))
    met, verdict = resident.split_verdict(mcp.met(raw_rate) if mcp else None, cli.met(raw_rate))
    evidence = f"the CLI, an interpreter per command: {cli.evidence(raw_rate)}"
    if mcp is not None:
        evidence = f"a resident MCP server per agent: {mcp.evidence(raw_rate)}; {evidence}"
    sec.targets.append(Target(
        f"{agents} agents × {missions} missions over ssh, `next` loops: exactly once; ≤ 1.2 push attempts per won "
        f"claim; claims per second ≥ 0.7× of {agents} raw pushers of distinct refs", met, evidence, verdict))
    return sec
