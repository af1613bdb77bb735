"""The body of `list`, free of the CLI framework: reached from the typer command (cli/mission_cmds.py) and from
cli/fast.py, which runs a plain `list` without importing typer. `list --json` of the live missions comes from
the listing cache (missions/listcache.py); the table and `--archived` from missions/views.py."""

from __future__ import annotations

from gitclaim.cli.output import emit_json, emit_json_bytes, line, table, warn
from gitclaim.cli.workspace import open_store
from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.core.store import Store


def list_missions(status: str | None = None, stale: bool = False, archived: bool = False, offline: bool = False,
                  json_out: bool = False) -> None:
    from gitclaim.missions import listcache

    store = open_store()
    if offline:
        warn(listcache.offline_note(store))
    if json_out and not archived:
        text, warnings = listcache.list_json(store, status=status, stale_only=stale, fetch=not offline)
        for problem in warnings:
            warn(problem)
        emit_json_bytes(text)
        return
    from gitclaim.missions import views

    result = views.list_missions(store, status=status, stale_only=stale, archived=archived, fetch=not offline)
    for err in result.broken:
        warn(str(err))
    if json_out:
        emit_json(list(result.rows))
        return
    if not result.rows:
        line(_nothing_listed(store, status, stale, archived))
        return
    rows = [_list_row(r) for r in result.rows]
    headers = ["ID", "STATUS", "PRI", "HOLDER", "SINCE", "IDLE", "TITLE"]
    if any(r["requires"] for r in result.rows):  # the column only when some mission has requirements
        rows = [[*row[:-1], ",".join(r["requires"]), row[-1]] for row, r in zip(rows, result.rows, strict=True)]
        headers.insert(-1, "REQUIRES")
    marks = views.signature_marks(store, result.rows)
    if any(marks):  # the column only when some claim is not good (docs/signing.md, "Reading signatures")
        rows = [[*row[:-1], mark, row[-1]] for row, mark in zip(rows, marks, strict=True)]
        headers.insert(-1, "SIGNATURE")
    table(rows, headers)


def _nothing_listed(store: Store, status: str | None, stale: bool, archived: bool) -> str:
    """Say what the filters found nothing for, not just 'no missions' while there are some."""
    what = f"{'archived ' if archived else ''}missions" + (f" with status {status.upper()}" if status else "")
    if stale:
        return f"no stale {what} (none held and idle for more than {timeutil.format_duration(store.ttl)})"
    return f"no {what}"


def _list_row(r: dict) -> list[str]:
    holder = r["claimed_by"] or "" if r["status"] in m.HELD else ""
    since = (r["claimed_at"] or "") if r["status"] in m.HELD else ""
    idle = r.get("idle") or ""
    if r.get("stale"):
        idle += " STALE"
    return [r["mission_id"], r["status"], f"P{r['priority']}", holder, since, idle, r["title"]]
