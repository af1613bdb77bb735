"""See and wait: `board` (an HTML page, a local server, or a compact board on the terminal) and `watch`.

Thin wrappers: the board's data comes from gitclaim/missions/board.py, the page from gitclaim/web/ (Jinja2,
imported only when a page is written or served), the events from gitclaim/missions/watch.py.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import typer

from gitclaim.cli.app import app
from gitclaim.cli.options import JSON
from gitclaim.cli.output import emit_json, line, warn
from gitclaim.cli.workspace import open_store
from gitclaim.core import timeutil
from gitclaim.core.store import Store
from gitclaim.errors import InvalidInput
from gitclaim.missions import board as board_mod
from gitclaim.missions import watch as watch_mod

DEFAULT_REFRESH = 5.0
_MARKS = {"none": "UNSIGNED", "untrusted": "UNTRUSTED", "bad": "BAD"}  # a claim's signature, on the terminal
DEFAULT_PORT = 8765


@app.command()
def board(
    out: Path | None = typer.Option(None, "--out", help="Write the board as one self-contained HTML page."),
    serve: bool = typer.Option(False, "--serve", help="Serve the page on 127.0.0.1, updating itself."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535, help="Port for --serve (0: any free one)."),
    refresh: str | None = typer.Option(None, "--refresh", help="How often --serve re-reads the remote "
                                       "(default: gitclaim.boardRefresh, else 5s)."),
    days: float = typer.Option(board_mod.DEFAULT_DAYS, "--days", min=0.01, max=3650,
                               help="How far back the timeline and 'done recently' reach."),
    json_out: bool = JSON,
) -> None:
    """The mission board: columns by state, who holds what, a timeline (HTML page, local server or terminal)."""
    if sum((out is not None, serve, json_out)) > 1:
        raise InvalidInput("choose one of --out FILE, --serve and --json")
    store = open_store()
    if serve:
        _serve(store, port, watch_mod.duration_setting(store.repo, refresh, "GITCLAIM_BOARD_REFRESH",
                                                       "gitclaim.boardRefresh", DEFAULT_REFRESH), days)
        return
    result = board_mod.build_board(store, days=days)
    for text in result.broken:
        warn(text)
    if json_out:
        emit_json(result.to_json())
    elif out is not None:
        from gitclaim.web import render

        _write(out, render.page(result))
        line(f"wrote {out} ({result.total} missions)")
    else:
        sys.stdout.write(board_text(result))


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None


def _serve(store: Store, port: int, refresh: float, days: float) -> None:
    from gitclaim.web import serve as serve_mod

    server = serve_mod.BoardServer(lambda: board_mod.build_board(store, days=days), refresh=refresh, port=port)
    every = timeutil.format_duration(timedelta(seconds=refresh))
    line(f"serving the board on {server.url} (re-read every {every}; Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        line("stopped")
    finally:
        server.close()


def board_text(result: board_mod.Board) -> str:
    """The compact terminal board: one block per column, one line per mission."""
    lines = []
    counts = ", ".join(f"{len(result.columns[k])} {h.lower()}" for k, h in board_mod.COLUMNS)
    lines.append(f"{result.total} missions on {result.remote}: {counts}")
    for agent in result.agents:
        lines.append(f'  "{agent.session}" ({agent.user}, instance {agent.instance}) holds {", ".join(agent.holds)}')
    for key, heading in board_mod.COLUMNS:
        cards = result.columns[key]
        if not cards:
            continue
        lines += ["", f"{heading.upper()} ({len(cards)})"]
        for card in cards:
            lines.append("  " + _card_line(card, result.marked(card.signature)))
    if result.finished_older:
        lines += ["", f"({result.finished_older} finished more than {result.days:g} days ago, not shown)"]
    return "\n".join(lines) + "\n"


def _card_line(card: board_mod.Card, marked: bool = False) -> str:
    mis = card.mission
    parts = [f"{mis.mission_id}  P{mis.priority}  {mis.title}"]
    if mis.held:
        parts.append(f'"{mis.claimed_by}" ({mis.claim_user}, {mis.claim_instance})')
    sig = card.signature
    if sig is not None and sig.state == "good":
        parts.append(f"signed by {sig.principal}")
    elif sig is not None and marked:  # docs/board.md: marked only where a trust list makes it news
        parts.append(f"{_MARKS.get(sig.state, sig.state)} claim" + (f" (key {sig.key})" if sig.key else ""))
    if mis.held and card.lease_left is not None and card.idle is not None:
        idle, left = timeutil.format_duration(card.idle), timeutil.format_duration(abs(card.lease_left))
        late = card.lease_left.total_seconds() < 0
        parts.append(f"idle {idle}, " + (f"lease over by {left}" if late else f"lease {left} left"))
    if card.progress is not None:
        parts.append(f"{card.progress}%")
    if mis.blocked_reason:
        parts.append(f"blocked: {mis.blocked_reason}")
    waiting = [r for r, status in card.requires if status != "DONE"]
    if waiting:
        parts.append(f"waits on {', '.join(waiting)}")
    return "  ·  ".join(parts)


@app.command()
def watch(
    ids: list[str] = typer.Argument(None, help="Missions to watch (default: all)."),
    until: str = typer.Option("changed", "--until", help="Stop when: claimed, released, done, ready or changed."),
    timeout: str | None = typer.Option(None, "--timeout", help="Give up after this long (exit 8), e.g. 10m."),
    interval: str | None = typer.Option(None, "--interval", help="Fetch interval (default: "
                                        "gitclaim.watchInterval, else 5s; longer while nothing changes)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object a line per event (docs/json.md)."),
) -> None:
    """Wait for missions to change: print each change as an event, exit 0 once the condition holds."""
    wait = timeutil.parse_duration(timeout).total_seconds() if timeout is not None else None
    store = open_store()
    watcher = watch_mod.Watcher(store, ids or [], until, interval=watch_mod.interval_setting(store.repo, interval),
                                timeout=wait)
    if not watcher.start() and not json_out:
        line(watcher.describe())
        sys.stdout.flush()
    for event in watcher.events():
        line(json.dumps(event.to_json(), ensure_ascii=False) if json_out else event.describe())
        sys.stdout.flush()
    if not json_out:
        line(f"condition holds: {watcher.reason}")
