"""The server guard lets anyone approve a human checkpoint, as it lets anyone unblock (issue 11, item 16)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import git, remote_refs, run_gitclaim


def ok(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    res = run_gitclaim(clone, *args)
    assert res.returncode == 0, (args, res.stderr)
    return res


def test_a_person_in_another_clone_approves_behind_the_guard(bare_remote: Path, tmp_path: Path, make_clone) -> None:
    ok(tmp_path, "guard", "install", str(bare_remote))
    agent, person = make_clone("agent"), make_clone("person")
    ok(agent, "new", "m1", "--title", "Checkout", "--profile", "standard")
    ok(agent, "claim", "m1")
    assert ok(person, "approve", "m1", "--phase", "2", "--note", "approach looks right").stdout == \
        "approved phase 2 of m1\n"
    tip = remote_refs(bare_remote)["refs/missions/m1"]
    assert "Gitclaim-Action: approve" in git(bare_remote, "log", "-1", "--format=%B", tip).stdout
    # the approval changes nothing else: the agent still holds the mission and goes on
    ok(agent, "task", "start", "m1", "--phase", "1", "--name", "Analysis")


def test_the_guard_refuses_an_approval_that_changes_more(bare_remote: Path, tmp_path: Path, make_clone) -> None:
    ok(tmp_path, "guard", "install", str(bare_remote))
    agent, person = make_clone("agent"), make_clone("person")
    ok(agent, "new", "m1", "--title", "Checkout", "--profile", "standard")
    ok(agent, "claim", "m1")
    git(person, "fetch", "-q", "origin")
    tip = git(person, "rev-parse", "refs/missions/m1").stdout.strip()
    text = git(person, "show", f"{tip}:mission.md").stdout
    forged = text.replace('title: "Checkout"', 'title: "Hijacked"').replace(
        "gitclaim_format: 1\n", "gitclaim_format: 1\napproved_phases: [2]\n")
    assert forged != text
    blob = git(person, "hash-object", "-w", "--stdin", input=forged).stdout.strip()
    tree_lines = git(person, "ls-tree", tip).stdout.replace(
        git(person, "rev-parse", f"{tip}:mission.md").stdout.strip(), blob)
    tree = git(person, "mktree", input=tree_lines).stdout.strip()
    msg = "chore(mission): approve phase 2 of m1\n\nGitclaim-Action: approve\nGitclaim-Instance: b0b0b0b0b0b0\n" \
          "Gitclaim-Epoch: 1\nGitclaim-Phase: 2\n"
    commit = git(person, "commit-tree", tree, "-p", tip, input=msg).stdout.strip()
    res = subprocess.run(["git", "push", "origin", f"{commit}:refs/missions/m1"], cwd=person, text=True,
                         capture_output=True)
    assert res.returncode != 0
    assert "an approval changes approved_phases (and last_activity) only; this one changes more" in res.stderr
    assert remote_refs(bare_remote)["refs/missions/m1"] == tip


def test_guard_refusals_of_a_live_claim_never_name_the_override() -> None:
    from datetime import UTC, datetime, timedelta

    from gitclaim.core import mission as m
    from gitclaim.server import rules as guard

    now = datetime(2026, 1, 1, tzinfo=UTC)
    live = m.Mission(mission_id="m1", title="T", status=m.ACTIVE, claim_instance="aaa", claim_user="ann",
                     claimed_by="ann@h", claim_epoch=1, claimed_at="2026-01-01T00:00:00Z",
                     last_activity="2026-01-01T00:00:00Z", created="2026-01-01T00:00:00Z")
    other = live.evolve(claim_instance="bbb", claim_user="bob", claimed_by="bob@h", claim_epoch=2)
    cases = [
        (other, {"action": "takeover", "instance": "bbb", "epoch": "2", "takeover": "steal"}),
        (other, {"action": "claim", "instance": "bbb", "epoch": "2"}),
        (live.evolve(last_activity="2026-01-01T00:00:01Z"), {"action": "heartbeat", "instance": "bbb", "epoch": "1"}),
    ]
    for new, trailers in cases:
        step = guard.judge_step(live, new, trailers, "", now, timedelta(hours=1))
        assert step.kind == "refused" and step.problem is not None, trailers
        assert "--force" not in step.problem, step.problem
