"""Moving missions in and out of the live queue: import (files to missions), export (missions to files), archive
(finished missions off the live refs). Each opens the store, calls one library function, prints."""

from __future__ import annotations

from pathlib import Path

import typer

from gitclaim.cli.app import app
from gitclaim.cli.options import JSON
from gitclaim.cli.output import emit_json, line, warn
from gitclaim.cli.workspace import open_store
from gitclaim.core import timeutil
from gitclaim.interchange import exporter, importer
from gitclaim.missions import archive as archive_mod


@app.command("import")
def import_cmd(
    paths: list[Path] = typer.Argument(..., metavar="PATH", help="Mission files (.md), mission directories "
                                       "(with mission.md), or trees to scan such as missions/ or .claude/missions/."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be created; push nothing."),
    json_out: bool = JSON,
) -> None:
    """Publish existing mission files as missions. Never overwrites: exit 3 when an id exists with other
    content, 2 when a source cannot be read, 0 when everything was created or already there."""
    store = open_store()
    result = importer.import_paths(store, paths, dry_run=dry_run)
    if json_out:
        emit_json(result.to_json())
    else:
        for item in result.items:
            line(_import_line(item))
        counts = ", ".join(f"{n} {name}" for name, n in result.counts().items())
        line(f"import{' (dry run)' if dry_run else ''}: {counts or 'no mission files found'}")
    failure = result.failure()
    if failure is not None:
        raise failure


def _import_line(item: importer.Item) -> str:
    who = f"{item.mission_id} ({item.status})" if item.mission_id and item.status else (item.mission_id or "-")
    head = f"{item.result:<12} {who}"
    return f"{head} <- {item.source}" + (f": {item.detail}" if item.detail else "")


@app.command()
def export(
    directory: Path | None = typer.Option(None, "--dir", help="Where to write queue/, active/, done/ "
                                             f"(default: {exporter.DEFAULT_DIR} at the top of the working tree)."),
    json_out: bool = JSON,
) -> None:
    """Write a read-only view of every mission (mission.md plus its execution log) in the seed's layout."""
    store = open_store()
    result = exporter.export(store, directory)
    for err in result.broken:
        warn(err)
    if json_out:
        emit_json(result.to_json())
        return
    line(f"exported {result.missions} missions to {result.directory}: {len(result.written)} files written, "
         f"{len(result.unchanged)} unchanged, {len(result.removed)} stale removed")


@app.command()
def archive(
    older_than: str = typer.Option("0", "--older-than", help="Only missions finished at least this long ago "
                                   "(e.g. 30d, 12h)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be archived; push nothing."),
    json_out: bool = JSON,
) -> None:
    """Move DONE, FAILED and CANCELLED missions to refs/gitclaim/archive in one atomic push (list --archived, show)."""
    age = timeutil.parse_duration(older_than)
    store = open_store()
    result = archive_mod.archive(store, older_than=age, dry_run=dry_run)
    if json_out:
        emit_json(result.to_json())
        return
    for row in result.missions:
        line(f"{'would archive' if dry_run else 'archived'} {row['mission_id']} ({row['status']}, finished "
             f"{row['finished_at'] or 'at an unknown time'})")
    if not result.missions:
        line("nothing to archive" + (f" (no DONE or FAILED mission finished at least {older_than} ago)"
                                     if age.total_seconds() else " (no DONE or FAILED mission)"))
    elif not dry_run:
        line(f"archived {_count(len(result.missions), 'mission')} in {_count(len(result.commits), 'commit')} "
             f"on {store.namespace.archive}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@app.command()
def migrate(
    to: str = typer.Option(..., "--to", help="The namespace to move them to (e.g. refs/heads/claude/missions)."),
    source: str | None = typer.Option(None, "--from", help="The namespace to move them from (default: the one this "
                                      "clone uses)."),
    json_out: bool = JSON,
) -> None:
    """Move every live and archived mission to another namespace, histories and all, in one atomic push."""
    from gitclaim.missions import migrate as migrate_mod

    store = open_store(check_namespace=False)
    result = migrate_mod.migrate(store, to, source)
    if json_out:
        emit_json(result.to_json())
        return
    if not result.removed and not result.archive:
        line(f"nothing to move from {result.source} to {result.target}")
    else:
        line(f"moved {_count(len(result.removed), 'mission')}" + (" and the archive" if result.archive else "")
             + f" from {result.source} to {result.target} in one atomic push")
    for text in result.steps:
        line(text)
    if result.steps or store.namespace.name == result.target:
        line(f"next: commit `namespace: {result.target}` in .gitclaim.yaml, then run `gitclaim init` in every "
             "other clone")
