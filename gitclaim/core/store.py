"""Missions on refs: reading them in batches, and changing them by compare-and-swap pushes.

Local `refs/missions/*` mirror the remote (`gitclaim init` adds the fetch refspec). Reads come from the local
mirror after one fetch; writes are built on the local tip and pushed with `--force-with-lease=<ref>:<tip>`, so
the remote's ref transaction decides every race. A rejected or unanswered push is never guessed at: the remote is
re-read and the change decided again on what it holds now (`transact`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core.message import MissionMessage
from gitclaim.core.objects import ObjectWriter
from gitclaim.core.refs import check_id, id_problem, mission_ref
from gitclaim.core.repo import MISSIONS_REFSPEC, Repo
from gitclaim.errors import Conflict, CorruptMission, GitclaimError, NotFound, RemoteError

MAX_ATTEMPTS = 8
FETCH_ATTEMPTS = 4


class State(NamedTuple):
    """A mission as one commit holds it."""

    mission: m.Mission
    commit: str
    tree: tuple[g.TreeEntry, ...] = ()

    @property
    def mission_id(self) -> str:
        return self.mission.mission_id


class Change(NamedTuple):
    """What a decision wants written: the new mission, its message, and files to add beside mission.md."""

    mission: m.Mission
    message: MissionMessage
    files: dict[str, bytes] | None = None


class Outcome(NamedTuple):
    state: State
    changed: bool  # False: nothing needed writing (for example, claiming what you already hold)
    previous: State | None = None


# A decision looks at the current state (None: no such mission) and returns the change to write, or None when
# nothing needs writing; it raises (Conflict, NotFound, ...) when the change is not allowed.
Decide = Callable[[State | None], Change | None]


class Store:
    def __init__(self, repo: Repo, policy_check: Callable[[str], None] | None = None) -> None:
        self.repo = repo
        self.git = repo.git
        self._policy_check = policy_check
        self._fetched = False
        self.pushes = 0  # push attempts made by this store, reported by `next` and the benchmarks
        self._last_push: g.PushOutcome | g.GitTimeout | None = None  # the verdict _reread explains
        self._objects: ObjectWriter | None = None

    @property
    def objects(self) -> ObjectWriter:
        """Where this store's commits are built (blobs, trees and commits without a process each)."""
        if self._objects is None:
            self._objects = ObjectWriter.for_repo(self.git, self.repo.paths.common_dir, self.repo.config)
        return self._objects

    # ---- reading ------------------------------------------------------------------------------------------
    def sync(self) -> None:
        """One fetch brings every mission ref (and prunes the ones the remote no longer has).

        A fetch that fails other than by a timeout is tried again, a few times within the time limit: another
        process fetching into the same refs (agents in linked worktrees of one clone share refs/missions/*)
        makes git fail with "cannot lock ref ...: is at X but expected Y" when both move one ref, although the
        remote answered. Fetching again is harmless; a remote that is really down fails every attempt."""
        remote = self.repo.require_remote()
        started = time.monotonic()
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                g.fetch(self.git, remote, [MISSIONS_REFSPEC], timeout=self.repo.timeout)
                break
            except g.GitTimeout:
                raise
            except RemoteError:
                if attempt == FETCH_ATTEMPTS or time.monotonic() - started > self.repo.timeout:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)  # apart from the other fetcher
        self._fetched = True

    @property
    def fetched(self) -> bool:
        return self._fetched

    def local(self, mission_id: str) -> State | None:
        """The mission as the local mirror holds it, read with one cat-file process."""
        ref = mission_ref(mission_id)
        commit, tree, blob = g.cat_file_batch(self.git, [ref, f"{ref}^{{tree}}", f"{ref}:{m.FILENAME}"])
        if commit is None:
            return None
        if blob is None or tree is None:
            raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
        return State(m.parse(blob.data, mission_id), commit.oid, tuple(g.parse_tree(tree.data)))

    def ids(self) -> list[tuple[str, str]]:
        """(mission id, tip oid) of every local mission ref; refs whose names are not valid ids are skipped."""
        out = []
        for ref, oid in g.for_each_ref(self.git, "refs/missions/"):
            mission_id = ref[len("refs/missions/"):]
            if not id_problem(mission_id):
                out.append((mission_id, oid))
        return out

    def all(self) -> tuple[list[State], list[CorruptMission]]:
        """Every mission in the local mirror: one for-each-ref and one cat-file, whatever their number.
        Missions that cannot be read are returned as errors beside the others, never in their way."""
        refs = self.ids()
        blobs = g.cat_file_batch(self.git, [f"{oid}:{m.FILENAME}" for _, oid in refs])
        states, broken = [], []
        for (mission_id, oid), blob in zip(refs, blobs, strict=False):
            try:
                if blob is None:
                    raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
                states.append(State(m.parse(blob.data, mission_id), oid))
            except CorruptMission as err:
                broken.append(err)
        return states, broken

    def require(self, mission_id: str) -> State:
        check_id(mission_id)
        state = self.local(mission_id)
        if state is None and not self._fetched:
            self.sync()
            state = self.local(mission_id)
        if state is None:
            raise NotFound(f"no mission {mission_id!r} on remote {self.repo.remote!r}")
        return state

    def walk(self, tip: str, mission_id: str, cat: g.CatFile | None = None
             ) -> Iterator[tuple[g.Commit, m.Mission | None]]:
        """The mission's history from `tip` back to its creation: each commit and the mission it holds.
        Pass `cat` to share one cat-file process across the walks of many missions."""
        if cat is None:
            with g.CatFile(self.git) as own:
                yield from self.walk(tip, mission_id, own)
            return
        oid: str | None = tip
        while oid:
            obj = cat.get(oid)
            if obj is None or obj.type != "commit":
                return
            commit = g.parse_commit(oid, obj.data)
            blob = cat.get(f"{commit.tree}:{m.FILENAME}")
            try:
                mission = m.parse(blob.data, mission_id) if blob else None
            except CorruptMission:
                mission = None
            yield commit, mission
            oid = commit.parents[0] if commit.parents else None

    # ---- writing ------------------------------------------------------------------------------------------
    def check_message(self, message: str) -> None:
        """Raise PolicyViolation when `message` breaks the repository's commit policy (for commits written
        outside transact, such as the archive commit)."""
        if self._policy_check is not None:
            self._policy_check(message)

    def transact(self, mission_id: str, decide: Decide, *, fresh: bool = False, creates: bool = False) -> Outcome:
        """Decide on the current state and push the change as a compare-and-swap; on a lost race or an
        unknown outcome, re-read the remote and decide again. Refusals and no-ops are only trusted on state
        fetched during this command; a write is pushed optimistically because the push itself checks."""
        check_id(mission_id)
        if fresh and not self._fetched:
            self.sync()
        state = self.local(mission_id)
        # Unknown locally: maybe it exists remotely. Creation skips this: its push checks absence itself.
        if state is None and not self._fetched and not creates:
            self.sync()
            state = self.local(mission_id)
        for _ in range(MAX_ATTEMPTS):
            try:
                change = decide(state)
            except GitclaimError:
                if self._fetched:
                    raise
                self.sync()
                state = self.local(mission_id)
                continue
            if change is None:
                if not self._fetched:
                    self.sync()
                    state = self.local(mission_id)
                    continue
                assert state is not None
                return Outcome(state, False, state)
            new_oid = self._write_commit(state, change)
            if self._push(mission_id, new_oid, state.commit if state else None):
                new_state = State(change.mission, new_oid)
                return Outcome(new_state, True, state)
            landed = self._reread(mission_id, state, new_oid)
            if landed is not None:
                return Outcome(landed, True, state)
            state = self.local(mission_id)
        raise Conflict(f"mission {mission_id}: lost the race {MAX_ATTEMPTS} times in a row; try again")

    def _write_commit(self, base: State | None, change: Change) -> str:
        message = change.message.render()
        self.check_message(message)
        when = change.mission.last_activity or change.mission.created or ""
        entries = {e.name: e for e in (base.tree if base else ())}
        for name, data in {m.FILENAME: m.render(change.mission), **(change.files or {})}.items():
            entries.update(self._write_file(name, data, entries))
        tree = self.objects.tree(sorted(entries.values(), key=_tree_sort_key))
        parents = [base.commit] if base else []
        return self.objects.commit(tree, parents, message, self.repo.commit_env(when))

    def _write_file(self, path: str, data: bytes, entries: dict[str, g.TreeEntry]) -> dict[str, g.TreeEntry]:
        """Write `path` into the top-level entries, building subtrees for paths like agents/x.md."""
        head, _, rest = path.partition("/")
        if not rest:
            return {head: g.TreeEntry("100644", "blob", self.objects.blob(data), head)}
        sub = {}
        old = entries.get(head)
        if old is not None and old.type == "tree":
            obj = g.cat_file_batch(self.git, [old.oid])[0]
            sub = {e.name: e for e in g.parse_tree(obj.data)} if obj else {}
        sub.update(self._write_file(rest, data, sub))
        oid = self.objects.tree(sorted(sub.values(), key=_tree_sort_key))
        return {head: g.TreeEntry("040000", "tree", oid, head)}

    def _push(self, mission_id: str, new_oid: str, expected: str | None) -> bool:
        ref = mission_ref(mission_id)
        remote = self.repo.require_remote()
        self.pushes += 1
        # Forget the previous attempt's verdict: _reread must never report an older push's answer for this one.
        self._last_push = None
        try:
            outcome = g.push_cas(self.git, remote, [g.RefUpdate(ref, new_oid, expected)],
                                 timeout=self.repo.timeout)
        except g.GitTimeout as err:
            self._last_push = err
            return False
        if outcome.accepted(ref):
            # With init's fetch refspec, the push itself moves the local mirror (git updates the tracking ref
            # of every pushed ref); only a clone without it needs the update here.
            if MISSIONS_REFSPEC not in self.repo.get_all(f"remote.{remote}.fetch"):
                g.update_ref(self.git, ref, new_oid, expected)
            return True
        self._last_push = outcome
        return False

    def _reread(self, mission_id: str, before: State | None, new_oid: str) -> State | None:
        """After a push without a clear yes: fetch and look. Our commit there: it landed. The ref unchanged:
        the remote refused for another reason (a hook, permissions) or never answered. Else: lost a race."""
        outcome = self._last_push
        try:
            self.sync()
        except RemoteError as err:
            raise RemoteError(
                f"mission {mission_id}: no answer from remote {self.repo.remote!r}; the outcome of the push is "
                f"unknown and will be read again by the next command ({err})"
            ) from None
        now = self.local(mission_id)
        if now is not None and now.commit == new_oid:
            return now
        unchanged = (now.commit if now else None) == (before.commit if before else None)
        if unchanged and isinstance(outcome, g.GitTimeout):
            # Not a refusal: the push may still be applied by a slow server after this look.
            raise RemoteError(
                f"mission {mission_id}: the push to remote {self.repo.remote!r} got no answer ({outcome}); it has "
                "not landed yet, but its outcome is unknown and will be read again by the next command"
            )
        if unchanged:
            said = "; ".join(outcome.remote_messages) if isinstance(outcome, g.PushOutcome) else "no answer"
            raise RemoteError(f"mission {mission_id}: remote {self.repo.remote!r} refused the push: {said}")
        return None


def _tree_sort_key(entry: g.TreeEntry) -> str:
    # git orders tree entries by name, comparing directories as if their names ended in '/'
    return entry.name + ("/" if entry.type == "tree" else "")
