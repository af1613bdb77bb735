"""Ready work and `next`: claim the best ready mission in one step.

Ready means QUEUED with every mission in `requires` DONE. Best means the most urgent priority tier (P0 first).
Within that tier, agents must not all run at the same top mission: each ranks the tier by a hash of
(its instance id, the mission id, the attempt), rendezvous hashing, so concurrent agents spread over the tier and
a lost race is the exception; priority between tiers stays strict.
Details and measurements: docs/lifecycle.md and docs/performance.md.
"""

from __future__ import annotations

from typing import NamedTuple

from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.hashing import hasher
from gitclaim.core.store import Outcome, State, Store
from gitclaim.errors import Conflict, CorruptMission, NothingReady

MAX_ROUNDS = 50


class Claimed(NamedTuple):
    outcome: Outcome
    lost_races: int
    pushes: int


def ready(states: list[State], done_elsewhere: set[str] | None = None) -> list[State]:
    """QUEUED missions whose requirements are all DONE, most urgent first, then oldest."""
    done = {s.mission_id for s in states if s.mission.status == m.DONE} | (done_elsewhere or set())
    out = [s for s in states if s.mission.status == m.QUEUED and all(r in done for r in s.mission.requires)]
    return sorted(out, key=lambda s: (s.mission.priority, s.mission.created or "", s.mission_id))


def _archived_done(store: Store, states: list[State]) -> set[str]:
    """Requirements that are not live may have been archived: look them up only when some mission needs one."""
    live = {s.mission_id for s in states}
    missing = {r for s in states if s.mission.status == m.QUEUED for r in s.mission.requires if r not in live}
    if not missing:
        return set()
    from gitclaim.missions import archive

    index = archive.archived_index(store)
    return {mid for mid in missing if mid in index and index[mid].status == m.DONE}


def choose(candidates: list[State], instance: str, attempt: int) -> State:
    tier = [s for s in candidates if s.mission.priority == candidates[0].mission.priority]
    return max(tier, key=lambda s: _score(instance, s.mission_id, attempt))


def _score(instance: str, mission_id: str, attempt: int) -> bytes:
    return hasher("blake2b")(f"{instance}\0{mission_id}\0{attempt}".encode(), digest_size=8).digest()


def ready_now(store: Store) -> tuple[list[State], list[State], list[CorruptMission]]:
    """(all readable missions, the ready ones, the unreadable ones) from the local mirror."""
    states, broken = store.all(bodies=False)
    return states, ready(states, _archived_done(store, states)), broken


def waiting(states: list[State], ready_ids: set[str]) -> list[tuple[str, list[str]]]:
    """Each QUEUED mission that is not ready, with what it waits on: `a (ACTIVE)`, `x (no such mission)`."""
    status = {s.mission_id: s.mission.status for s in states}
    out = []
    for st in sorted(states, key=lambda s: (s.mission.priority, s.mission_id)):
        if st.mission.status != m.QUEUED or st.mission_id in ready_ids:
            continue
        on = [f"{r} ({status.get(r, 'not live')})" for r in st.mission.requires
              if status.get(r) != m.DONE]
        out.append((st.mission_id, on or ["archived requirements that are not DONE"]))
    return out


def describe_waiting(waits: list[tuple[str, list[str]]], limit: int = 5) -> str:
    shown = "; ".join(f"{mid} waits on {', '.join(on)}" for mid, on in waits[:limit])
    return shown + (f"; and {len(waits) - limit} more" if len(waits) > limit else "")


def next_mission(store: Store, actor: claims.Actor) -> Claimed:
    """Fetch once, claim the best ready mission; on a lost race, re-read and take the next best."""
    store.sync()
    lost, pushes_before = 0, store.pushes
    for attempt in range(MAX_ROUNDS):
        states, candidates, _ = ready_now(store)
        if not candidates:
            raise NothingReady(_nothing_ready(states, waiting(states, set())))
        pick = choose(candidates, actor.instance, attempt)
        try:
            out = claims.claim(store, actor, pick.mission_id)
        except Conflict:
            lost += 1
            continue
        return Claimed(out, lost, store.pushes - pushes_before)
    raise Conflict(f"lost {lost} races in a row for ready missions; try again")


def _nothing_ready(states: list[State], waits: list[tuple[str, list[str]]]) -> str:
    queued = [s for s in states if s.mission.status == m.QUEUED]
    held = [s for s in states if s.mission.status in m.HELD]
    if queued:
        return (f"nothing ready to claim: {len(queued)} queued missions wait on requirements that are not DONE "
                f"({describe_waiting(waits)}), {len(held)} are held")
    return f"nothing ready to claim: no queued missions ({len(held)} held, {len(states) - len(held)} others)"
