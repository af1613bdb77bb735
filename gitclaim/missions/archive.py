"""Archive: move finished missions off `refs/missions/` onto one ref, `refs/gitclaim/archive` (docs/archive.md).

Those are the local names; on the remote the archive sits beside the missions' namespace (core/refs.py:
`refs/gitclaim/archive` for the default namespace, `<namespace>-archive` for any other).

One archive run is one atomic push that both moves the archive ref to a new commit and deletes each archived
mission ref, every ref checked against the value it was read at. The new commit's tree holds `index.json` (id ->
tip, status, title, times) and each final mission.md under `missions/<id>.md`. It sits on a chain of link
commits, one per archived mission, whose parents are the link before (the first: the previous archive tip) and
that mission's tip, so every archived history stays reachable from the single ref while no commit of the archive
has more than two parents: git walks the remote's refs by date on every push, and a commit naming hundreds of
tips as parents made each push to the remote read all of them (docs/archive.md, docs/performance.md).
The push goes through the store's one compare-and-swap loop (`Store.swap`): a rejected push (a mission changed
meanwhile) is re-read and decided again on what the remote holds then, exactly as for a single mission.

The archive ref is fetched on demand only (list --archived, show of an archived mission, archive itself), so
the ordinary fetch of every command stays as small as the live missions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.core.message import MissionMessage
from gitclaim.core.refs import mission_ref
from gitclaim.core.repo import ARCHIVE_REF
from gitclaim.core.store import State, Store
from gitclaim.errors import CorruptMission

INDEX = "index.json"
MISSIONS_DIR = "missions"
INDEX_FORMAT = 1
# Each archived mission adds a parent to the commit and two arguments to the push: batches keep both far from
# the operating system's argument limits. Each batch is still one atomic push.
MAX_BATCH = 500
# git's push compares every ref it names (each archived mission twice: its lease and its deletion) with every
# ref the remote advertises, about 3.6 us a pair on a 2-core machine (docs/performance.md): 500 missions on a
# remote of 10,000 refs took 18 s of CPU, and on a busy machine past the time limit. Batches are sized to about
# this many pairs, so that one push stays far within the limit whatever the number of missions.
MAX_PAIRS = 1_000_000


def batch_size(refs: int) -> int:
    """How many missions one archive push takes from a remote of about `refs` refs."""
    return max(1, min(MAX_BATCH, MAX_PAIRS // max(refs, 1)))


@dataclass(frozen=True)
class Entry:
    """One archived mission in index.json."""

    mission_id: str
    tip: str
    status: str
    title: str
    finished_at: str | None
    archived_at: str

    def to_json(self) -> dict[str, Any]:
        return {"tip": self.tip, "status": self.status, "title": self.title, "finished_at": self.finished_at,
                "archived_at": self.archived_at}


@dataclass(frozen=True)
class Snapshot:
    """The local archive ref: its tip, its index and (when asked for) the entries of its missions/ tree."""

    tip: str | None
    index: dict[str, Entry]
    tree: tuple[g.TreeEntry, ...] = ()
    root: str | None = None  # the tip's own tree, which the next run's link commits carry


@dataclass
class ArchiveResult:
    dry_run: bool
    missions: list[dict[str, Any]] = field(default_factory=list)  # archived, or eligible in a dry run
    commits: list[str] = field(default_factory=list)
    pushes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "count": len(self.missions), "missions": self.missions,
                "commits": self.commits, "pushes": self.pushes}


# ---- reading --------------------------------------------------------------------------------------------------

def sync_specs(store: Store) -> list[str]:
    """What the archive reads and writes: the mission refs and the archive ref, in one fetch."""
    return [store.refspec, store.namespace.archive_fetch]


def snapshot(store: Store, *, with_tree: bool = False) -> Snapshot:
    """The local archive ref's tip and index (and missions/ tree) in one cat-file, whatever the archive's size."""
    specs = [ARCHIVE_REF, f"{ARCHIVE_REF}:{INDEX}"] + ([f"{ARCHIVE_REF}:{MISSIONS_DIR}"] if with_tree else [])
    objs = g.cat_file_batch(store.git, specs)
    commit, index = objs[0], objs[1]
    if commit is None:
        return Snapshot(None, {})
    # An archive commit made by hand (without an index) still keeps its parents reachable: read it as empty.
    entries = parse_index(index.data) if index is not None else {}
    missions = objs[2] if with_tree else None
    tree = tuple(g.parse_tree(missions.data)) if missions is not None and missions.type == "tree" else ()
    return Snapshot(commit.oid, entries, tree, g.parse_commit(commit.oid, commit.data).tree or None)


def parse_index(data: bytes) -> dict[str, Entry]:
    try:
        raw = json.loads(data)
        if raw.get("format") != INDEX_FORMAT:
            raise CorruptMission(f"{ARCHIVE_REF}: {INDEX} has format {raw.get('format')!r}, this gitclaim reads "
                                 f"{INDEX_FORMAT}: upgrade gitclaim")
        return {mid: Entry(mid, e["tip"], e["status"], e["title"], e.get("finished_at"), e["archived_at"])
                for mid, e in raw["missions"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptMission(f"{ARCHIVE_REF}: {INDEX} is unreadable ({type(exc).__name__}: {exc})") from None


def render_index(index: dict[str, Entry]) -> bytes:
    # One mission per line, sorted: an archive's history diffs line by line.
    lines = [f"  {json.dumps(mid)}: {json.dumps(index[mid].to_json(), ensure_ascii=False)}"
             for mid in sorted(index)]
    return (f'{{"format": {INDEX_FORMAT}, "missions": {{\n' + ",\n".join(lines) + "\n}}\n").encode("utf-8")


def archived_index(store: Store) -> dict[str, Entry]:
    """Every archived mission's index entry (status, title, tip) without reading any mission.md."""
    store.sync_once(store.namespace.archive_fetch)
    return snapshot(store).index


def archived_states(store: Store) -> tuple[list[State], list[CorruptMission]]:
    """Every archived mission as its final commit holds it: one fetch and two cat-files in all."""
    entries = sorted(archived_index(store).values(), key=lambda e: e.mission_id)
    blobs = g.cat_file_batch(store.git, [f"{e.tip}:{m.FILENAME}" for e in entries])
    states, broken = [], []
    for entry, blob in zip(entries, blobs, strict=False):
        try:
            if blob is None:
                raise CorruptMission(f"archived mission {entry.mission_id}: its tip holds no {m.FILENAME}")
            states.append(State(m.parse(blob.data, entry.mission_id), entry.tip))
        except CorruptMission as err:
            broken.append(err)
    return states, broken


def find_archived(store: Store, mission_id: str) -> State | None:
    """The archived mission with its tree; its tip is its last commit, so `show` walks its history as usual."""
    entry = archived_index(store).get(mission_id)
    if entry is None:
        return None
    commit, tree, blob = g.cat_file_batch(store.git, [entry.tip, f"{entry.tip}^{{tree}}",
                                                      f"{entry.tip}:{m.FILENAME}"])
    if commit is None or tree is None or blob is None:
        raise CorruptMission(f"archived mission {mission_id}: its tip {entry.tip[:12]} is missing or holds no "
                             f"{m.FILENAME}")
    return State(m.parse(blob.data, mission_id), entry.tip, tuple(g.parse_tree(tree.data)))


# ---- choosing -------------------------------------------------------------------------------------------------

def finished_time(mission: m.Mission) -> datetime | None:
    return timeutil.parse_ts(mission.finished_at) or timeutil.parse_ts(mission.last_activity)


def eligible(states: list[State], now: datetime, older_than: timedelta) -> list[State]:
    """DONE, FAILED and CANCELLED missions finished at least `older_than` ago, oldest first. A finished mission with no
    time at all is taken only when any age will do."""
    cutoff = now - older_than
    out = []
    for state in states:
        if state.mission.status not in m.FINISHED:
            continue
        when = finished_time(state.mission)
        if (when is None and older_than <= timedelta(0)) or (when is not None and when <= cutoff):
            out.append(state)
    return sorted(out, key=lambda s: (finished_time(s.mission) or now, s.mission_id))


def _row(state: State) -> dict[str, Any]:
    mis = state.mission
    return {"mission_id": mis.mission_id, "status": mis.status, "title": mis.title,
            "finished_at": mis.finished_at, "tip": state.commit}


# ---- writing --------------------------------------------------------------------------------------------------

def archive(store: Store, *, older_than: timedelta = timedelta(0), dry_run: bool = False,
            now: datetime | None = None) -> ArchiveResult:
    """Archive every eligible mission, `batch_size` per atomic push; a lost race is decided again on fresh
    state."""
    now = now or timeutil.now()
    result = ArchiveResult(dry_run)
    if dry_run:
        store.sync(sync_specs(store))
        result.missions = [_row(s) for s in eligible(store.all()[0], now, older_than)]
        return result
    pushes = store.pushes
    # One fetch for the whole run: each push leases every ref it changes on the value read, and a push that
    # loses a race is followed by a fetch and a new plan (Store.swap), so later batches need no fetch of their own.
    store.sync(sync_specs(store))
    more = True
    while more:
        batch: list[State] = []

        def plan(_reread: bool) -> list[g.RefUpdate] | None:
            nonlocal batch, more
            snap = snapshot(store, with_tree=True)
            states = store.all(bodies=False)[0]  # no bodies: through the parse cache
            todo = eligible(states, now, older_than)
            size = batch_size(len(states) + 1)
            batch, more = todo[:size], len(todo) > size
            if not batch:
                return None
            return _updates(snap.tip, _build(store, snap, batch, now), batch)

        pushed = store.swap("archive", plan, refspecs=sync_specs(store), race=" (missions keep changing)")
        if pushed is None:
            break
        result.missions += [_row(s) for s in batch]
        result.commits.append(pushed[0].new or "")
    result.pushes = store.pushes - pushes
    return result


def _updates(tip: str | None, commit: str, batch: list[State]) -> list[g.RefUpdate]:
    """The archive ref moved to the new commit, and every archived mission ref deleted, each leased on the value
    the commit was built from: the remote applies all of them or none."""
    return [g.RefUpdate(ARCHIVE_REF, commit, tip)] + [g.RefUpdate(mission_ref(s.mission_id), None, s.commit)
                                                      for s in batch]


def _build(store: Store, snap: Snapshot, batch: list[State], now: datetime) -> str:
    """The archive commit (index.json and missions/<id>.md) on the batch's link commits."""
    git = store.git
    signer = store.signer()  # a clone that must sign and cannot is refused before anything is written
    blobs = g.cat_file_batch(git, [f"{s.commit}:{m.FILENAME}" for s in batch])
    entries = {e.name: e for e in snap.tree}
    index = dict(snap.index)
    stamp = timeutil.format_ts(now)
    for state, blob in zip(batch, blobs, strict=False):
        mis = state.mission
        if blob is not None:  # the same blob as the tip's mission.md: nothing is copied
            name = f"{mis.mission_id}.md"
            entries[name] = g.TreeEntry("100644", "blob", blob.oid, name)
        index[mis.mission_id] = Entry(mis.mission_id, state.commit, mis.status, mis.title, mis.finished_at, stamp)
    missions_tree = store.objects.tree([entries[name] for name in sorted(entries)])
    root = store.objects.tree([
        g.TreeEntry("100644", "blob", store.objects.blob(render_index(index)), INDEX),
        g.TreeEntry("040000", "tree", missions_tree, MISSIONS_DIR),
    ])
    instance = store.repo.instance()
    message = _message(len(batch), instance)
    links = [_link_message(s.mission_id, instance) for s in batch]
    for text in (message, *links):
        store.check_message(text)
    env = store.repo.commit_env(stamp)
    # The links carry the previous archive's tree, so only the archive commits change index.json. They are not
    # signed: the archive commit's signature covers them, since it names the last link by its hash.
    last = store.objects.chain(snap.root or store.objects.tree([]), snap.tip, [s.commit for s in batch], links,
                               env)
    return store.objects.commit(root, [last] if last else [], message, env, signer)


def _link_message(mission_id: str, instance: str) -> str:
    return MissionMessage("archive", mission_id, "archive", "", {"Instance": instance}).render()


def _message(count: int, instance: str) -> str:
    what = f"{count} mission{'' if count == 1 else 's'}"
    # The ids stay out of the message: index.json lists them, and a long list makes no header.
    return MissionMessage("archive", what, "archive", "", {"Instance": instance, "Count": str(count)}).render()
