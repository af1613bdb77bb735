"""The MCP tool wait_for_change through a real MCP client: it returns with the events of a change made in another
clone, and running out of time is an ordinary answer."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from tests.helpers import run_gitclaim  # noqa: E402


@asynccontextmanager
async def traced_server(clone: Path, trace: Path) -> AsyncIterator[ClientSession]:
    """`gitclaim mcp` in `clone`, its git processes traced (trace2) so the test sees when its first fetch ran."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "gitclaim", "mcp"], cwd=str(clone),
                                   env={**os.environ, "GIT_TRACE2_EVENT": str(trace)})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            with anyio.fail_after(60):
                await session.initialize()
            yield session


def fetches(trace: Path) -> int:
    if not trace.exists():
        return 0
    return sum(1 for line in trace.read_text().splitlines()
               if '"event":"start"' in line and "fetch" in json.loads(line).get("argv", []))


def ok(clone: Path, *args: str) -> None:
    res = run_gitclaim(clone, *args)
    assert res.returncode == 0, res.stderr


def test_wait_for_change_returns_the_events_of_a_claim_and_done_elsewhere(make_clone: Callable[..., Path],
                                                                            tmp_path: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "m", "--title", "Watched")
    trace = tmp_path / "trace.json"

    async def run() -> dict[str, Any]:
        async with traced_server(a, trace) as client:
            result: dict[str, Any] = {}

            async def wait() -> None:
                res = await client.call_tool("wait_for_change", {"ids": ["m"], "until": "done",
                                                                 "timeout_seconds": 60, "interval_seconds": 1})
                assert not res.is_error, res.content
                result.update(res.structured_content or {})

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait)
                with anyio.fail_after(60):
                    while fetches(trace) < 1:  # the tool's first read is done: what follows is a change
                        await anyio.sleep(0.1)
                await anyio.to_thread.run_sync(lambda: ok(b, "claim", "m", "--as", "agent-b"))
                await anyio.to_thread.run_sync(lambda: ok(b, "done", "m", "--summary", "finished"))
            return result

    started = time.monotonic()
    result = anyio.run(run)
    assert time.monotonic() - started < 60
    assert (result["satisfied"], result["timed_out"], result["reason"]) == (True, False, "m DONE")
    assert [(e["action"], e["status_before"], e["status_after"]) for e in result["events"]] == [
        ("claim", "QUEUED", "ACTIVE"), ("complete", "ACTIVE", "DONE")]
    assert result["events"][0]["holder"]["session"] == "agent-b" and result["events"][1]["holder"] is None
    assert result["fetches"] >= 2


def test_wait_for_change_timing_out_is_an_answer_and_bad_ids_an_error(make_clone: Callable[..., Path],
                                                                       tmp_path: Path) -> None:
    a = make_clone("a")
    ok(a, "new", "m", "--title", "Watched")
    ok(a, "new", "gone", "--title", "Cancelled")
    ok(a, "cancel", "gone", "--reason", "superseded")

    async def run() -> tuple[Any, Any, Any]:
        async with traced_server(a, tmp_path / "trace.json") as client:
            quiet = await client.call_tool("wait_for_change", {"ids": ["m"], "until": "claimed",
                                                               "timeout_seconds": 2, "interval_seconds": 1})
            unknown = await client.call_tool("wait_for_change", {"ids": ["nope"], "timeout_seconds": 2})
            never = await client.call_tool("wait_for_change", {"ids": ["gone"], "until": "done",
                                                               "timeout_seconds": 60})
            return quiet, unknown, never

    quiet, unknown, never = anyio.run(run)
    assert not quiet.is_error
    data = quiet.structured_content
    assert (data["satisfied"], data["timed_out"], data["reason"], data["events"]) == (False, True, None, [])
    assert 2 <= data["waited_seconds"] < 30
    assert unknown.is_error and unknown.content[0].text == "no mission 'nope' on remote 'origin' (live or archived)"
    assert unknown.meta == {"gitclaim/exit_code": 4}
    # a requirement that ended CANCELLED will not be DONE: an error at once, not a wait until the timeout
    assert never.is_error and never.meta == {"gitclaim/exit_code": 3}
    assert never.content[0].text == ("mission gone ended CANCELLED, so it will not be DONE unless it is reopened: "
                                     "stopped waiting (see gitclaim show gone)")
