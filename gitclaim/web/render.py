"""The board as one self-contained HTML page: styles and script inline, nothing loaded from the network.

Rendering goes through Jinja2 with autoescaping on, so every piece of user text (titles, bodies, log messages,
session names) is escaped where it is inserted; nothing is built by string concatenation. Jinja2 is imported
here only, and this module only by the board command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitclaim.core import timeutil
from gitclaim.missions.board import COLUMNS, Board
from gitclaim.missions.timeline import Holding, Timeline

TEMPLATES = Path(__file__).parent / "templates"

# Timeline geometry, in SVG user units
WIDTH = 1200
LABEL = 240  # the lane labels' column
LANE = 28
ROW = 24  # each further row of a lane whose agent held several missions at once
AXIS = 24  # room for the time ticks above the lanes
TICKS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)  # tick steps, seconds


@dataclass
class Bar:
    x: float
    width: float
    y: float
    mission_id: str
    label: str
    tip: str  # the tooltip: mission, holder, from, to
    open: bool  # still held
    takeover: bool  # started by a takeover
    ended_by: str | None


@dataclass
class Picture:
    width: int
    height: int
    label_width: int
    lanes: list[tuple[float, float, str]] = field(default_factory=list)  # (y, height, label)
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, day)


def picture(tl: Timeline) -> Picture:
    """Where each holding goes in the timeline's SVG: a lane per agent, x proportional to time."""
    span = max((tl.end - tl.start).total_seconds(), 1.0)
    plot = WIDTH - LABEL - 10

    def x(when: datetime) -> float:
        return LABEL + max(0.0, min(1.0, (when - tl.start).total_seconds() / span)) * plot

    rows = [_rows(lane.holdings, tl.end) for lane in tl.lanes]
    height = AXIS + sum(LANE + ROW * (max(r.values(), default=0)) for r in rows) + 8
    pic = Picture(WIDTH, max(height, AXIS + LANE + 8), LABEL)
    step = next((s for s in TICKS if span / s <= 12), TICKS[-1])
    stamp = (int(tl.start.timestamp()) // step + 1) * step
    while stamp <= tl.end.timestamp():
        when = datetime.fromtimestamp(stamp, UTC)
        fmt = "%m-%d" if step >= 86400 else ("%H:%M" if span <= 86400 else "%m-%d %H:%M")
        pic.ticks.append((x(when), when.strftime(fmt)))
        stamp += step
    y = AXIS
    for lane, row_of in zip(tl.lanes, rows, strict=True):
        lane_height = LANE + ROW * max(row_of.values(), default=0)
        pic.lanes.append((y, lane_height, lane.label))
        for h in lane.holdings:
            start, end = x(h.start), x(h.end or tl.end)
            until = timeutil.format_ts(h.end) if h.end else "now (held)"
            tip = (f"{h.mission_id}: {h.title}\n{h.session} ({h.user}, instance {h.instance}), epoch {h.epoch}\n"
                   f"{timeutil.format_ts(h.start)} to {until}" + (" (takeover)" if h.taken_over else "")
                   + (f", ended by {h.ended_by}" if h.ended_by else ""))
            pic.bars.append(Bar(start, max(end - start, 2.0), y + 4 + ROW * row_of[id(h)], h.mission_id,
                                h.mission_id, tip, h.end is None, h.taken_over, h.ended_by))
        y += lane_height
    return pic


def _rows(holdings: list[Holding], now: datetime) -> dict[int, int]:
    """A sub-row for each holding so that holdings of one agent at the same time do not cover each other:
    each goes to the first row free at its start (holdings come sorted by start)."""
    ends: list[datetime] = []
    row_of = {}
    for h in holdings:
        row = next((i for i, end in enumerate(ends) if end <= h.start), len(ends))
        if row == len(ends):
            ends.append(h.end or now)
        ends[row] = h.end or now
        row_of[id(h)] = row
    return row_of


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["duration"] = lambda d: timeutil.format_duration(d) if d is not None else ""
    return env


def _context(board: Board, error: str | None) -> dict[str, Any]:
    return {"board": board, "columns": COLUMNS, "picture": picture(board.timeline),
            "generated": timeutil.format_ts(board.now), "error": error,
            "timeline_from": timeutil.format_ts(board.timeline.start)}


def fragment(board: Board, *, error: str | None = None) -> str:
    """The part of the page the server sends again at every refresh (`error`: why this board is not fresh)."""
    return str(_environment().get_template("board.html").render(**_context(board, error)))


def page(board: Board, *, refresh: float | None = None, error: str | None = None) -> str:
    """The whole page; with `refresh` (seconds) its script fetches the fragment again at that interval."""
    return str(_environment().get_template("page.html").render(**_context(board, error), refresh=refresh or 0))
