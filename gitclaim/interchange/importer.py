"""Import: publish mission files a team already has as gitclaim missions (docs/import-export.md). The files are
read by import_sources.py (seed 1 files and seed 2 mission directories); this module publishes them.

Import only ever creates: an id that exists on the remote is compared (title, body, files) and reported as
unchanged or as a conflict, never overwritten. The remote is read with one fetch; each new mission is one
compare-and-swap push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitclaim.core import git as g
from gitclaim.core import transitions as claims
from gitclaim.core.message import MissionMessage
from gitclaim.core.store import Change, State, Store
from gitclaim.errors import Conflict, GitclaimError, InvalidInput, RemoteError
from gitclaim.interchange.import_sources import (
    CONFLICT,
    CREATED,
    ERROR,
    INVALID,
    SKIPPED,
    UNCHANGED,
    WOULD_CREATE,
    Candidate,
    Item,
    collect,
)


@dataclass
class ImportResult:
    items: list[Item] = field(default_factory=list)
    dry_run: bool = False
    error: GitclaimError | None = None  # a remote failure that stopped the batch

    def count(self, result: str) -> int:
        return sum(1 for it in self.items if it.result == result)

    def counts(self) -> dict[str, int]:
        names = (CREATED, WOULD_CREATE, UNCHANGED, CONFLICT, INVALID, SKIPPED, ERROR)
        return {name: self.count(name) for name in names if self.count(name)}

    def failure(self) -> GitclaimError | None:
        """The error the command ends with: a remote failure, else conflicts (3), else invalid sources (2)."""
        if self.error is not None:
            return self.error
        if self.count(CONFLICT):
            n = self.count(CONFLICT)
            what = f"{n} missions exist" if n > 1 else "1 mission exists"
            return Conflict(f"import: {what} on the remote with different content; nothing was overwritten")
        if self.count(INVALID):
            n = self.count(INVALID)
            return InvalidInput(f"import: {n} source{'s' if n > 1 else ''} could not be imported (see above)")
        return None

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "counts": self.counts(), "items": [it.to_json() for it in self.items]}


# ---- publishing ---------------------------------------------------------------------------------------------

def import_paths(store: Store, paths: Sequence[Path], *, dry_run: bool = False) -> ImportResult:
    """Read the sources, fetch once, then create each mission the remote does not have yet."""
    actor = claims.actor_for(store)
    candidates, items = collect(paths, actor.stamp)
    result = ImportResult(items, dry_run)
    if not candidates:
        return result
    store.sync()
    states, _ = store.all()
    live = {mission_id for mission_id, _ in store.ids()}
    current = {s.mission_id: s for s in states}
    remote_files = _remote_files(store, [c for c in candidates if c.mission_id in current])
    for cand in candidates:
        if cand.mission_id in live:
            items.append(_compare(cand, current.get(cand.mission_id), remote_files))
        elif dry_run:
            items.append(Item(cand.source, cand.mission_id, WOULD_CREATE, cand.note, cand.mission.status))
        elif result.error is not None:
            items.append(Item(cand.source, cand.mission_id, ERROR, "not attempted after the remote failed"))
        else:
            items.append(_create(store, actor, cand, result))
    items.sort(key=lambda it: it.source)
    return result


def _create(store: Store, actor: claims.Actor, cand: Candidate, result: ImportResult) -> Item:
    def decide(state: State | None) -> Change:
        if state is not None:
            raise Conflict(f"mission {cand.mission_id} already exists")
        former = cand.mission.extra.get("imported_status")
        # Only words of ours in the message: paths and session names may break the commit policy.
        body = f"was {former}; imported as QUEUED" if former else ""
        message = MissionMessage("import", cand.mission_id, "import", body, {"Instance": actor.instance})
        return Change(cand.mission, message, cand.files or None)

    try:
        out = store.transact(cand.mission_id, decide, creates=True)
    except Conflict:
        # Created by someone else between our fetch and our push: judge it like any existing mission.
        now = store.local(cand.mission_id)
        return _compare(cand, now, _remote_files(store, [cand] if now else []))
    except RemoteError as err:
        result.error = err
        return Item(cand.source, cand.mission_id, ERROR, str(err))
    except GitclaimError as err:  # the commit policy refused the message (an id it forbids), ...
        return Item(cand.source, cand.mission_id, INVALID, str(err))
    return Item(cand.source, cand.mission_id, CREATED, cand.note, out.state.mission.status)


def _remote_files(store: Store, candidates: list[Candidate]) -> dict[tuple[str, str], bytes | None]:
    """The remote's copy of every file the candidates would publish, in one cat-file."""
    keys = [(c.mission_id, path) for c in candidates for path in sorted(c.files)]
    refs = [f"refs/missions/{mission_id}:{path}" for mission_id, path in keys]
    blobs = g.cat_file_batch(store.git, refs)
    return {key: (blob.data if blob is not None and blob.type == "blob" else None)
            for key, blob in zip(keys, blobs, strict=False)}


def _compare(cand: Candidate, state: State | None, remote_files: dict[tuple[str, str], bytes | None]) -> Item:
    """Same title, body and files: unchanged (its status is the remote's business since it was published)."""
    if state is None:
        return Item(cand.source, cand.mission_id, CONFLICT,
                    "exists on the remote but its mission.md is unreadable; not overwritten")
    have, want = state.mission, cand.mission
    files = [p for p, data in sorted(cand.files.items()) if remote_files.get((cand.mission_id, p)) != data]
    differs = [what for what, same in (
        ("title", have.title == want.title),
        ("body", have.body.strip() == want.body.strip()),
        (f"files ({', '.join(files)})", not files),
    ) if not same]
    if differs:
        return Item(cand.source, cand.mission_id, CONFLICT,
                    f"exists on the remote with different {' and '.join(differs)}; not overwritten", have.status)
    detail = "" if have.status == want.status else f"the remote has it as {have.status}"
    return Item(cand.source, cand.mission_id, UNCHANGED, detail, have.status)

