"""Signed claims at the guard (docs/server-guard.md, "Signed claims"): reading the signatures of a push and
judging them.

With `.gitclaim.yaml` `signing: {required: true}` at the server's HEAD, every new commit on a mission ref must
carry a good signature by a key of the trust list committed at HEAD (core/trust.py), a claim must record its
signer's principal, and a holder's write must be signed by the claim's principal. A `resume` (the same
principal in a new clone) stands only when the claim it resumes and the resume itself are good by one
principal, with or without the requirement; otherwise it is judged as a takeover. A takeover of a void claim
(`Gitclaim-Void-Claim`) before its lease is stale stands only when the claim really is not good.

Reading costs, for a whole push and only when something needs it: one cat-file for the trust list, one
`rev-list` to tell new commits from ones the repository already holds (only when the push creates refs), and
one `git log` that checks every signature (core/git/signatures.py). The previous claim of each updated mission
is found through the guard's own cat-file process, for a resume or a takeover only. The judgements are pure
functions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import trust
from gitclaim.core.claimsigs import CLAIM_ACTIONS, ClaimCommits, combine, find_claim
from gitclaim.core.message import parse as parse_message
from gitclaim.core.store import State
from gitclaim.core.trust import BAD, GOOD, NO_SIGNATURE, NONE, TRUST_FILE, Signature

REQUIRED = "this repository requires signed mission commits (.gitclaim.yaml signing.required)"


class Proof(NamedTuple):
    """What the signatures say about one commit, for `rules.judge_step`: its own signature, and that of the
    claim it replaces (None: the mission had no claim, or nothing was read)."""

    required: bool
    this: Signature
    prev_claim: Signature | None


class Signed(NamedTuple):
    """The signatures read for one mission ref update."""

    required: bool
    sigs: Mapping[str, Signature]
    new: frozenset[str] | None  # commits the repository does not hold yet; None: every pushed one
    prev_claim: ClaimCommits  # the claim (and holder write) the old tip rests on
    trust_source: str | None  # where the trust list was read (HEAD), None when there is none

    def is_new(self, oid: str) -> bool:
        return self.new is None or oid in self.new


class ClaimTrack:
    """Follows the claim along a pushed chain, as core/claimsigs.py `find_claim` finds it from a tip: the commit
    that made the current claim, and the tip when it is a later write by the holder."""

    def __init__(self, signed: Signed) -> None:
        self.signed = signed
        self.claim, self.holder_tip = signed.prev_claim

    def proof(self, oid: str, prev: m.Mission | None) -> Proof:
        sigs = self.signed.sigs
        prev_claim = None
        if prev is not None and prev.claim_instance:
            claim = sigs.get(self.claim, NO_SIGNATURE) if self.claim else NO_SIGNATURE
            prev_claim = combine(claim, sigs.get(self.holder_tip, NO_SIGNATURE) if self.holder_tip else None)
        return Proof(self.signed.required, sigs.get(oid, NO_SIGNATURE), prev_claim)

    def step(self, oid: str, new: m.Mission, trailers: Mapping[str, str]) -> None:
        if trailers.get("action") in CLAIM_ACTIONS and trailers.get("epoch") == str(new.claim_epoch):
            self.claim, self.holder_tip = oid, None
        else:
            self.holder_tip = oid if trailers.get("instance") == new.claim_instance else None


# ---- judging ----------------------------------------------------------------------------------------------

def unsigned_problem(short: str, sig: Signature, trust_source: str | None) -> str | None:
    """Why a new commit may not land where signing is required (None: it is good)."""
    if sig.state == GOOD:
        return None
    if sig.state == NONE:
        return (f"commit {short} is unsigned, and {REQUIRED}: set up a signing key with gitclaim init "
                "--signing-key FILE and write it with gitclaim (docs/signing.md)")
    if sig.state == BAD:
        key = f"key {sig.key}: " if sig.key else ""
        return (f"commit {short} has a signature that does not verify ({key}the commit was changed after "
                f"signing, or its key is revoked), and {REQUIRED}: write it again with gitclaim from a clone whose "
                "key is in the trust list (docs/signing.md)")
    where = f"at the server's {trust_source}" if trust_source else "(none is committed at the server's HEAD)"
    return (f"commit {short} is signed by key {sig.key or 'unknown'}, which is not in the trust list {TRUST_FILE} "
            f"{where}, and {REQUIRED}: add the key's line to {TRUST_FILE} on the default branch "
            "(docs/signing.md)")


def fence_problem(kind: str, prev: m.Mission | None, new: m.Mission, sig: Signature) -> str | None:
    """Fencing by principal, where signing is required: a claim records its signer's principal, and only that
    principal writes to the claim afterwards. `sig` is good here (unsigned_problem came first)."""
    if kind in ("claim", "takeover", "resume"):
        if new.claim_principal != sig.principal:
            said = f"claim_principal {new.claim_principal}" if new.claim_principal else "no claim_principal"
            return (f"the claim records {said}, but the commit is signed by {sig.principal}: a claim records the "
                    "principal of the key that signs it (write it with gitclaim)")
        return None
    if kind in ("holder", "unblock") and prev is not None and new.claim_instance \
            and new.claim_principal != prev.claim_principal:
        # Else an unblock (anyone's) or the holder could hand the claim to another key without a new epoch.
        return (f"it changes claim_principal from {prev.claim_principal} to {new.claim_principal} without a new "
                "epoch: only a claim, a takeover or a resume records the claim's principal")
    if kind == "holder" and prev is not None and prev.claim_principal != sig.principal:
        made = f"principal {prev.claim_principal}" if prev.claim_principal else "no principal of the trust list"
        return (f"it writes to the claim of {prev.holder_text()} (epoch {prev.claim_epoch}), made by {made}, but "
                f"is signed by {sig.principal}: only the claim's principal writes to it (fencing by principal); "
                "take other work: gitclaim next")
    return None


def resume_problem(prev: m.Mission, new: m.Mission, proof: Proof | None) -> str | None:
    """Why a `resume` is not the same principal taking its own claim back (None: it is)."""
    if proof is None:
        return "its signatures were not checked"
    this, before = proof.this, proof.prev_claim or NO_SIGNATURE
    if this.state != GOOD:
        return f"the resume is {_state_text(this)}"
    if before.state != GOOD:
        return f"the claim it resumes is {_state_text(before)}"
    if before.principal != this.principal:
        return f"the resume is signed by {this.principal} and the claim by {before.principal}"
    if new.claim_principal != this.principal:
        return f"it records claim_principal {new.claim_principal}, but is signed by {this.principal}"
    return None


def void_problem(void: str, proof: Proof | None) -> str | None:
    """Why a takeover of a claim it calls void (`Gitclaim-Void-Claim`) may not land before the lease runs out;
    None: signing is required and the claim it replaces really is not good."""
    if proof is None or not proof.required:
        return "a claim is void only where signing is required"
    before = proof.prev_claim or NO_SIGNATURE
    if before.state == GOOD:
        return (f"it takes the claim over as void (Gitclaim-Void-Claim: {void}), but that claim is signed good by "
                f"{before.principal}: a good claim is not void")
    return None


def _state_text(sig: Signature) -> str:
    return {NONE: "unsigned", BAD: "signed with a signature that does not verify"}.get(
        sig.state, "signed by a key not in the trust list")


# ---- reading ----------------------------------------------------------------------------------------------

def needs_signatures(required: bool, chains: Iterable[Iterable[g.Commit]]) -> bool:
    """Signatures are read when signing is required, or when a push holds a resume (judged by them always)."""
    return required or any(_action(c) == "resume" for chain in chains for c in chain)


def read_signatures(git: g.Git, cat: g.CatFile, required: bool,
                    updates: Mapping[str, tuple[str | None, m.Mission | None, list[g.Commit]]]) -> dict[str, Signed]:
    """`updates` maps each mission ref to (old tip, the mission it holds, the pushed chain, oldest first)."""
    claims: dict[str, ClaimCommits] = {}
    for ref, (old, mission, chain) in updates.items():
        found = ClaimCommits(None, None)
        # Only a resume and a takeover are judged by the claim they replace: a holder's write costs no walk.
        if old is not None and mission is not None and mission.claim_instance \
                and any(_action(c) in ("resume", "takeover") for c in chain):
            found = find_claim(cat, State(mission, old))
        claims[ref] = found
    wanted = {ref for ref, (_, _, chain) in updates.items()
              if required or any(_action(c) == "resume" for c in chain)}
    oids = [oid for ref in wanted for oid in (*(c.oid for c in updates[ref][2]), *claims[ref]) if oid]
    new = _new_commits(git, [chain[-1].oid for old, _, chain in updates.values() if old is None and chain]) \
        if required else None
    trusted = trust.load(git, "origin", bare=True)
    with tempfile.TemporaryDirectory(prefix="gitclaim-guard-") as tmp:
        # A scratch directory: the guard writes nothing into the repository it guards.
        sigs = trust.verify(git, trusted, Path(tmp), oids)
    out = {}
    for ref, (old, _, chain) in updates.items():
        # An update of an existing ref brings only new commits; a created one may bring old ones along.
        fresh = new & frozenset(c.oid for c in chain) if new is not None and old is None else None
        out[ref] = Signed(required, sigs, fresh, claims[ref], trusted.source)
    return out


def _new_commits(git: g.Git, tips: list[str]) -> frozenset[str]:
    """Commits reachable from the tips of created refs that no ref reaches yet (in a pre-receive hook the refs
    have not moved yet): a mission moved by `gitclaim migrate` brings its old history along, already here."""
    if not tips:
        return frozenset()
    return frozenset(git.run(["rev-list", *tips, "--not", "--all"]).text().split())


def _action(commit: g.Commit) -> str | None:
    return parse_message(commit.message)[2].get("action")
