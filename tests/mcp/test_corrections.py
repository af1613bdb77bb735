"""edit_mission, cancel_mission and reopen_mission through a real `gitclaim mcp` process (the SDK's stdio client)
on real clones of a bare remote."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.helpers import remote_mission, run_gitclaim


def field(remote: Path, key: str) -> object:
    line = next(ln for ln in remote_mission(remote, "m1").splitlines() if ln.startswith(f"{key}: "))
    return json.loads(line.split(": ", 1)[1])


def test_corrections_through_the_tools(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    assert run_gitclaim(a, "new", "m1", "--title", "First").returncode == 0
    assert run_gitclaim(b, "claim", "m1").returncode == 0
    results: list[Any] = []

    async def run() -> None:
        params = StdioServerParameters(command=sys.executable, args=["-m", "gitclaim", "mcp"], cwd=str(a),
                                       env=dict(os.environ))
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            with anyio.fail_after(120):
                await s.initialize()
                names = {t.name for t in (await s.list_tools()).tools}
                assert {"edit_mission", "cancel_mission", "reopen_mission"} <= names
                for tool, args in [
                    ("edit_mission", {"mission_id": "m1", "title": "Mine"}),  # held by b: refused
                    ("cancel_mission", {"mission_id": "m1", "reason": "x"}),  # held by b: refused
                    ("reopen_mission", {"mission_id": "m1", "reason": "x"}),  # not finished: refused
                ]:
                    res = await s.call_tool(tool, args)
                    results.append((res.is_error, res.content[0].text, (res.meta or {}).get("gitclaim/exit_code")))
                assert run_gitclaim(b, "done", "m1").returncode == 0
                res = await s.call_tool("reopen_mission", {"mission_id": "m1", "reason": "retry"})
                results.append(res.structured_content)
                res = await s.call_tool("edit_mission", {"mission_id": "m1", "priority": "high", "requires": []})
                results.append(res.structured_content)
                res = await s.call_tool("cancel_mission", {"mission_id": "m1", "reason": "dropped"})
                results.append(res.structured_content)

    anyio.run(run)
    refusals, reopened, edited, cancelled = results[:3], results[3], results[4], results[5]
    assert [r[0] for r in refusals] == [True, True, True]
    assert refusals[0][1].startswith("cannot edit mission m1: it is held by ") and refusals[0][2] == 3
    assert refusals[1][1].startswith("cannot cancel mission m1: it is held by ") and refusals[1][2] == 3
    assert refusals[2][1:] == ("mission m1 is ACTIVE, not DONE, FAILED or CANCELLED: only a finished mission is "
                               "reopened", 3)
    assert (reopened["status"], reopened["changed"], reopened["instance"]) == ("QUEUED", True, None)
    assert (edited["priority"], edited["changed"]) == (1, True)
    assert (cancelled["status"], cancelled["summary"]) == ("CANCELLED", "dropped")
    assert field(bare_remote, "status") == "CANCELLED"
