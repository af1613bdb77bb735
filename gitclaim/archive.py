"""Archive of finished missions (placeholder until the archive command lands)."""

from __future__ import annotations

from gitclaim.errors import CorruptMission
from gitclaim.store import State, Store


def archived_states(store: Store) -> tuple[list[State], list[CorruptMission]]:
    return [], []


def find_archived(store: Store, mission_id: str) -> State | None:
    return None
