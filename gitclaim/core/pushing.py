"""The push half of the compare-and-swap loop (core/store.py `Store.swap`): one push of a plan's ref updates,
each leased on its expected value, and reading the verdict when the remote gave no clear yes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from gitclaim.core import git as g
from gitclaim.core.refs import LOCAL_ARCHIVE, LOCAL_PREFIX, Namespace
from gitclaim.core.repo import Repo
from gitclaim.errors import RemoteError


class Store(Protocol):
    """What the push needs of core/store.py's Store (named here so that this module does not import it back)."""

    repo: Repo
    git: g.Git
    pushes: int

    @property
    def namespace(self) -> Namespace: ...

    def sync(self, refspecs: Sequence[str] | None = None) -> None: ...


def push(store: Store, updates: Sequence[g.RefUpdate], names: Callable[[str], str]
          ) -> g.PushOutcome | g.GitTimeout | None:
    """One push of every update, each leased on its expected value: None when the remote accepted them
    all, else its verdict (a timeout: the outcome is unknown)."""
    remote = store.repo.require_remote()
    ns = store.namespace
    sent = [g.RefUpdate(names(up.ref), up.new, up.expected) for up in updates]
    store.pushes += 1
    try:
        outcome = g.push_cas(store.git, remote, sent, timeout=store.repo.timeout, atomic=len(updates) > 1)
    except g.GitTimeout as err:
        store.repo.drop_connection()
        return err
    if not all(outcome.accepted(u.ref) for u in sent):
        return outcome
    # With init's fetch refspec, the push itself moves the local mirror of mission refs (git updates the
    # tracking ref of every pushed ref); other refs, and every ref of a clone without it, are moved here.
    fetch = store.repo.get_all(f"remote.{remote}.fetch")
    mirrored = {ns.refspec: _mirrors(fetch, ns.prefix + "x", ns.refspec),
                ns.archive_fetch: _mirrors(fetch, ns.archive, ns.archive_fetch)}
    g.update_refs(store.git, [up for up in updates if not (
        (mirrored[ns.refspec] and up.ref.startswith(LOCAL_PREFIX) and names(up.ref) == ns.remote_ref(up.ref))
        or (mirrored[ns.archive_fetch] and up.ref == LOCAL_ARCHIVE and names(up.ref) == ns.archive))])
    return None


def landed(store: Store, subject: str, updates: Sequence[g.RefUpdate], verdict: g.PushOutcome | g.GitTimeout,
            refspecs: Sequence[str] | None) -> bool:
    """After a push without a clear yes: fetch and look. Our values there: it landed. Every ref unchanged:
    the remote refused for another reason (a hook, permissions) or never answered. Else: lost a race."""
    remote = store.repo.remote
    try:
        store.sync(refspecs)
    except RemoteError as err:
        if isinstance(verdict, g.PushOutcome) and verdict.unanswered:
            said = "; ".join(verdict.remote_messages)
            if said in str(err):
                # The fetch failed exactly as the push did (no such repository, connection refused): the
                # push never got through, so say git's reason, not "no answer" (a slow server).
                raise RemoteError(f"{subject}: cannot push to remote {remote!r}: {said}") from None
            raise RemoteError(
                f"{subject}: the push to remote {remote!r} failed ({said}) and the remote could not be read "
                f"again ({err}); whether it landed is unknown and will be read again by the next command"
            ) from None
        raise RemoteError(
            f"{subject}: no answer from remote {remote!r}; the outcome of the push is unknown and will be "
            f"read again by the next command ({err})"
        ) from None
    objs = g.cat_file_batch(store.git, [up.ref for up in updates])
    now = [obj.oid if obj is not None else None for obj in objs]
    if all(oid == up.new for oid, up in zip(now, updates, strict=True)):
        return True
    if any(oid != up.expected for oid, up in zip(now, updates, strict=True)):
        return False
    if isinstance(verdict, g.GitTimeout):
        # Not a refusal: the push may still be applied by a slow server after this look.
        raise RemoteError(
            f"{subject}: the push to remote {remote!r} got no answer ({verdict}); it has not landed yet, but "
            "its outcome is unknown and will be read again by the next command"
        )
    push = "atomic push" if len(updates) > 1 else "push"
    raise RemoteError(f"{subject}: remote {remote!r} refused the {push}: {'; '.join(verdict.remote_messages)}")


def _mirrors(fetch: Sequence[str], probe: str, refspec: str) -> bool:
    """Whether a push to the remote ref `probe` moves its local mirror by itself (through `refspec`): git
    updates the tracking ref of the first fetch refspec whose source matches (negative ones are not consulted
    on push), so the namespace's refspecs must come before a wider one such as +refs/heads/*:... (init puts
    them first)."""
    for spec in fetch:
        if spec.startswith("^"):
            continue
        src = spec.lstrip("+").partition(":")[0]
        head, star, tail = src.partition("*")
        if (probe.startswith(head) and probe.endswith(tail)) if star else probe == src:
            return spec == refspec
    return False
