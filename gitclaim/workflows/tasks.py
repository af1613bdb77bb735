"""Tasks, phases, approvals and context of one mission: the seed's mission system on top of claims.

Every change is a decision committed through `store.transact` on the mission's ref, like gitclaim/core/transitions.py:

| change | commit | Gitclaim-Action | trailers besides Instance/Epoch |
| --- | --- | --- | --- |
| start_mission | `chore(mission): start <id>` | start | Profile |
| start_task | `chore(mission): start task t3 (phase 2) on <id>` | task-start | Task, Phase, Caller, Name |
| complete_task | `chore(mission): complete task t3 (phase 2) on <id>` | task-complete | Task, Phase, Status, ... |
| approve | `chore(mission): approve phase 2 of <id>` | approve | Phase |
| log_decision/milestone/issue | `chore(mission): log decision on <id>` | log | Kind, Task, ... (claims.log) |
| complete_mission | `chore(mission): complete <id>` | complete / fail | (claims.finish) |

The history is the record: `get_context` and the totals of `complete_mission` replay it in one walk. The
decisions themselves must not walk the history on every write, so the same commits keep a small index in
mission.md's frontmatter (`extra` fields):

    tasks: {"t1": {"phase": 1, "name": "Analysis", "caller": "orchestrator", "status": "success",
                   "started": "...Z", "finished": "...Z", "duration_seconds": 42}}
    phases_complete: [1]
    approved_phases: [2]

A task id is `<mission id>/t<n>` (the short `t<n>` with a mission id also works): the seed's tools pass only a
task id to complete_task and the log tools, so it has to name its mission. See docs/tasks.md.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gitclaim.core import execlog, timeutil
from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.message import MissionMessage
from gitclaim.core.refs import check_id, id_problem
from gitclaim.core.store import Change, Outcome, State, Store
from gitclaim.errors import ERROR, Conflict, CorruptMission, GitclaimError, InvalidInput, NotFound
from gitclaim.missions import views
from gitclaim.workflows import workflow

RUNNING = "running"
TASK_STATUSES = ("success", "partial", "failed")
# Agents say "completed" or "done" as often as "success": accept the common words, store one spelling.
_TASK_ALIASES = {"completed": "success", "complete": "success", "done": "success", "ok": "success",
                 "failure": "failed", "fail": "failed", "error": "failed"}
_MISSION_ALIASES = {"done": m.DONE, "completed": m.DONE, "complete": m.DONE, "success": m.DONE,
                    "failed": m.FAILED, "fail": m.FAILED, "failure": m.FAILED, "aborted": m.FAILED}
CONTEXT_PARTS = ("phases", "tasks", "decisions", "milestones", "blockers")
_PART_ALIASES = {"issues": "blockers", "blocker": "blockers", "task": "tasks", "decision": "decisions",
                 "milestone": "milestones", "phase": "phases"}
MAX_FILES = 1000
MAX_NAME = 200
MAX_SLUG = 60
_TASK_RE = re.compile(r"t[1-9][0-9]*")


class WorkflowInvalid(GitclaimError):
    """A mission's workflow breaks the rules of the mission system (gitclaim validate lists them)."""

    exit_code = ERROR


# ---- task ids ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskRef:
    mission_id: str
    task: str  # t<n>

    @property
    def full(self) -> str:
        return f"{self.mission_id}/{self.task}"


def task_ref(task_id: str, mission_id: str | None = None) -> TaskRef:
    """`<mission>/t3`, or `t3` with `mission_id`; InvalidInput for anything else."""
    text = (task_id or "").strip()
    owner, _, short = text.rpartition("/")
    if not _TASK_RE.fullmatch(short):
        raise InvalidInput(f"invalid task id {task_id!r}: use the id start_task returned, like my-mission/t3")
    if owner and mission_id and owner != mission_id:
        raise InvalidInput(f"task {task_id} belongs to mission {owner}, not {mission_id}")
    owner = owner or mission_id or ""
    if not owner:
        raise InvalidInput(f"task id {task_id!r} does not name its mission: use <mission id>/{short}")
    return TaskRef(check_id(owner), short)


# ---- the frontmatter index ---------------------------------------------------------------------------------

def task_index(mis: m.Mission) -> dict[str, dict[str, Any]]:
    tasks = mis.extra.get("tasks") or {}
    if not isinstance(tasks, dict) or not all(isinstance(v, dict) for v in tasks.values()):
        raise CorruptMission(f"mission {mis.mission_id}: field 'tasks' of mission.md must be a mapping of tasks")
    return tasks


def phase_list(mis: m.Mission, key: str) -> list[int]:
    values = mis.extra.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
        raise CorruptMission(f"mission {mis.mission_id}: field {key!r} of mission.md must be a list of numbers")
    return values


def _with_extra(mis: m.Mission, **changes: Any) -> dict[str, Any]:
    return {**mis.extra, **changes}


def blocked_message(mis: m.Mission) -> str:
    reason = mis.blocked_reason or "no reason recorded"
    return f"mission {mis.mission_id} is BLOCKED: {reason} (gitclaim unblock {mis.mission_id})"


def _refuse_blocked(mis: m.Mission) -> None:
    if mis.status == m.BLOCKED:
        raise Conflict(blocked_message(mis))


def _holder_trailers(actor: claims.Actor, mis: m.Mission) -> dict[str, str]:
    return {"Instance": actor.instance, "Epoch": str(mis.claim_epoch)}


_text = claims.user_text  # the same checks as every other text bound for a commit message


def _one_line(value: str | None, what: str, *, required: bool = True, limit: int = MAX_NAME) -> str:
    text = " ".join(_text(value, what).split())
    if required and not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return text


# ---- a mission's files and workflow ------------------------------------------------------------------------

def mission_workflow(store: Store, state: State) -> workflow.Workflow | None:
    """The parsed workflow.md of the mission's tip, or None for a mission without one (phases are free)."""
    entry = next((e for e in state.tree if e.name == workflow.WORKFLOW_FILE and e.type == "blob"), None)
    if entry is None:
        return None
    blob = g.cat_file_batch(store.git, [entry.oid])[0]
    if blob is None:
        raise CorruptMission(f"mission {state.mission_id}: its workflow.md cannot be read")
    return workflow.parse_workflow(blob.data, f"{state.mission_id}:{workflow.WORKFLOW_FILE}")


def mission_files(store: Store, commit: str) -> dict[str, bytes]:
    """Every file of a mission commit's tree (agents/ included), read through one cat-file process."""
    with g.CatFile(store.git) as cat:
        root = cat.get(f"{commit}^{{tree}}")
        if root is None:
            raise NotFound(f"commit {commit} has no tree")
        files: dict[str, bytes] = {}
        for path, data in _tree_files(cat, root.data, ""):
            if len(files) >= workflow.MAX_FILES:
                raise InvalidInput(f"commit {commit} holds more than {workflow.MAX_FILES} files")
            files[path] = data
        return files


def _tree_files(cat: g.CatFile, tree: bytes, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in g.parse_tree(tree):
        if entry.type not in ("tree", "blob"):
            continue  # submodules are not mission files
        obj = cat.get(entry.oid)
        if obj is None:
            continue
        if entry.type == "tree":
            yield from _tree_files(cat, obj.data, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, obj.data


def check_phase_number(number: object) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInput(f"a phase is a positive number, not {number!r}")
    return number


def _phase_def(mis: m.Mission, wf: workflow.Workflow | None, number: int) -> workflow.Phase | None:
    """The workflow's phase `number`; None when the mission has no workflow (any phase number goes)."""
    if wf is None:
        return None
    for phase in wf.phases:
        if phase.number == number:
            return phase
    known = ", ".join(f"{p.number} ({p.id})" for p in wf.phases if p.number is not None)
    raise InvalidInput(f"mission {mis.mission_id} has no phase {number} in its workflow.md (phases: {known})")


def _check_can_start(mis: m.Mission, wf: workflow.Workflow | None, number: int) -> None:
    phase = _phase_def(mis, wf, number)
    if phase is None:
        return
    done = set(phase_list(mis, "phases_complete"))
    missing = [n for n in phase.requires if n not in done]
    if missing:
        names = {p.number: p.id for p in wf.phases} if wf else {}
        listed = ", ".join(f"{n} ({names.get(n, '?')})" for n in missing)
        raise Conflict(f"cannot start phase {number} ({phase.id}) of mission {mis.mission_id}: it requires "
                       f"phase {listed} to be complete first (complete_task with phase_complete)")
    if phase.checkpoint and number not in phase_list(mis, "approved_phases"):
        raise Conflict(f"phase {number} waits for human approval: gitclaim approve {mis.mission_id} "
                       f"--phase {number}")


# ---- start_mission -----------------------------------------------------------------------------------------

def slugify(name: str) -> str:
    """A mission id from a name: ASCII lowercase words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:MAX_SLUG].strip("-")
    return slug or "mission"


def _candidate_ids(base: str) -> Iterator[str]:
    yield base
    for n in range(2, 10):
        yield f"{base}-{n}"
    yield f"{base}-{secrets.token_hex(3)}"


def start_mission(store: Store, actor: claims.Actor, name: str, objective: str, profile: str = "standard", *,
                  mission_id: str | None = None, priority: int = m.DEFAULT_PRIORITY) -> Outcome:
    """Create a mission from a profile template, already claimed by the caller (one commit, so no other agent
    can claim it in between). The id comes from the name; a taken id gets a suffix (-2, -3, ...)."""
    title = _one_line(name, "the mission name")
    objective = _text(objective, "the objective")
    if mission_id is not None:
        return _create_started(store, actor, check_id(mission_id), title, objective, profile, priority)
    for candidate in _candidate_ids(check_id(slugify(title))):
        try:
            return _create_started(store, actor, candidate, title, objective, profile, priority)
        except Conflict:
            if store.local(candidate) is None:
                raise  # not a taken id: a real conflict
    raise Conflict(f"every mission id derived from {title!r} is taken; pass mission_id")


def _create_started(store: Store, actor: claims.Actor, mission_id: str, title: str, objective: str,
                    profile: str, priority: int) -> Outcome:
    files = workflow.render_profile(profile, mission_id, title)
    require_valid(files, f"profile {profile}")
    base = m.parse(files.pop(m.FILENAME), mission_id, require_format=False)
    new = m.Mission(
        mission_id=mission_id, title=title, status=m.ACTIVE, priority=priority, created=actor.stamp,
        claimed_at=actor.stamp, claimed_by=actor.session, claim_user=actor.user, claim_instance=actor.instance,
        claim_epoch=1, last_activity=actor.stamp, body=_with_objective(base.body, objective),
        extra={**base.extra, "tasks": {}, "phases_complete": [], "approved_phases": []},
    )

    def decide(state: State | None) -> Change:
        if state is not None:
            raise Conflict(f"mission {mission_id} already exists ({state.mission.status}: {state.mission.title})")
        trailers = {**_holder_trailers(actor, new), "Profile": profile}
        return Change(new, MissionMessage("start", mission_id, "start", "", trailers), files)

    return store.transact(mission_id, decide, creates=True)


def require_valid(files: dict[str, bytes], source: str) -> None:
    problems = workflow.validate_mission_files(files)
    if problems:
        shown = "; ".join(f"phase {p.phase or '-'}: {p.rule}: {p.message}" for p in problems[:3])
        raise WorkflowInvalid(f"{source}: workflow does not validate ({len(problems)} problems: {shown})")


_OBJECTIVE = re.compile(r"^## Objective[ \t]*\n(?:\s*<!--.*?-->[ \t]*\n)?", re.M | re.S)


def _with_objective(body: str, objective: str) -> str:
    """The template's body with its Objective placeholder replaced by the objective."""
    if not objective:
        return body
    match = _OBJECTIVE.search(body)
    if match is None:
        return body.rstrip("\n") + f"\n\n## Objective\n\n{objective}\n"
    return f"{body[:match.start()]}## Objective\n\n{objective}\n{body[match.end():]}"


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
    caller_type = _one_line(caller_type, "the caller type", limit=100)
    name = _one_line(name, "the task name")
    goal = _text(goal, "the goal")
    picked: list[str] = []

    def decide(state: State | None) -> Change:
        cur = claims.require_holder(state, actor, mission_id, "start a task on", epoch)
        _refuse_blocked(cur)
        assert state is not None
        _check_can_start(cur, mission_workflow(store, state), phase)
        tasks = task_index(cur)
        task = f"t{_next_number(tasks)}"
        picked.append(task)
        entry = {"phase": phase, "name": name, "caller": caller_type, "status": RUNNING, "started": actor.stamp}
        new = cur.evolve(last_activity=actor.stamp, extra=_with_extra(cur, tasks={**tasks, task: entry}))
        trailers = {**_holder_trailers(actor, cur), "Task": task, "Phase": str(phase), "Caller": caller_type,
                    "Name": name}
        verb = f"start task {task} (phase {phase}) on"
        return Change(new, MissionMessage(verb, mission_id, "task-start", goal, trailers))

    out = store.transact(mission_id, decide)
    return TaskStarted(TaskRef(mission_id, picked[-1]), phase, out)


def _next_number(tasks: dict[str, Any]) -> int:
    numbers = [int(key[1:]) for key in tasks if _TASK_RE.fullmatch(key)]
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
    text = _text(outcome, "the outcome")
    paths = _check_files(files)
    result: list[TaskCompleted] = []

    def decide(state: State | None) -> Change | None:
        cur = claims.require_holder(state, actor, ref.mission_id, "complete a task on", epoch)
        task = _require_task(cur, ref)
        if task.get("status") != RUNNING:
            result.append(_already_completed(cur, ref, task, status))
            return None
        if status != "failed":
            _refuse_blocked(cur)  # a failure may still be recorded: it is part of stopping
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
    extra = _with_extra(cur, tasks={**task_index(cur), ref.task: entry})
    if done.phase_complete:
        extra["phases_complete"] = sorted(set(phase_list(cur, "phases_complete")) | {done.phase})
    trailers = {**_holder_trailers(actor, cur), "Task": ref.task, "Phase": str(done.phase), "Status": done.status,
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
    note = _text(note, "the note")

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
                         extra=_with_extra(cur, approved_phases=sorted({*approved, phase})))
        trailers = {**_holder_trailers(actor, cur), "Phase": str(phase)}
        return Change(new, MissionMessage(f"approve phase {phase} of", mission_id, "approve", note, trailers))

    return store.transact(mission_id, decide)


def _require_checkpoint(mis: m.Mission, wf: workflow.Workflow | None, number: int) -> None:
    if wf is None:
        raise InvalidInput(f"mission {mis.mission_id} has no workflow.md, so no checkpoint to approve")
    phase = _phase_def(mis, wf, number)
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
         entry: claims.LogEntry) -> Logged:
    ref = task_ref(task_id, mission_id) if task_id else None
    owner = ref.mission_id if ref else check_id(mission_id or "")
    entry = entry._replace(task=ref.task if ref else None).check()

    def guard(cur: m.Mission) -> None:
        _refuse_blocked(cur)
        if ref is not None:
            _require_task(cur, ref)

    out = claims.log(store, actor, owner, entry, guard=guard)
    mis = out.state.mission
    reason = mis.blocked_reason if mis.status == m.BLOCKED else None
    return Logged(out.state.commit, owner, ref.full if ref else None, reason, out)


def log_decision(store: Store, actor: claims.Actor, task_id: str | None, *, chosen: str,
                 question: str | None = None, category: str | None = None, rationale: str | None = None,
                 mission_id: str | None = None) -> Logged:
    if not (chosen or "").strip():
        raise InvalidInput("a decision needs the option chosen")
    entry = claims.LogEntry(kind="decision", message=rationale or "", question=_opt_line(question, "the question"),
                            chosen=_one_line(chosen, "the option chosen", limit=500),
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
    return _one_line(value, what, required=False, limit=500) or None


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

    def guard(cur: m.Mission) -> None:
        if final == m.DONE:
            _refuse_blocked(cur)

    out = claims.finish(store, actor, check_id(mission_id), status=final, summary=summary, guard=guard)
    replay = Replay.of(execlog.history(store, out.state))
    return replay.totals(out.state)


# ---- replaying the history ---------------------------------------------------------------------------------

@dataclass
class Replay:
    """A mission's tasks, logs, phases and approvals, rebuilt from its commits (oldest first)."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[dict[str, Any]] = field(default_factory=list)
    phases_complete: list[int] = field(default_factory=list)
    approved_phases: list[int] = field(default_factory=list)
    started: datetime | None = None
    finished: datetime | None = None
    commits: int = 0

    @classmethod
    def of(cls, events: list[execlog.Event]) -> Replay:
        replay = cls()
        for ev in events:
            replay.apply(ev)
        return replay

    def apply(self, ev: execlog.Event) -> None:
        self.commits += 1
        handler = _HANDLERS.get(ev.action)
        if handler is not None:
            handler(self, ev)

    def _start(self, ev: execlog.Event) -> None:
        self.started = self.started or ev.when

    def _finish(self, ev: execlog.Event) -> None:
        self.finished = ev.when
        self._resolve("the mission finished")

    def _task_start(self, ev: execlog.Event) -> None:
        t = ev.trailers
        self.tasks[t.get("task", "?")] = {
            "task": t.get("task"), "phase": _int(t.get("phase")), "name": t.get("name"), "goal": ev.text,
            "caller_type": t.get("caller"), "status": RUNNING, "started": _iso(ev.when), "finished": None,
            "duration_seconds": None, "files": [], "outcome": None, "phase_complete": False,
        }

    def _task_complete(self, ev: execlog.Event) -> None:
        t = ev.trailers
        task = self.tasks.setdefault(t.get("task", "?"), {"task": t.get("task"), "phase": _int(t.get("phase"))})
        task.update(status=t.get("status"), finished=_iso(ev.when), duration_seconds=_int(t.get("duration")),
                    files=_files(t.get("files")), outcome=ev.text or None,
                    phase_complete=t.get("phase-complete") == "yes")
        if task["phase_complete"] and task.get("phase") not in self.phases_complete:
            self.phases_complete.append(task["phase"])

    def _approve(self, ev: execlog.Event) -> None:
        number = _int(ev.trailers.get("phase"))
        if number is not None and number not in self.approved_phases:
            self.approved_phases.append(number)

    def _unblock(self, ev: execlog.Event) -> None:
        self._resolve(ev.text or "unblocked")

    def _resolve(self, how: str) -> None:
        for issue in self.blockers:
            if issue["blocking"]:
                issue.update(blocking=False, resolution=how)

    def _log(self, ev: execlog.Event) -> None:
        t = ev.trailers
        task = t.get("task")
        base = {"id": ev.commit, "time": _iso(ev.when), "task": task,
                "phase": self.tasks.get(task or "", {}).get("phase")}
        if ev.kind == "decision":
            self.decisions.append({**base, "category": t.get("category"), "question": t.get("question"),
                                   "chosen": t.get("chosen"), "rationale": ev.text or None})
        elif ev.kind == "milestone":
            self.milestones.append({**base, "message": ev.text, "progress": _int(t.get("progress"))})
        elif ev.kind == "issue":
            human = t.get("needs-human") == "yes"
            self.blockers.append({**base, "type": t.get("category"), "severity": t.get("severity"),
                                  "description": ev.text, "requires_human_review": human, "blocking": human,
                                  "resolution": None})

    def totals(self, state: State) -> dict[str, Any]:
        mis = state.mission
        end = self.finished or timeutil.parse_ts(mis.finished_at)
        by_status: dict[str, int] = {}
        for task in self.tasks.values():
            by_status[task.get("status") or "?"] = by_status.get(task.get("status") or "?", 0) + 1
        files = sorted({f for task in self.tasks.values() for f in task.get("files") or []})
        return {
            "mission_id": mis.mission_id, "status": mis.status, "summary": mis.summary, "commit": state.commit,
            "duration_seconds": int((end - self.started).total_seconds()) if end and self.started else None,
            "tasks": len(self.tasks), "tasks_by_status": by_status, "phases_complete": sorted(self.phases_complete),
            "decisions": len(self.decisions), "milestones": len(self.milestones), "issues": len(self.blockers),
            "files": files, "commits": self.commits,
        }


_HANDLERS = {
    "start": Replay._start, "create": Replay._start, "import": Replay._start, "complete": Replay._finish,
    "fail": Replay._finish, "task-start": Replay._task_start, "task-complete": Replay._task_complete,
    "approve": Replay._approve, "unblock": Replay._unblock, "log": Replay._log,
}


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _iso(when: datetime) -> str:
    return timeutil.format_ts(when)


def _files(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        files = json.loads(value)
    except ValueError:
        return [value]
    return [str(f) for f in files] if isinstance(files, list) else [str(files)]


# ---- get_context -------------------------------------------------------------------------------------------

def context_parts(include: list[str] | set[str] | tuple[str, ...] | None) -> list[str]:
    if not include:
        return list(CONTEXT_PARTS)
    parts = []
    for raw in include:
        for word in str(raw).replace(",", " ").split():
            part = _PART_ALIASES.get(word.lower(), word.lower())
            if part not in CONTEXT_PARTS:
                raise InvalidInput(f"unknown context part {word!r}: use {', '.join(CONTEXT_PARTS)}")
            if part not in parts:
                parts.append(part)
    return parts


def get_context(store: Store, mission_id: str, include: list[str] | set[str] | None = None,
                phase: int | None = None) -> dict[str, Any]:
    """What the mission holds so far, replayed from its history in one walk; `phase` keeps one phase's part."""
    parts = context_parts(include)
    if phase is not None:
        check_phase_number(phase)
    state, archived = views.find(store, mission_id)
    replay = Replay.of(execlog.history(store, state))
    mis = state.mission
    out: dict[str, Any] = {
        "mission_id": mis.mission_id, "title": mis.title, "status": mis.status,
        "blocked_reason": mis.blocked_reason, "holder": mis.claimed_by if mis.held else None,
        "epoch": mis.claim_epoch, "archived": archived, "phase": phase,
        "phases_complete": sorted(replay.phases_complete), "approved_phases": sorted(replay.approved_phases),
    }
    if "phases" in parts:
        out["phases"] = _phases(mission_workflow(store, state), replay, phase)
    lists = {"tasks": list(replay.tasks.values()), "decisions": replay.decisions,
             "milestones": replay.milestones, "blockers": replay.blockers}
    for part in parts:
        if part in lists:
            out[part] = [_with_task_id(mis.mission_id, item) for item in lists[part]
                         if phase is None or item.get("phase") == phase]
    return out


def _with_task_id(mission_id: str, item: dict[str, Any]) -> dict[str, Any]:
    data = dict(item)
    short = data.pop("task", None)
    data["task_id"] = f"{mission_id}/{short}" if short else None
    return data


def _phases(wf: workflow.Workflow | None, replay: Replay, only: int | None) -> list[dict[str, Any]]:
    if wf is None:
        return []
    return [
        {"number": p.number, "id": p.id, "name": p.name, "requires": list(p.requires), "checkpoint": p.checkpoint,
         "completion": p.completion, "agents": [a.type for a in p.agents], "parallel": p.parallel,
         "complete": p.number in replay.phases_complete, "approved": p.number in replay.approved_phases}
        for p in wf.phases if only is None or p.number == only
    ]


# ---- validate ----------------------------------------------------------------------------------------------

def validate_target(open_store: Callable[[], Store], target: str) -> tuple[str, list[workflow.Violation]]:
    """Violations of a mission directory (a path that exists) or of a mission's tree (an id); the store is
    opened only for an id, so a directory validates outside any clone."""
    path = Path(target)
    if path.is_dir():
        return str(path), workflow.validate_mission_files(workflow.read_mission_dir(path))
    if id_problem(target):
        raise InvalidInput(f"{target!r} is neither a directory nor a valid mission id")
    store = open_store()
    state, _ = views.find(store, target)
    return f"mission {target}", workflow.validate_mission_files(mission_files(store, state.commit))
