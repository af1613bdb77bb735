"""The read-only views behind `list` and `show`: missions listed with their idle time, one mission with its
history and files, live or archived.

Library code: returns data, raises GitclaimError, never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitclaim.core import execlog, timeutil
from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.claimsigs import claim_signature, claim_signatures
from gitclaim.core.refs import check_id
from gitclaim.core.store import State, Store
from gitclaim.core.trust import Signature
from gitclaim.errors import InvalidInput, NotFound
from gitclaim.missions.listcache import offline_note as offline_note  # `show --offline` says it too

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
    listed = []
    for st in sorted(states, key=lambda s: (m.STATUSES.index(s.mission.status), s.mission.priority,
                                            s.mission_id)):
        mis = st.mission
        if status is not None and mis.status != status.upper():
            continue
        stale = claims.is_stale(mis, now, ttl)
        if stale_only and not stale:
            continue
        listed.append((st, stale))
    # Every listed claim's signature at once: one batch, and nothing at all for missions whose tips did not move.
    sigs = claim_signatures(store, [st for st, _ in listed])
    rows = [row(st.mission, now, stale, sigs.get(st.mission_id)) for st, stale in listed]
    return Listing(rows, list(broken))


def row(mis: m.Mission, now, stale: bool, signature: Signature | None = None) -> dict[str, Any]:
    """A listing row: the mission's fields, `idle`, `stale` and the signature of its claim (null when it records
    none, docs/json.md)."""
    data = mis.to_json()
    last = mis.last_activity_at()
    data["idle"] = timeutil.format_duration(claims.idle_time(now, last)) if last and mis.held else None
    data["stale"] = stale
    data["signature"] = signature.to_json() if signature is not None else None
    return data


# The plain `list` marks a claim that proves nothing: always a signature that does not verify, and an unsigned
# or untrusted claim once the repository has a trust list (before that every claim is unsigned, and marking them
# all would only widen the table).
_MARKS = {"bad": "BAD", "untrusted": "untrusted", "none": "unsigned"}


def signature_marks(store: Store, rows: list[dict[str, Any]]) -> list[str]:
    """The SIGNATURE cell of each listing row: empty for a good claim and for a mission without one."""
    states = [(r["signature"] or {}).get("state") for r in rows]
    if not any(state in _MARKS for state in states):
        return ["" for _ in rows]
    listed = store.trust().allowed_oid is not None
    return [_MARKS[state] if state == "bad" or (listed and state in _MARKS) else "" for state in states]


# ---- show -------------------------------------------------------------------------------------------------

@dataclass
class View:
    state: State
    events: list[execlog.Event]
    archived: bool = False
    files: list[str] = field(default_factory=list)  # every file's path, at any depth
    signature: Signature | None = None  # of the claim the mission records; None when it records none

    def to_json(self) -> dict[str, Any]:
        data = self.state.mission.to_json()
        data["signature"] = self.signature.to_json() if self.signature is not None else None
        data["body"] = self.state.mission.body
        data["commit"] = self.state.commit
        data["archived"] = self.archived
        data["files"] = self.files
        data["history"] = [ev.to_json() for ev in self.events]
        return data


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
    return View(state, execlog.history(store, state), archived, g.list_files(store.git, state.commit),
                claim_signature(store, state))


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
