"""Tasks, phases, checkpoints, blockers and context (gitclaim/workflows/) on real clones of a real bare remote.

Library calls run in-process against real git (each through a fresh store, as separate commands would); the
person's side (approve, unblock, validate, context) goes through the real CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.errors import Conflict, InvalidInput, NotFound
from gitclaim.missions.workspace import open_store
from gitclaim.workflows import decisions, profiles, replay, startmission
from tests.helpers import git, remote_mission, remote_refs, run_gitclaim

T0 = datetime(2030, 1, 2, 10, 0, 0, tzinfo=UTC)


class Agent:
    """One clone acting through the library; every call opens a fresh store, like a separate command."""

    def __init__(self, clone: Path) -> None:
        self.clone = clone

    def __call__(self, fn: Callable[..., Any], *args: Any, at: datetime | None = None, **kwargs: Any) -> Any:
        store = open_store(self.clone)
        return fn(store, claims.actor_for(store, "orchestrator", now=at), *args, **kwargs)

    def context(self, mission_id: str, include: list[str] | None = None, phase: int | None = None) -> dict:
        return replay.get_context(open_store(self.clone), mission_id, include, phase)


def subjects(remote: Path, mission_id: str) -> list[str]:
    out = git(remote, "log", "--reverse", "--format=%s", f"refs/missions/{mission_id}").stdout
    return out.splitlines()


def trailers(remote: Path, mission_id: str) -> str:
    return git(remote, "log", "-1", "--format=%B", f"refs/missions/{mission_id}").stdout


@pytest.fixture
def agent(make_clone: Callable[..., Path]) -> Agent:
    return Agent(make_clone("orchestrator"))


def started(agent: Agent, name: str = "Checkout flow", profile: str = "standard") -> str:
    return agent(startmission.start_mission, name, "Customers pay with a saved card.", profile, at=T0).state.mission_id


def test_start_mission_creates_a_claimed_mission_from_the_profile(agent: Agent, bare_remote: Path) -> None:
    mission_id = started(agent, "Checkout flow!")
    assert mission_id == "checkout-flow"
    text = remote_mission(bare_remote, mission_id)
    mis = m.parse(text.encode(), mission_id)
    assert mis.status == m.ACTIVE and mis.claim_epoch == 1 and mis.claimed_by == "orchestrator"
    assert "## Objective\n\nCustomers pay with a saved card.\n" in mis.body
    assert mis.extra["profile"] == "standard" and mis.extra["tasks"] == {}
    files = git(bare_remote, "ls-tree", "-r", "--name-only", f"refs/missions/{mission_id}").stdout.split()
    assert {"mission.md", "workflow.md", "start.md", "agents/analyst.md"} <= set(files)
    assert subjects(bare_remote, mission_id) == [f"chore(mission): start {mission_id}"]
    # one commit: nobody can claim it between creation and claim
    assert "Gitclaim-Action: start" in trailers(bare_remote, mission_id)
    # the same name again gets a suffix instead of failing
    assert started(agent, "Checkout flow!") == "checkout-flow-2"
    with pytest.raises(InvalidInput, match="unknown profile"):
        agent(startmission.start_mission, "Other", "x", "huge")


def test_requires_order_phases_and_a_checkpoint_waits_for_approval(agent: Agent, bare_remote: Path) -> None:
    mission_id = started(agent)
    person = agent.clone  # approving is a person's command; any clone may run it
    with pytest.raises(Conflict, match=r"cannot start phase 2 \(implementation\).*requires phase 1 \(analysis\)"):
        agent(decisions.start_task, mission_id, 2, "orchestrator", "Implementation")
    with pytest.raises(InvalidInput, match="has no phase 7"):
        agent(decisions.start_task, mission_id, 7, "orchestrator", "Nothing")
    t1 = agent(decisions.start_task, mission_id, 1, "orchestrator", "Analysis", "approach logged").ref
    assert t1.full == f"{mission_id}/t1"
    agent(decisions.complete_task, t1.full, "success", "approach chosen", phase_complete=True)
    with pytest.raises(Conflict) as waits:
        agent(decisions.start_task, mission_id, 2, "orchestrator", "Implementation")
    assert str(waits.value) == f"phase 2 waits for human approval: gitclaim approve {mission_id} --phase 2"

    res = run_gitclaim(person, "approve", mission_id, "--phase", "1")
    assert res.returncode == 2 and "has no checkpoint" in res.stderr
    res = run_gitclaim(person, "approve", mission_id, "--phase", "2", "--note", "approach looks right")
    assert res.returncode == 0, res.stderr
    assert not agent(decisions.approve, mission_id, 2).changed  # approving twice writes nothing

    t2 = agent(decisions.start_task, mission_id, 2, "orchestrator", "Implementation").ref
    assert t2.task == "t2"
    with pytest.raises(Conflict, match=r"requires phase 2 \(implementation\)"):
        agent(decisions.start_task, mission_id, 3, "orchestrator", "Review")
    assert f"chore(mission): approve phase 2 of {mission_id}" in subjects(bare_remote, mission_id)


def test_an_issue_needing_review_blocks_every_write_until_unblock(agent: Agent) -> None:
    mission_id = started(agent)
    person = agent.clone
    task = agent(decisions.start_task, mission_id, 1, "orchestrator", "Analysis").ref.full
    logged = agent(decisions.log_issue, task, description="payment sandbox credentials missing", severity="high",
                   issue_type="blocker", requires_human_review=True)
    assert logged.blocked_reason == "payment sandbox credentials missing"
    blocked = (f"mission {mission_id} is BLOCKED: payment sandbox credentials missing "
               f"(gitclaim unblock {mission_id})")
    for write in (lambda: agent(decisions.start_task, mission_id, 1, "orchestrator", "Again"),
                  lambda: agent(decisions.log_milestone, task, message="half"),
                  lambda: agent(decisions.log_decision, task, chosen="wait"),
                  lambda: agent(decisions.complete_task, task, "success"),
                  lambda: agent(decisions.complete_mission, mission_id, "completed")):
        with pytest.raises(Conflict) as refused:
            write()
        assert str(refused.value) == blocked
    ctx = agent.context(mission_id, ["blockers"])
    assert ctx["status"] == m.BLOCKED and ctx["blockers"][0]["blocking"] is True
    assert ctx["blockers"][0]["task_id"] == task and ctx["blockers"][0]["type"] == "blocker"
    # recording a failure is part of stopping, so it is allowed while blocked
    failed = agent(decisions.complete_task, task, "failed", "no credentials to test with")
    assert failed.status == "failed" and not failed.phase_complete

    res = run_gitclaim(person, "unblock", mission_id, "--note", "credentials added")
    assert res.returncode == 0, res.stderr
    agent(decisions.log_milestone, task, message="credentials in place", progress=50)
    ctx = agent.context(mission_id, ["blockers", "tasks"])
    assert ctx["status"] == m.ACTIVE and ctx["tasks"][0]["status"] == "failed"
    assert ctx["blockers"][0]["blocking"] is False and ctx["blockers"][0]["resolution"] == "credentials added"
    # blocked again, a FAILED finish (an abort) is still allowed
    agent(decisions.log_issue, None, description="client cancelled", requires_human_review=True, mission_id=mission_id)
    totals = agent(decisions.complete_mission, mission_id, "failed", "aborted: client cancelled")
    assert totals["status"] == m.FAILED and totals["tasks_by_status"] == {"failed": 1} and totals["issues"] == 2


def test_complete_task_records_duration_from_its_start_and_the_files(agent: Agent, bare_remote: Path) -> None:
    mission_id = started(agent)
    task = agent(decisions.start_task, mission_id, 1, "orchestrator", "Analysis", at=T0 + timedelta(seconds=5)).ref
    with pytest.raises(InvalidInput, match="phase_complete needs status success"):
        agent(decisions.complete_task, task.full, "failed", phase_complete=True)
    done = agent(decisions.complete_task, task.full, "success", "plan written", phase_complete=True,
                 files=["src/pay.py", "docs/plan.md", "src/pay.py"], at=T0 + timedelta(seconds=100))
    assert (done.duration_seconds, done.files, done.phase_complete) == (95, ["docs/plan.md", "src/pay.py"], True)
    body = trailers(bare_remote, mission_id)
    assert body.startswith(f"chore(mission): complete task t1 (phase 1) on {mission_id}\n\nplan written\n")
    for line in ("Gitclaim-Action: task-complete", "Gitclaim-Task: t1", "Gitclaim-Phase: 1", "Gitclaim-Status: success",
                 "Gitclaim-Duration: 95", 'Gitclaim-Files: ["docs/plan.md", "src/pay.py"]',
                 "Gitclaim-Phase-Complete: yes"):
        assert line in body
    mis = m.parse(remote_mission(bare_remote, mission_id).encode(), mission_id)
    assert mis.extra["tasks"]["t1"]["duration_seconds"] == 95 and mis.extra["phases_complete"] == [1]
    # a retry of the same completion writes nothing; a different ending is refused
    tip = remote_refs(bare_remote)[f"refs/missions/{mission_id}"]
    again = agent(decisions.complete_task, "t1", "success", mission_id=mission_id)
    assert again.outcome is not None and not again.outcome.changed
    assert remote_refs(bare_remote)[f"refs/missions/{mission_id}"] == tip
    with pytest.raises(Conflict, match="already success"):
        agent(decisions.complete_task, task.full, "failed")
    with pytest.raises(NotFound, match="has no task t9"):
        agent(decisions.complete_task, f"{mission_id}/t9", "success")


def test_complete_mission_returns_totals_from_the_history(agent: Agent, bare_remote: Path) -> None:
    mission_id = started(agent, "Totals", profile="simple")
    t1 = agent(decisions.start_task, mission_id, 1, "orchestrator", "Implementation").ref.full
    agent(decisions.log_decision, t1, question="which client", chosen="httpx", category="library")
    agent(decisions.log_decision, t1, chosen="retry twice", rationale="the API is flaky")
    agent(decisions.log_milestone, t1, message="client in place", progress=50)
    agent(decisions.log_issue, t1, description="slow test", severity="low")
    agent(decisions.complete_task, t1, "partial", files=["a.py"])
    t2 = agent(decisions.start_task, mission_id, 1, "agent", "Finish").ref.full
    agent(decisions.complete_task, t2, "success", phase_complete=True, files=["b.py", "a.py"])
    totals = agent(decisions.complete_mission, mission_id, "completed", "client added", at=T0 + timedelta(hours=2))
    assert totals["status"] == m.DONE and totals["summary"] == "client added"
    assert totals["duration_seconds"] == 7200
    assert (totals["tasks"], totals["decisions"], totals["milestones"], totals["issues"]) == (2, 2, 1, 1)
    assert totals["tasks_by_status"] == {"partial": 1, "success": 1}
    assert totals["files"] == ["a.py", "b.py"] and totals["phases_complete"] == [1]
    assert totals["commits"] == len(subjects(bare_remote, mission_id)) == 10
    assert subjects(bare_remote, mission_id)[-1] == f"chore(mission): complete {mission_id}"


def test_context_is_filtered_by_phase_and_part(agent: Agent) -> None:
    mission_id = started(agent)
    person = agent.clone
    t1 = agent(decisions.start_task, mission_id, 1, "orchestrator", "Analysis").ref.full
    agent(decisions.log_decision, t1, question="approach", chosen="tokenise cards")
    agent(decisions.complete_task, t1, "success", phase_complete=True)
    run_gitclaim(person, "approve", mission_id, "--phase", "2")
    t2 = agent(decisions.start_task, mission_id, 2, "orchestrator", "Implementation").ref.full
    agent(decisions.log_decision, t2, question="library", chosen="stripe")
    agent(decisions.log_milestone, t2, message="card form", progress=40)

    ctx = agent.context(mission_id, phase=2)
    assert [t["task_id"] for t in ctx["tasks"]] == [t2]
    assert [d["chosen"] for d in ctx["decisions"]] == ["stripe"]
    assert [ms["progress"] for ms in ctx["milestones"]] == [40]
    assert [p["id"] for p in ctx["phases"]] == ["implementation"] and ctx["phases"][0]["approved"]
    assert ctx["phases_complete"] == [1] and ctx["approved_phases"] == [2]
    only = agent.context(mission_id, ["decisions"], phase=1)
    assert [d["chosen"] for d in only["decisions"]] == ["tokenise cards"]
    assert "tasks" not in only and "milestones" not in only
    res = run_gitclaim(person, "context", mission_id, "--phase", "1", "--include", "decisions,tasks", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [t["task_id"] for t in data["tasks"]] == [t1] and data["decisions"][0]["question"] == "approach"
    res = run_gitclaim(person, "context", mission_id)
    assert res.returncode == 0 and f"task {t2} phase 2 running: Implementation" in res.stdout
    with pytest.raises(InvalidInput, match="unknown context part"):
        agent.context(mission_id, ["gossip"])


def test_only_the_holder_starts_tasks_and_logs(agent: Agent, make_clone: Callable[..., Path],
                                               bare_remote: Path) -> None:
    mission_id = started(agent)
    task = agent(decisions.start_task, mission_id, 1, "orchestrator", "Analysis").ref.full
    other = Agent(make_clone("intruder"))
    tip = remote_refs(bare_remote)[f"refs/missions/{mission_id}"]
    with pytest.raises(Conflict, match=rf"cannot start a task on mission {mission_id}: it is held by"):
        other(decisions.start_task, mission_id, 1, "orchestrator", "Mine now")
    with pytest.raises(Conflict, match="held by"):
        other(decisions.log_decision, task, chosen="mine")
    with pytest.raises(Conflict, match="held by"):
        other(decisions.complete_task, task, "success")
    with pytest.raises(Conflict, match="held by"):
        other(decisions.complete_mission, mission_id, "completed")
    assert remote_refs(bare_remote)[f"refs/missions/{mission_id}"] == tip
    # the task cannot be started either through the CLI of the other clone (exit 3)
    res = run_gitclaim(other.clone, "task", "start", mission_id, "--phase", "1", "--name", "x")
    assert res.returncode == 3 and "held by" in res.stderr
    # the holder's own CLI works
    res = run_gitclaim(agent.clone, "task", "start", mission_id, "--phase", "1", "--name", "Second look")
    assert res.returncode == 0 and res.stdout.strip() == f"{mission_id}/t2", res.stderr
    res = run_gitclaim(agent.clone, "task", "complete", f"{mission_id}/t2", "--phase-complete", "--file", "a.py",
                       "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["phase_complete"] and data["files"] == ["a.py"] and data["status"] == "success"


def test_validate_a_directory_and_a_published_mission(agent: Agent, tmp_path: Path) -> None:
    good = tmp_path / "good"
    for rel, data in profiles.render_profile("complex", "demo", "Demo").items():
        (good / rel).parent.mkdir(parents=True, exist_ok=True)
        (good / rel).write_bytes(data)
    res = run_gitclaim(tmp_path, "validate", str(good))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"{good}: workflow valid"

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mission.md").write_text("---\ntitle: Bad\n---\n")
    (bad / "workflow.md").write_text(
        "---\nphases:\n  - id: build\n    agents:\n      - type: ghost\n  - id: check\n    number: 2\n"
        "    requires: build\n    completion: done\n---\n")
    res = run_gitclaim(tmp_path, "validate", str(bad))
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines and all(line.startswith("phase ") and line.count(": ") >= 2 for line in lines)
    assert any(line.startswith("phase build: phase-number: ") for line in lines)
    assert any(line.startswith("phase build: agent-exists: ") for line in lines)
    assert any(line.startswith("phase build: completion: ") for line in lines)
    assert res.stderr.strip() == f"gitclaim: {bad}: {len(lines)} workflow rule violations"

    mission_id = started(agent)
    res = run_gitclaim(agent.clone, "validate", mission_id)
    assert res.returncode == 0 and res.stdout.strip() == f"mission {mission_id}: workflow valid", res.stderr
    assert run_gitclaim(agent.clone, "validate", "no-such-mission").returncode == 4
