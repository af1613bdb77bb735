"""The invariant checker: reads a remote's mission histories and reports every broken promise.

Invariants (docs/reliability.md):
1. every mission's history is one linear chain (each commit has at most one parent; exactly one root);
2. every tip holds a readable mission.md of a known format version;
3. claim epochs never decrease, and each claim or takeover raises the epoch by exactly one;
4. no two holders overlap within one epoch: every commit of an epoch that names a holder names the same one;
5. every write a command reported as successful is in the history (checked by the caller with `contains`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitclaim.core import git as g
from gitclaim.core import message as msg
from gitclaim.core import mission as m
from gitclaim.errors import CorruptMission


@dataclass
class AuditReport:
    missions: int = 0
    commits: int = 0
    violations: list[str] = field(default_factory=list)
    oids: set[str] = field(default_factory=set)

    def contains(self, oid: str) -> bool:
        return oid in self.oids


def audit(repo_path: Path | str) -> AuditReport:
    report = AuditReport()
    histories = g.audit_refs(repo_path, "refs/missions/")
    histories.update(g.audit_refs(repo_path, "refs/gitclaim/archive"))
    for ref, chain in histories.items():
        report.oids.update(c.oid for c in chain)
        if ref.startswith("refs/missions/"):
            report.missions += 1
            report.commits += len(chain)
            _check_mission(ref, chain, report.violations)
    return report


def _check_mission(ref: str, chain: list[g.AuditCommit], out: list[str]) -> None:
    mission_id = ref[len("refs/missions/"):]
    if any(len(c.parents) > 1 for c in chain) or sum(1 for c in chain if not c.parents) != 1:
        out.append(f"{mission_id}: history is not one linear chain")
        return
    ordered = list(reversed(_first_parent_order(chain)))
    try:
        m.parse(ordered[-1].mission_md or b"", mission_id)
    except CorruptMission as err:
        out.append(f"{mission_id}: tip unreadable: {err}")
    holders: dict[int, str] = {}
    prev_epoch = 0
    for commit in ordered:
        try:
            state = m.parse(commit.mission_md or b"", mission_id)
        except CorruptMission:
            continue  # a history may hold a broken commit pushed by hand; the tip check above covers safety
        _, _, trailers = msg.parse(commit.message)
        action = trailers.get("action", "")
        if state.claim_epoch < prev_epoch:
            out.append(f"{mission_id}: epoch went back from {prev_epoch} to {state.claim_epoch} at {commit.oid[:10]}")
        if action in ("claim", "takeover", "resume") and state.claim_epoch != prev_epoch + 1:
            out.append(f"{mission_id}: {action} at {commit.oid[:10]} moved epoch {prev_epoch} -> {state.claim_epoch}")
        if state.status in m.HELD and state.claim_instance:
            first = holders.setdefault(state.claim_epoch, state.claim_instance)
            if first != state.claim_instance:
                out.append(f"{mission_id}: two holders in epoch {state.claim_epoch}: {first} and "
                           f"{state.claim_instance}")
        prev_epoch = state.claim_epoch


def _first_parent_order(chain: list[g.AuditCommit]) -> list[g.AuditCommit]:
    """Tip first: the commit nobody names as parent, then its parents in turn."""
    by_oid = {c.oid: c for c in chain}
    named = {p for c in chain for p in c.parents}
    tip = next(c for c in chain if c.oid not in named)
    out = [tip]
    while out[-1].parents:
        out.append(by_oid[out[-1].parents[0]])
    return out
