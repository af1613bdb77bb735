"""The session-start check (the seed's /start): what this agent holds, what others hold, what is ready.

"This agent" is this clone's instance and, when the clone signs with a key in the trust list, every clone of the
same principal: a mission whose claim is signed good by this clone's principal from another clone (an agent that
cloned again) is listed as its own, with the command that resumes it here (docs/signing.md).

Non-interactive: it reports, and with `claim=True` claims only when this instance holds nothing yet (an agent
resumes its own work before taking more): the most urgent of its missions held from another clone, else the top
ready mission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitclaim.core import execlog
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.claimsigs import claim_signatures
from gitclaim.core.git import CatFile
from gitclaim.core.store import Store
from gitclaim.core.trust import GOOD, Signature
from gitclaim.errors import Conflict, NothingReady
from gitclaim.missions import ready, views

LOG_TAIL = 5
READY_SHOWN = 10


@dataclass
class StartReport:
    instance: str
    session: str
    mine: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)
    ready: list[dict[str, Any]] = field(default_factory=list)
    ready_total: int = 0
    waiting: list[dict[str, Any]] = field(default_factory=list)  # QUEUED, not ready: what each waits on
    claimed: dict[str, Any] | None = None
    resumed: dict[str, Any] | None = None  # with --claim, the claim a resume replaced: instance and epoch
    note: str | None = None
    trust_list: bool = False  # the default branch has a trust list: every claim's signature is worth showing
    broken: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def start(store: Store, actor: claims.Actor, *, claim: bool = False) -> StartReport:
    store.sync()
    states, candidates, broken = ready.ready_now(store)
    now, ttl = actor.now, store.ttl
    report = StartReport(actor.instance, actor.session, broken=[str(b) for b in broken])
    # Most urgent first (P0 before P9), as the ready queue: `Next: resume` points at the first of them.
    held = sorted((s for s in states if s.mission.status in m.HELD),
                  key=lambda s: (s.mission.priority, s.mission_id))
    sigs = claim_signatures(store, held)
    report.trust_list = store.trust().allowed_oid is not None
    with CatFile(store.git) as cat:
        for st in held:
            sig = sigs.get(st.mission_id)
            row = views.row(st.mission, now, claims.is_stale(st.mission, now, ttl), sig)
            here = st.mission.claim_instance == actor.instance
            if here or _same_agent(actor, st.mission, sig):
                row["resume"] = None if here else f"gitclaim claim {st.mission_id}"
                tail = execlog.history(store, st, limit=LOG_TAIL, cat=cat)
                row["log_tail"] = [f"{e.when.strftime('%Y-%m-%d %H:%M')} - {execlog.describe(e)}"
                                   for e in tail if execlog.describe(e)]
                report.mine.append(row)
            else:
                report.others.append(row)
    report.ready = [views.row(s.mission, now, False) for s in candidates[:READY_SHOWN]]
    report.ready_total = len(candidates)
    ready_ids = {s.mission_id for s in candidates}
    report.waiting = [{"mission_id": mid, "waits_on": on} for mid, on in ready.waiting(states, ready_ids)]
    if claim:
        _claim_top(store, actor, report)
    return report


def _same_agent(actor: claims.Actor, mission: m.Mission, sig: Signature | None) -> bool:
    """The claim was made, from another clone, by this clone's principal: its signature proves it (anyone can
    write a principal into mission.md), and the principal it records is the one `claim` resumes by."""
    return actor.principal is not None and mission.claim_principal == actor.principal and sig is not None \
        and sig.state == GOOD and sig.principal == actor.principal


def _claim_top(store: Store, actor: claims.Actor, report: StartReport) -> None:
    here = [r["mission_id"] for r in report.mine if not r["resume"]]
    if here:
        report.note = f"not claiming more: resume what you hold ({', '.join(here)})"
        return
    if report.mine:  # this agent's missions, held from another clone: take the most urgent back first
        try:
            out = claims.claim(store, actor, report.mine[0]["mission_id"])
        except Conflict as err:
            report.note = str(err)
            return
        report.claimed = out.state.mission.to_json()
        if claims.claim_action(out) == "resume" and out.previous is not None:
            report.resumed = {"instance": out.previous.mission.claim_instance,
                              "epoch": out.previous.mission.claim_epoch}
        return
    try:
        got = ready.next_mission(store, actor)
    except NothingReady as err:
        report.note = str(err)
        return
    report.claimed = got.outcome.state.mission.to_json()


def render(report: StartReport) -> str:
    out = [f"gitclaim start: instance {report.instance}, session \"{report.session}\"", ""]
    out.append(f"== Your missions ({len(report.mine)}) ==")
    for r in report.mine:
        stale = ", STALE: heartbeat or log now" if r["stale"] and not r["resume"] else ""  # held here only
        out.append(f"{r['mission_id']}  {r['status']}  P{r['priority']}  {r['title']}{_requires(r)}  (epoch "
                   f"{r['epoch']}, idle {r['idle']}{stale})")
        if r["resume"]:
            out.append(f"  held by your principal {r['principal']} from another clone (instance {r['instance']}): "
                       f"resume it here with {r['resume']}")
        out += _signature(report, r)
        if r.get("blocked_reason"):
            out.append(f"  BLOCKED: {r['blocked_reason']} (a person runs: gitclaim unblock {r['mission_id']})")
        out += [f"  - {line}" for line in r.get("log_tail", [])]
    if not report.mine:
        out.append("none")
    out += ["", f"== Other active missions ({len(report.others)}) =="]
    for r in report.others:
        stale = f"  STALE: gitclaim claim {r['mission_id']} --steal" if r["stale"] else ""
        out.append(f"{r['mission_id']}  {r['status']}  held by \"{r['claimed_by']}\" since {r['claimed_at']}, "
                   f"idle {r['idle']}{stale}")
        out += _signature(report, r)
    if not report.others:
        out.append("none")
    out += ["", f"== Ready queue ({report.ready_total}) =="]
    for i, r in enumerate(report.ready, 1):
        out.append(f"{i}. {r['mission_id']}  P{r['priority']}  {r['title']}{_requires(r)}")
    if not report.ready:
        out.append("none")
    if report.waiting:
        out.append(f"waiting: {ready.describe_waiting([(w['mission_id'], w['waits_on']) for w in report.waiting])}")
    if report.broken:
        out += ["", "== Unreadable missions ==", *report.broken]
    out.append("")
    out.append(_next_step(report))
    return "\n".join(out) + "\n"


def _signature(report: StartReport, row: dict[str, Any]) -> list[str]:
    """The claim's signature, once the repository has a trust list (before that every claim is unsigned), and a
    signature that does not verify always."""
    sig = row.get("signature")
    if sig is None or not (report.trust_list or sig["state"] == "bad"):
        return []
    return [f"  signature: {Signature(sig['state'], sig['principal'], sig['key']).text()}"]


def _requires(row: dict[str, Any]) -> str:
    return f"  (requires {', '.join(row['requires'])})" if row.get("requires") else ""


def _next_step(report: StartReport) -> str:
    if report.claimed:
        c = report.claimed
        if report.resumed:
            return (f"Resumed {c['mission_id']} (epoch {c['epoch']}): held before by instance "
                    f"{report.resumed['instance']}. Next: gitclaim show {c['mission_id']}")
        return f"Claimed {c['mission_id']} (epoch {c['epoch']}): {c['title']}. Next: gitclaim show {c['mission_id']}"
    if report.note:
        return f"Note: {report.note}"
    if report.mine:
        first = report.mine[0]
        return f"Next: resume {first['mission_id']} ({first['resume'] or 'gitclaim show ' + first['mission_id']})"
    if report.ready:
        return "Next: gitclaim next (claims the best ready mission)"
    return "Next: nothing to do; wait or create a mission (gitclaim new)"


