"""The escape hatches: edit, reopen, cancel. Each opens the store, calls one decision of
gitclaim.core.corrections, prints one line (or --json)."""

from __future__ import annotations

from pathlib import Path

import typer

from gitclaim.cli.app import app
from gitclaim.cli.options import EPOCH, JSON, MISSION, PRIORITY_HELP
from gitclaim.cli.output import emit_json, line
from gitclaim.cli.workspace import open_store
from gitclaim.core import corrections
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.core.store import Outcome, Store
from gitclaim.errors import InvalidInput
from gitclaim.missions import create

REASON = typer.Option(None, "--reason", help="Why, for the mission's history (required).")


@app.command()
def edit(
    mission_id: str = MISSION,
    title: str | None = typer.Option(None, "--title", help="A new one-line title."),
    priority: str | None = typer.Option(None, "--priority", help=PRIORITY_HELP),
    requires: list[str] = typer.Option([], "--requires", help="A mission id that must be DONE first; "
                                       "repeat it; replaces the current list."),
    no_requires: bool = typer.Option(False, "--no-requires", help="Clear the list of requirements."),
    body_file: Path | None = typer.Option(None, "--body-file", help="A new markdown body ('-' for stdin)."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Change a mission's title, priority, requirements or body: anyone while it is QUEUED, only the holder
    while it is ACTIVE or BLOCKED (exit 3 otherwise).
    """
    check_id(mission_id)
    if requires and no_requires:
        raise InvalidInput("use either --requires ID or --no-requires, not both")
    for req in requires:
        check_id(req)
    fields = corrections.Edit(
        title=title, priority=m.parse_priority(priority) if priority is not None else None,
        requires=() if no_requires else (tuple(requires) if requires else None),
        body=create.read_body(body_file) if body_file is not None else None,
    )
    store = open_store()
    if fields.requires:
        create.check_requirements(store, mission_id, fields.requires)
    out = corrections.edit(store, claims.actor_for(store), mission_id, fields, epoch=epoch)
    _print(store, out, mission_id, "edited", json_out)


@app.command()
def reopen(mission_id: str = MISSION, reason: str | None = REASON, json_out: bool = JSON) -> None:
    """Put a DONE, FAILED or CANCELLED mission back in the queue (QUEUED, no holder); anyone may. The
    history keeps everything before it.
    """
    check_id(mission_id)
    store = open_store()
    out = corrections.reopen(store, claims.actor_for(store), mission_id, reason=reason)
    _print(store, out, mission_id, "reopened", json_out)


@app.command()
def cancel(mission_id: str = MISSION, reason: str | None = REASON, epoch: int | None = EPOCH,
           json_out: bool = JSON) -> None:
    """Withdraw a mission nobody should take (CANCELLED): it leaves the queue, stays in the history and can
    be archived. Anyone may cancel a QUEUED mission; only the holder an ACTIVE or BLOCKED one.
    """
    check_id(mission_id)
    store = open_store()
    out = corrections.cancel(store, claims.actor_for(store), mission_id, reason=reason, epoch=epoch)
    _print(store, out, mission_id, "cancelled", json_out)


def _print(store: Store, out: Outcome, mission_id: str, verb: str, json_out: bool) -> None:
    if json_out:
        emit_json({**out.state.mission.to_json(), "changed": out.changed, "commit": out.state.commit})
    else:
        line(f"{verb} {mission_id}" + ("" if out.changed else " (nothing to change)"))
