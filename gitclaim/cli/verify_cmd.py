"""`gitclaim verify [ID...]`: check every commit of the missions' histories against the trust list of the default
branch (gitclaim/missions/verify.py); one line per commit that is not `good`, exit 11 when there is one (for CI).
"""

from __future__ import annotations

import typer

from gitclaim.cli.app import app
from gitclaim.cli.options import JSON, complete_mission_id
from gitclaim.cli.output import emit_json, line
from gitclaim.cli.workspace import open_store
from gitclaim.errors import SigningError
from gitclaim.missions import verify as verify_mod


@app.command()
def verify(
    ids: list[str] = typer.Argument(None, metavar="[MISSION]...", help="Missions to check (default: all).",
                                    autocompletion=complete_mission_id),
    archived: bool = typer.Option(False, "--archived", help="Archived missions too (their histories as archived)."),
    json_out: bool = JSON,
) -> None:
    """Check the signature of every commit of the missions' histories against the trust list; exit 11 unless
    all are good."""
    report = verify_mod.verify(open_store(), ids or [], archived=archived)
    if json_out:
        emit_json(report.to_json())
    else:
        for mc in report.missions:
            where = " (archived)" if mc.archived else ""
            for check in mc.problems:
                line(f"{mc.mission_id}{where} {check.commit[:12]} {check.action or '-'} {check.text()}")
        line(f"verified {_count(report.commits, 'commit')} of {_count(len(report.missions), 'mission')}: "
             f"{report.not_good} not good")
    if not report.ok:
        raise SigningError(f"verify: {report.not_good} of {report.commits} commits are not signed good by a "
                           f"principal of the trust list ({report.trust.source or 'none found'}); a claim they "
                           "carry is void where signed claims are required (docs/signing.md)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
