"""A warm MCP server opens each repository once and keeps one `cat-file --batch` for it: no git process to open it
or to read a mission on later calls, and a change of the clone's configuration is seen by the next call. Nothing
it started outlives it."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from tests.helpers import cat_file_pids, git, run_gitclaim  # noqa: E402


def top_level_commands(trace: Path) -> list[str]:
    events = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    return [ev["name"] for ev in events if ev.get("event") == "cmd_name" and "/" not in ev.get("sid", "")]


def test_warm_calls_reuse_the_opened_repository(make_clone: Callable[..., Path], tmp_path: Path) -> None:
    clone = make_clone("a")
    for mid in ("m1", "m2"):
        assert run_gitclaim(clone, "new", mid, "--title", "T").returncode == 0
    trace = tmp_path / "trace.json"

    async def run() -> list[Any]:
        params = StdioServerParameters(command=sys.executable, args=["-m", "gitclaim", "mcp"], cwd=str(clone),
                                       env={**os.environ, "GIT_TRACE2_EVENT": str(trace)})
        seen: list[Any] = []
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            with anyio.fail_after(60):
                await s.initialize()
                assert not (await s.call_tool("claim_mission", {"mission_id": "m1"})).is_error
                trace.unlink()
                res = await s.call_tool("heartbeat", {"mission_id": "m1"})
                seen.append((res.is_error, top_level_commands(trace)))
                git(clone, "config", "gitclaim.remote", "nowhere")
                res = await s.call_tool("claim_mission", {"mission_id": "m2"})
                seen.append((res.is_error, res.content[0].text))
                git(clone, "config", "--unset", "gitclaim.remote")
                res = await s.call_tool("claim_mission", {"mission_id": "m2"})
                seen.append((res.is_error, res.content[0].text))
                seen.append(len(cat_file_pids(clone)))  # the reopened repository's reader replaced the first one
        return seen

    warm, changed, back, readers = anyio.run(run)
    assert warm == (False, ["push"])  # the state read by the kept cat-file, then the push: nothing else starts
    assert readers == 1
    assert changed[0] and "no remote named 'nowhere'" in changed[1]
    assert back[0] is False
    deadline = time.monotonic() + 10
    while cat_file_pids(clone) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cat_file_pids(clone) == []  # the reader read end-of-file when the server went, and ended
