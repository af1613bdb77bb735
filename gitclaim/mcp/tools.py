"""The MCP tools: each a thin wrapper over the library core, like a CLI command. A tool opens the store of
`repo_path` (default: the server's working directory, so one server serves whichever clone or worktree an agent
names), calls one library function and returns its result as structured content (gitclaim/mcp/schemas.py) through
`calling.call`, the one place a failure becomes a tool error (gitclaim/mcp/calling.py).

The tools are plain functions: the SDK runs them on worker threads, which keeps the server answering while a push
waits on the remote. Reference: docs/mcp.md.
"""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from gitclaim.core import transitions as claims
from gitclaim.core.store import Store
from gitclaim.errors import PolicyViolation
from gitclaim.mcp.calling import (
    MissionId,
    Profile,
    RepoPath,
    Session,
    TaskId,
    call,
    changed,
    derived_id_refused,
)
from gitclaim.mcp.schemas import (
    ClaimResult,
    CompletedTask,
    LoggedDecision,
    LoggedIssue,
    LoggedMilestone,
    MissionChange,
    MissionContext,
    MissionList,
    MissionRow,
    MissionView,
    NextResult,
    StartedMission,
    StartedTask,
    Totals,
)
from gitclaim.missions import views
from gitclaim.workflows import decisions, profiles, replay, startmission

# ---- tools: the mission system -----------------------------------------------------------------------------

def start_mission(
    name: Annotated[str, Field(description="Mission name; the id is derived from it (a taken id gets -2, -3).")],
    objective: Annotated[str, Field(description="The outcome wanted; written into mission.md's Objective.")],
    profile: Profile = "standard",
    mission_id: Annotated[str | None, Field(description="Use this id instead of one derived from name.")] = None,
    session: Session = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, StartedMission]:
    """Create a mission from a profile template (mission.md, workflow.md, start.md, agents/) and claim it for
    you, in one commit. Then read its start.md and workflow.md and run the phases."""
    def op(store: Store) -> StartedMission:
        try:
            out = startmission.start_mission(store, claims.actor_for(store, session), name, objective, profile,
                                      mission_id=mission_id)
        except PolicyViolation as err:
            if mission_id is not None:
                raise
            raise derived_id_refused(name, err) from None
        mis = out.state.mission
        files = sorted(profiles.render_profile(profile, mis.mission_id, mis.title))  # what was written
        return StartedMission(mission_id=mis.mission_id, title=mis.title, profile=profile, status=mis.status,
                              epoch=mis.claim_epoch, commit=out.state.commit, files=files)

    return call(repo_path, op)


def start_task(
    mission_id: MissionId,
    phase: Annotated[int, Field(description="Workflow phase number.", ge=1)],
    caller_type: Annotated[str, Field(description="orchestrator, or the sub-agent's type.")],
    name: Annotated[str, Field(description="Task name (the phase's name for an orchestrator task).")],
    goal: Annotated[str, Field(description="What the task must achieve (the phase's completion).")] = "",
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, StartedTask]:
    """Start a task in a phase (holder only). Refused while the mission is BLOCKED, before the phases this one
    `requires` are complete, and before a `checkpoint: human` phase is approved."""
    def op(store: Store) -> StartedTask:
        got = decisions.start_task(store, claims.actor_for(store), mission_id, phase, caller_type, name, goal)
        return StartedTask(task_id=got.ref.full, mission_id=mission_id, phase=phase,
                           commit=got.outcome.state.commit)

    return call(repo_path, op)


def complete_task(
    task_id: Annotated[str, Field(description="Task id from start_task, like my-mission/t3.")],
    status: Annotated[str, Field(description="success, partial or failed.")],
    outcome: Annotated[str, Field(description="What came out of the task (a distilled summary).")] = "",
    phase_complete: Annotated[bool, Field(description="This task completes its phase (status success).")]
    = False,
    files: Annotated[list[str] | None, Field(description="Files the task changed.")] = None,
    mission_id: Annotated[str | None, Field(description="Only for a short task id (t3).")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, CompletedTask]:
    """Complete a task: records its duration (from its start) and the files it changed; phase_complete marks
    its phase complete, which later phases' `requires` wait for."""
    def op(store: Store) -> CompletedTask:
        done = decisions.complete_task(store, claims.actor_for(store), task_id, status, outcome,
                                   phase_complete=phase_complete, files=files, mission_id=mission_id)
        assert done.outcome is not None
        return CompletedTask(task_id=done.ref.full, status=done.status, duration_seconds=done.duration_seconds,
                             files=done.files, phase_complete=done.phase_complete,
                             commit=done.outcome.state.commit)

    return call(repo_path, op)


def complete_mission(
    mission_id: MissionId,
    status: Annotated[str, Field(description="completed (DONE) or failed (FAILED).")],
    summary: Annotated[str, Field(description="What changed, each success criterion and how it was checked, "
                                              "open issues.")] = "",
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, Totals]:
    """Finish the mission (holder only) and return its totals from the history: duration, tasks, decisions,
    milestones, issues, files. completed is refused while BLOCKED; failed aborts."""
    def op(store: Store) -> Totals:
        return Totals(**decisions.complete_mission(store, claims.actor_for(store), mission_id, status, summary))

    return call(repo_path, op)


def log_decision(
    chosen: Annotated[str, Field(description="The option chosen.")],
    task_id: TaskId = None,
    question: Annotated[str | None, Field(description="What was decided.")] = None,
    category: Annotated[str | None, Field(description="e.g. architecture, library, scope.")] = None,
    rationale: Annotated[str | None, Field(description="Why, and the alternatives rejected.")] = None,
    mission_id: Annotated[str | None, Field(description="For a short task id, or a mission-level entry.")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, LoggedDecision]:
    """Record a decision (one commit). Holder only; refused while BLOCKED."""
    def op(store: Store) -> LoggedDecision:
        got = decisions.log_decision(store, claims.actor_for(store), task_id, chosen=chosen, question=question,
                                 category=category, rationale=rationale, mission_id=mission_id)
        return LoggedDecision(decision_id=got.entry_id, mission_id=got.mission_id, task_id=got.task_id)

    return call(repo_path, op)


def log_milestone(
    message: Annotated[str, Field(description="What was reached.")],
    task_id: TaskId = None,
    progress: Annotated[int | None, Field(description="Percent done, 0-100.", ge=0, le=100)] = None,
    mission_id: Annotated[str | None, Field(description="For a short task id, or a mission-level entry.")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, LoggedMilestone]:
    """Record progress (one commit). Holder only; refused while BLOCKED."""
    def op(store: Store) -> LoggedMilestone:
        got = decisions.log_milestone(store, claims.actor_for(store), task_id, message=message, progress=progress,
                                  mission_id=mission_id)
        return LoggedMilestone(milestone_id=got.entry_id, mission_id=got.mission_id, task_id=got.task_id)

    return call(repo_path, op)


def log_issue(
    description: Annotated[str, Field(description="The problem, what was tried, suggested resolutions.")],
    task_id: TaskId = None,
    severity: Annotated[str | None, Field(description="low, medium, high or critical.")] = None,
    type: Annotated[str | None, Field(description="e.g. blocker, bug, risk, question.")] = None,
    requiresHumanReview: Annotated[bool, Field(description="Block the mission until a person runs "
                                                          "gitclaim unblock.")] = False,
    requires_human_review: Annotated[bool, Field(description="Same as requiresHumanReview.")] = False,
    mission_id: Annotated[str | None, Field(description="For a short task id, or a mission-level entry.")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, LoggedIssue]:
    """Record an issue (one commit). With requiresHumanReview the mission becomes BLOCKED: stop the workflow
    and ask a person; every later write answers with the blocker until they run gitclaim unblock."""
    def op(store: Store) -> LoggedIssue:
        got = decisions.log_issue(store, claims.actor_for(store), task_id, description=description,
                              severity=severity, issue_type=type,
                              requires_human_review=requiresHumanReview or requires_human_review,
                              mission_id=mission_id)
        return LoggedIssue(issue_id=got.entry_id, mission_id=got.mission_id, task_id=got.task_id,
                           blocked=got.blocked_reason is not None, blocked_reason=got.blocked_reason)

    return call(repo_path, op)


def get_context(
    mission_id: MissionId,
    include: Annotated[list[str] | None, Field(description="Any of phases, tasks, decisions, milestones, "
                                                           "blockers (default: all).")] = None,
    phase: Annotated[int | None, Field(description="Only this phase's phases/tasks/log entries.", ge=1)] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, MissionContext]:
    """What the mission recorded so far, replayed from its history: phases (complete/approved), tasks,
    decisions, milestones and blockers (blocking: true while one holds the mission BLOCKED)."""
    def op(store: Store) -> MissionContext:
        return MissionContext(**replay.get_context(store, mission_id, include, phase))

    return call(repo_path, op)


# ---- tools: claims -----------------------------------------------------------------------------------------

def claim_mission(
    mission_id: MissionId,
    steal: Annotated[bool, Field(description="Take over a claim idle past the lease TTL.")] = False,
    session: Session = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, ClaimResult]:
    """Claim a mission. Already yours: changed false. Held by another: a tool error naming the holder. Held by
    your own principal from another clone (a signed claim): resumed, action "resume"."""
    def op(store: Store) -> ClaimResult:
        out = claims.claim(store, claims.actor_for(store, session), mission_id, steal=steal)
        return changed(store, out, ClaimResult, action=claims.claim_action(out), previous=claims.replaced_claim(out))

    return call(repo_path, op)


def next_mission(session: Session = None, repo_path: RepoPath = None) -> Annotated[CallToolResult, NextResult]:
    """Claim the best ready mission (QUEUED, requirements DONE, most urgent first) in one step; a tool error
    when nothing is ready."""
    def op(store: Store) -> NextResult:
        from gitclaim.missions import ready

        got = ready.next_mission(store, claims.actor_for(store, session))
        return changed(store, got.outcome, NextResult, lost_races=got.lost_races)

    return call(repo_path, op)


def list_missions(
    status: Annotated[str | None, Field(description="Only this status: QUEUED, ACTIVE, BLOCKED, DONE, "
                                                    "FAILED, CANCELLED.")] = None,
    stale: Annotated[bool, Field(description="Only claims idle past the lease TTL.")] = False,
    fetch: Annotated[bool, Field(description="Fetch first (false: read the local mirror only).")] = True,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, MissionList]:
    """List missions, most actionable first."""
    def op(store: Store) -> MissionList:
        got = views.list_missions(store, status=status, stale_only=stale, fetch=fetch)
        return MissionList(missions=[MissionRow(**row) for row in got.rows], broken=[str(e) for e in got.broken])

    return call(repo_path, op)


def show_mission(
    mission_id: MissionId,
    file: Annotated[str | None, Field(description="Also return this file of the mission's tree, e.g. start.md "
                                                  "or workflow.md.")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, MissionView]:
    """A mission's fields, body, files and history (every commit on its ref, oldest first); with `file`, that
    file's text too (the mission's files live on its ref, not in the working tree)."""
    def op(store: Store) -> MissionView:
        view = MissionView(**views.show_mission(store, mission_id).to_json())
        if file is not None:
            view.file_text = views.read_file(store, mission_id, file).decode("utf-8", "replace")
        return view

    return call(repo_path, op)


def release_mission(
    mission_id: MissionId,
    note: Annotated[str | None, Field(description="Why, for the history.")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, MissionChange]:
    """Give a mission you hold back to the queue (QUEUED)."""
    def op(store: Store) -> MissionChange:
        return changed(store, claims.release(store, claims.actor_for(store), mission_id, note=note))

    return call(repo_path, op)


def heartbeat(mission_id: MissionId, repo_path: RepoPath = None) -> Annotated[CallToolResult, MissionChange]:
    """Refresh your claim's lease during long silent work (every write refreshes it too)."""
    def op(store: Store) -> MissionChange:
        return changed(store, claims.heartbeat(store, claims.actor_for(store), mission_id))

    return call(repo_path, op)


# ---- tools: corrections ------------------------------------------------------------------------------------

Reason = Annotated[str, Field(description="Why, for the mission's history.")]


def edit_mission(
    mission_id: MissionId,
    title: Annotated[str | None, Field(description="A new one-line title.")] = None,
    priority: Annotated[str | None, Field(description="0 (most urgent) to 1000, P0-P9, or critical/high/medium/"
                                                      "low.")] = None,
    requires: Annotated[list[str] | None, Field(description="Mission ids that must be DONE first; replaces the "
                                                            "list ([] clears it).")] = None,
    body: Annotated[str | None, Field(description="A new markdown body.")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, MissionChange]:
    """Change a mission's title, priority, requirements or body: anyone while it is QUEUED, only the holder
    while it is ACTIVE or BLOCKED. Same values: changed false."""
    def op(store: Store) -> MissionChange:
        from gitclaim.core import corrections
        from gitclaim.core.mission import parse_priority

        fields = corrections.Edit(title=title, priority=parse_priority(priority) if priority is not None else None,
                                  requires=tuple(requires) if requires is not None else None, body=body)
        if fields.requires:
            from gitclaim.missions.create import check_requirements

            check_requirements(store, mission_id, fields.requires)
        return changed(store, corrections.edit(store, claims.actor_for(store), mission_id, fields))

    return call(repo_path, op)


def cancel_mission(mission_id: MissionId, reason: Reason, repo_path: RepoPath = None
                   ) -> Annotated[CallToolResult, MissionChange]:
    """Withdraw a mission nobody should take (CANCELLED): out of the queue, kept in the history, archivable.
    Anyone may cancel a QUEUED mission; only the holder an ACTIVE or BLOCKED one."""
    def op(store: Store) -> MissionChange:
        from gitclaim.core import corrections

        return changed(store, corrections.cancel(store, claims.actor_for(store), mission_id, reason=reason))

    return call(repo_path, op)


def reopen_mission(mission_id: MissionId, reason: Reason, repo_path: RepoPath = None
                   ) -> Annotated[CallToolResult, MissionChange]:
    """Put a DONE, FAILED or CANCELLED mission back in the queue (QUEUED, no holder); anyone may."""
    def op(store: Store) -> MissionChange:
        from gitclaim.core import corrections

        return changed(store, corrections.reopen(store, claims.actor_for(store), mission_id, reason=reason))

    return call(repo_path, op)


def _hints(*, read_only: bool = False, destructive: bool = False, idempotent: bool = False) -> ToolAnnotations:
    # Every tool reads or writes the shared remote, which other agents change: an open world.
    return ToolAnnotations(read_only_hint=read_only, destructive_hint=destructive, idempotent_hint=idempotent,
                           open_world_hint=True)


# What a client may assume about each tool (docs/mcp.md "Tool annotations"). Destructive: the write ends a claim
# (complete_mission finishes the mission, release_mission gives it back, cancel_mission withdraws it,
# claim_mission with steal ends another session's stale claim). Idempotent: calling again with the same arguments
# changes nothing more (claiming what you hold is a no-op; a second heartbeat only moves the lease forward again).
ANNOTATIONS: dict[str, ToolAnnotations] = {
    "start_mission": _hints(),
    "start_task": _hints(),
    "complete_task": _hints(),
    "complete_mission": _hints(destructive=True),
    "log_decision": _hints(),
    "log_milestone": _hints(),
    "log_issue": _hints(),
    "get_context": _hints(read_only=True, idempotent=True),
    "claim_mission": _hints(destructive=True, idempotent=True),
    "next_mission": _hints(),
    "list_missions": _hints(read_only=True, idempotent=True),
    "show_mission": _hints(read_only=True, idempotent=True),
    "release_mission": _hints(destructive=True),
    "heartbeat": _hints(idempotent=True),
    "edit_mission": _hints(idempotent=True),  # the same values again: changed false
    "cancel_mission": _hints(destructive=True),  # withdraws the mission, ending its claim if it has one
    "reopen_mission": _hints(),
    "wait_for_change": _hints(read_only=True, idempotent=True),  # gitclaim/mcp/waiting.py: it only fetches
    "verify_missions": _hints(read_only=True, idempotent=True),  # gitclaim/mcp/verifying.py: it only fetches
}

TOOLS = (start_mission, start_task, complete_task, complete_mission, log_decision, log_milestone, log_issue,
         get_context, claim_mission, next_mission, list_missions, show_mission, release_mission, heartbeat,
         edit_mission, cancel_mission, reopen_mission)
