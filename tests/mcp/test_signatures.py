"""Signed claims through the MCP tools (issue 15, item 3): the missions the tools return carry the signature state
of their claims, and verify_missions is `gitclaim verify` as a tool. A real `gitclaim mcp` process, real keys, a
real trust list on the remote's main branch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from gitclaim.core.trust import TRUST_FILE
from tests.helpers import git, ok
from tests.mcp.test_mcp import call, server
from tests.support.signing import commit_to_main, fingerprint, make_key, trust_line, use_key


def test_tools_return_the_signature_of_each_claim_and_verify(make_clone: Callable[..., Path], bare_remote: Path,
                                                             tmp_path: Path) -> None:
    alice_key, mallory_key = make_key(tmp_path / "keys", "alice"), make_key(tmp_path / "keys", "mallory")
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", alice_key)})
    alice, mallory = make_clone("alice"), make_clone("mallory")
    use_key(alice, alice_key)
    use_key(mallory, mallory_key)
    for mid in ("m1", "m2", "m3"):
        ok(alice, "new", mid, "--title", f"Mission {mid}")
    ok(mallory, "claim", "m2")
    good = {"state": "good", "principal": "alice@agents", "key": fingerprint(alice_key)}
    untrusted = {"state": "untrusted", "principal": None, "key": fingerprint(mallory_key)}

    async def run() -> dict[str, Any]:
        got = {}
        async with server(alice) as s:
            got["claim"] = await call(s, "claim_mission", mission_id="m1")
            got["list"] = await call(s, "list_missions")
            got["show"] = await call(s, "show_mission", mission_id="m2")
            got["verify"] = await call(s, "verify_missions")
            got["verify_m1"] = await call(s, "verify_missions", ids=["m1"])
            got["release"] = await call(s, "release_mission", mission_id="m1")
        return got

    got = anyio.run(run)
    assert got["claim"]["signature"] == good and got["claim"]["changed"] is True
    assert {r["mission_id"]: r["signature"] for r in got["list"]["missions"]} == {
        "m1": good, "m2": untrusted, "m3": None}
    assert got["show"]["signature"] == untrusted
    report = got["verify"]
    assert (report["ok"], report["commits"], report["not_good"]) == (False, 5, 1)
    assert report["trust"] == {"source": "refs/remotes/origin/HEAD", "default_branch": "refs/heads/main",
                               "principals": ["alice@agents"]}
    m2 = next(m for m in report["missions"] if m["mission_id"] == "m2")
    assert m2["ok"] is False and m2["commits"][-1] == {
        "commit": git(bare_remote, "rev-parse", "refs/missions/m2").stdout.strip(), "action": "claim",
        "instance": git(mallory, "config", "gitclaim.instance").stdout.strip(), "state": "untrusted",
        "signature": untrusted, "claim_principal": None}
    assert (got["verify_m1"]["ok"], got["verify_m1"]["commits"]) == (True, 2)
    assert got["release"]["signature"] is None  # a released mission records no claim


def test_claim_mission_resumes_the_same_principals_claim_from_another_clone(make_clone: Callable[..., Path],
                                                                            bare_remote: Path, tmp_path: Path) -> None:
    key = make_key(tmp_path / "keys", "alice")
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", key)})
    first, again = make_clone("first"), make_clone("again")
    use_key(first, key)
    use_key(again, key)
    ok(first, "new", "m1", "--title", "One")
    ok(first, "claim", "m1")
    before = git(first, "config", "gitclaim.instance").stdout.strip()

    async def run() -> dict[str, Any]:
        async with server(again) as s:
            return await call(s, "claim_mission", mission_id="m1")

    got = anyio.run(run)
    assert (got["action"], got["previous"], got["epoch"]) == ("resume", {"instance": before, "epoch": 1}, 2)
    assert got["signature"]["state"] == "good" and got["changed"] is True
