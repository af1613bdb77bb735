"""The read-only views behind `list` and `show`: missions listed with their idle time, one mission with its
history and files, live or archived.

Library code: returns data, raises GitclaimError, never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gitclaim.core import execlog, timeutil
from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.core.store import State, Store
from gitclaim.errors import InvalidInput, NotFound

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
        states, broken = store.all(bodies=False)
    now, ttl = timeutil.now(), store.ttl
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
    data["idle"] = timeutil.format_duration(claims.idle_time(now, last)) if last and mis.held else None
    data["stale"] = stale
    return data


# ---- show -------------------------------------------------------------------------------------------------

@dataclass
class View:
    state: State
    events: list[execlog.Event]
    archived: bool = False
    files: list[str] = field(default_factory=list)  # every file's path, at any depth

    def to_json(self) -> dict[str, Any]:
        data = self.state.mission.to_json()
        data["body"] = self.state.mission.body
        data["commit"] = self.state.commit
        data["archived"] = self.archived
        data["files"] = self.files
        data["history"] = [ev.to_json() for ev in self.events]
        return data


def offline_note(store: Store) -> str:
    """What a read that did not fetch says about the age of what it shows."""
    age = store.repo.mirror_age()
    if age is None:
        return "offline: this clone has never fetched missions (run: gitclaim sync)"
    return f"offline: missions as last fetched {timeutil.format_duration(timedelta(seconds=age))} ago"


def find(store: Store, mission_id: str, *, fetch: bool = True) -> tuple[State, bool]:
    """A live mission after one fetch, else the archived one."""
    check_id(mission_id)
    if fetch:
        store.sync()
    state = store.local(mission_id)
    if state is not None:
        return state, False
    from gitclaim.missions import archive

    state = archive.find_archived(store, mission_id)
    if state is None:
        raise NotFound(f"no mission {mission_id!r} on remote {store.repo.remote!r} (live or archived)")
    return state, True


def show_mission(store: Store, mission_id: str, *, fetch: bool = True) -> View:
    state, archived = find(store, mission_id, fetch=fetch)
    return View(state, execlog.history(store, state), archived, g.list_files(store.git, state.commit))


def read_file(store: Store, mission_id: str, path: str, *, fetch: bool = True) -> bytes:
    if path.startswith("/") or ".." in path.split("/") or not path.strip():
        raise InvalidInput(f"invalid path {path!r} in a mission tree")
    state, _ = find(store, mission_id, fetch=fetch)
    blob = g.cat_file_batch(store.git, [f"{state.commit}:{path.rstrip('/')}"])[0]
    if blob is not None and blob.type == "tree":
        inside = [f for f in g.list_files(store.git, state.commit) if f.startswith(path.rstrip("/") + "/")]
        raise InvalidInput(f"{path!r} in mission {mission_id} is a directory, not a file; its files: "
                           f"{', '.join(inside) or 'none'}")
    if blob is None or blob.type != "blob":
        raise NotFound(f"mission {mission_id} has no file {path!r}")
    return blob.data
