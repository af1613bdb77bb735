"""Escape hatches for missions that need fixing: edit, reopen, cancel (docs/lifecycle.md).

Decisions like the ones in transitions.py, each a compare-and-swap commit through Store.transact.
"""

from __future__ import annotations

from typing import NamedTuple

from gitclaim.core import mission as m
from gitclaim.core.message import MissionMessage
from gitclaim.core.store import Change, Outcome, State, Store
from gitclaim.core.transitions import Actor, require_holder, user_text
from gitclaim.errors import Conflict, InvalidInput, NotFound


class Edit(NamedTuple):
    """Fields `edit` may change; None leaves a field as it is."""

    title: str | None = None
    priority: int | None = None
    requires: tuple[str, ...] | None = None
    body: str | None = None

    def apply(self, cur: m.Mission) -> dict:
        changes: dict = {}
        if self.title is not None:
            changes["title"] = " ".join(user_text(self.title, "the title").split())
            if not changes["title"]:
                raise InvalidInput("a mission needs a title (--title TEXT)")
        if self.priority is not None:
            changes["priority"] = self.priority
        if self.requires is not None:
            if cur.mission_id in self.requires:
                raise InvalidInput(f"mission {cur.mission_id} cannot require itself")
            changes["requires"] = tuple(dict.fromkeys(self.requires))
        if self.body is not None:
            text = user_text(self.body, "the body")
            changes["body"] = text + "\n" if text else ""
        return {k: v for k, v in changes.items() if getattr(cur, k) != v}


def edit(store: Store, actor: Actor, mission_id: str, fields: Edit, *, epoch: int | None = None) -> Outcome:
    """Change a mission's title, priority, requirements or body: anyone while it is QUEUED (nobody works on
    it), only the holder while it is ACTIVE or BLOCKED, nobody once it is finished (reopen it first)."""
    if fields == Edit():
        raise InvalidInput("nothing to edit: give --title, --priority, --requires, --no-requires or --body-file")

    def decide(state: State | None) -> Change | None:
        if state is None:
            raise NotFound(f"no mission {mission_id!r}")
        cur = state.mission
        if cur.status in m.FINISHED:
            raise Conflict(f"cannot edit mission {mission_id}: it is {cur.status}; reopen it first "
                           f"(gitclaim reopen {mission_id} --reason TEXT)")
        if cur.held:
            require_holder(state, actor, mission_id, "edit", epoch)
        changes = fields.apply(cur)
        if not changes:
            return None
        trailers = {"Instance": actor.instance, "Epoch": str(cur.claim_epoch), "Fields": ",".join(changes)}
        return Change(cur.evolve(**changes), MissionMessage("edit", mission_id, "edit", "", trailers))

    return store.transact(mission_id, decide)


def reopen(store: Store, actor: Actor, mission_id: str, *, reason: str | None) -> Outcome:
    """DONE, FAILED or CANCELLED -> QUEUED, with no holder: anyone may, with a reason for the history. The
    epoch stays, so the next claim continues the count and the old holder's writes stay fenced off."""
    reason = user_text(reason, "the reason")
    if not reason:
        raise InvalidInput("reopen needs --reason TEXT for the history")

    def decide(state: State | None) -> Change:
        if state is None:
            raise NotFound(f"no mission {mission_id!r}")
        cur = state.mission
        if cur.status not in m.FINISHED:
            raise Conflict(f"mission {mission_id} is {cur.status}, not DONE, FAILED or CANCELLED: only a finished "
                           "mission is reopened")
        new = cur.evolve(status=m.QUEUED, claimed_at=None, claimed_by=None, claim_user=None, claim_instance=None,
                         claim_principal=None, finished_at=None, summary=None, blocked_reason=None,
                         last_activity=actor.stamp)
        trailers = {"Instance": actor.instance, "Epoch": str(cur.claim_epoch), "Previous-Status": cur.status}
        return Change(new, MissionMessage("reopen", mission_id, "reopen", reason, trailers))

    return store.transact(mission_id, decide)


def cancel(store: Store, actor: Actor, mission_id: str, *, reason: str | None,
           epoch: int | None = None) -> Outcome:
    """QUEUED (anyone) or ACTIVE/BLOCKED (the holder) -> CANCELLED: out of the queue, kept in the history,
    archivable like a finished mission. Cancelling twice is a no-op."""
    reason = user_text(reason, "the reason")
    if not reason:
        raise InvalidInput("cancel needs --reason TEXT for the history")

    def decide(state: State | None) -> Change | None:
        if state is None:
            raise NotFound(f"no mission {mission_id!r}")
        cur = state.mission
        if cur.status == m.CANCELLED:
            return None
        if cur.status in m.FINISHED:
            raise Conflict(f"mission {mission_id} is {cur.status} since {cur.finished_at}: it is already out of "
                           "the queue")
        if cur.held:
            require_holder(state, actor, mission_id, "cancel", epoch)
        new = cur.evolve(status=m.CANCELLED, summary=reason, finished_at=actor.stamp, last_activity=actor.stamp,
                         blocked_reason=None)
        trailers = {"Instance": actor.instance, "Epoch": str(cur.claim_epoch)}
        return Change(new, MissionMessage("cancel", mission_id, "cancel", reason, trailers))

    return store.transact(mission_id, decide)
