"""The commands an agent's session starts with: next (claim the best ready mission) and start (what is mine,
what is active, what is ready); and demo, a throwaway race of agents doing exactly that."""

from __future__ import annotations

import sys

import typer

from gitclaim.cli import hot
from gitclaim.cli.app import app
from gitclaim.cli.options import AS, JSON
from gitclaim.cli.output import emit_json, line
from gitclaim.cli.workspace import open_store
from gitclaim.core import transitions as claims
from gitclaim.missions import session


@app.command("next")
def next_cmd(as_text: str | None = AS, json_out: bool = JSON) -> None:
    """Claim the best ready mission in one step; exit 5 when nothing is ready."""
    hot.next_mission(as_text, json_out)


@app.command()
def start(
    as_text: str | None = AS,
    claim: bool = typer.Option(False, "--claim", help="If this clone holds none: resume your principal's mission "
                               "held from another clone, else claim the top ready mission."),
    json_out: bool = JSON,
) -> None:
    """Session start: your missions (with the log tail; with a signing key, also those your principal holds from
    another clone), other active ones (staleness, signatures), the ready queue."""
    store = open_store()
    actor = claims.actor_for(store, as_text)
    report = session.start(store, actor, claim=claim)
    if json_out:
        emit_json(report.to_json())
    else:
        sys.stdout.write(session.render(report))


@app.command()
def demo(
    agents: int = typer.Option(4, "--agents", min=2, max=16, help="How many agent processes race."),
    keep: bool = typer.Option(False, "--keep", help="Keep the temporary directory to look at."),
    json_out: bool = JSON,
) -> None:
    """Run a self-contained race: a throwaway remote, several clones, agents claiming missions."""
    from gitclaim.errors import GitclaimError
    from gitclaim.ops import demo as demo_mod

    result = demo_mod.run(agents=agents, keep=keep, echo=(lambda text: None) if json_out else line)
    if json_out:
        emit_json({"exactly_once": result.exactly_once, "race_winner": result.race_winner,
                   "race_losers": result.race_losers, "race_messages": result.race_messages,
                   "assignments": result.assignments, "claims_per_mission": result.claims_per_mission,
                   "lost_races": result.lost_races})
    if not result.exactly_once:
        raise GitclaimError("the demo found a mission claimed twice")
