"""`gitclaim migrate --to NAMESPACE`: move every live and archived mission to another namespace (docs/config.md).

The remote's refs of both namespaces are fetched into scratch refs under refs/gitclaim/migrate/ (one fetch),
and the move is one compare-and-swap push through the store's loop (`Store.swap`): every mission and the
archive created in the new namespace at the same commit, and removed from the old one, atomically, each leased
on the value it was read at. A mission that changes meanwhile fails the push as a whole; the remote is read
again and the move planned again. Nothing is rewritten: the histories are the same commits.

One migration at a time: a lock ref beside the old namespace (`Namespace.lock`) is created by compare-and-swap
before the move and deleted after it. A lock left by a migration that died is taken over by the clone that made
it, or by anyone once it is older than LOCK_STALE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gitclaim.core import git as g
from gitclaim.core import timeutil
from gitclaim.core.refs import Namespace, check_namespace, id_problem
from gitclaim.core.store import Store
from gitclaim.errors import Conflict

SCRATCH = "refs/gitclaim/migrate/"
FROM, TO = SCRATCH + "from/", SCRATCH + "to/"
FROM_ARCHIVE, TO_ARCHIVE, LOCK = SCRATCH + "from-archive", SCRATCH + "to-archive", SCRATCH + "lock"
LOCK_STALE = timedelta(hours=1)


@dataclass
class MigrateResult:
    source: str
    target: str
    moved: list[str] = field(default_factory=list)  # mission ids created in the target by this run
    removed: list[str] = field(default_factory=list)  # mission ids removed from the source by this run
    archive: bool = False  # the archive moved
    pushes: int = 0
    steps: list[str] = field(default_factory=list)  # what was done to this clone

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "moved": self.moved, "removed": self.removed,
                "archive_moved": self.archive, "pushes": self.pushes, "steps": self.steps}


class _Plan:
    """The two namespaces' remote refs, mapped onto the scratch refs and back."""

    def __init__(self, source: Namespace, target: Namespace) -> None:
        self.source, self.target = source, target

    @property
    def refspecs(self) -> list[str]:
        s, t = self.source, self.target
        return [f"+{s.prefix}*:{FROM}*", f"+{t.prefix}*:{TO}*", f"+{s.archive}*:{FROM_ARCHIVE}*",
                f"+{t.archive}*:{TO_ARCHIVE}*", f"+{s.lock}*:{LOCK}*"]

    def remote(self, local: str) -> str:
        if local.startswith(FROM):
            return self.source.prefix + local[len(FROM):]
        if local.startswith(TO):
            return self.target.prefix + local[len(TO):]
        return {FROM_ARCHIVE: self.source.archive, TO_ARCHIVE: self.target.archive, LOCK: self.source.lock}[local]


def migrate(store: Store, to: str, source: str | None = None, *, now: datetime | None = None) -> MigrateResult:
    target = Namespace(check_namespace(to.rstrip("/"), "--to"))
    src = Namespace(check_namespace(source.rstrip("/"), "--from")) if source else store.namespace
    result = MigrateResult(src.name, target.name)
    if src == target:
        return result  # nothing to move: a re-run after the move finished (give --from to clean another one)
    plan = _Plan(src, target)
    pushes = store.pushes
    try:
        lock = _take_lock(store, plan, now or timeutil.now())
        try:
            _move(store, plan, result)
        finally:  # a refused move leaves nothing behind, the lock included (the push was all or nothing)
            _release(store, plan, lock)
    finally:
        refs = [ref for ref, _ in g.for_each_ref(store.git, SCRATCH)]
        g.update_refs(store.git, [g.RefUpdate(ref, None, None) for ref in refs])
    result.pushes = store.pushes - pushes
    if store.namespace == src:
        from gitclaim.core.repo import NAMESPACE_KEY
        from gitclaim.missions import setup

        result.steps = setup.use_namespace(store.repo, store.repo.remote, target, src,
                                           store.repo.get(NAMESPACE_KEY))
        result.steps.append(f"{setup.sync_mirror(store)} missions on {store.repo.remote}")
    return result


def _take_lock(store: Store, plan: _Plan, now: datetime) -> str:
    """Create the lock by compare-and-swap (or take over our own, or a stale one); its commit's message says
    who migrates since when. Returns the lock commit."""
    instance = store.repo.instance()
    stamp = timeutil.format_ts(now)
    # The namespaces stay out of the message: a branch namespace's name may hold a term the policy forbids.
    message = ("chore(gitclaim): move the missions to another namespace\n\n"
               f"Gitclaim-Instance: {instance}\nGitclaim-Started: {stamp}\n")
    store.check_message(message)
    tree = store.objects.tree([])
    commit = store.objects.commit(tree, [], message, store.repo.commit_env(stamp), store.signer())

    def decide(reread: bool) -> list[g.RefUpdate] | None:
        if not reread:  # after a push without a clear yes, the loop has just fetched them
            store.sync(plan.refspecs)
        held = g.cat_file_batch(store.git, [LOCK])[0]
        if held is not None:
            _refuse_unless_stale(held.data.decode("utf-8", "replace"), instance, now, plan.source.lock)
        return [g.RefUpdate(LOCK, commit, held.oid if held else None)]

    store.swap(f"migration lock {plan.source.lock}", decide, refspecs=plan.refspecs, names=plan.remote)
    return commit


def _refuse_unless_stale(text: str, instance: str, now: datetime, ref: str) -> None:
    fields = dict(line.partition(": ")[::2] for line in text.splitlines() if ": " in line)
    holder, started = fields.get("Gitclaim-Instance", "?"), fields.get("Gitclaim-Started", "")
    if holder == instance:
        return  # our own migration died: this run finishes it
    since = timeutil.parse_ts(started)
    if since is not None and now - since > LOCK_STALE:
        return  # its migration died long ago (an unreadable time counts as fresh: refusing is the safe side)
    subject = text.split("\n\n", 1)[-1].splitlines()[0] if "\n\n" in text else ref
    raise Conflict(f"another migration is running ({subject!r}, instance {holder}, since {started or '?'}; lock "
                   f"{ref}): wait for it to finish, then run this again", lock=ref, instance=holder)


def _move(store: Store, plan: _Plan, result: MigrateResult) -> None:
    def decide(_reread: bool) -> list[g.RefUpdate] | None:
        refs = dict(g.for_each_ref(store.git, SCRATCH))
        updates, moved, removed = _updates(refs)
        result.moved, result.removed = moved, removed
        result.archive = any(up.ref == TO_ARCHIVE for up in updates)
        return updates or None

    store.swap(f"migration to {plan.target.name}", decide, refspecs=plan.refspecs, names=plan.remote,
               race=" (missions keep changing; try again)")


def _updates(refs: dict[str, str]) -> tuple[list[g.RefUpdate], list[str], list[str]]:
    """Every source ref created in the target at the same commit (unless it is there already) and removed from
    the source; a ref present in both with different commits stops the migration before anything is pushed."""
    updates: list[g.RefUpdate] = []
    moved: list[str] = []
    removed: list[str] = []
    pairs = [(FROM + ref[len(FROM):], TO + ref[len(FROM):]) for ref in refs if ref.startswith(FROM)]
    pairs += [(FROM_ARCHIVE, TO_ARCHIVE)] if FROM_ARCHIVE in refs else []
    for old, new in sorted(pairs):
        name = old[len(FROM):] if old.startswith(FROM) else "the archive"
        if old.startswith(FROM) and id_problem(name):
            continue  # not a mission gitclaim can read: left where it is
        tip, there = refs[old], refs.get(new)
        if there is not None and there != tip:
            raise Conflict(f"cannot migrate: {name} exists in both namespaces with different commits "
                           f"({tip[:12]} and {there[:12]}); remove one of them first")
        if there is None:
            updates.append(g.RefUpdate(new, tip, None))
            if old != FROM_ARCHIVE:
                moved.append(name)
        updates.append(g.RefUpdate(old, None, tip))
        if old != FROM_ARCHIVE:
            removed.append(name)
    return updates, moved, removed


def _release(store: Store, plan: _Plan, lock: str) -> None:
    def decide(_reread: bool) -> list[g.RefUpdate] | None:
        held = g.cat_file_batch(store.git, [LOCK])[0]
        return [g.RefUpdate(LOCK, None, lock)] if held is not None and held.oid == lock else None

    store.swap(f"migration lock {plan.source.lock}", decide, refspecs=plan.refspecs, names=plan.remote)
