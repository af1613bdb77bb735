"""Who held what, when: claim intervals read from the missions' histories, one lane per agent.

A holding starts with the commit that makes an (instance, epoch) pair the holder (a claim or a takeover) and
ends with the first commit that has another holder or none (release, done, fail, a takeover by someone else).
A holding still open runs to now. Only holdings that overlap the window are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gitclaim.core import timeutil
from gitclaim.missions.histories import Chain

MIN_SPAN = timedelta(minutes=10)  # the shortest window the picture zooms in to


@dataclass(frozen=True)
class Holding:
    mission_id: str
    title: str
    instance: str
    session: str
    user: str
    epoch: int
    start: datetime
    end: datetime | None  # None: still held
    ended_by: str | None  # the action that ended it: release, complete, fail, takeover, ...
    taken_over: bool  # it started by a takeover (steal or force)

    def to_json(self) -> dict[str, Any]:
        return {
            "mission_id": self.mission_id, "title": self.title, "instance": self.instance,
            "session": self.session, "user": self.user, "epoch": self.epoch,
            "start": timeutil.format_ts(self.start),
            "end": timeutil.format_ts(self.end) if self.end else None, "ended_by": self.ended_by,
            "takeover": self.taken_over,
        }


@dataclass
class Lane:
    instance: str
    sessions: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)

    @property
    def label(self) -> str:
        who = ", ".join(self.sessions) or ", ".join(self.users) or "unknown"
        return f"{who} ({self.instance})"


@dataclass
class Timeline:
    start: datetime
    end: datetime
    lanes: list[Lane]

    def to_json(self) -> dict[str, Any]:
        return {
            "start": timeutil.format_ts(self.start), "end": timeutil.format_ts(self.end),
            "lanes": [{"instance": lane.instance, "sessions": lane.sessions, "users": lane.users,
                       "holdings": [h.to_json() for h in lane.holdings]} for lane in self.lanes],
        }


def holdings(chain: Chain) -> list[Holding]:
    """Every holding of one mission, oldest first."""
    out: list[Holding] = []
    current: dict[str, Any] | None = None
    for step in chain.steps:
        mis = step.mission
        if mis is None:
            continue
        when = datetime.fromtimestamp(step.commit.committer_time, UTC)
        holder = (mis.claim_instance, mis.claim_epoch) if mis.held else None
        if current is not None and holder != (current["instance"], current["epoch"]):
            out.append(Holding(**current, end=when, ended_by=step.event.action))
            current = None
        if current is None and holder is not None:
            current = {
                "mission_id": chain.mission_id, "title": mis.title, "instance": mis.claim_instance or "",
                "session": mis.claimed_by or "", "user": mis.claim_user or "", "epoch": mis.claim_epoch,
                "start": when, "taken_over": step.event.action == "takeover",
            }
    if current is not None:
        out.append(Holding(**current, end=None, ended_by=None))
    return out


def build(chains: Iterable[Chain], now: datetime, days: float) -> Timeline:
    start = now - timedelta(days=days)
    lanes: dict[str, Lane] = {}
    for chain in chains:
        for h in holdings(chain):
            if (h.end or now) < start:
                continue
            lane = lanes.setdefault(h.instance, Lane(h.instance))
            lane.holdings.append(h)
            if h.session and h.session not in lane.sessions:
                lane.sessions.append(h.session)
            if h.user and h.user not in lane.users:
                lane.users.append(h.user)
    ordered = sorted(lanes.values(), key=lambda lane: lane.label.lower())
    for lane in ordered:
        lane.holdings.sort(key=lambda h: h.start)
    # A young repository's claims would be slivers at the right end of a week: start where the first one does.
    first = min((h.start for lane in ordered for h in lane.holdings), default=None)
    if first is not None and first > start:
        pad = max((now - first) / 20, MIN_SPAN / 20)
        start = max(start, min(first - pad, now - MIN_SPAN))
    return Timeline(start, now, ordered)
