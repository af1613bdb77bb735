"""`gitclaim doctor`: check a remote and this clone (gitclaim/ops/doctor.py), print what is wrong and how to fix it.

Exit codes: 0 when every required check passes (advice may still be printed), 1 when one fails, 6 when the
remote cannot be reached at all (docs/reliability.md, "gitclaim doctor").
"""

from __future__ import annotations

import typer

from gitclaim.cli.app import app
from gitclaim.cli.options import JSON
from gitclaim.cli.output import emit_json, line
from gitclaim.cli.workspace import open_store
from gitclaim.errors import GitclaimError, RemoteError
from gitclaim.ops import doctor

MARKS = {(True, True): "ok", (True, False): "ok", (False, True): "FAIL", (False, False): "warn"}


@app.command("doctor")
def doctor_cmd(
    remote: str | None = typer.Option(None, "--remote", help="The remote to examine (default: the clone's "
                                         "gitclaim remote)."),
    json_out: bool = JSON,
) -> None:
    """Check that the remote accepts and serves refs/missions/*, and that this clone is set up to use it."""
    report = doctor.diagnose(open_store(check_namespace=False), remote)
    if json_out:
        emit_json(report.to_json())
    else:
        for check in report.checks:
            _print(check)
    if not report.reachable:
        raise RemoteError(f"doctor: remote {report.remote!r} cannot be reached")
    if not report.ok:
        names = ", ".join(c.name for c in report.failed)
        raise GitclaimError(f"doctor: {len(report.failed)} of {len(report.checks)} checks failed ({names})")


def _print(check: doctor.Check) -> None:
    line(f"{MARKS[(check.ok, check.required)]:<5} {check.name}: {check.detail}")
    if not check.ok and check.fix:
        line(f"      fix: {check.fix}")
