"""The MCP tool `wait_for_change`: `gitclaim watch` as one tool call, so an agent waits for a claim, a release,
a requirement finishing or ready work inside one call instead of polling (docs/board.md, docs/mcp.md).

The wait is capped (MAX_TIMEOUT) so a call always comes back within what MCP clients put up with; running out of
time is an ordinary answer (`timed_out: true`, with the events seen so far), not an error, so the agent simply
calls again.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from mcp.types import CallToolResult
from pydantic import Field

from gitclaim.core.store import Store
from gitclaim.errors import TimedOut
from gitclaim.mcp.calling import RepoPath, call
from gitclaim.mcp.schemas import ChangeEvent, WaitResult
from gitclaim.missions import watch

MAX_TIMEOUT = 300.0
DEFAULT_TIMEOUT = 60.0


def wait_for_change(
    ids: Annotated[list[str] | None, Field(description="Missions to watch (default: all).")] = None,
    until: Annotated[Literal["claimed", "released", "done", "ready", "changed"], Field(
        description="What to wait for: claimed, released, done (every named mission DONE), ready (ready work) or "
                    "changed (any change).")] = "changed",
    timeout_seconds: Annotated[float, Field(gt=0, description=f"Give up after this long (at most "
                                                              f"{MAX_TIMEOUT:g}; default {DEFAULT_TIMEOUT:g}).")]
    = DEFAULT_TIMEOUT,
    interval_seconds: Annotated[float | None, Field(ge=1, description="Fetch interval (default: the clone's "
                                                                      "gitclaim.watchInterval, else 5).")] = None,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, WaitResult]:
    """Wait until missions change: claimed, released (no longer held), done (every named mission DONE), ready
    (one is claimable) or changed (any commit). Returns every change seen as an event; from the histories, so a
    claim released again between two fetches is still two events."""
    def op(store: Store) -> WaitResult:
        interval = interval_seconds or watch.interval_setting(store.repo)
        watcher = watch.Watcher(store, ids or [], until, interval=interval,
                                timeout=min(timeout_seconds, MAX_TIMEOUT))
        started, timed_out = time.monotonic(), False
        try:
            for _ in watcher.events():
                pass  # the watcher keeps what it yields in `seen`
        except TimedOut:
            timed_out = True
        return WaitResult(satisfied=not timed_out, timed_out=timed_out, reason=watcher.reason or None,
                          waited_seconds=round(time.monotonic() - started, 3), fetches=watcher.polls,
                          events=[ChangeEvent(**ev.to_json()) for ev in watcher.seen])

    return call(repo_path, op)


TOOLS = (wait_for_change,)
