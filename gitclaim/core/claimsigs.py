"""The signature state of each mission's claim: what `show`, `list --json`, `start`, the board and the MCP tools
report, and what a repository that requires signed claims acts on (docs/signing.md).

A claim is proven by the commit that made it (the claim, takeover or resume at the mission's current epoch) and
by the holder's latest write on top of it: both must carry a good signature by the same principal. So a claim
costs at most two commits to check, whatever the length of its history; `gitclaim verify` checks every commit.
All commits of all missions are checked by one git process (core/trust.py), and found through one cat-file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from gitclaim.core import git as g
from gitclaim.core import message
from gitclaim.core.store import State, Store
from gitclaim.core.trust import BAD, GOOD, NO_SIGNATURE, TRUST_FILE, Signature, SignatureCache, TrustList
from gitclaim.core.trust import verify as verify_commits
from gitclaim.errors import SigningError

CLAIM_ACTIONS = ("claim", "takeover", "resume")
MAX_WALK = 10_000  # commits looked at per mission before giving up on finding its claim


class ClaimCommits(NamedTuple):
    claim: str | None  # the commit that made the current claim; None when it cannot be found
    holder_tip: str | None  # the tip, when it is a later write by the holder


def claim_signatures(store: Store, states: Sequence[State], trust: TrustList | None = None, *,
                     every: bool = False) -> dict[str, Signature]:
    """The signature state of the claim of every mission in `states` that records one (held, or finished by
    its holder); missions without a claim are left out. `every`: `states` are all the missions there are, so
    results kept for tips no mission has any more are dropped (the kept file stays the size of the queue)."""
    claimed = [s for s in states if s.mission.claim_instance]
    if not claimed:
        return {}
    trust = trust if trust is not None else store.trust()
    # A mission whose tip did not move since the last look needs no git process at all.
    known = SignatureCache(store.state_dir / "claims", trust.version)
    out = {s.mission_id: sig for s in claimed if (sig := known.get(s.commit)) is not None}
    todo = [s for s in claimed if s.mission_id not in out]
    if todo:
        with g.CatFile(store.git) as cat:
            commits = {s.mission_id: find_claim(cat, s) for s in todo}
        oids = [oid for c in commits.values() for oid in c if oid]
        sigs = verify_commits(store.git, trust, store.state_dir, oids)
        for s in todo:
            c = commits[s.mission_id]
            out[s.mission_id] = combine(sigs.get(c.claim, NO_SIGNATURE) if c.claim else NO_SIGNATURE,
                                        sigs.get(c.holder_tip, NO_SIGNATURE) if c.holder_tip else None)
            known.put(s.commit, out[s.mission_id])
    if every:
        known.keep_only({s.commit for s in claimed})
    known.save()
    return out


def claim_signature(store: Store, state: State) -> Signature | None:
    """`claim_signatures` of one mission; None when it records no claim."""
    return claim_signatures(store, [state]).get(state.mission_id)


def combine(claim: Signature, holder_tip: Signature | None) -> Signature:
    """A claim is as good as its commit, unless the holder's latest write is not signed by the same
    principal (fencing by principal, docs/signing.md): then it is bad."""
    if holder_tip is not None and holder_tip.state == BAD:
        return holder_tip
    if claim.state != GOOD or holder_tip is None:
        return claim
    if holder_tip.state != GOOD or holder_tip.principal != claim.principal:
        return Signature(BAD, claim.principal, holder_tip.key)
    return claim


def find_claim(cat: g.CatFile, state: State) -> ClaimCommits:
    """Walk the mission's first-parent chain from its tip back to the commit of its current claim."""
    mis = state.mission
    oid: str | None = state.commit
    tip_instance: str | None = None
    for depth in range(MAX_WALK):
        obj = cat.get(oid) if oid else None
        if obj is None or obj.type != "commit":
            break
        commit = g.parse_commit(oid or "", obj.data)
        _, _, trailers = message.parse(commit.message)
        if depth == 0:
            tip_instance = trailers.get("instance")
        if trailers.get("action") in CLAIM_ACTIONS and trailers.get("epoch") == str(mis.claim_epoch):
            holder_tip = state.commit if depth and tip_instance == mis.claim_instance else None
            return ClaimCommits(commit.oid, holder_tip)
        oid = commit.parents[0] if commit.parents else None
    return ClaimCommits(None, None)


# ---- what the transitions need (core/transitions.py) ------------------------------------------------------

def signing_principal(store: Store) -> str | None:
    """The trust-list principal of the clone's signing key. A key that cannot be read is a warning here: the
    write that needs it fails with the reason."""
    signer = store.repo.signer
    if signer is None:
        return None
    try:
        return store.trust().principal_for(signer.public_key())
    except SigningError as err:
        store.warn(f"warning: {err}")
        return None


def own_claim(store: Store, state: State, principal: str) -> bool:
    """The mission's claim is signed good by `principal`: what lets that principal resume it from another clone
    (anyone can write a principal into mission.md; only the key proves it). The guard judges a resume alike."""
    sig = claim_signature(store, state)
    return sig is not None and sig.state == GOOD and sig.principal == principal


def void_claim(store: Store, state: State) -> str | None:
    """In a repository that requires signed claims, the signature state of a claim that is not good (it is
    void); None when the claim stands."""
    if not store.settings.signing_required:
        return None
    sig = claim_signature(store, state)
    return sig.state if sig is not None and sig.state != GOOD else None


def unsigned_actor(store: Store, doing: str) -> str:
    """Why this clone may not write in a repository that requires signed claims."""
    if store.repo.signer is None:
        return (f"cannot {doing}: this repository requires signed claims (.gitclaim.yaml signing.required) and "
                "this clone has no signing key: set one up with gitclaim init --signing-key FILE (docs/signing.md)")
    return (f"cannot {doing}: this repository requires signed claims and this clone's key "
            f"({store.repo.signer.key}) is not in the trust list {TRUST_FILE} of the default branch "
            f"({store.trust().source or 'none found'}): add its line there (docs/signing.md)")
