"""Many missions' histories read at once: one `git log` over every chain and one `cat-file --batch` for the
mission.md each commit holds, whatever the number of missions (the board and `watch` read them this way).

A chain is read newest to oldest by following first parents from the tip, so the order git prints commits in
does not matter, and a chain read from an excluded commit on (`since`) stops right after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from gitclaim.core import execlog
from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core.store import State, Store
from gitclaim.errors import CorruptMission


@dataclass(frozen=True)
class Step:
    """One commit of a mission's history and the mission it holds (None when that mission.md is unreadable)."""

    commit: g.Commit
    mission: m.Mission | None

    @cached_property  # read by the cards and the timeline alike: parse each message once
    def event(self) -> execlog.Event:
        return execlog.event_of(self.commit, self.mission)


@dataclass(frozen=True)
class Chain:
    mission_id: str
    tip: str
    steps: tuple[Step, ...]  # oldest first
    error: CorruptMission | None = None  # the tip's mission.md cannot be read

    @property
    def state(self) -> State | None:
        last = self.steps[-1] if self.steps else None
        if last is None or last.mission is None or last.commit.oid != self.tip:
            return None
        return State(last.mission, self.tip)


def read_chains(store: Store, tips: Mapping[str, str], since: Mapping[str, str] | None = None) -> list[Chain]:
    """The history of each mission in `tips` (id -> tip oid), whole or, for ids in `since`, only the commits
    after that oid. Two git processes, none per mission: one log, one cat-file."""
    since = since or {}
    commits = {c.oid: c for c in g.first_parent_log(store.git, list(dict.fromkeys(tips.values())),
                                                   list(dict.fromkeys(since.values())))}
    blob_specs = sorted({c.tree for c in commits.values()})
    blobs = dict(zip(blob_specs, g.cat_file_batch(store.git, [f"{t}:{m.FILENAME}" for t in blob_specs]),
                     strict=True))
    chains = []
    for mission_id, tip in tips.items():
        steps: list[Step] = []
        error = None
        oid: str | None = tip
        while oid and oid in commits:
            commit = commits[oid]
            mission, problem = _parse(blobs.get(commit.tree), mission_id)
            if oid == tip:
                error = problem
            steps.append(Step(commit, mission))
            oid = commit.parents[0] if commit.parents else None
        steps.reverse()
        chains.append(Chain(mission_id, tip, tuple(steps), error))
    return chains


def _parse(blob: g.GitObject | None, mission_id: str) -> tuple[m.Mission | None, CorruptMission | None]:
    if blob is None:
        return None, CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
    try:
        return m.parse(blob.data, mission_id), None
    except CorruptMission as err:
        return None, err


def read_tips(store: Store, tips: Mapping[str, str]) -> dict[str, m.Mission]:
    """The readable missions at the given tips, without their histories: one cat-file for all of them."""
    blobs = g.cat_file_batch(store.git, [f"{oid}:{m.FILENAME}" for oid in tips.values()])
    missions = {}
    for mission_id, blob in zip(tips, blobs, strict=True):
        mission, _ = _parse(blob, mission_id)
        if mission is not None:
            missions[mission_id] = mission
    return missions


def all_chains(store: Store) -> list[Chain]:
    """Every local mission with its whole history: one for-each-ref, one log, one cat-file."""
    return read_chains(store, dict(store.ids()))
