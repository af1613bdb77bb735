"""`watch`: fetch at an interval and report each change to the missions as an event, until a condition holds.

Events come from the missions' histories, not from comparing two snapshots' states: every commit that landed
between two fetches is one event, so a claim that was released again before the next fetch is still reported
(two events). A poll with no change costs one no-op fetch and one for-each-ref; a change adds one `git log` and
one `cat-file --batch` for all the changed missions together, and one more `git log` checking the signatures of
the new commits (core/trust.py; the trust list is read once, with one `cat-file`, at the first change).

Conditions (`until`):
  changed   any event on a watched mission
  claimed   a watched mission is claimed, taken over or resumed
  released  a watched mission stops being held (release, done, fail)
  done      every named mission is DONE (without ids: any mission becomes DONE); already true at start counts;
            a named mission that ended FAILED or CANCELLED stops the wait with a Conflict (it would never hold)
  ready     one of the named missions (without ids: any mission) is ready to claim; already true at start counts
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from gitclaim.core import mission as m
from gitclaim.core import timeutil, trust
from gitclaim.core.refs import check_id
from gitclaim.core.repo import Repo
from gitclaim.core.store import Store
from gitclaim.errors import Conflict, InvalidInput, NotFound, TimedOut
from gitclaim.missions import histories, ready

CONDITIONS = ("changed", "claimed", "released", "done", "ready")
DEFAULT_INTERVAL = 5.0
BACKOFF = 1.5  # each quiet poll waits this much longer ...
MAX_BACKOFF = 4.0  # ... up to this many times the interval; any change goes back to the interval


@dataclass(frozen=True)
class WatchEvent:
    mission_id: str
    action: str  # the commit's Gitclaim-Action; "removed" when the ref went away (archived or deleted)
    status_before: str | None
    status_after: str | None
    session: str | None
    user: str | None
    instance: str | None
    epoch: int | None
    commit: str | None
    time: datetime
    signature: trust.Signature | None = None  # the commit's own (docs/signing.md); None for "removed"
    marked: bool = False  # a signature that is not good is worth saying in describe() (see _mark)

    def to_json(self) -> dict[str, Any]:
        holder = ({"session": self.session, "user": self.user, "instance": self.instance}
                  if self.instance else None)
        return {
            "mission_id": self.mission_id, "action": self.action, "status_before": self.status_before,
            "status_after": self.status_after, "holder": holder, "epoch": self.epoch, "commit": self.commit,
            "time": timeutil.format_ts(self.time),
            "signature": self.signature.to_json() if self.signature is not None else None,
        }

    def describe(self) -> str:
        moved = f"{self.status_before or '-'} -> {self.status_after or '-'}"
        who = f' holder "{self.session}" ({self.user}, instance {self.instance})' if self.instance else ""
        commit = f" {self.commit[:12]}" if self.commit else ""
        sig = self.signature
        signed = ""
        if sig is not None and sig.state == trust.GOOD:
            signed = f" signed by {sig.principal}"
        elif sig is not None and self.marked:
            signed = f" {sig.state.upper() if sig.state != trust.NONE else 'UNSIGNED'}" + \
                (f" (key {sig.key})" if sig.key else "")
        return f"{timeutil.format_ts(self.time)} {self.mission_id} {self.action} {moved}{who}{commit}{signed}"


def interval_setting(repo: Repo, given: str | None = None) -> float:
    """--interval, else $GITCLAIM_WATCH_INTERVAL, else git config gitclaim.watchInterval, else 5 s."""
    return duration_setting(repo, given, "GITCLAIM_WATCH_INTERVAL", "gitclaim.watchInterval", DEFAULT_INTERVAL)


def duration_setting(repo: Repo, given: str | None, env: str, key: str, default: float) -> float:
    raw = given or os.environ.get(env) or repo.get(key)
    if not raw:
        return default
    seconds = timeutil.parse_duration(raw).total_seconds()
    if seconds <= 0:
        raise InvalidInput(f"{key} must be at least 1s, got {raw!r}")
    return seconds


class Watcher:
    """Iterate over `events()`; it ends when the condition holds (then `reason` says why) and raises TimedOut
    when `timeout` seconds pass first."""

    def __init__(self, store: Store, ids: Sequence[str], until: str = "changed", *, interval: float,
                 timeout: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if until not in CONDITIONS:
            raise InvalidInput(f"unknown condition {until!r}: use one of {', '.join(CONDITIONS)}")
        for mission_id in ids:
            check_id(mission_id)
        self.store, self.ids, self.until = store, tuple(dict.fromkeys(ids)), until
        self.interval, self.timeout = interval, timeout
        self._sleep, self._clock = sleep, clock
        self.reason = ""
        self.polls = 0
        self.seen: list[WatchEvent] = []  # every event yielded so far
        self._started: float | None = None
        self._tips: dict[str, str] = {}
        self._status: dict[str, str] = {}
        self._archived: dict[str, str] = {}  # watched missions no longer live: their last status

    def start(self) -> bool:
        """The first read: what later events are measured against. True when the condition holds already."""
        self._started = self._clock()
        self._poll_tips()
        self._check_ids()
        return self._holds([], anything=True)

    def describe(self) -> str:
        every = timeutil.format_duration(timedelta(seconds=self.interval))
        count = f"{len(self._tips)} mission{'' if len(self._tips) == 1 else 's'}"
        return f"watching {self._what()} ({count}, a fetch every {every} or more)"

    def events(self) -> Iterator[WatchEvent]:
        if self._started is None and self.start():
            return
        if self.reason:
            return
        started = self._started or self._clock()
        wait = self.interval
        while True:
            if self.timeout is not None:
                left = self.timeout - (self._clock() - started)
                if left <= 0:
                    took = timeutil.format_duration(timedelta(seconds=self.timeout))
                    raise TimedOut(f"timed out after {took} waiting for {self._what()}")
                wait = min(wait, left)
            self._sleep(wait)
            every = self._poll()
            found = [ev for ev in every if not self.ids or ev.mission_id in self.ids]
            self.seen += found
            yield from found
            if self._holds(found, anything=bool(every)):
                return
            wait = self.interval if every else min(wait * BACKOFF, self.interval * MAX_BACKOFF)

    # ---- reading ------------------------------------------------------------------------------------------
    def _poll_tips(self) -> dict[str, str]:
        self.store.sync()
        self.polls += 1
        before = self._tips
        self._tips = dict(self.store.ids())
        if not before:  # the first read: the current states, for status_before and the start conditions
            missions = histories.read_tips(self.store, self._tips)
            self._status = {mid: mis.status for mid, mis in missions.items()}
        return before

    def _poll(self) -> list[WatchEvent]:
        before = self._tips
        self._poll_tips()
        changed = {mid: tip for mid, tip in self._tips.items() if before.get(mid) != tip}
        since = {mid: before[mid] for mid in changed if mid in before}
        found: list[WatchEvent] = []
        for chain in histories.read_chains(self.store, changed, since):
            status = self._status.get(chain.mission_id) if chain.mission_id in before else None
            for step in chain.steps:
                found.append(_event(chain.mission_id, step, status))
                status = step.mission.status if step.mission else status
            if status is not None:
                self._status[chain.mission_id] = status
        now = timeutil.now()
        gone = sorted(set(before) - set(self._tips))
        for mid in gone:
            found.append(WatchEvent(mid, "removed", self._status.pop(mid, None), None, None, None, None, None, None,
                                    now))
        self._note_archived([mid for mid in gone if mid in self.ids])
        found.sort(key=lambda ev: ev.time)  # stable: each mission's own events keep their order
        return self._signed(found)

    def _signed(self, found: list[WatchEvent]) -> list[WatchEvent]:
        """The events with their commits' signatures: one `git log` for all of them (none for commits already
        checked against this trust list). A commit that is not good is marked in the text only where the
        default branch has a trust list, or when it is bad (as `list` and the board do)."""
        oids = [ev.commit for ev in found if ev.commit]
        if not oids:
            return found
        lists = self.store.trust()
        sigs = trust.verify(self.store.git, lists, self.store.state_dir, oids)
        listed = lists.allowed_oid is not None
        out = []
        for ev in found:
            sig = sigs.get(ev.commit, trust.NO_SIGNATURE) if ev.commit else None
            marked = sig is not None and (sig.state == trust.BAD or (listed and sig.state != trust.GOOD))
            out.append(replace(ev, signature=sig, marked=marked))
        return out

    def _check_ids(self) -> None:
        missing = [mid for mid in self.ids if mid not in self._tips]
        if not missing:
            return
        from gitclaim.missions import archive

        index = archive.archived_index(self.store)
        unknown = [mid for mid in missing if mid not in index]
        if unknown:
            raise NotFound(f"no mission {unknown[0]!r} on remote {self.store.repo.remote!r} (live or archived)")
        self._archived.update((mid, index[mid].status) for mid in missing)

    # ---- the condition ------------------------------------------------------------------------------------
    def _holds(self, found: list[WatchEvent], *, anything: bool) -> bool:
        """Whether the condition holds after `found` (the watched missions' events); `anything`: some mission
        changed (readiness of a watched mission also moves with its requirements)."""
        if self.until == "changed" and found:
            self.reason = f"{found[-1].mission_id} changed"
        elif self.until == "claimed":
            hit = next((ev for ev in found if ev.action in ("claim", "takeover", "resume")), None)
            self.reason = f"{hit.mission_id} was claimed" if hit else ""
        elif self.until == "released":
            hit = next((ev for ev in found if ev.status_before in m.HELD and ev.status_after not in m.HELD), None)
            self.reason = f"{hit.mission_id} was released ({hit.action})" if hit else ""
        elif self.until == "done":
            self.reason = self._done(found)
        elif self.until == "ready" and anything:
            self.reason = self._ready()
        return bool(self.reason)

    def _note_archived(self, gone: list[str]) -> None:
        """The last status of watched missions whose refs went away: a mission finished and archived between
        two polls left no event but its removal. One read of the archive index, only when that happens."""
        if not gone or self.until != "done":
            return
        from gitclaim.missions import archive

        self.store.sync([self.store.namespace.archive_fetch])  # again: the archive moved since any earlier read
        index = archive.snapshot(self.store).index
        self._archived.update((mid, index[mid].status) for mid in gone if mid in index)

    def _done(self, found: list[WatchEvent]) -> str:
        if not self.ids:
            hit = next((ev for ev in found if ev.status_after == m.DONE and ev.status_before != m.DONE), None)
            return f"{hit.mission_id} is DONE" if hit else ""
        status = {**self._archived, **self._status}
        for mid in self.ids:
            if status.get(mid) in (m.FAILED, m.CANCELLED):
                # it cannot become DONE unless someone reopens it: waiting on would only end in the timeout
                raise Conflict(f"mission {mid} ended {status[mid]}, so it will not be DONE unless it is reopened: "
                               f"stopped waiting (see gitclaim show {mid})")
        return f"{', '.join(self.ids)} DONE" if all(status.get(mid) == m.DONE for mid in self.ids) else ""

    def _ready(self) -> str:
        _, candidates, _ = ready.ready_now(self.store)
        wanted = [s.mission_id for s in candidates if not self.ids or s.mission_id in self.ids]
        return f"{wanted[0]} is ready to claim" if wanted else ""

    def _what(self) -> str:
        which = ", ".join(self.ids) if self.ids else "any mission"
        return {"changed": f"a change to {which}", "claimed": f"a claim of {which}",
                "released": f"a release of {which}", "done": f"{which} to be DONE",
                "ready": f"{which} to be ready"}[self.until]


def _event(mission_id: str, step: histories.Step, before: str | None) -> WatchEvent:
    mis = step.mission
    held = mis is not None and mis.held
    return WatchEvent(
        mission_id, step.event.action, before, mis.status if mis else None,
        mis.claimed_by if held and mis else None, mis.claim_user if held and mis else None,
        mis.claim_instance if held and mis else None, mis.claim_epoch if mis else None, step.commit.oid,
        datetime.fromtimestamp(step.commit.committer_time, UTC),
    )
