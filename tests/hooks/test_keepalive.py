"""Leases kept alive by the work: the post-commit hook's heartbeat, through real commits in real clones."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers import git, remote_mission, remote_refs, run_gitclaim

LOG = Path(".git") / "gitclaim" / "heartbeat" / ".last-run.log"


def ok(clone: Path, *args: str) -> str:
    res = run_gitclaim(clone, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def last_activity(remote: Path, mission_id: str) -> str:
    text = remote_mission(remote, mission_id)
    return next(ln.split(": ", 1)[1].strip('"') for ln in text.splitlines() if ln.startswith("last_activity:"))


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def holding(make_clone: Callable[..., Path], interval: str) -> Path:
    clone = make_clone("a")
    ok(clone, "hooks", "install")
    git(clone, "config", "gitclaim.heartbeatInterval", interval)
    ok(clone, "new", "m1", "--title", "Keep me alive")
    ok(clone, "claim", "m1", "--as", "worker")
    return clone


def test_a_commit_moves_the_held_missions_last_activity_on_the_remote(
        make_clone: Callable[..., Path], bare_remote: Path) -> None:
    clone = holding(make_clone, "1s")
    claimed = last_activity(bare_remote, "m1")
    time.sleep(1.1)  # past the interval, and into the next second of last_activity
    res = git(clone, "commit", "-q", "--allow-empty", "-m", "feat: some work")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    assert wait_for(lambda: last_activity(bare_remote, "m1") > claimed), (clone / LOG).read_text()
    tip = git(bare_remote, "log", "-1", "--format=%s%n%(trailers:key=Gitclaim-Action,valueonly)",
              "refs/missions/m1").stdout.split("\n")
    assert tip[:2] == ["chore(mission): heartbeat m1", "heartbeat"]


def test_a_clone_that_lost_its_claim_writes_nothing(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    clone = holding(make_clone, "0")
    other = make_clone("b")
    ok(other, "claim", "m1", "--force", "--reason", "the first session died")
    taken = remote_refs(bare_remote)["refs/missions/m1"]
    # The first clone has not fetched: its mirror still says it holds m1, so the hook tries, and the fenced write
    # finds the takeover on the remote.
    assert "claim_instance" in remote_mission(bare_remote, "m1")
    git(clone, "commit", "-q", "--allow-empty", "-m", "feat: work after the takeover")
    assert wait_for(lambda: (clone / LOG).exists() and "m1:" in (clone / LOG).read_text())
    assert "m1: lost (cannot heartbeat mission m1: it is held by" in (clone / LOG).read_text()
    assert remote_refs(bare_remote)["refs/missions/m1"] == taken


def test_a_commit_before_the_next_due_time_starts_no_process(make_clone: Callable[..., Path]) -> None:
    clone = holding(make_clone, "1h")
    assert ok(clone, "hooks", "heartbeat").startswith("m1: not-due (")
    next_due = clone / ".git" / "gitclaim" / "heartbeat" / ".next-due"
    due = int(next_due.read_text())
    assert 3590 <= due - time.time() <= 3600  # one interval after the claim's last_activity
    log = clone / LOG
    before = log.read_text()
    log.unlink()
    git(clone, "commit", "-q", "--allow-empty", "-m", "feat: more work")
    time.sleep(1.0)  # a run would have to start before it could write the log; none is started at all
    assert not log.exists(), before


def test_heartbeats_are_rate_limited_per_mission(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    clone = holding(make_clone, "1h")
    assert ok(clone, "hooks", "heartbeat").startswith("m1: not-due (last activity ")  # the claim just wrote it
    now = run_gitclaim(clone, "hooks", "heartbeat", env={"GITCLAIM_HEARTBEAT_INTERVAL": "0"})
    assert now.stdout.startswith("m1: heartbeat (epoch 1, commit "), now.stderr
    tip = remote_refs(bare_remote)["refs/missions/m1"]
    assert ok(clone, "hooks", "heartbeat").startswith("m1: not-due (")
    assert remote_refs(bare_remote)["refs/missions/m1"] == tip


def test_an_unreachable_remote_is_tried_once_per_interval_and_never_fails(
        make_clone: Callable[..., Path], tmp_path: Path) -> None:
    clone = holding(make_clone, "1h")
    git(clone, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    first = run_gitclaim(clone, "hooks", "heartbeat", env={"GITCLAIM_HEARTBEAT_INTERVAL": "0"})
    assert first.returncode == 0 and first.stdout.startswith("m1: failed ("), first.stdout
    assert ok(clone, "hooks", "heartbeat").startswith("m1: not-due (")  # the stamp of the failed attempt
    res = git(clone, "commit", "-q", "--allow-empty", "-m", "feat: offline work")
    assert (res.returncode, res.stderr) == (0, "")


def test_heartbeat_without_held_missions_or_outside_a_clone(make_clone: Callable[..., Path],
                                                           tmp_path: Path) -> None:
    clone = make_clone("a")
    assert ok(clone, "hooks", "heartbeat") == "no mission held by this clone\n"
    assert json.loads(ok(clone, "hooks", "heartbeat", "--json")) == {"missions": []}
    outside = run_gitclaim(tmp_path, "hooks", "heartbeat")
    assert (outside.returncode, outside.stdout) == (0, "")
    assert outside.stderr == f"gitclaim: heartbeat skipped: not a git repository: {tmp_path} " \
                             "(run gitclaim inside a clone of the shared repo)\n"
    quiet = run_gitclaim(tmp_path, "hooks", "heartbeat", "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_bad_interval_setting_is_reported_not_raised(make_clone: Callable[..., Path]) -> None:
    clone = holding(make_clone, "soon")
    res = run_gitclaim(clone, "hooks", "heartbeat")
    assert (res.returncode, res.stdout) == (0, "")
    assert res.stderr == "gitclaim: heartbeat skipped: invalid duration 'soon': use a number with a unit, " \
                         "e.g. 30m, 24h, 7d\n"
