"""The session-start check (the seed's /start): what this instance holds, what others hold, what is ready.

Non-interactive: it reports, and with `claim=True` claims the top ready mission only when this instance holds
nothing yet (an agent resumes its own work before taking more).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitclaim.core import execlog
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.git import CatFile
from gitclaim.core.store import Store
from gitclaim.errors import NothingReady
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
    note: str | None = None
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
    with CatFile(store.git) as cat:
        for st in held:
            row = views.row(st.mission, now, claims.is_stale(st.mission, now, ttl))
            if st.mission.claim_instance == actor.instance:
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


def _claim_top(store: Store, actor: claims.Actor, report: StartReport) -> None:
    if report.mine:
        ids = ", ".join(r["mission_id"] for r in report.mine)
        report.note = f"not claiming more: resume what you hold ({ids})"
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
        out.append(f"{r['mission_id']}  {r['status']}  P{r['priority']}  {r['title']}{_requires(r)}  (epoch "
                   f"{r['epoch']}, idle {r['idle']}{', STALE: heartbeat or log now' if r['stale'] else ''})")
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


def _requires(row: dict[str, Any]) -> str:
    return f"  (requires {', '.join(row['requires'])})" if row.get("requires") else ""


def _next_step(report: StartReport) -> str:
    if report.claimed:
        c = report.claimed
        return f"Claimed {c['mission_id']} (epoch {c['epoch']}): {c['title']}. Next: gitclaim show {c['mission_id']}"
    if report.note:
        return f"Note: {report.note}"
    if report.mine:
        return f"Next: resume {report.mine[0]['mission_id']} (gitclaim show {report.mine[0]['mission_id']})"
    if report.ready:
        return "Next: gitclaim next (claims the best ready mission)"
    return "Next: nothing to do; wait or create a mission (gitclaim new)"


