"""`gitclaim demo`: a throwaway bare remote, several clones, agent processes racing for missions.

Everything happens in a temporary directory with git's global and system configuration switched off, so the
demo neither reads nor changes anything of the user's, needs no network, and cleans up after itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.errors import GitclaimError

MISSIONS = [
    ("thaifa-migration-critical", "Migrate the admin folder", 0),
    ("fix-login-timeout", "Fix the login timeout", 1),
    ("docs-api-reference", "Write the API reference", 2),
    ("cache-warmup", "Warm the cache on deploy", 2),
    ("flaky-test-hunt", "Find the flaky checkout test", 1),
    ("upgrade-postgres", "Upgrade Postgres to 16", 1),
    ("dark-mode", "Add dark mode", 3),
    ("rate-limiter", "Rate-limit the public API", 0),
]
RACE_MISSION = "hot-fix-payments"


@dataclass
class DemoResult:
    race_winner: str = ""
    race_losers: list[str] = field(default_factory=list)
    race_messages: list[str] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)  # mission -> agent, from the remote's histories
    claims_per_mission: dict[str, int] = field(default_factory=dict)
    lost_races: int = 0

    @property
    def exactly_once(self) -> bool:
        return all(n == 1 for n in self.claims_per_mission.values()) and \
            len(self.claims_per_mission) == len(MISSIONS) + 1


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITCLAIM_"))}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / "gitconfig"), HOME=str(home))
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _setup(base: Path, agents: int, env: dict[str, str]) -> tuple[Path, list[Path]]:
    (base / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n")
    remote = base / "remote.git"
    top = g.Git(base, env)
    g.init_bare(top, remote)
    clones = []
    for i in range(1, agents + 1):
        path = base / f"agent-{i}"
        g.clone(top, str(remote), path)
        cg = g.Git(path, env)
        g.config_set(cg, "user.name", f"Agent {i}")
        g.config_set(cg, "user.email", f"agent{i}@demo.invalid")
        clones.append(path)
    return remote, clones


def _publish(clones: list[Path], env: dict[str, str]) -> None:
    """init every clone and publish the missions, in this process through the library (the same code the CLI
    runs), under the demo's own git configuration."""
    from gitclaim.missions import create, setup
    from gitclaim.missions.workspace import open_store

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        for clone in clones:
            setup.init_clone(open_store(clone), "origin")
        store = open_store(clones[0])
        for mission_id, title, prio in [*MISSIONS, (RACE_MISSION, "Hot fix for payments", 0)]:
            create.new_mission(store, mission_id, title=title, priority=prio, as_text="publisher")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _race(clones: list[Path], env: dict[str, str], result: DemoResult) -> None:
    """Every agent claims the same mission at the same moment: exactly one wins."""
    procs = [subprocess.Popen([sys.executable, "-m", "gitclaim", "claim", RACE_MISSION, "--as", f"agent-{i}"],
                              cwd=p, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i, p in enumerate(clones, 1)]
    for i, proc in enumerate(procs, 1):
        _out, err = proc.communicate(timeout=120)
        if proc.returncode == 0:
            result.race_winner = f"agent-{i}"
        else:
            result.race_losers.append(f"agent-{i}")
            result.race_messages.append(err.strip())


_AGENT_LOOP = """
import json, sys
from gitclaim.core import transitions as claims
from gitclaim.missions import ready
from gitclaim.errors import NothingReady
from gitclaim.missions.workspace import open_store
name = sys.argv[1]
lost = 0
while True:
    store = open_store()
    actor = claims.actor_for(store, name)
    try:
        got = ready.next_mission(store, actor)
    except NothingReady:
        break
    lost += got.lost_races
    mid = got.outcome.state.mission_id
    claims.log(store, actor, mid, claims.LogEntry(kind="milestone", message="working on it", progress=50))
    claims.finish(store, actor, mid, summary="finished in the demo")
print(json.dumps({"lost_races": lost}))
"""


def _work(clones: list[Path], env: dict[str, str], result: DemoResult) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _AGENT_LOOP, f"agent-{i}"], cwd=p, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i, p in enumerate(clones, 1)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise GitclaimError(f"a demo agent failed: {err.strip().splitlines()[-1] if err.strip() else '?'}")
        result.lost_races += json.loads(out.strip().splitlines()[-1])["lost_races"]


def _audit(remote: Path, env: dict[str, str], result: DemoResult) -> None:
    """Read who claimed what from the remote's own histories, not from what the agents said."""
    rg = g.Git(remote, env)
    for ref, tip in g.for_each_ref(rg, "refs/missions/"):
        mission_id = ref.rsplit("/", 1)[1]
        actions = g.trailer_values(rg, tip, "Gitclaim-Action")
        result.claims_per_mission[mission_id] = sum(1 for a in actions if a == "claim")
        blob = g.cat_file_batch(rg, [f"{tip}:mission.md"])[0]
        if blob is not None:
            result.assignments[mission_id] = m.parse(blob.data, mission_id).claimed_by or "?"


def run(agents: int = 4, keep: bool = False, echo=print) -> DemoResult:
    result = DemoResult()
    tmp = tempfile.mkdtemp(prefix="gitclaim-demo-")
    base = Path(tmp)
    env = _env(base)
    try:
        remote, clones = _setup(base, agents, env)
        echo(f"bare remote {remote} and {agents} clones, each its own agent")
        _publish(clones, env)
        echo(f"published {len(MISSIONS) + 1} missions on refs/missions/*")
        echo("")
        echo(f"race: {agents} agents run `gitclaim claim {RACE_MISSION}` at the same moment")
        _race(clones, env, result)
        echo(f"  winner: {result.race_winner}")
        for msg in result.race_messages:  # every loser: a count of losers that does not add up looks like a bug
            echo(f"  loser saw: {msg}")
        echo("")
        echo(f"work: {agents} agent processes loop on `next` until nothing is ready")
        _work(clones, env, result)
        _audit(remote, env, result)
        _report(result, echo)
    finally:
        if keep:
            echo(f"kept {base}")
        else:
            import shutil

            shutil.rmtree(base, ignore_errors=True)
    return result


def _report(result: DemoResult, echo) -> None:
    width = max(len(k) for k in result.assignments)
    for mission_id in sorted(result.assignments):
        n = result.claims_per_mission.get(mission_id, 0)
        echo(f"  {mission_id.ljust(width)}  -> {result.assignments[mission_id]}  ({n} claim)")
    counts = Counter(result.assignments.values())
    echo("")
    echo("per agent: " + ", ".join(f"{a}: {n}" for a, n in sorted(counts.items())))
    echo(f"lost races while picking work: {result.lost_races}")
    if result.exactly_once:
        echo(f"OK: every one of the {len(result.claims_per_mission)} missions was claimed exactly once; "
             "no mission went to two agents")
    else:
        echo("FAILED: some mission was claimed more than once or not at all")
