"""A mission's tasks, logs, phases and approvals rebuilt from its history in one walk: `get_context`, and the
totals `complete_mission` returns. The history is the record; the frontmatter index (taskstate.py) only
serves the decisions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gitclaim.core import execlog, timeutil
from gitclaim.core.store import State, Store
from gitclaim.errors import InvalidInput
from gitclaim.missions import views
from gitclaim.workflows.model import Workflow
from gitclaim.workflows.taskstate import RUNNING, check_phase_number, mission_workflow, phase_def

CONTEXT_PARTS = ("phases", "tasks", "decisions", "milestones", "blockers")
_PART_ALIASES = {"issues": "blockers", "blocker": "blockers", "task": "tasks", "decision": "decisions",
                 "milestone": "milestones", "phase": "phases"}


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
    mis = state.mission
    wf = mission_workflow(store, state)
    if phase is not None:
        phase_def(mis, wf, phase)  # a phase the workflow lacks is refused as `task start` refuses it (exit 2)
    replay = Replay.of(execlog.history(store, state))
    out: dict[str, Any] = {
        "mission_id": mis.mission_id, "title": mis.title, "status": mis.status,
        "blocked_reason": mis.blocked_reason, "holder": mis.claimed_by if mis.held else None,
        "epoch": mis.claim_epoch, "archived": archived, "phase": phase,
        "phases_complete": sorted(replay.phases_complete), "approved_phases": sorted(replay.approved_phases),
    }
    if "phases" in parts:
        out["phases"] = _phases(wf, replay, phase)
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


def _phases(wf: Workflow | None, replay: Replay, only: int | None) -> list[dict[str, Any]]:
    if wf is None:
        return []
    return [
        {"number": p.number, "id": p.id, "name": p.name, "requires": list(p.requires), "checkpoint": p.checkpoint,
         "completion": p.completion, "agents": [a.type for a in p.agents], "parallel": p.parallel,
         "complete": p.number in replay.phases_complete, "approved": p.number in replay.approved_phases}
        for p in wf.phases if only is None or p.number == only
    ]
