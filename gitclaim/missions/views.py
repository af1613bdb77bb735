"""Use cases behind the commands that are more than one state change: init, new, list, show.

Library code: returns data, raises GitclaimError, never prints.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitclaim.core import execlog, timeutil
from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.core.repo import MISSIONS_REFSPEC
from gitclaim.core.store import Outcome, State, Store
from gitclaim.errors import InvalidInput, NotFound

# ---- init -------------------------------------------------------------------------------------------------

def init_clone(store: Store, remote: str, *, hooks: bool = False, agents_file: str | None = None) -> list[str]:
    """Configure the clone; every step checks first, so running it twice changes nothing."""
    repo = store.repo
    if repo.get(f"remote.{remote}.url") is None:
        raise NotFound(f"no remote named {remote!r} in this clone (add it with: git remote add {remote} URL)")
    report = []
    if MISSIONS_REFSPEC not in repo.get_all(f"remote.{remote}.fetch"):
        g.config_set(repo.git, f"remote.{remote}.fetch", MISSIONS_REFSPEC, add=True)
        report.append(f"added fetch refspec {MISSIONS_REFSPEC} to remote {remote!r}")
    if repo.get("gitclaim.remote") != remote:
        g.config_set(repo.git, "gitclaim.remote", remote)
        repo.config["gitclaim.remote"] = [remote]
    had_instance = bool(repo.instance(create=False))
    instance = repo.instance()
    report.append(f"instance id {instance}" + (" (kept)" if had_instance else " (new)"))
    store.sync()
    report.append(f"{len(store.ids())} missions on {remote}")
    report += _init_hooks(store, hooks)
    if agents_file:
        from gitclaim.missions import agents

        report += agents.enable(store, agents_file)
    return report


def _init_hooks(store: Store, install: bool) -> list[str]:
    from gitclaim.hooks import install as hooks_install

    if not install:
        return ["commit-msg policy hook not installed (run: gitclaim hooks install, or gitclaim init --hooks)"]
    result = hooks_install.install_commit_msg_hook(store.git)
    return [str(getattr(result, "message", result))]


# ---- new --------------------------------------------------------------------------------------------------

def new_mission(store: Store, mission_id: str, *, title: str | None, priority: str | int | None = None,
                body_file: Path | None = None, requires: tuple[str, ...] = (), from_dir: Path | None = None,
                profile: str | None = None, as_text: str | None = None) -> Outcome:
    check_id(mission_id)
    for req in requires:
        check_id(req)
    if from_dir is not None and profile is not None:
        raise InvalidInput("use either --from DIR or --profile P, not both")
    files: dict[str, bytes] = {}
    body = ""
    extra: dict = {}
    if from_dir is not None or profile is not None:
        files = _mission_files(mission_id, title, from_dir, profile)
        base = m.parse(files.pop(m.FILENAME), mission_id, require_format=False) if m.FILENAME in files else None
        if base is not None:
            title = title or base.title
            body = base.body
            priority = priority if priority is not None else base.priority
            requires = requires or base.requires
            extra = dict(base.extra)  # keep what the directory's mission.md carries (profile, ...)
    if body_file is not None:
        body = _read_body(body_file)
    if not title:
        raise InvalidInput("a mission needs a title (--title TEXT)")
    prio = m.parse_priority(priority) if priority is not None else m.DEFAULT_PRIORITY
    actor = claims.actor_for(store, as_text)
    return claims.create(store, actor, mission_id, title, priority=prio, body=body, requires=requires,
                         files=files or None, extra=extra)


def _mission_files(mission_id: str, title: str | None, from_dir: Path | None, profile: str | None
                   ) -> dict[str, bytes]:
    from gitclaim.workflows import workflow

    if profile is not None:
        files = workflow.render_profile(profile, mission_id, title or mission_id)
    else:
        assert from_dir is not None
        files = workflow.read_mission_dir(from_dir)
    problems = workflow.validate_mission_files(files)
    if problems:
        first = problems[0]
        raise InvalidInput(f"mission {mission_id}: workflow does not validate ({len(problems)} problems; first: "
                           f"phase {first.phase}: {first.rule}: {first.message}); see gitclaim validate")
    return files


def _read_body(path: Path) -> str:
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read body file {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"body file {path} is not UTF-8 text") from None


# ---- list -------------------------------------------------------------------------------------------------

@dataclass
class Listing:
    rows: list[dict[str, Any]]
    broken: list[Exception] = field(default_factory=list)


def list_missions(store: Store, *, status: str | None = None, stale_only: bool = False,
                  archived: bool = False, fetch: bool = True) -> Listing:
    if status is not None and status.upper() not in m.STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(m.STATUSES)}")
    if archived:
        from gitclaim.missions import archive

        states, broken = archive.archived_states(store)
    else:
        if fetch:
            store.sync()
        states, broken = store.all()
    now, ttl = timeutil.now(), store.repo.ttl
    rows = []
    for st in sorted(states, key=lambda s: (m.STATUSES.index(s.mission.status), s.mission.priority,
                                            s.mission_id)):
        mis = st.mission
        if status is not None and mis.status != status.upper():
            continue
        stale = claims.is_stale(mis, now, ttl)
        if stale_only and not stale:
            continue
        rows.append(row(mis, now, stale))
    return Listing(rows, list(broken))


def row(mis: m.Mission, now, stale: bool) -> dict[str, Any]:
    data = mis.to_json()
    last = mis.last_activity_at()
    data["idle"] = timeutil.format_duration(now - last) if last and mis.held else None
    data["stale"] = stale
    return data


# ---- show -------------------------------------------------------------------------------------------------

@dataclass
class View:
    state: State
    events: list[execlog.Event]
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        data = self.state.mission.to_json()
        data["body"] = self.state.mission.body
        data["commit"] = self.state.commit
        data["archived"] = self.archived
        data["files"] = sorted(e.name for e in self.state.tree)
        data["history"] = [ev.to_json() for ev in self.events]
        return data


def find(store: Store, mission_id: str) -> tuple[State, bool]:
    """A live mission after one fetch, else the archived one."""
    check_id(mission_id)
    store.sync()
    state = store.local(mission_id)
    if state is not None:
        return state, False
    from gitclaim.missions import archive

    state = archive.find_archived(store, mission_id)
    if state is None:
        raise NotFound(f"no mission {mission_id!r} on remote {store.repo.remote!r} (live or archived)")
    return state, True


def show_mission(store: Store, mission_id: str) -> View:
    state, archived = find(store, mission_id)
    return View(state, execlog.history(store, state), archived)


def read_file(store: Store, mission_id: str, path: str) -> bytes:
    if path.startswith("/") or ".." in path.split("/") or not path.strip():
        raise InvalidInput(f"invalid path {path!r} in a mission tree")
    state, _ = find(store, mission_id)
    blob = g.cat_file_batch(store.git, [f"{state.commit}:{path}"])[0]
    if blob is None or blob.type != "blob":
        raise NotFound(f"mission {mission_id} has no file {path!r}")
    return blob.data


# ---- after a change ---------------------------------------------------------------------------------------

def after_change(store: Store, out: Outcome) -> None:
    """Keep the opt-in 'Active Mission' section of CLAUDE.md / AGENTS.md in step with this clone's claims."""
    if not out.changed or not store.repo.get("gitclaim.agentsfile"):
        return
    from gitclaim.missions import agents

    agents.refresh(store, out.state)
