"""Options and arguments shared by several commands, defined once so that they read the same everywhere.

A typer option object holds only the option's declaration, so one object serves every command that takes it.
"""

from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="Print JSON (fields in docs/json.md).")
AS = typer.Option(None, "--as", help="Session description recorded as claimed_by (default: $GITCLAIM_AS).")
OFFLINE = typer.Option(False, "--offline", help="Read the local mirror without fetching (says how old it is).")
EPOCH = typer.Option(None, "--epoch", help="Fence: refuse unless the claim is still at this epoch.")
PRIORITY_HELP = "0 (most urgent) to 1000, P0-P9, or critical/high/medium/low (= 0/1/2/3)."


def complete_mission_id(incomplete: str) -> list[str]:
    """Shell completion: the ids of the local mirror's missions, one for-each-ref, no fetch (no network)."""
    from pathlib import Path

    from gitclaim.core import git as g

    try:
        refs = g.for_each_ref(g.Git(Path.cwd()), "refs/missions/")
    except Exception:  # not a clone, no git: nothing to offer, never an error in the user's shell
        return []
    ids = (ref[len("refs/missions/"):] for ref, _ in refs)
    return sorted(i for i in ids if i.startswith(incomplete))


MISSION = typer.Argument(..., metavar="MISSION", help="The mission's id (refs/missions/<id>), as gitclaim list "
                         "shows it.", autocompletion=complete_mission_id)
