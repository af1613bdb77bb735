"""Agents that keep one process: a resident `python3 -m gitclaim mcp` server driven by the MCP SDK's own stdio
client. The `ssh` suite times its tool calls beside the CLI's commands (benchmarks/reuse.py), the `agents` race
runs one such server per agent (benchmarks/race.py).

A resident server pays no interpreter start per call, opens its repository once and keeps its shared ssh
connection warm between calls; that is what these rows measure against the same raw-git floors as the CLI's.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from benchmarks import common as c
from benchmarks.common import PYTHON

EXIT_CODE_META = "gitclaim/exit_code"  # where a tool error carries the CLI's exit code (docs/mcp.md)


def sdk_missing() -> str | None:
    """Why the MCP rows cannot be measured here, or None when the SDK is importable."""
    try:
        import anyio  # noqa: F401
        import mcp  # noqa: F401
    except ImportError as exc:
        return f"the MCP SDK is not importable ({exc})"
    return None


def why_not_measured() -> str | None:
    """None when the MCP rows can be measured in this run."""
    if c.CLOCK == "cpu":
        # A tool call's CPU is spent in the server process, which is not a child the client waits for, so
        # `--clock cpu` has no per-call figure to compare with the floor's.
        return "the MCP rows are measured with the wall clock only (run without --clock cpu)"
    return sdk_missing()


class ToolFailed(RuntimeError):
    def __init__(self, name: str, text: str, code: Any) -> None:
        super().__init__(f"{name}: {text} (exit code {code})")
        self.code = code


class Resident:
    """One `gitclaim mcp` server on stdio, started in `clone` with `env` and initialized, callable from
    synchronous code: the client session lives in the event loop of an anyio blocking portal (its own thread),
    so that its calls can be interleaved with the floor's processes (benchmarks/common.py: interleave)."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        from anyio.from_thread import start_blocking_portal

        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._session_cm: AbstractContextManager[Any] = self._portal.wrap_async_context_manager(
            self._open(clone, {**os.environ, **env}))
        try:
            self._session = self._session_cm.__enter__()
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise

    @staticmethod
    @asynccontextmanager
    async def _open(clone: Path, env: dict[str, str]) -> AsyncIterator[Any]:
        from mcp import ClientSession, StdioServerParameters, stdio_client

        params = StdioServerParameters(command=PYTHON, args=["-m", "gitclaim", "mcp"], cwd=str(clone), env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session

    async def _timed(self, name: str, args: dict[str, Any]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        res = await self._session.call_tool(name, args)
        dt = time.perf_counter() - t0
        if res.is_error:
            raise ToolFailed(name, res.content[0].text if res.content else "", (res.meta or {}).get(EXIT_CODE_META))
        return dt, res.structured_content

    def call(self, name: str, **args: Any) -> tuple[float, Any]:
        """One tool call: its wall time as the client awaits it, and its structured result; a tool error
        raises ToolFailed (a benchmark's tool call must succeed)."""
        return self._portal.call(self._timed, name, args)

    def timed(self, name: str, **args: Any) -> float:
        return self.call(name, **args)[0]

    def close(self) -> None:
        """Close the session (the server exits when its stdin closes), then the portal's thread."""
        try:
            self._session_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)


def split_verdict(mcp_met: bool | None, cli_met: bool) -> tuple[bool, str | None]:
    """The verdict of a target measured for both ways an agent runs gitclaim: (met by both, the verdict's text
    when the two differ)."""
    if mcp_met is None or mcp_met == cli_met:
        return cli_met and mcp_met is not False, None
    if mcp_met:
        return False, "met by a resident MCP server, missed by the CLI"
    return False, "met by the CLI, missed by a resident MCP server"


# One agent of the `agents` race that keeps one process: its own `gitclaim mcp` server in its clone, driven by
# this client loop. Each agent is its own driver process (as each coding agent is its own process, with its own
# MCP client and server): 32 clients in one interpreter would share one GIL that no set of real agents shares.
# usage: mcp_agent.py <ready-file> <go-file> <out.json> <trace2-file> <session name> <python>
MCP_AGENT = r"""
import json, os, sys, time
import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

ready, go, out_path, trace, name, python = sys.argv[1:7]
NOTHING_READY = 5


def failure(res):
    code = (res.meta or {}).get("gitclaim/exit_code")
    return code, (res.content[0].text if res.content else "")[-300:]


async def main():
    env = dict(os.environ, GIT_TRACE2_EVENT=trace)
    params = StdioServerParameters(command=python, args=["-m", "gitclaim", "mcp"], cwd=os.getcwd(), env=env)
    claims, errors, end = [], [], None
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        # A server that has been running: the repository open, the missions read, its ssh connection up.
        warm = await session.call_tool("list_missions", {"status": "QUEUED"})
        if warm.is_error:
            errors.append("warm-up list_missions: exit %s: %s" % failure(warm))
        open(trace, "w").close()  # count the race's git processes only
        open(ready, "w").close()
        deadline = time.time() + 600
        while not os.path.exists(go) and time.time() < deadline:
            await anyio.sleep(0.001)
        stop = time.time() + 900
        for _ in range(100000):
            if time.time() > stop:
                errors.append("time limit")
                break
            res = await session.call_tool("next_mission", {"session": name})
            if not res.is_error:
                claims.append(res.structured_content)
                continue
            code, text = failure(res)
            if code == NOTHING_READY:
                break
            errors.append(f"exit {code}: {text}")
            if len(errors) >= 20:
                break
        end = time.time()
    with open(out_path, "w") as f:
        json.dump({"claims": claims, "errors": errors, "end": end}, f)


anyio.run(main)
"""
