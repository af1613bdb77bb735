"""Missions on refs: reading them in batches, and changing them by compare-and-swap pushes.

Local `refs/missions/*` mirror the remote (`gitclaim init` adds the fetch refspec). Reads come from the local
mirror after one fetch; writes are built on the local tip and pushed with `--force-with-lease=<ref>:<tip>`, so
the remote's ref transaction decides every race. A rejected or unanswered push is never guessed at: the remote is
re-read and the change decided again on what it holds now (`transact`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core.refs import LOCAL_PREFIX, Namespace, check_id, classify, mission_ref
from gitclaim.core.repo import Repo
from gitclaim.core.settings import Settings
from gitclaim.errors import Conflict, CorruptMission, GitclaimError, NotFound, RemoteError, SigningError

if TYPE_CHECKING:  # what only writes need is imported when a write happens: reads start faster
    from gitclaim.core.message import MissionMessage
    from gitclaim.core.objects import ObjectWriter
    from gitclaim.core.signing import Signer
    from gitclaim.core.trust import TrustList

MAX_ATTEMPTS = 8
MISSIONS_PREFIX = LOCAL_PREFIX  # the local mirror, whatever the remote namespace (core/refs.py)
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

# An effect run after each landed write of a mission (Store.after_write): it returns a warning, or None. The
# write has landed whatever an effect does, so an effect reports its problems instead of raising them.
AfterWrite = Callable[["Store", Outcome], "str | None"]

# A plan (Store.swap) is called with whether the remote was just re-read after a push without a clear yes; it
# returns the ref updates to push in one compare-and-swap, or None when nothing needs writing.
Plan = Callable[[bool], "list[g.RefUpdate] | None"]


class Store:
    def __init__(self, repo: Repo, settings: Settings | None = None, *,
                 after_write: Sequence[AfterWrite] = (), on_warning: Callable[[str], None] | None = None) -> None:
        self.repo = repo
        self.git = repo.git
        self.settings = settings or Settings()  # the committed .gitclaim.yaml (core/settings.py)
        # Wired where the store is opened (gitclaim/missions/workspace.py), so every front end gets them.
        self.after_write = list(after_write)
        self.warnings: list[str] = []  # what went wrong besides the command itself, for the front end to show
        self._on_warning = on_warning
        self._synced: set[str] = set()  # the refspecs fetched during this command: its state is fresh
        self.pushes = 0  # push attempts made by this store, reported by `next`, `archive` and the benchmarks
        self._objects: ObjectWriter | None = None
        self._trust: TrustList | None = None
        # Says why a mission the remote does not have is missing (it was archived), when the front end wired
        # one in (missions/workspace.py): the core cannot read the archive itself.
        self.explain_missing: Callable[[str], GitclaimError | None] | None = None

    @property
    def objects(self) -> ObjectWriter:
        """Where this store's commits are built (blobs, trees and commits without a process each)."""
        if self._objects is None:
            from gitclaim.core.objects import ObjectWriter

            self._objects = ObjectWriter.for_repo(self.git, self.repo.paths.common_dir, self.repo.config)
        return self._objects

    @property
    def state_dir(self) -> Path:
        return self.repo.state_dir

    def trust(self) -> TrustList:
        """The repository's trust list (core/trust.py), read once per command."""
        if self._trust is None:
            from gitclaim.core import trust

            self._trust = trust.load(self.git, self.repo.remote, self.repo.paths.bare)
        return self._trust

    @property
    def ttl(self) -> timedelta:
        """The lease: the clone's override (GITCLAIM_TTL, gitclaim.ttl), else the committed lease_ttl."""
        override = self.repo.ttl_override
        return override if override is not None else self.settings.lease_ttl

    @property
    def heartbeat_interval(self) -> timedelta:
        """How often hooks may refresh one mission's lease: the clone's override, else the committed one."""
        override = self.repo.heartbeat_override
        return override if override is not None else self.settings.heartbeat_interval

    @property
    def namespace(self) -> Namespace:
        """Where the missions live on the remote; locally they are always at refs/missions/*."""
        return self.repo.namespace

    @property
    def refspec(self) -> str:
        return self.repo.namespace.refspec

    # ---- reading ------------------------------------------------------------------------------------------
    def sync(self, refspecs: Sequence[str] | None = None, *, patient: bool = False) -> None:
        """One fetch brings every mission ref (and prunes the ones the remote no longer has); other refs, such
        as the archive, are fetched only by the commands that read them, in the same one fetch.

        A fetch that fails other than by a timeout is tried again, a few times within the time limit: another
        process fetching into the same refs (agents in linked worktrees of one clone share refs/missions/*)
        makes git fail with "cannot lock ref ...: is at X but expected Y" when both move one ref, although the
        remote answered. Fetching again is harmless; a remote that is really down fails every attempt.
        `patient` (init's first fetch): the time limit bounds only the time git makes no progress."""
        remote = self.repo.require_remote()
        refspecs = list(refspecs) if refspecs is not None else [self.refspec]
        started = time.monotonic()
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                g.fetch(self.git, remote, refspecs, timeout=self.repo.timeout, patient=patient)
                break
            except g.GitTimeout:
                self.repo.drop_connection()
                raise
            except RemoteError:
                if attempt == FETCH_ATTEMPTS or (time.monotonic() - started > self.repo.timeout and not patient):
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)  # apart from the other fetcher
        self._synced.update(refspecs)
        if self.refspec in refspecs:
            self.repo.stamp_fetch()

    def sync_once(self, refspec: str) -> None:
        """Fetch `refspec` unless this command already did (`next` may look up the archive on every round)."""
        if refspec not in self._synced:
            self.sync([refspec])

    @property
    def fetched(self) -> bool:
        """The mission refs were fetched during this command: refusals and no-ops decided now are trusted."""
        return self.refspec in self._synced

    def local(self, mission_id: str) -> State | None:
        """The mission as the local mirror holds it, read with one cat-file process."""
        ref = mission_ref(mission_id)
        commit, tree, blob = g.cat_file_batch(self.git, [ref, f"{ref}^{{tree}}", f"{ref}:{m.FILENAME}"])
        if commit is None:
            return None
        if tree is None:
            raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
        return State(_parse_blob(blob, mission_id), commit.oid, tuple(g.parse_tree(tree.data)))

    def ids(self) -> list[tuple[str, str]]:
        """(mission id, tip oid) of every local mission ref; refs whose names are not valid ids are skipped."""
        return classify(g.for_each_ref(self.git, MISSIONS_PREFIX))[0]

    def all(self, *, bodies: bool = True) -> tuple[list[State], list[CorruptMission]]:
        """Every mission in the local mirror: one for-each-ref and one cat-file, whatever their number.
        Missions that cannot be read are returned as errors beside the others, never in their way.

        `bodies=False` (listings, `next`, `start`) returns missions without their body and reads them through
        the cache of parsed missions (core/cache.py): only missions whose tip moved are read and parsed."""
        refs, broken = classify(g.for_each_ref(self.git, MISSIONS_PREFIX))
        found, bad = self.read(refs, cached=not bodies, every=True)
        states = [State(found[mission_id], oid) for mission_id, oid in refs if mission_id in found]
        return states, [*broken, *bad]

    def read(self, refs: list[tuple[str, str]], *, cached: bool = True, every: bool = False
             ) -> tuple[dict[str, m.Mission], list[CorruptMission]]:
        """The missions at (id, tip oid), one cat-file for all to read, an error for each unreadable one. `cached`:
        no bodies, through the parse cache; `every`: `refs` are all mission refs (the cache forgets the rest)."""
        from gitclaim.core.cache import MissionCache  # only reads of many missions need it

        algo = self.repo.get("extensions.objectformat") or "sha1"
        cache = MissionCache.open(self.repo.paths.common_dir, algo) if cached else None
        found: dict[str, m.Mission] = {} if cache is None else {
            mission_id: hit for mission_id, oid in refs if (hit := cache.get(mission_id, oid)) is not None}
        todo = [(mission_id, oid) for mission_id, oid in refs if mission_id not in found]
        broken: list[CorruptMission] = []
        blobs = g.cat_file_batch(self.git, [f"{oid}:{m.FILENAME}" for _, oid in todo])
        parsed = 0
        for (mission_id, oid), blob in zip(todo, blobs, strict=False):
            try:
                mission = _parse_blob(blob, mission_id)
            except CorruptMission as err:
                broken.append(err)
                continue
            if cache is not None:
                mission = mission.evolve(body="")
                cache.put(mission_id, oid, mission)
                parsed += 1
            found[mission_id] = mission
        if cache is not None:
            dropped = every and cache.keep_only({f"{mission_id} {oid}" for mission_id, oid in refs})
            if parsed or dropped or not cache.loaded:
                cache.save()
        return found, broken

    def require(self, mission_id: str) -> State:
        check_id(mission_id)
        state = self.local(mission_id)
        if state is None and not self.fetched:
            self.sync()
            state = self.local(mission_id)
        if state is None:
            self._missing(mission_id, None, False)
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
        self.settings.check_message(message)

    def transact(self, mission_id: str, decide: Decide, *, fresh: bool = False, creates: bool = False) -> Outcome:
        """Decide on the current state and push the change as a compare-and-swap; on a lost race or an
        unknown outcome, re-read the remote and decide again (`swap`). Refusals and no-ops are only trusted on
        state fetched during this command; a write is pushed optimistically because the push itself checks."""
        check_id(mission_id)
        ref = mission_ref(mission_id)
        if fresh and not self.fetched:
            self.sync()
        base: State | None = None
        change: Change | None = None

        def plan(_reread: bool) -> list[g.RefUpdate] | None:
            nonlocal base, change
            base = self.local(mission_id)
            # Unknown locally: maybe it exists remotely. Creation skips this: its push checks absence itself.
            if base is None and not self.fetched and not creates:
                self.sync()
                base = self.local(mission_id)
            try:
                base, change = self._decide(mission_id, decide, base)
            except NotFound:
                self._missing(mission_id, base, creates)
                raise
            if change is None:
                return None
            return [g.RefUpdate(ref, self._write_commit(base, change), base.commit if base else None)]

        pushed = self.swap(f"mission {mission_id}", plan)
        if pushed is None or change is None:
            assert base is not None
            return Outcome(base, False, base)
        out = Outcome(State(change.mission, pushed[0].new or ""), True, base)
        for effect in self.after_write:
            try:
                problem = effect(self, out)
            except GitclaimError as err:
                problem = f"warning: {err}"
            if problem:
                self.warn(problem)
        return out

    def warn(self, text: str) -> None:
        """Report a problem that does not fail the command (the front end prints it or passes it on)."""
        self.warnings.append(text)
        if self._on_warning is not None:
            self._on_warning(text)

    def _decide(self, mission_id: str, decide: Decide, state: State | None) -> tuple[State | None, Change | None]:
        """Decide on `state`. A refusal or a no-op decided on state not fetched during this command may be out
        of date: fetch, and decide again on what the remote holds."""
        if not self.fetched:
            try:
                change = decide(state)
            except GitclaimError:
                change = None
            if change is not None:
                return state, change
            self.sync()
            state = self.local(mission_id)
        return state, decide(state)

    def _missing(self, mission_id: str, state: State | None, creates: bool) -> None:
        """Raise what explains a refusal for a missing mission (it is archived), if anything does."""
        if state is None and not creates and self.explain_missing is not None:
            err = self.explain_missing(mission_id)
            if err is not None:
                raise err

    def swap(self, subject: str, plan: Plan, *, refspecs: Sequence[str] | None = None,
             race: str = "", names: Callable[[str], str] | None = None) -> list[g.RefUpdate] | None:
        """The compare-and-swap loop of every write: `plan` decides on the local mirror and returns the ref
        updates to push (their commits written, each with the value it expects), or None when nothing needs
        writing; it raises to refuse. The updates go in one push (atomic when there are several), each with a
        lease on its expected value. No clear yes: fetch `refspecs` and look. Every ref at our value: it
        landed. Every ref unchanged: the remote refused (or never answered) and we say so. Anything else: a
        lost race, so plan again on what the remote holds now (`plan(True)`). Returns what was pushed.

        Updates name local refs (refs/missions/<id>, refs/gitclaim/archive): they are pushed, and leased, under
        their names in the namespace (`Namespace.remote_ref`), or under the names `names` gives (`migrate`, whose
        `refspecs` fetch those remote refs back into the local ones)."""
        from gitclaim.core import pushing

        reread = False
        for _ in range(MAX_ATTEMPTS):
            updates = plan(reread)
            if not updates:
                return None
            verdict = pushing.push(self, updates, names or self.namespace.remote_ref)
            if verdict is None or pushing.landed(self, subject, updates, verdict, refspecs):
                return updates
            reread = True
        raise Conflict(f"{subject}: lost the race {MAX_ATTEMPTS} times in a row{race}; try again")

    def _write_commit(self, base: State | None, change: Change) -> str:
        message = change.message.render()
        self.check_message(message)
        when = change.mission.last_activity or change.mission.created or ""
        files = {m.FILENAME: m.render(change.mission), **(change.files or {})}
        tree = self.objects.tree_with(self.git, base.tree if base else (), files)
        parents = [base.commit] if base else []
        return self.objects.commit(tree, parents, message, self.repo.commit_env(when), self.signer())

    def signer(self) -> Signer | None:
        """The clone's signing key; a repository that requires signed claims refuses to write without one."""
        signer = self.repo.signer
        if signer is None and self.settings.signing_required:
            raise SigningError("this repository requires signed mission commits (.gitclaim.yaml signing.required) "
                               "and this clone has no signing key: set one up with gitclaim init --signing-key "
                               "FILE (docs/signing.md)")
        return signer


def _parse_blob(blob: g.GitObject | None, mission_id: str) -> m.Mission:
    if blob is None:
        raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
    if blob.type != "blob":
        raise CorruptMission(f"mission {mission_id}: its {m.FILENAME} is a {_KINDS.get(blob.type, blob.type)}, "
                             "not a file")
    return m.parse(blob.data, mission_id)


_KINDS = {"tree": "directory", "commit": "submodule"}
