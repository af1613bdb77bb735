"""`gitclaim verify`: every commit of the missions' histories checked against the trust list of the default
branch, for CI (docs/signing.md "gitclaim verify").

One fetch brings the mission refs and the default branch (so the trust list is the one committed now), one
`git log` lists the commits of every history, and one more checks all their signatures (core/trust.py, which
keeps each commit's result: a commit checked once is not checked again for the same lists). Then, walking each
mission's first-parent chain, fencing by principal: after a claim, takeover or resume commit signed good, every
later write by the holder (its Gitclaim-Instance at that epoch) must be signed good by the same principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gitclaim.core import git as g
from gitclaim.core import message, trust
from gitclaim.core.claimsigs import CLAIM_ACTIONS
from gitclaim.core.refs import check_id
from gitclaim.core.store import Store
from gitclaim.core.trust import BAD, GOOD, NO_SIGNATURE, Signature, TrustList
from gitclaim.errors import NotFound


@dataclass(frozen=True)
class CommitCheck:
    commit: str
    action: str | None  # the Gitclaim-Action trailer; None for a commit gitclaim did not write
    instance: str | None
    signature: Signature
    claim_principal: str | None = None  # a holder write under a good claim: the principal that must sign it

    @property
    def fenced_out(self) -> bool:
        """Signed good, but by another principal than the claim's it writes under."""
        return self.claim_principal is not None and self.signature.state == GOOD \
            and self.signature.principal != self.claim_principal

    @property
    def state(self) -> str:
        # a holder write by another principal spoils the claim: bad, as core/claimsigs.py says of a claim
        return BAD if self.fenced_out else self.signature.state

    def text(self) -> str:
        if self.fenced_out:
            return (f"{BAD} (signed by {self.signature.principal}, not by the claim's principal "
                    f"{self.claim_principal})")
        return self.signature.text()

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "action": self.action, "instance": self.instance, "state": self.state,
                "signature": self.signature.to_json(), "claim_principal": self.claim_principal}


@dataclass
class MissionCheck:
    mission_id: str
    tip: str
    commits: list[CommitCheck]  # oldest first: the first-parent chain, then any commit merged in beside it
    archived: bool = False  # read from the archive (its final tip kept there), not from a mission ref

    @property
    def problems(self) -> list[CommitCheck]:
        return [c for c in self.commits if c.state != GOOD]

    def to_json(self) -> dict[str, Any]:
        return {"mission_id": self.mission_id, "tip": self.tip, "ok": not self.problems, "archived": self.archived,
                "commits": [c.to_json() for c in self.commits]}


@dataclass
class Report:
    trust: TrustList
    default_branch: str | None  # the remote branch fetched for the trust list; None when none is known
    missions: list[MissionCheck] = field(default_factory=list)

    @property
    def commits(self) -> int:
        return sum(len(mc.commits) for mc in self.missions)

    @property
    def not_good(self) -> int:
        return sum(len(mc.problems) for mc in self.missions)

    @property
    def ok(self) -> bool:
        return self.not_good == 0

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "commits": self.commits, "not_good": self.not_good,
                "trust": {"source": self.trust.source, "default_branch": self.default_branch,
                          "principals": self.trust.principals()},
                "missions": [mc.to_json() for mc in self.missions]}


def default_branch(store: Store) -> tuple[str | None, str | None]:
    """(remote branch, fetch refspec) of the remote's default branch, from the clone's refs/remotes/<remote>/HEAD;
    without it, the first of .../main and .../master the clone has (what core/trust.py reads); (None, None)
    when there is none, or in a bare repository (it reads its own HEAD)."""
    if store.repo.paths.bare:
        return None, None
    base = f"refs/remotes/{store.repo.remote}/"
    found = g.symbolic_refs(store.git, [f"{base}{name}" for name in trust.DEFAULT_BRANCH_REFS])
    head = found.get(f"{base}HEAD", "")
    if head.startswith(base):
        name = head[len(base):]
    else:
        name = next((n for n in trust.DEFAULT_BRANCH_REFS[1:] if f"{base}{n}" in found), "")
    if not name:
        return None, None
    return f"refs/heads/{name}", f"+refs/heads/{name}:{base}{name}"


def verify(store: Store, ids: Sequence[str] = (), *, fetch: bool = True, archived: bool = False) -> Report:
    """Check the named missions (all when none is named); `archived`: archived missions too, their histories
    read from the final tips the archive keeps."""
    for mission_id in ids:
        check_id(mission_id)
    branch, refspec = default_branch(store)
    if fetch:
        extra = [store.namespace.archive_fetch] if archived else []
        store.sync([store.refspec, *([refspec] if refspec else []), *extra])
    lists = trust.load(store.git, store.repo.remote, store.repo.paths.bare)  # after the fetch: the current lists
    if branch is None:
        store.warn(f"warning: no default branch known for remote {store.repo.remote!r} (no refs/remotes/"
                   f"{store.repo.remote}/HEAD, main or master): the trust list is "
                   f"{'the repository HEAD' if store.repo.paths.bare else 'empty'}; "
                   f"run git remote set-head {store.repo.remote} --auto")
    tips = dict(store.ids())
    kept = _archived_tips(store, set(tips)) if archived else {}
    wanted = list(dict.fromkeys(ids)) or sorted({*tips, *kept})
    missing = [mid for mid in wanted if mid not in tips and mid not in kept]
    if missing:
        raise NotFound(_missing(store, missing[0], archived))
    chosen = {mid: tips.get(mid) or kept[mid] for mid in wanted}
    commits = {c.oid: c for c in g.all_commits(store.git, list(dict.fromkeys(chosen.values())))}
    sigs = trust.verify(store.git, lists, store.state_dir, commits)
    report = Report(lists, branch)
    for mission_id, tip in chosen.items():
        report.missions.append(MissionCheck(mission_id, tip, _checks(tip, commits, sigs), mission_id not in tips))
    return report


def _archived_tips(store: Store, live: set[str]) -> dict[str, str]:
    """The final tip of every archived mission that is not live again (the archive index, one cat-file)."""
    from gitclaim.missions import archive

    return {mid: e.tip for mid, e in archive.snapshot(store).index.items() if mid not in live}


def _missing(store: Store, mission_id: str, archived: bool) -> str:
    remote = store.repo.remote
    if archived:
        return f"no mission {mission_id!r} on remote {remote!r} (live or archived)"
    from gitclaim.missions import archive

    store.sync_once(store.namespace.archive_fetch)  # only to say so: the check itself needs no archive
    if mission_id in archive.snapshot(store).index:
        return f"mission {mission_id!r} is archived: check it with gitclaim verify --archived {mission_id}"
    return f"no mission {mission_id!r} on remote {remote!r}"


def _checks(tip: str, commits: dict[str, g.Commit], sigs: dict[str, Signature]) -> list[CommitCheck]:
    """The mission's commits, oldest first, each with its signature and the principal fencing demands of it."""
    chain: list[str] = []
    oid: str | None = tip
    while oid and oid in commits and oid not in chain:
        chain.append(oid)
        parents = commits[oid].parents
        oid = parents[0] if parents else None
    chain.reverse()
    out = []
    holder: tuple[str, str | None, str] | None = None  # (instance, epoch, principal) of the current good claim
    for oid in [*chain, *_beside(chain, commits)]:
        _, _, trailers = message.parse(commits[oid].message)
        action, instance, epoch = trailers.get("action"), trailers.get("instance"), trailers.get("epoch")
        sig = sigs.get(oid, NO_SIGNATURE)
        demand = None
        if action in CLAIM_ACTIONS:
            holder = (instance, epoch, sig.principal or "") if instance and sig.state == GOOD else None
        elif holder is not None and instance == holder[0] and epoch in (None, holder[1]):
            demand = holder[2]
        out.append(CommitCheck(oid, action, instance, sig, demand))
    return out


def _beside(chain: list[str], commits: dict[str, g.Commit]) -> list[str]:
    """Commits reachable from the chain other than through first parents (merged in by plain git): checked too,
    oldest first as git listed them newest first."""
    on_chain = set(chain)
    seen: set[str] = set()
    todo = [p for oid in chain for p in commits[oid].parents[1:]]
    while todo:
        oid = todo.pop()
        if oid in on_chain or oid in seen or oid not in commits:
            continue
        seen.add(oid)
        todo.extend(commits[oid].parents)
    order = {oid: i for i, oid in enumerate(commits)}
    return sorted(seen, key=order.__getitem__, reverse=True)
