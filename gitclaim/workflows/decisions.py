"""The changes an orchestrator makes to a mission (tasks, approvals, logs, the end), each a decision on the
mission's ref committed through `store.transact`, like gitclaim/core/transitions.py (start_mission, the first
row, is in startmission.py):

| change | commit | Gitclaim-Action | trailers besides Instance/Epoch |
| --- | --- | --- | --- |
| start_mission | `chore(mission): start <id>` | start | Profile |
| start_task | `chore(mission): start task t3 (phase 2) on <id>` | task-start | Task, Phase, Caller, Name |
| complete_task | `chore(mission): complete task t3 (phase 2) on <id>` | task-complete | Task, Phase, Status, ... |
| approve | `chore(mission): approve phase 2 of <id>` | approve | Phase |
| log_decision/milestone/issue | `chore(mission): log decision on <id>` | log | Kind, Task, ... (claims.log) |
| complete_mission | `chore(mission): complete <id>` | complete / fail | (claims.finish) |

See docs/tasks.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitclaim.core import execlog, timeutil
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.message import MissionMessage
from gitclaim.core.refs import check_id
from gitclaim.core.store import Change, Outcome, State, Store
from gitclaim.errors import Conflict, InvalidInput, NotFound
from gitclaim.workflows.model import Workflow
from gitclaim.workflows.replay import Replay
from gitclaim.workflows.taskstate import (
    RUNNING,
    TASK_RE,
    TaskRef,
    check_can_start,
    check_phase_number,
    holder_trailers,
    mission_workflow,
    one_line,
    phase_def,
    phase_list,
    refuse_blocked,
    task_index,
    task_ref,
    with_extra,
)

TASK_STATUSES = ("success", "partial", "failed")
# Agents say "completed" or "done" as often as "success": accept the common words, store one spelling.
_TASK_ALIASES = {"completed": "success", "complete": "success", "done": "success", "ok": "success",
                 "failure": "failed", "fail": "failed", "error": "failed"}
_MISSION_ALIASES = {"done": m.DONE, "completed": m.DONE, "complete": m.DONE, "success": m.DONE,
                    "failed": m.FAILED, "fail": m.FAILED, "failure": m.FAILED, "aborted": m.FAILED}
MAX_FILES = 1000


# ---- start_task --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskStarted:
    ref: TaskRef
    phase: int
    outcome: Outcome


def start_task(store: Store, actor: claims.Actor, mission_id: str, phase: int, caller_type: str, name: str,
               goal: str = "", *, epoch: int | None = None) -> TaskStarted:
    """A new task in `phase`, by the holder; refused while the mission is BLOCKED, before the phases it
    requires are complete, or before a checkpoint phase is approved."""
    check_id(mission_id)
    check_phase_number(phase)
    caller_type = one_line(caller_type, "the caller type", limit=100)
    name = one_line(name, "the task name")
    goal = claims.user_text(goal, "the goal")
    picked: list[str] = []

    def decide(state: State | None) -> Change:
        cur = claims.require_holder(state, actor, mission_id, "start a task on", epoch, store)
        refuse_blocked(cur)
        assert state is not None
        check_can_start(cur, mission_workflow(store, state), phase)
        tasks = task_index(cur)
        task = f"t{_next_number(tasks)}"
        picked.append(task)
        entry = {"phase": phase, "name": name, "caller": caller_type, "status": RUNNING, "started": actor.stamp}
        new = cur.evolve(last_activity=actor.stamp, extra=with_extra(cur, tasks={**tasks, task: entry}))
        trailers = {**holder_trailers(actor, cur), "Task": task, "Phase": str(phase), "Caller": caller_type,
                    "Name": name}
        verb = f"start task {task} (phase {phase}) on"
        return Change(new, MissionMessage(verb, mission_id, "task-start", goal, trailers))

    out = store.transact(mission_id, decide)
    return TaskStarted(TaskRef(mission_id, picked[-1]), phase, out)


def _next_number(tasks: dict[str, Any]) -> int:
    numbers = [int(key[1:]) for key in tasks if TASK_RE.fullmatch(key)]
    return max(numbers, default=0) + 1


# ---- complete_task -----------------------------------------------------------------------------------------

@dataclass
class TaskCompleted:
    ref: TaskRef
    phase: int
    status: str
    duration_seconds: int
    files: list[str]
    phase_complete: bool
    outcome: Outcome | None = None


def task_status(status: str) -> str:
    text = (status or "").strip().lower()
    text = _TASK_ALIASES.get(text, text)
    if text not in TASK_STATUSES:
        raise InvalidInput(f"unknown task status {status!r}: use one of {', '.join(TASK_STATUSES)}")
    return text


def _check_files(files: list[str] | None) -> list[str]:
    out: list[str] = []
    for path in files or []:
        if not isinstance(path, str) or not path.strip() or "\0" in path or "\n" in path:
            raise InvalidInput(f"invalid file path {path!r}: one line of text per file")
        out.append(path.strip())
    if len(out) > MAX_FILES:
        raise InvalidInput(f"more than {MAX_FILES} files; list the ones that matter")
    return sorted(set(out))


def complete_task(store: Store, actor: claims.Actor, task_id: str, status: str, outcome: str = "", *,
                  phase_complete: bool = False, files: list[str] | None = None, mission_id: str | None = None,
                  epoch: int | None = None) -> TaskCompleted:
    """End a running task, by the holder: its duration runs from the task's start commit. `phase_complete`
    (with status success) marks the task's phase complete, which is what `requires` waits for."""
    ref = task_ref(task_id, mission_id)
    status = task_status(status)
    if phase_complete and status != "success":
        raise InvalidInput(f"a {status} task cannot complete its phase: phase_complete needs status success")
    text = claims.user_text(outcome, "the outcome")
    paths = _check_files(files)
    result: list[TaskCompleted] = []

    def decide(state: State | None) -> Change | None:
        cur = claims.require_holder(state, actor, ref.mission_id, "complete a task on", epoch, store)
        task = _require_task(cur, ref)
        if task.get("status") != RUNNING:
            result.append(_already_completed(cur, ref, task, status))
            return None
        if status != "failed":
            refuse_blocked(cur)  # a failure may still be recorded: it is part of stopping
        done = _completed(ref, task, status, paths, phase_complete, actor.now)
        result.append(done)
        return _completion_change(actor, cur, ref, task, done, text)

    out = store.transact(ref.mission_id, decide)
    done = result[-1]
    done.outcome = out
    return done


def _require_task(mis: m.Mission, ref: TaskRef) -> dict[str, Any]:
    task = task_index(mis).get(ref.task)
    if task is None:
        raise NotFound(f"mission {mis.mission_id} has no task {ref.task}")
    return task


def _already_completed(mis: m.Mission, ref: TaskRef, task: dict[str, Any], status: str) -> TaskCompleted:
    """Completing a task twice with the same status is a no-op (a retry after an unknown outcome)."""
    if task.get("status") != status:
        raise Conflict(f"task {ref.full} is already {task.get('status')} (since {task.get('finished')})")
    phase = int(task.get("phase", 0))
    return TaskCompleted(ref, phase, status, int(task.get("duration_seconds") or 0), [],
                         phase in phase_list(mis, "phases_complete"))


def _completed(ref: TaskRef, task: dict[str, Any], status: str, files: list[str], phase_complete: bool,
               now: datetime) -> TaskCompleted:
    started = timeutil.parse_ts(task.get("started"))
    seconds = max(0, int((now - started).total_seconds())) if started else 0
    return TaskCompleted(ref, int(task.get("phase", 0)), status, seconds, files, phase_complete)


def _completion_change(actor: claims.Actor, cur: m.Mission, ref: TaskRef, task: dict[str, Any],
                       done: TaskCompleted, outcome: str) -> Change:
    entry = {**task, "status": done.status, "finished": actor.stamp, "duration_seconds": done.duration_seconds}
    extra = with_extra(cur, tasks={**task_index(cur), ref.task: entry})
    if done.phase_complete:
        extra["phases_complete"] = sorted(set(phase_list(cur, "phases_complete")) | {done.phase})
    trailers = {**holder_trailers(actor, cur), "Task": ref.task, "Phase": str(done.phase), "Status": done.status,
                "Duration": str(done.duration_seconds)}
    if done.files:
        trailers["Files"] = json.dumps(done.files, ensure_ascii=False)
    if done.phase_complete:
        trailers["Phase-Complete"] = "yes"
    verb = f"{'complete' if done.status != 'failed' else 'fail'} task {ref.task} (phase {done.phase}) on"
    new = cur.evolve(last_activity=actor.stamp, extra=extra)
    return Change(new, MissionMessage(verb, ref.mission_id, "task-complete", outcome, trailers))


# ---- approve -----------------------------------------------------------------------------------------------

def approve(store: Store, actor: claims.Actor, mission_id: str, phase: int, *, note: str | None = None) -> Outcome:
    """A person approves a `checkpoint: human` phase (anyone may, like unblock). Approving twice is a no-op."""
    check_id(mission_id)
    check_phase_number(phase)
    note = claims.user_text(note, "the note")

    def decide(state: State | None) -> Change | None:
        if state is None:
            raise NotFound(f"no mission {mission_id!r}")
        cur = state.mission
        if cur.status in m.FINISHED:
            raise Conflict(f"mission {mission_id} is {cur.status}; nothing left to approve")
        _require_checkpoint(cur, mission_workflow(store, state), phase)
        approved = phase_list(cur, "approved_phases")
        if phase in approved:
            return None
        new = cur.evolve(last_activity=actor.stamp,
                         extra=with_extra(cur, approved_phases=sorted({*approved, phase})))
        trailers = {**holder_trailers(actor, cur), "Phase": str(phase)}
        return Change(new, MissionMessage(f"approve phase {phase} of", mission_id, "approve", note, trailers))

    return store.transact(mission_id, decide)


def _require_checkpoint(mis: m.Mission, wf: Workflow | None, number: int) -> None:
    if wf is None:
        raise InvalidInput(f"mission {mis.mission_id} has no workflow.md, so no checkpoint to approve")
    phase = phase_def(mis, wf, number)
    if phase is not None and not phase.checkpoint:
        raise InvalidInput(f"phase {number} ({phase.id}) of mission {mis.mission_id} has no checkpoint: "
                           "nothing to approve")


# ---- logs --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Logged:
    entry_id: str  # the commit that records the entry
    mission_id: str
    task_id: str | None
    blocked_reason: str | None
    outcome: Outcome


def _log(store: Store, actor: claims.Actor, task_id: str | None, mission_id: str | None,
         entry: claims.LogEntry, epoch: int | None = None) -> Logged:
    """One log entry, by the CLI's `log --task` and the MCP tools alike. A task is named in full (`m3/t1`, as
    `task start` prints it) or short (`t1`, with the mission), and must exist on the mission; it is stored
    short, so the context finds its phase. What BLOCKED refuses is the core's rule (claims.log)."""
    ref = task_ref(task_id, mission_id) if task_id else None
    owner = ref.mission_id if ref else check_id(mission_id or "")
    entry = entry._replace(task=ref.task if ref else None).check()

    def guard(cur: m.Mission) -> None:
        if ref is not None:
            _require_task(cur, ref)

    out = claims.log(store, actor, owner, entry, epoch=epoch, guard=guard)
    mis = out.state.mission
    reason = mis.blocked_reason if mis.status == m.BLOCKED else None
    return Logged(out.state.commit, owner, ref.full if ref else None, reason, out)


log_entry = _log


def log_decision(store: Store, actor: claims.Actor, task_id: str | None, *, chosen: str,
                 question: str | None = None, category: str | None = None, rationale: str | None = None,
                 mission_id: str | None = None) -> Logged:
    if not (chosen or "").strip():
        raise InvalidInput("a decision needs the option chosen")
    entry = claims.LogEntry(kind="decision", message=rationale or "", question=_opt_line(question, "the question"),
                            chosen=one_line(chosen, "the option chosen", limit=500),
                            category=_opt_line(category, "the category"))
    return _log(store, actor, task_id, mission_id, entry)


def log_milestone(store: Store, actor: claims.Actor, task_id: str | None, *, message: str,
                  progress: int | None = None, mission_id: str | None = None) -> Logged:
    entry = claims.LogEntry(kind="milestone", message=message, progress=progress)
    return _log(store, actor, task_id, mission_id, entry)


def log_issue(store: Store, actor: claims.Actor, task_id: str | None, *, description: str,
              severity: str | None = None, issue_type: str | None = None, requires_human_review: bool = False,
              mission_id: str | None = None) -> Logged:
    """An issue; with requires_human_review the mission becomes BLOCKED until a person runs gitclaim unblock."""
    severity = (severity or "").strip().lower() or None
    entry = claims.LogEntry(kind="issue", message=description, severity=severity,
                            needs_human=requires_human_review, category=_opt_line(issue_type, "the issue type"))
    return _log(store, actor, task_id, mission_id, entry)


def _opt_line(value: str | None, what: str) -> str | None:
    return one_line(value, what, required=False, limit=500) or None


# ---- complete_mission --------------------------------------------------------------------------------------

def mission_status(status: str) -> str:
    text = (status or "").strip().lower()
    if text.upper() in m.COMPLETED:
        return text.upper()
    if text in _MISSION_ALIASES:
        return _MISSION_ALIASES[text]
    raise InvalidInput(f"a mission completes as DONE or FAILED (completed/failed), not {status!r}")


def complete_mission(store: Store, actor: claims.Actor, mission_id: str, status: str, summary: str = ""
                     ) -> dict[str, Any]:
    """Finish the mission (claims.finish) and return its totals, replayed from its history. DONE is refused
    while BLOCKED; FAILED is how an orchestrator aborts, blocked or not."""
    final = mission_status(status)
    # DONE while BLOCKED is refused by the core's rule (claims.finish), for every front end.
    out = claims.finish(store, actor, check_id(mission_id), status=final, summary=summary)
    replay = Replay.of(execlog.history(store, out.state))
    return replay.totals(out.state)
