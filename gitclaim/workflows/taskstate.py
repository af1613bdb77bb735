"""A mission's tasks and phases as its tip records them: task ids, the index in mission.md's frontmatter, the
mission's files and parsed workflow, and whether a phase may start. The changes that write them are in
decisions.py; docs/tasks.md describes them.

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

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id, id_problem
from gitclaim.core.store import State, Store
from gitclaim.errors import ERROR, Conflict, CorruptMission, GitclaimError, InvalidInput, NotFound
from gitclaim.missions import views
from gitclaim.workflows import model
from gitclaim.workflows.missiondir import read_mission_dir
from gitclaim.workflows.model import WORKFLOW_FILE, Phase, Violation, Workflow
from gitclaim.workflows.parse import parse_workflow
from gitclaim.workflows.rules import validate_mission_files

RUNNING = "running"
MAX_NAME = 200
TASK_RE = re.compile(r"t[1-9][0-9]*")


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
    if not TASK_RE.fullmatch(short):
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


def with_extra(mis: m.Mission, **changes: Any) -> dict[str, Any]:
    return {**mis.extra, **changes}


# The BLOCKED rule lives in the core (transitions.refuse_blocked), shared with the CLI; the task commands add to
# it only that no task starts or completes successfully while the mission is stopped.
blocked_message = claims.blocked_message
refuse_blocked = claims.refuse_blocked


def holder_trailers(actor: claims.Actor, mis: m.Mission) -> dict[str, str]:
    return {"Instance": actor.instance, "Epoch": str(mis.claim_epoch)}


def one_line(value: str | None, what: str, *, required: bool = True, limit: int = MAX_NAME) -> str:
    text = " ".join(claims.user_text(value, what).split())
    if required and not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return text


# ---- a mission's files and workflow ------------------------------------------------------------------------

def mission_workflow(store: Store, state: State) -> Workflow | None:
    """The parsed workflow.md of the mission's tip, or None for a mission without one (phases are free)."""
    entry = next((e for e in state.tree if e.name == WORKFLOW_FILE and e.type == "blob"), None)
    if entry is None:
        return None
    blob = g.cat_file_batch(store.git, [entry.oid])[0]
    if blob is None:
        raise CorruptMission(f"mission {state.mission_id}: its workflow.md cannot be read")
    return parse_workflow(blob.data, f"{state.mission_id}:{WORKFLOW_FILE}")


def mission_files(store: Store, commit: str) -> dict[str, bytes]:
    """Every file of a mission commit's tree (agents/ included), read through one cat-file process."""
    with g.CatFile(store.git) as cat:
        root = cat.get(f"{commit}^{{tree}}")
        if root is None:
            raise NotFound(f"commit {commit} has no tree")
        files: dict[str, bytes] = {}
        for path, data in _tree_files(cat, root.data, ""):
            if len(files) >= model.MAX_FILES:
                raise InvalidInput(f"commit {commit} holds more than {model.MAX_FILES} files")
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


def phase_def(mis: m.Mission, wf: Workflow | None, number: int) -> Phase | None:
    """The workflow's phase `number`; None when the mission has no workflow (any phase number goes)."""
    if wf is None:
        return None
    for phase in wf.phases:
        if phase.number == number:
            return phase
    known = ", ".join(f"{p.number} ({p.id})" for p in wf.phases if p.number is not None)
    raise InvalidInput(f"mission {mis.mission_id} has no phase {number} in its workflow.md (phases: {known})")


def check_can_start(mis: m.Mission, wf: Workflow | None, number: int) -> None:
    phase = phase_def(mis, wf, number)
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


# ---- validate ----------------------------------------------------------------------------------------------

def validate_target(open_store: Callable[[], Store], target: str) -> tuple[str, list[Violation]]:
    """Violations of a mission directory (a path that exists) or of a mission's tree (an id); the store is
    opened only for an id, so a directory validates outside any clone."""
    path = Path(target)
    if path.is_dir():
        return str(path), validate_mission_files(read_mission_dir(path))
    if id_problem(target):
        raise InvalidInput(f"{target!r} is neither a directory nor a valid mission id")
    store = open_store()
    state, _ = views.find(store, target)
    return f"mission {target}", validate_mission_files(mission_files(store, state.commit))
