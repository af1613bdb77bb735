"""The MCP server (`python -m gitclaim mcp`) driven by the SDK's own stdio client, on real clones of a real bare
remote: a whole mission, a claim race between two servers, error texts, and a long run that must stay flat."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from gitclaim.core.refs import check_id  # noqa: E402
from gitclaim.errors import InvalidInput  # noqa: E402
from tests.helpers import git, run_gitclaim  # noqa: E402

CALL_TIMEOUT = 60


@asynccontextmanager
async def server(clone: Path) -> AsyncIterator[ClientSession]:
    """A real `gitclaim mcp` process in `clone`, with the test's isolated git environment."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "gitclaim", "mcp"], cwd=str(clone),
                                   env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            with anyio.fail_after(CALL_TIMEOUT):
                await session.initialize()
            yield session


async def call(client: ClientSession, tool: str, /, **arguments: Any) -> dict[str, Any]:
    """A tool call that must succeed: its structured content."""
    with anyio.fail_after(CALL_TIMEOUT):
        res = await client.call_tool(tool, arguments)
    assert not res.is_error, f"{tool}: {res.content[0].text}"
    assert res.structured_content is not None
    return res.structured_content


async def refused(client: ClientSession, tool: str, /, **arguments: Any) -> str:
    """A tool call that must fail: the error's one line."""
    with anyio.fail_after(CALL_TIMEOUT):
        res = await client.call_tool(tool, arguments)
    assert res.is_error, f"{tool} unexpectedly succeeded: {res.structured_content}"
    assert len(res.content) == 1
    return res.content[0].text


def cli(clone: Path, *args: str) -> str:
    res = run_gitclaim(clone, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_a_whole_mission_through_the_tools(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    orchestrator, person = make_clone("orchestrator"), make_clone("person")
    mission_id = "checkout-flow"

    async def run() -> dict[str, Any]:
        async with server(orchestrator) as s:
            errors.extend([
                await refused(s, "next_mission"),
                await refused(s, "show_mission", mission_id="nope"),
                await refused(s, "start_task", mission_id="Bad Id", phase=1, caller_type="x", name="y"),
                await refused(s, "list_missions", repo_path=str(orchestrator / "missing")),
            ])
            names = {t.name for t in (await s.list_tools()).tools}
            assert {"start_mission", "start_task", "complete_task", "complete_mission", "log_decision",
                    "log_milestone", "log_issue", "get_context", "claim_mission", "next_mission",
                    "list_missions", "show_mission", "release_mission", "heartbeat"} <= names
            got = await call(s, "start_mission", name="Checkout flow", objective="Pay with a saved card.",
                             profile="standard", session="orchestrator")
            assert got["mission_id"] == mission_id and got["status"] == "ACTIVE" and "workflow.md" in got["files"]
            view = await call(s, "show_mission", mission_id=mission_id, file="start.md")
            assert f"Mission `{mission_id}`" in view["file_text"] and view["history"][0]["action"] == "start"
            claimed = await call(s, "claim_mission", mission_id=mission_id)
            assert claimed["changed"] is False and claimed["claimed_by"] == "orchestrator"

            t1 = (await call(s, "start_task", mission_id=mission_id, phase=1, caller_type="orchestrator",
                             name="Analysis", goal="approach logged"))["task_id"]
            assert t1 == f"{mission_id}/t1"
            await call(s, "log_decision", task_id=t1, category="architecture", question="card storage",
                       chosen="provider tokens", rationale="no card data at rest")
            await call(s, "log_milestone", task_id=t1, message="approach logged", progress=33)
            await call(s, "complete_task", task_id=t1, status="success", outcome="approach chosen",
                       phase_complete=True, files=["docs/plan.md"])
            assert await refused(s, "start_task", mission_id=mission_id, phase=2, caller_type="orchestrator",
                                 name="Implementation") == \
                f"phase 2 waits for human approval: gitclaim approve {mission_id} --phase 2"
            cli(person, "approve", mission_id, "--phase", "2")

            t2 = (await call(s, "start_task", mission_id=mission_id, phase=2, caller_type="orchestrator",
                             name="Implementation"))["task_id"]
            issue = await call(s, "log_issue", task_id=t2, type="blocker", severity="high",
                               description="payment sandbox credentials missing", requiresHumanReview=True)
            assert issue["blocked"] is True
            blocked = (f"mission {mission_id} is BLOCKED: payment sandbox credentials missing "
                       f"(gitclaim unblock {mission_id})")
            assert await refused(s, "log_milestone", task_id=t2, message="going on anyway") == blocked
            ctx = await call(s, "get_context", mission_id=mission_id, include=["blockers"])
            assert ctx["status"] == "BLOCKED" and ctx["blockers"][0]["blocking"] is True
            assert ctx["tasks"] is None
            cli(person, "unblock", mission_id, "--note", "credentials added")

            await call(s, "log_milestone", task_id=t2, message="card form works", progress=66)
            await call(s, "complete_task", task_id=t2, status="success", phase_complete=True,
                       files=["src/pay.py", "src/cart.py"])
            t3 = (await call(s, "start_task", mission_id=mission_id, phase=3, caller_type="orchestrator",
                             name="Review"))["task_id"]
            done = await call(s, "complete_task", task_id=t3, status="completed", phase_complete=True,
                              files=["src/pay.py"])
            assert done["status"] == "success" and done["duration_seconds"] >= 0

            phase2 = await call(s, "get_context", mission_id=mission_id, phase=2)
            assert [t["task_id"] for t in phase2["tasks"]] == [t2]
            assert [m["progress"] for m in phase2["milestones"]] == [66]
            assert phase2["decisions"] == []
            assert phase2["blockers"][0]["resolution"] == "credentials added"
            assert [p["id"] for p in phase2["phases"]] == ["implementation"]
            return await call(s, "complete_mission", mission_id=mission_id, status="completed",
                              summary="saved cards work; tests pass")

    errors: list[str] = []
    totals = anyio.run(run)
    # expected failures are tool errors carrying exactly the line the CLI prints (after its "gitclaim: ")
    assert errors[1] == run_gitclaim(orchestrator, "show", "nope").stderr.strip().removeprefix("gitclaim: ")
    assert errors[0].startswith("nothing ready to claim")
    with pytest.raises(InvalidInput) as bad_id:
        check_id("Bad Id")
    assert errors[2:] == [str(bad_id.value), f"repo_path {str(orchestrator / 'missing')!r} is not a directory"]
    assert totals["status"] == "DONE"
    assert (totals["tasks"], totals["decisions"], totals["milestones"], totals["issues"]) == (3, 1, 2, 1)
    assert totals["files"] == ["docs/plan.md", "src/cart.py", "src/pay.py"]
    assert totals["phases_complete"] == [1, 2, 3]

    subjects = git(bare_remote, "log", "--reverse", "--format=%s", f"refs/missions/{mission_id}").stdout
    assert subjects.splitlines() == [f"chore(mission): {s}" for s in (
        f"start {mission_id}",
        f"start task t1 (phase 1) on {mission_id}",
        f"log decision on {mission_id}",
        f"log milestone on {mission_id}",
        f"complete task t1 (phase 1) on {mission_id}",
        f"approve phase 2 of {mission_id}",
        f"start task t2 (phase 2) on {mission_id}",
        f"log issue on {mission_id}",
        f"unblock {mission_id}",
        f"log milestone on {mission_id}",
        f"complete task t2 (phase 2) on {mission_id}",
        f"start task t3 (phase 3) on {mission_id}",
        f"complete task t3 (phase 3) on {mission_id}",
        f"complete {mission_id}",
    )]
    assert totals["commits"] == 14


def test_two_servers_race_for_one_mission(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    cli(a, "new", "race-me", "--title", "Only one may win")
    results: dict[str, Any] = {}

    async def claim(clone: Path, who: str) -> None:
        async with server(clone) as s:
            await call(s, "list_missions")  # both servers up and warm before the gun
            ready.append(who)
            while len(ready) < 2:
                await anyio.sleep(0.005)
            with anyio.fail_after(CALL_TIMEOUT):
                results[who] = await s.call_tool("claim_mission", {"mission_id": "race-me", "session": who})

    ready: list[str] = []

    async def both() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(claim, a, "agent-a")
            tg.start_soon(claim, b, "agent-b")

    anyio.run(both)
    winners = [who for who, res in results.items() if not res.is_error]
    assert len(winners) == 1
    loser = "agent-b" if winners == ["agent-a"] else "agent-a"
    text = results[loser].content[0].text
    assert re.match(rf'mission race-me is held by "{winners[0]}" .* since \S+Z \(epoch 1', text), text
    assert results[loser].meta == {"gitclaim/exit_code": 3}
    claims = git(bare_remote, "log", "--format=%s", "refs/missions/race-me").stdout.splitlines()
    assert claims == ["chore(mission): claim race-me", "chore(mission): create race-me"]


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _live(pids: list[int]) -> list[tuple[int, bytes]]:
    """(pid, command line) of the processes that are still running (a child that ended and is not reaped yet
    has an empty command line)."""
    return [(pid, cmd) for pid in pids if (cmd := _cmdline(pid))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # it ended while we looked
        return b""


def _server_pid() -> int:
    """The `gitclaim mcp` process the stdio client started (a child of this test process)."""
    mine = [pid for pid in _children(os.getpid()) if b"gitclaim\x00mcp" in _cmdline(pid)]
    assert len(mine) == 1, mine
    return mine[0]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


CALLS = 2000
CONCURRENCY = 4


def test_a_long_running_server_stays_flat(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")
    cli(clone, "new", "steady", "--title", "Read many times")
    measured: dict[str, Any] = {}

    async def hammer(s: ClientSession, count: int) -> None:
        async def worker(n: int) -> None:
            for i in range(n):
                if i % 50 == 0:  # a fetch now and then; mostly the cheap local read
                    await call(s, "show_mission", mission_id="steady")
                else:
                    got = await call(s, "list_missions", fetch=False)
                    assert got["missions"][0]["mission_id"] == "steady"

        async with anyio.create_task_group() as tg:
            for _ in range(CONCURRENCY):
                tg.start_soon(worker, count // CONCURRENCY)

    async def run() -> None:
        async with server(clone) as s:
            pid = _server_pid()
            await hammer(s, 100)  # warm up: imports, pydantic validators, worker threads
            await anyio.sleep(0.2)
            measured.update(pid=pid, kids_before=_live(_children(pid)), rss_before=_rss_kib(pid))
            await hammer(s, CALLS)
            await anyio.sleep(0.2)
            measured.update(kids_after=_live(_children(pid)), rss_after=_rss_kib(pid))

    anyio.run(run)
    print(f"\n{CALLS} calls: server children {len(measured['kids_before'])} -> {len(measured['kids_after'])}, "
          f"VmRSS {measured['rss_before']} KiB -> {measured['rss_after']} KiB")
    # One child, the same before and after: the repository's kept cat-file (core/git/process.py KeptReader).
    assert len(measured["kids_before"]) == 1
    assert measured["kids_after"] == measured["kids_before"]
    assert measured["kids_before"][0][1] == b"git\0cat-file\0--batch\0"
    assert measured["rss_after"] - measured["rss_before"] < 16 * 1024


def test_mcp_without_the_sdk_says_how_to_install_it(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"  # an `mcp` that cannot be imported, first on the path
    (shadow / "mcp").mkdir(parents=True)
    (shadow / "mcp" / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'mcp'\", name='mcp')\n")
    res = run_gitclaim(tmp_path, "mcp",
                       env={"PYTHONPATH": os.pathsep.join([str(shadow), os.environ["PYTHONPATH"]])})
    assert res.returncode == 2
    assert res.stderr == "gitclaim: the MCP server needs: pip install 'gitclaim[mcp]'\n"


def test_the_agents_file_follows_writes_made_through_the_tools(make_clone: Callable[..., Path]) -> None:
    """The Active Mission section is wired where the store is opened: a blocker logged and a mission completed
    through the MCP tools update CLAUDE.md as the CLI does, and a file that cannot be updated is reported."""
    clone = make_clone("a")
    cli(clone, "init", "--agents", "CLAUDE.md")
    cli(clone, "new", "m1", "--title", "First")
    cli(clone, "claim", "m1")
    agents_file = clone / "CLAUDE.md"
    assert "Status: ACTIVE" in agents_file.read_text()
    metas: list[Any] = []

    async def run() -> None:
        async with server(clone) as s:
            await call(s, "log_issue", task_id=None, mission_id="m1", description="no credentials",
                       requiresHumanReview=True)
            assert "Status: BLOCKED" in agents_file.read_text() and "blocked: no credentials" in \
                agents_file.read_text()
            cli(clone, "unblock", "m1")
            await call(s, "complete_mission", mission_id="m1", status="completed", summary="over")
            metas.append(agents_file.read_text())
            cli(clone, "new", "m2", "--title", "Second")
            agents_file.write_text("<!-- gitclaim:active-mission -->\nthe end marker is gone\n")
            with anyio.fail_after(CALL_TIMEOUT):
                res = await s.call_tool("claim_mission", {"mission_id": "m2"})
            assert not res.is_error and res.meta is not None
            metas.append(res.meta.get("gitclaim/warnings"))

    anyio.run(run)
    assert "DONE" in cli(clone, "show", "m1")
    assert "None: this clone holds no mission" in metas[0] and "m1" not in metas[0].split("## Active Mission")[1]
    assert metas[1] == [f"warning: cannot update {agents_file.resolve()}: found <!-- gitclaim:active-mission --> "
                        "without <!-- /gitclaim:active-mission -->; fix the markers by hand"]
