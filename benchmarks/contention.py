"""Contention: 16 agents over 200 missions, each a real process claiming with `next`."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, PYTHON
from benchmarks.harness import (
    Ctx,
    Section,
    Target,
    new_clone,
    new_remote,
)


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
        claims_per_mission, claimed_ids = claims_on_remote(remote.bare)
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
                     "(benchmarks/contention.py: AGENT)")
    sec.targets.append(Target("16 agents over 200 missions: at most 1.3 push attempts per won claim",
                              worst <= 1.3, f"worst run {worst:.3f} push attempts per won claim (trace2), "
                              f"{sum(v['double_claims'] for v in sec.raw.values())} double claims over "
                              f"{runs} runs"))
    return sec


def claims_on_remote(bare: Path) -> tuple[dict[str, int], list[str]]:
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


