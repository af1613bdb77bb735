"""`gitclaim mcp --repo PATH` / GITCLAIM_REPO for clients that start servers in `/`, and what every client reads
from the tool list: annotations, optional arguments, descriptions. A real stdio client (the MCP SDK's) starts the
real server process, with the working directory `/`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from tests.helpers import remote_refs  # noqa: E402

CALL_TIMEOUT = 60
READ_ONLY = {"list_missions", "show_mission", "get_context", "wait_for_change", "verify_missions"}
IDEMPOTENT = {"claim_mission", "heartbeat", "edit_mission"} | READ_ONLY
DESTRUCTIVE = {"complete_mission", "release_mission", "claim_mission", "cancel_mission"}


@asynccontextmanager
async def server_in_root(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "gitclaim", "mcp", *args], cwd="/",
                                   env={**os.environ, **(env or {})})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            with anyio.fail_after(CALL_TIMEOUT):
                await session.initialize()
            yield session


async def call(client: ClientSession, tool: str, /, **arguments: Any) -> tuple[bool, Any]:
    with anyio.fail_after(CALL_TIMEOUT):
        res = await client.call_tool(tool, arguments)
    return res.is_error, res.content[0].text if res.is_error else res.structured_content


def test_a_server_started_in_root_acts_on_its_repo(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    clone = make_clone("a")
    (clone / "sub").mkdir()

    async def run() -> list[Any]:
        got = []
        async with server_in_root("--repo", str(clone)) as s:
            got.append(await call(s, "start_mission", name="Search box", objective="Find things.",
                                  profile="simple"))
            got.append(await call(s, "list_missions", fetch=False))
            got.append(await call(s, "show_mission", mission_id="search-box", repo_path="sub"))  # relative: in --repo
        async with server_in_root(env={"GITCLAIM_REPO": str(clone)}) as s:
            got.append(await call(s, "heartbeat", mission_id="search-box"))
        return got

    started, listed, shown, beat = anyio.run(run)
    assert started[0] is False and started[1]["mission_id"] == "search-box"
    assert [row["mission_id"] for row in listed[1]["missions"]] == ["search-box"]
    assert shown[0] is False and shown[1]["status"] == "ACTIVE"
    assert beat[0] is False and beat[1]["changed"] is True  # same clone, same instance: still the holder
    assert "refs/missions/search-box" in remote_refs(bare_remote)


def test_without_repo_a_server_in_root_names_the_problem() -> None:
    async def run() -> tuple[bool, Any]:
        async with server_in_root() as s:
            return await call(s, "list_missions")

    assert anyio.run(run) == (True, "not a git repository: / (run gitclaim inside a clone of the shared repo)")


@pytest.mark.parametrize("how", ["option", "env"])
def test_startup_fails_with_one_line_when_repo_is_not_a_clone(tmp_path: Path, how: str) -> None:
    args, env = (["--repo", str(tmp_path)], {}) if how == "option" else ([], {"GITCLAIM_REPO": str(tmp_path)})
    res = subprocess.run([sys.executable, "-m", "gitclaim", "mcp", *args], cwd="/", text=True, capture_output=True,
                         env={**os.environ, **env}, timeout=60, stdin=subprocess.DEVNULL)
    assert (res.returncode, res.stdout) == (2, "")
    assert res.stderr == f"gitclaim: --repo {tmp_path}: not a git repository (give the clone the tools act on)\n"
    missing = subprocess.run([sys.executable, "-m", "gitclaim", "mcp", "--repo", str(tmp_path / "nope")], cwd="/",
                             text=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (missing.returncode, missing.stderr) == (
        2, f"gitclaim: --repo {tmp_path / 'nope'}: no such directory (give the clone the tools act on)\n")


def test_every_tool_is_annotated_described_and_optional_where_it_can_be(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")

    async def run() -> list[Any]:
        async with server_in_root("--repo", str(clone)) as s:
            return list((await s.list_tools()).tools)

    tools = anyio.run(run)
    assert len(tools) == 19
    for tool in tools:
        hints = tool.annotations
        assert hints is not None, tool.name
        assert hints.read_only_hint is (tool.name in READ_ONLY), tool.name
        assert hints.idempotent_hint is (tool.name in IDEMPOTENT), tool.name
        assert hints.destructive_hint is (tool.name in DESTRUCTIVE), tool.name
        assert hints.open_world_hint is True
        schema = tool.input_schema
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
        if tool.name in ("log_decision", "log_milestone", "log_issue"):
            assert "task_id" not in schema.get("required", []), tool.name
        assert "repo_path" not in schema.get("required", [])
        assert tool.output_schema is not None, tool.name
    profile = next(t for t in tools if t.name == "start_mission").input_schema["properties"]["profile"]
    assert profile["enum"] == ["simple", "standard", "complex"] and "standard (analysis" in profile["description"]


def test_a_refused_derived_id_is_named(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    clone = make_clone("a")

    async def run() -> list[Any]:
        async with server_in_root("--repo", str(clone)) as s:
            return [await call(s, "start_mission", name="AI search", objective="Search by meaning."),
                    await call(s, "start_mission", name="AI search", objective="Search by meaning.",
                               mission_id="semantic-search")]

    refused, chosen = anyio.run(run)
    assert refused == (True, "the mission id 'ai-search', derived from the name 'AI search': refused before writing "
                             "anything: the commit message would break this repository's commit policy "
                             "(forbidden-term: 'ai'); pass another id as mission_id")
    assert chosen[0] is False and chosen[1]["mission_id"] == "semantic-search"
    assert list(remote_refs(bare_remote)) == ["refs/missions/semantic-search"]


def test_log_tools_take_a_mission_level_entry_without_task_id(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")

    async def run() -> list[Any]:
        async with server_in_root("--repo", str(clone)) as s:
            await call(s, "start_mission", name="Docs", objective="Write them.", profile="simple")
            return [await call(s, "log_milestone", message="outline done", mission_id="docs"),
                    await call(s, "log_decision", chosen="markdown", mission_id="docs")]

    milestone, decision = anyio.run(run)
    assert milestone[0] is False and milestone[1]["mission_id"] == "docs" and milestone[1]["task_id"] is None
    assert decision[0] is False and decision[1]["mission_id"] == "docs"
