"""The board: every mission in a column, what each agent holds, and the timeline, from one batch read.

Reading costs one fetch, one for-each-ref, one `git log` over every mission's chain and one `cat-file --batch`
for the mission.md of every commit (missions/histories.py), however many missions there are. The HTML page
(gitclaim/web/) and the terminal board (cli/board_cmds.py) are two views of the Board built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gitclaim.core import execlog, timeutil, transitions
from gitclaim.core import mission as m
from gitclaim.core.claimsigs import claim_signatures
from gitclaim.core.store import Store
from gitclaim.core.trust import BAD, Signature
from gitclaim.missions import histories, timeline
from gitclaim.missions.histories import Chain

# (key, heading) in the order the board shows them
COLUMNS = (
    ("ready", "Ready"),
    ("waiting", "Waiting on requirements"),
    ("active", "Active"),
    ("stale", "Stale"),
    ("blocked", "Blocked"),
    ("done", "Done recently"),
    ("failed", "Failed or cancelled"),
)
DEFAULT_DAYS = 7.0


@dataclass
class Card:
    mission: m.Mission
    column: str
    commit: str
    idle: timedelta | None = None  # since the holder's last write
    lease_left: timedelta | None = None  # until the claim becomes stale (negative: stale for that long)
    progress: int | None = None  # the last milestone's percentage
    milestone: str | None = None  # the last milestone's text
    requires: list[tuple[str, str]] = field(default_factory=list)  # (id, status or "missing")
    history: list[execlog.Event] = field(default_factory=list, repr=False)
    signature: Signature | None = None  # of the claim the mission records (docs/signing.md); None: no claim

    @property
    def events(self) -> int:
        return len(self.history)

    @property
    def log(self) -> str:
        """The execution log in the seed's layout: rendered only by the views that show it (the page)."""
        return execlog.render(self.history)

    @property
    def holder(self) -> str:
        mis = self.mission
        return " ".join(p for p in (mis.claimed_by, mis.claim_user, mis.claim_instance) if p) if mis.held else ""

    @property
    def search_text(self) -> str:
        principal = self.signature.principal if self.signature is not None else None
        return f"{self.mission.mission_id} {self.mission.title} {self.holder} {principal or ''}".strip().lower()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.mission.to_json(), "column": self.column, "commit": self.commit,
            "idle": timeutil.format_duration(self.idle) if self.idle is not None else None,
            "lease_left": timeutil.format_duration(self.lease_left) if self.lease_left is not None else None,
            "progress": self.progress, "milestone": self.milestone,
            "requirements": [{"mission_id": r, "status": s} for r, s in self.requires],
            "signature": self.signature.to_json() if self.signature is not None else None,
        }


@dataclass
class Agent:
    instance: str
    session: str
    user: str
    holds: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"instance": self.instance, "session": self.session, "user": self.user, "holds": self.holds}


@dataclass
class Board:
    now: datetime
    remote: str
    ttl: timedelta
    days: float
    columns: dict[str, list[Card]]
    agents: list[Agent]
    timeline: timeline.Timeline
    finished_older: int = 0  # DONE / FAILED before the window: counted, not shown
    broken: list[str] = field(default_factory=list)
    trust_source: str | None = None  # where the trust list was read from; None when no list is committed

    def marked(self, sig: Signature | None) -> bool:
        """Whether a claim's signature is worth a mark on the compact terminal board: a bad one always; an
        unsigned or untrusted one once the repository has a trust list (before that, every claim would be)."""
        return sig is not None and (sig.state == BAD or (self.trust_source is not None and sig.state != "good"))

    @property
    def total(self) -> int:
        return sum(len(cards) for cards in self.columns.values()) + self.finished_older

    def to_json(self) -> dict[str, Any]:
        return {
            "generated": timeutil.format_ts(self.now), "remote": self.remote,
            "lease_ttl": timeutil.format_duration(self.ttl), "days": self.days,
            "counts": {key: len(self.columns[key]) for key, _ in COLUMNS},
            "finished_older": self.finished_older,
            "columns": {key: [c.to_json() for c in self.columns[key]] for key, _ in COLUMNS},
            "agents": [a.to_json() for a in self.agents], "timeline": self.timeline.to_json(),
            "broken": self.broken, "trust_source": self.trust_source,
        }


def build_board(store: Store, *, days: float = DEFAULT_DAYS, now: datetime | None = None,
                fetch: bool = True) -> Board:
    if fetch:
        store.sync()
    chains = histories.all_chains(store)
    # Every claim's signature in one batch (core/claimsigs.py): no git process for missions whose tips did not move.
    lists = store.trust()
    sigs = claim_signatures(store, [c.state for c in chains if c.state is not None], lists, every=True)
    board = board_from(chains, now=now or timeutil.now(), ttl=store.ttl, days=days, remote=store.repo.remote,
                       archived=_archived_status(store, chains), signatures=sigs)
    board.trust_source = lists.source if lists.allowed_oid is not None else None
    return board


def _archived_status(store: Store, chains: list[Chain]) -> dict[str, str]:
    """Statuses of required missions that are not live: they may have been archived. Read (one more fetch of
    the archive ref) only when some mission requires one."""
    live = {c.mission_id for c in chains}
    missing = {r for c in chains if c.state for r in c.state.mission.requires if r not in live}
    if not missing:
        return {}
    from gitclaim.missions import archive

    index = archive.archived_index(store)
    return {mid: index[mid].status for mid in missing if mid in index}


def board_from(chains: list[Chain], *, now: datetime, ttl: timedelta, days: float, remote: str,
               archived: dict[str, str] | None = None, signatures: dict[str, Signature] | None = None) -> Board:
    """The board of already-read chains: a pure function, so views and tests need no git."""
    readable = [c for c in chains if c.state is not None]
    broken = [str(c.error) for c in chains if c.state is None and c.error is not None]
    status = dict(archived or {})
    status.update({c.state.mission_id: c.state.mission.status for c in readable if c.state})
    columns: dict[str, list[Card]] = {key: [] for key, _ in COLUMNS}
    older = 0
    since = now - timedelta(days=days)
    for chain in readable:
        card = _card(chain, status, now, ttl)
        card.signature = (signatures or {}).get(card.mission.mission_id)
        finished = timeutil.parse_ts(card.mission.finished_at)
        if card.column in ("done", "failed") and finished is not None and finished < since:
            older += 1
            continue
        columns[card.column].append(card)
    for cards in columns.values():
        cards.sort(key=lambda c: (c.mission.priority, c.mission.created or "", c.mission.mission_id))
    for key in ("done", "failed"):
        columns[key].sort(key=lambda c: c.mission.finished_at or "", reverse=True)
    return Board(now, remote, ttl, days, columns, _agents(columns), timeline.build(readable, now, days),
                 older, broken)


def column_of(mis: m.Mission, status: dict[str, str], now: datetime, ttl: timedelta) -> str:
    if mis.status == m.QUEUED:
        return "ready" if all(status.get(r) == m.DONE for r in mis.requires) else "waiting"
    if mis.status == m.BLOCKED:
        return "blocked"
    if mis.status == m.ACTIVE:
        return "stale" if transitions.is_stale(mis, now, ttl) else "active"
    return "done" if mis.status == m.DONE else "failed"


def _card(chain: Chain, status: dict[str, str], now: datetime, ttl: timedelta) -> Card:
    state = chain.state
    assert state is not None
    mis = state.mission
    events = [step.event for step in chain.steps]
    card = Card(mis, column_of(mis, status, now, ttl), state.commit, history=events,
                requires=[(r, status.get(r, "missing")) for r in mis.requires])
    last = mis.last_activity_at()
    if mis.held and last is not None:
        card.idle = now - last
        card.lease_left = ttl - card.idle
    for ev in reversed(events):
        if ev.kind == "milestone":
            raw = ev.trailers.get("progress", "")
            card.progress = int(raw) if raw.isdigit() else None
            card.milestone = " ".join(ev.text.split())
            break
    return card


def _agents(columns: dict[str, list[Card]]) -> list[Agent]:
    """Who holds what now, one entry per (instance, session)."""
    agents: dict[tuple[str, str], Agent] = {}
    for key in ("active", "stale", "blocked"):
        for card in columns[key]:
            mis = card.mission
            who = (mis.claim_instance or "", mis.claimed_by or "")
            agent = agents.setdefault(who, Agent(who[0], who[1], mis.claim_user or ""))
            agent.holds.append(mis.mission_id)
    return sorted(agents.values(), key=lambda a: (a.session.lower(), a.instance))
