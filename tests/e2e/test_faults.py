"""Fault injection: gitclaim killed with SIGKILL mid-command, connections cut mid-push, servers that stop or hang.

What must hold whatever happens (docs/reliability.md):
* the remote's ref is always a valid mission with a valid history (`audit`);
* whatever a command reported as successful (exit 0) is on the remote;
* the same command run again converges (claimed / already yours / nothing to change);
* a remote that fails is one line on stderr and exit 6, and the next command after it returns works.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.missions.workspace import open_store
from gitclaim.ops.audit import audit
from tests.helpers import git, remote_refs, run_gitclaim
from tests.support.faultproxy import FaultProxy, Run, Zygote, run_forked
from tests.support.servers import GitServer

KILL_ATTEMPTS = int(os.environ.get("GITCLAIM_FAULT_KILLS", "40"))
# One cycle per mission: every killable command of the lifecycle, in an order that is always legal.
CYCLE = ("claim", "log", "release", "claim", "log", "done")


# ---- helpers --------------------------------------------------------------------------------------------

def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    print(f"\n  stderr: {lines[0]}")
    return lines[0]


def remote_mission(remote: Path, mission_id: str) -> m.Mission:
    data = subprocess.run(["git", "show", f"refs/missions/{mission_id}:mission.md"], cwd=remote,
                          capture_output=True, check=True).stdout
    return m.parse(data, mission_id)


def assert_clean_audit(remote: Path, context: str) -> None:
    report = audit(remote)
    assert not report.violations, f"{context}: audit violations: {report.violations}"


def assert_clone_consistent(clone: Path, remote: Path) -> None:
    """git fsck passes, and every local mission ref mirrors a commit of the remote's history of that ref."""
    res = git(clone, "fsck", "--no-progress", "--connectivity-only", check=False)
    assert res.returncode == 0, f"git fsck failed in {clone}:\n{res.stdout}{res.stderr}"
    report = audit(remote)
    for ref, oid in remote_refs(clone).items():
        assert report.contains(oid), f"local {ref} at {oid} is not in the remote's history"


def processes_under(root: Path, exclude: set[int]) -> list[int]:
    """Processes whose working directory is inside `root` (git children a killed gitclaim left behind)."""
    prefix = str(root.resolve())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cwd.startswith(prefix) and state != "Z":
            found.append(int(entry))
    return found


def wait_for_orphans(root: Path, exclude: set[int], timeout: float = 30.0) -> None:
    # gitclaim runs git in its own session so that a timeout can kill git's helpers; a SIGKILL of gitclaim
    # therefore leaves a push or fetch running to its end. The remote is judged once they are done.
    deadline = time.monotonic() + timeout
    while processes_under(root, exclude):
        assert time.monotonic() < deadline, f"git processes still running under {root}"
        time.sleep(0.02)


@dataclass
class KillStats:
    attempts: int = 0
    kills: int = 0
    completed: int = 0
    reruns: int = 0
    landed: int = 0  # killed runs whose write reached the remote anyway
    per_op: dict[str, list[int]] = field(default_factory=dict)  # op -> [attempts, kills]
    reported: list[str] = field(default_factory=list)  # commits of runs that exited 0

    def line(self) -> str:
        ops = ", ".join(f"{op} {a}/{k}" for op, (a, k) in sorted(self.per_op.items()))
        return (f"kill -9: attempts={self.attempts} kills={self.kills} completed={self.completed} "
                f"killed-but-landed={self.landed} reruns={self.reruns} (attempts/kills per command: {ops})")


# ---- kill -9 at random points -------------------------------------------------------------------------

def command_for(op: str, mission_id: str, step: int) -> list[str]:
    if op == "log":
        return ["log", mission_id, f"step {step} of the work", "--json"]
    if op == "done":
        return ["done", mission_id, "--summary", "finished under fire", "--json"]
    return [op, mission_id, "--json"]


def expected_after(op: str) -> str:
    return {"claim": m.ACTIVE, "log": m.ACTIVE, "release": m.QUEUED, "done": m.DONE}[op]


def check_converged(op: str, rerun: Run, remote: Path, mission_id: str) -> None:
    """The same command again: success, or (release) the refusal that says it is already released."""
    state = remote_mission(remote, mission_id)
    if op == "release" and rerun.returncode == 3:
        assert "QUEUED and not held" in rerun.stderr, rerun.stderr
    else:
        assert rerun.returncode == 0, f"{op} {mission_id} did not converge: {rerun.stderr}"
    assert state.status == expected_after(op), f"{op} {mission_id}: remote says {state.status}"


def calibrate(zygote: Zygote) -> float:
    """How long a write takes here and now (the kill delays are drawn from [0, this])."""
    times = []
    for op in ("claim", "release", "claim", "release"):
        run = run_forked(zygote, [op, "calibration", "--json"])
        assert run.returncode == 0, run.stderr
        times.append(run.seconds)
    return sorted(times)[len(times) // 2]


def test_kill_9_at_random_points_never_breaks_a_mission(make_clone, bare_remote: Path, tmp_path: Path) -> None:
    seed = int(os.environ.get("GITCLAIM_FAULT_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    clone = make_clone("agent")
    store = open_store(clone)
    actor = claims.actor_for(store, "setup")
    missions = [f"k{i:02d}" for i in range(KILL_ATTEMPTS // len(CYCLE) + 1)]
    for mission_id in ["calibration", *missions]:
        claims.create(store, actor, mission_id, f"Mission {mission_id}")
    zygote = Zygote(clone, tmp_path / "zygote")
    stats = KillStats()
    try:
        typical = calibrate(zygote)
        for mission_id in missions:
            for step, op in enumerate(CYCLE):
                if stats.attempts >= KILL_ATTEMPTS:
                    break
                attempt(zygote, stats, rng, typical, op, mission_id, step, bare_remote, tmp_path)
            assert_clean_audit(bare_remote, f"after mission {mission_id} (seed {seed})")
        report = audit(bare_remote)
        lost = [oid for oid in stats.reported if not report.contains(oid)]
        summary = f"{stats.line()}; typical command {typical * 1000:.0f} ms; seed {seed}"
        print(f"\n{summary}")
        assert not lost, f"reported commits missing from the remote: {lost} ({summary})"
        assert stats.attempts == KILL_ATTEMPTS and stats.kills > 0, summary
        assert_clone_consistent(clone, bare_remote)
    finally:
        zygote.close()


def attempt(zygote: Zygote, stats: KillStats, rng: random.Random, typical: float, op: str, mission_id: str,
            step: int, remote: Path, root: Path) -> None:
    args = command_for(op, mission_id, step)
    before = remote_refs(remote)[f"refs/missions/{mission_id}"]
    run = run_forked(zygote, args, kill_after=rng.uniform(0, typical))
    stats.attempts += 1
    counts = stats.per_op.setdefault(op, [0, 0])
    counts[0] += 1
    wait_for_orphans(root, zygote.pids())
    remote_mission(remote, mission_id)  # raises CorruptMission if the tip is not a valid mission
    if not run.killed:
        stats.completed += 1
        assert run.returncode == 0, f"{args} exited {run.returncode} without being killed: {run.stderr}"
        stats.reported.append(run.json()["commit"])
        return
    stats.kills += 1
    counts[1] += 1
    stats.landed += remote_refs(remote)[f"refs/missions/{mission_id}"] != before
    rerun = run_forked(zygote, args)
    stats.reruns += 1
    check_converged(op, rerun, remote, mission_id)
    if rerun.returncode == 0:
        stats.reported.append(rerun.json()["commit"])


# ---- connections cut mid-push, servers that stop or hang ----------------------------------------------

@pytest.fixture
def proxied(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FaultProxy, GitServer, Path]]:
    """(proxy, server, bare repo) for the server kind in request.param, the proxy in front of the server."""
    server: GitServer = request.getfixturevalue({"git": "git_daemon", "http": "http_server"}[request.param])
    if not server.running:
        server.start()
    repo = server.new_repo(f"faults-{request.param}")
    assert server.port is not None
    with FaultProxy(server.port) as proxy:
        proxy.remote_url = proxy.url(repo.url, server.port)  # type: ignore[attr-defined]
        yield proxy, server, repo.bare_path


def clone_via(url: str, path: Path) -> Path:
    res = git(path.parent, "clone", "-q", url, str(path), check=False)
    assert res.returncode == 0, res.stderr
    res = run_gitclaim(path, "init")
    assert res.returncode == 0, res.stderr
    return path


def local_tip(clone: Path, mission_id: str) -> str | None:
    return remote_refs(clone).get(f"refs/missions/{mission_id}")


@pytest.mark.parametrize("proxied", ["git", "http"], indirect=True)
def test_connection_cut_mid_push(proxied, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, _, bare = proxied
    monkeypatch.setenv("GITCLAIM_TIMEOUT", "20")  # a fault the proxy fails to inject must not hang the test
    clone = clone_via(proxy.remote_url, tmp_path / "a")
    assert run_gitclaim(clone, "new", "m1", "--title", "Cut me").returncode == 0
    queued = remote_refs(bare)["refs/missions/m1"]

    # The push never reaches the server, and the server is gone when gitclaim looks again.
    proxy.arm_push("drop", then="down")
    res = run_gitclaim(clone, "claim", "m1")
    assert proxy.triggered == 1
    assert res.returncode == 6, res.stderr
    assert "m1" in one_line(res.stderr)
    assert remote_refs(bare)["refs/missions/m1"] == queued
    assert local_tip(clone, "m1") == queued
    assert_clone_consistent(clone, bare)

    proxy.heal()
    res = run_gitclaim(clone, "claim", "m1", "--json")
    assert res.returncode == 0, res.stderr
    claimed = json.loads(res.stdout)["commit"]
    assert remote_refs(bare)["refs/missions/m1"] == claimed

    # The push lands but its answer is cut off, and the server is gone for the re-read: outcome unknown.
    proxy.arm_push("lose-answer", then="down")
    res = run_gitclaim(clone, "log", "m1", "written while the line dropped")
    assert proxy.triggered == 2
    assert res.returncode == 6, res.stderr
    assert "unknown" in one_line(res.stderr)
    landed = remote_refs(bare)["refs/missions/m1"]
    assert landed != claimed and local_tip(clone, "m1") in (claimed, landed)
    assert_clone_consistent(clone, bare)

    proxy.heal()
    res = run_gitclaim(clone, "done", "m1", "--json")
    assert res.returncode == 0, res.stderr
    assert remote_mission(bare, "m1").status == m.DONE
    log = git(bare, "log", "--format=%s", "refs/missions/m1").stdout.splitlines()
    assert log[:2] == ["chore(mission): complete m1", "chore(mission): log note on m1"], log
    assert_clean_audit(bare, "after the cut")


@pytest.mark.parametrize("kind", ["git", "http"])
def test_server_stopped_then_back(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue({"git": "private_git_daemon", "http": "private_http_server"}[kind])
    repo = server.new_repo("stopped")
    clone = clone_via(repo.url, tmp_path / "a")
    assert run_gitclaim(clone, "new", "m1", "--title", "Wait for me").returncode == 0

    server.stop()
    for args in (["claim", "m1"], ["list"]):
        res = run_gitclaim(clone, *args)
        assert res.returncode == 6, (args, res.stderr)
        one_line(res.stderr)
    assert_clone_consistent(clone, repo.bare_path)

    server.start()
    res = run_gitclaim(clone, "claim", "m1")
    assert res.returncode == 0, res.stderr
    assert remote_mission(repo.bare_path, "m1").status == m.ACTIVE


@pytest.mark.parametrize("proxied", ["git"], indirect=True)
def test_hanging_server_times_out_in_bounded_time(proxied, tmp_path: Path) -> None:
    proxy, _, bare = proxied
    clone = clone_via(proxy.remote_url, tmp_path / "a")
    assert run_gitclaim(clone, "new", "m1", "--title", "Hang on").returncode == 0
    env = {"GITCLAIM_TIMEOUT": "2"}

    proxy.hang()
    for args in (["claim", "m1"], ["list"]):
        start = time.monotonic()
        res = run_gitclaim(clone, *args, env=env, timeout=60)
        took = time.monotonic() - start
        assert res.returncode == 6, (args, res.stderr)
        text = one_line(res.stderr)
        assert "timed out after 2s" in text, text
        assert took < 20, f"{args} took {took:.1f}s against a hanging server with a 2s timeout"
    assert remote_mission(bare, "m1").status == m.QUEUED

    # The push reaches the server, then the server hangs: the answer never comes, nor does the re-read.
    proxy.heal()
    proxy.arm_push("lose-answer", then="hang", cut=False)
    res = run_gitclaim(clone, "claim", "m1", env=env, timeout=60)
    assert res.returncode == 6, res.stderr
    text = one_line(res.stderr)
    assert "timed out" in text and "unknown" in text, text
    assert remote_mission(bare, "m1").status == m.ACTIVE  # it did land

    proxy.heal()
    res = run_gitclaim(clone, "claim", "m1", env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("already yours: m1"), res.stdout
    assert_clean_audit(bare, "after the hang")
    assert_clone_consistent(clone, bare)


# ---- several gitclaim processes in one clone ------------------------------------------------------------

# An agent in a linked worktree: claims, lists, logs on, shows and releases its own mission in a loop.
WORKTREE_AGENT = r"""
import contextlib, io, json, sys, time
from gitclaim.cli.app import run_app
mission_id, seconds = sys.argv[1], float(sys.argv[2])
codes, errors = [], []
deadline = time.time() + seconds
while time.time() < deadline:
    for args in (["claim", mission_id], ["list"], ["log", mission_id, "still here"], ["show", mission_id],
                 ["release", mission_id]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            codes.append(run_app(args))
        if codes[-1]:
            errors.append(err.getvalue().strip())
print(json.dumps({"runs": len(codes), "errors": errors}))
"""


def test_agents_in_linked_worktrees_of_one_clone_do_not_trip_on_each_other(make_clone, bare_remote: Path,
                                                                            tmp_path: Path) -> None:
    # Linked worktrees share refs/missions/*: their fetches race for the same local ref locks, which git
    # reports as "cannot lock ref ...: is at X but expected Y". That is not the remote failing.
    main = make_clone("main")
    trees = [main]
    for i in range(1, 4):
        git(main, "worktree", "add", "-q", "--detach", str(tmp_path / f"wt{i}"))
        trees.append(tmp_path / f"wt{i}")
    store = open_store(main)
    actor = claims.actor_for(store, "setup")
    for i in range(len(trees)):
        claims.create(store, actor, f"wt-{i}", f"Worktree mission {i}")
    procs = [subprocess.Popen([sys.executable, "-c", WORKTREE_AGENT, f"wt-{i}", "3"], cwd=tree, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i, tree in enumerate(trees)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    runs = sum(r["runs"] for r in results)
    errors = [e for r in results for e in r["errors"]]
    print(f"\nworktree agents: {len(trees)} agents, {runs} commands, {len(errors)} failed")
    assert not errors, f"{len(errors)} of {runs} commands failed: {errors[:5]}"
    assert_clean_audit(bare_remote, "worktrees")
