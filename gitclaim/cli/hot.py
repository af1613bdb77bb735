"""The bodies of the agent's hot commands (claim, next, heartbeat, log, done, release), free of the CLI framework.

Agents run these in loops, so they are reachable two ways with the same behaviour: from the typer commands
(cli/missions.py, cli/work.py), and from cli/fast.py, which parses a plain, well-formed invocation of them
without importing typer at all. Both call the functions below, so output and exit codes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitclaim.cli.output import emit_json, line
from gitclaim.cli.workspace import open_store
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.core.store import Outcome, Store


def claim_json(out: Outcome, mission_id: str) -> dict[str, Any]:
    data = out.state.mission.to_json()
    data["changed"] = out.changed
    data["commit"] = out.state.commit
    return data


def claimed_json(out: Outcome, mission_id: str) -> dict[str, Any]:
    """`claim --json`: the mission, `action` (claim, takeover, resume; null when already yours) and `previous`
    (the claim it replaced: instance and epoch; null for a first claim)."""
    data = claim_json(out, mission_id)
    data["action"] = claims.claim_action(out)
    data["previous"] = claims.replaced_claim(out)
    return data


def claim(mission_id: str, as_text: str | None = None, *, steal: bool = False, force: bool = False,
          reason: str | None = None, json_out: bool = False) -> None:
    check_id(mission_id)
    store = open_store()
    actor = claims.actor_for(store, as_text)
    out = claims.claim(store, actor, mission_id, steal=steal, force=force, reason=reason)
    if json_out:
        emit_json(claimed_json(out, mission_id))
    elif claims.claim_action(out) == "resume":
        line(resumed_text(out))
    elif out.changed:
        prev = out.previous.mission if out.previous else None
        took = f" (taken over from {prev.holder_text()})" if prev and prev.held else ""
        line(f"claimed {mission_id} as \"{actor.session}\" (epoch {out.state.mission.claim_epoch}){took}")
    else:
        line(f"already yours: {mission_id} (epoch {out.state.mission.claim_epoch})")


def resumed_text(out: Outcome) -> str:
    """A claim taken back by the same principal from another clone (docs/lifecycle.md): not a takeover."""
    prev = out.previous.mission if out.previous is not None else None
    before = f": held before by instance {prev.claim_instance}" if prev is not None else ""
    return f"resumed {out.state.mission.mission_id} (epoch {out.state.mission.claim_epoch}){before}"


def holder_write(op: Callable[[Store, claims.Actor], Outcome], mission_id: str, verb: str, json_out: bool) -> None:
    check_id(mission_id)
    store = open_store()
    actor = claims.actor_for(store)
    out = op(store, actor)
    if json_out:
        emit_json(claim_json(out, mission_id))
    elif out.changed and out.previous is not None and out.previous.mission.status == out.state.mission.status \
            and out.state.mission.status in m.COMPLETED:
        line(f"recorded the new summary of {mission_id} (it was already {out.state.mission.status})")
    else:
        line(f"{verb} {mission_id}" + ("" if out.changed else " (nothing to change)"))


def release(mission_id: str, note: str | None = None, epoch: int | None = None, json_out: bool = False) -> None:
    holder_write(lambda s, a: claims.release(s, a, mission_id, note=note, epoch=epoch), mission_id, "released",
                 json_out)


def done(mission_id: str, summary: str | None = None, epoch: int | None = None, json_out: bool = False) -> None:
    holder_write(lambda s, a: claims.finish(s, a, mission_id, summary=summary, epoch=epoch), mission_id, "done",
                 json_out)


def heartbeat(mission_id: str, epoch: int | None = None, json_out: bool = False) -> None:
    holder_write(lambda s, a: claims.heartbeat(s, a, mission_id, epoch=epoch), mission_id, "heartbeat", json_out)


def log(mission_id: str, message: str = "", *, kind: str = "note", progress: int | None = None,
        question: str | None = None, chosen: str | None = None, severity: str | None = None,
        needs_human: bool = False, task: str | None = None, epoch: int | None = None,
        json_out: bool = False) -> None:
    entry = claims.LogEntry(kind=kind, message=message, progress=progress, question=question, chosen=chosen,
                            severity=severity, needs_human=needs_human, task=task)
    entry.check()
    if task is None:
        holder_write(lambda s, a: claims.log(s, a, mission_id, entry, epoch=epoch), mission_id,
                     f"logged {kind} on", json_out)
        return
    # A task id is checked against the mission (it must exist; `m3/t1` and `t1` both name it) by the same
    # code as the MCP tools; the workflow modules are imported only for it.
    from gitclaim.workflows import decisions

    holder_write(lambda s, a: decisions.log_entry(s, a, task, mission_id, entry, epoch).outcome, mission_id,
                 f"logged {kind} on", json_out)


def next_mission(as_text: str | None = None, json_out: bool = False) -> None:
    from gitclaim.missions import ready

    store = open_store()
    actor = claims.actor_for(store, as_text)
    got = ready.next_mission(store, actor)
    mis = got.outcome.state.mission
    if json_out:
        data = mis.to_json()
        data.update(changed=got.outcome.changed, commit=got.outcome.state.commit, lost_races=got.lost_races,
                    pushes=got.pushes)
        emit_json(data)
    else:
        line(f"claimed {mis.mission_id} (P{mis.priority}, epoch {mis.claim_epoch}): {mis.title}")
