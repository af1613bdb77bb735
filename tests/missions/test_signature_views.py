"""Reading signatures (issue 15, docs/signing.md "Reading signatures"): the signature state of every mission's
claim in `show`, `list` and `start`, and an agent that re-clones with its key finding and resuming its own
missions. Real keys, a real trust list on the remote's main branch, real CLI processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitclaim.core.trust import TRUST_FILE
from tests.helpers import git, ok
from tests.support.signing import commit_to_main, fingerprint, trust_line, use_key


def trust(remote: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    """The remote's main branch trusts alice and bob (not mallory)."""
    commit_to_main(remote, tmp_path / "admin", {
        TRUST_FILE: trust_line("alice@agents", keys["alice"]) + trust_line("bob@agents", keys["bob"])})


def clone_with(make_clone, name: str, key: Path | None) -> Path:
    clone = make_clone(name)
    if key is not None:
        use_key(clone, key)
    return clone


def forge(clone: Path, mission_id: str) -> None:
    """Alter the message of the mission's signed tip after signing and push it with plain git."""
    raw = git(clone, "cat-file", "commit", f"refs/missions/{mission_id}").stdout
    forged = git(clone, "hash-object", "-t", "commit", "-w", "--stdin",
                 input=raw.replace(f"claim {mission_id}", f"claim {mission_id} (edited)")).stdout.strip()
    git(clone, "push", "-q", "--force", "origin", f"{forged}:refs/missions/{mission_id}")


@pytest.fixture
def board(bare_remote: Path, tmp_path: Path, make_clone, keys) -> dict[str, Path]:
    """Missions claimed by alice (good), bob (good, then done), mallory (untrusted), a clone without a key
    (unsigned), alice again with a forged claim commit (bad), and one never claimed."""
    trust(bare_remote, tmp_path, keys)
    clones = {name: clone_with(make_clone, name, keys.get(name)) for name in ("alice", "bob", "mallory", "plain")}
    for mid in ("m-good", "m-done", "m-untrusted", "m-unsigned", "m-bad", "m-queued"):
        ok(clones["alice"], "new", mid, "--title", f"Mission {mid}")
    ok(clones["alice"], "claim", "m-good")
    ok(clones["bob"], "claim", "m-done")
    ok(clones["bob"], "done", "m-done", "--summary", "finished")
    ok(clones["mallory"], "claim", "m-untrusted")
    ok(clones["plain"], "claim", "m-unsigned")
    ok(clones["alice"], "claim", "m-bad")
    forge(clones["alice"], "m-bad")
    return clones


def expected(keys: dict[str, Path]) -> dict[str, dict | None]:
    return {
        "m-good": {"state": "good", "principal": "alice@agents", "key": fingerprint(keys["alice"])},
        "m-done": {"state": "good", "principal": "bob@agents", "key": fingerprint(keys["bob"])},
        "m-untrusted": {"state": "untrusted", "principal": None, "key": fingerprint(keys["mallory"])},
        "m-unsigned": {"state": "none", "principal": None, "key": None},
        "m-bad": {"state": "bad", "principal": None, "key": None},  # git names no key for a broken signature
        "m-queued": None,
    }


def git_commands(clone: Path, *args: str) -> list[str]:
    """The git subcommands a gitclaim run started, from git's own trace."""
    trace = clone.parent / "trace2.json"
    trace.unlink(missing_ok=True)
    ok(clone, *args, env={"GIT_TRACE2_EVENT": str(trace)})
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    starts = [e["argv"] for e in events if e.get("event") == "start"]
    return [next(a for a in argv[1:] if not a.startswith("-") and "=" not in a) for argv in starts]


def test_list_json_gives_every_mission_its_claims_signature(board, keys) -> None:
    rows = json.loads(ok(board["bob"], "list", "--json").stdout)
    assert {r["mission_id"]: r["signature"] for r in rows} == expected(keys)
    assert list(rows[0])[-3:] == ["idle", "stale", "signature"]
    # the signatures are kept by tip: a listing in which nothing moved checks none (one cat-file reads the trust
    # list); one that moved checks its commits in one git process, whatever their number
    # (for-each-ref too, unless the files holding the mission refs are unchanged and settled: the listing cache)
    ran = [c for c in git_commands(board["bob"], "list", "--json", "--offline") if c != "for-each-ref"]
    assert sorted(ran[:2]) == ["config", "rev-parse"] and ran[2:] == ["cat-file"]  # the first two run at once
    ok(board["alice"], "log", "m-good", "more")
    ok(board["plain"], "log", "m-unsigned", "more")
    ok(board["bob"], "sync")
    assert git_commands(board["bob"], "list", "--json", "--offline").count("log") == 1
    # --offline reads the same from the local mirror, without the network
    git(board["bob"], "remote", "set-url", "origin", "/nonexistent/remote.git")
    res = ok(board["bob"], "list", "--json", "--offline")
    assert {r["mission_id"]: r["signature"] for r in json.loads(res.stdout)} == expected(keys)
    assert res.stderr.startswith("gitclaim: offline: missions as last fetched"), res.stderr


def test_show_says_the_claims_signature(board, keys) -> None:
    want = expected(keys)
    texts = {
        "m-good": "signature: good (alice@agents)",
        "m-done": "signature: good (bob@agents)",
        "m-untrusted": f"signature: untrusted (key {fingerprint(keys['mallory'])})",
        "m-unsigned": "signature: none",
        "m-bad": "signature: bad",
    }
    for mid, text in texts.items():
        out = ok(board["plain"], "show", mid).stdout.splitlines()
        assert [line for line in out if line.startswith("signature:")] == [text], out
        assert json.loads(ok(board["plain"], "show", mid, "--json").stdout)["signature"] == want[mid]
    assert not any(line.startswith("signature:") for line in ok(board["plain"], "show", "m-queued").stdout.splitlines())
    assert json.loads(ok(board["plain"], "show", "m-queued", "--json").stdout)["signature"] is None


def table_cells(out: str, column: str) -> dict[str, str]:
    """{mission id: the cell of `column`} of the plain `list` table (columns are padded to a common width)."""
    lines = out.splitlines()
    header = lines[0]
    assert column in header, header
    start = header.index(column)
    end = start + len(column)
    while end < len(header) and header[end] == " ":
        end += 1
    return {line.split()[0]: line[start:end].strip() for line in lines[1:]}


def test_plain_list_marks_the_claims_that_are_not_good(board) -> None:
    out = ok(board["alice"], "list").stdout
    assert out.splitlines()[0].split() == ["ID", "STATUS", "PRI", "HOLDER", "SINCE", "IDLE", "SIGNATURE", "TITLE"]
    assert table_cells(out, "SIGNATURE") == {"m-untrusted": "untrusted", "m-unsigned": "unsigned", "m-bad": "BAD",
                                            "m-good": "", "m-queued": "", "m-done": ""}


def test_plain_list_without_a_trust_list_marks_only_bad_signatures(make_clone, keys) -> None:
    alice = clone_with(make_clone, "alice", keys["alice"])
    plain = clone_with(make_clone, "plain", None)
    for mid in ("m1", "m2"):
        ok(alice, "new", mid, "--title", f"Mission {mid}")
    ok(alice, "claim", "m1")
    ok(plain, "claim", "m2")
    out = ok(alice, "list").stdout
    # no trust list yet: every claim is unsigned or untrusted, and the table stays as it was
    assert out.splitlines()[0].split() == ["ID", "STATUS", "PRI", "HOLDER", "SINCE", "IDLE", "TITLE"]
    rows = {r["mission_id"]: r["signature"]["state"] for r in json.loads(ok(alice, "list", "--json").stdout)}
    assert rows == {"m1": "untrusted", "m2": "none"}
    assert "signature:" not in ok(alice, "start").stdout
    forge(alice, "m1")
    assert table_cells(ok(alice, "list").stdout, "SIGNATURE") == {"m1": "BAD", "m2": ""}
    assert "  signature: bad" in ok(alice, "start").stdout.splitlines()


def instance_of(clone: Path) -> str:
    return git(clone, "config", "gitclaim.instance").stdout.strip()


def claim_as_someone_else(clone: Path, mission_id: str, principal: str) -> None:
    """An unsigned commit on the mission that names `principal` in mission.md, pushed with plain git: what anyone
    with push access can write."""
    ref = f"refs/missions/{mission_id}"
    text = git(clone, "show", f"{ref}:mission.md").stdout.replace("---\n", f'---\nclaim_principal: "{principal}"\n', 1)
    blob = git(clone, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(clone, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    commit = git(clone, "commit-tree", tree, "-p", ref, "-m", f"chore(mission): log note on {mission_id}").stdout.strip()
    git(clone, "push", "-q", "origin", f"{commit}:{ref}")


def test_start_lists_this_agents_missions_from_another_clone_and_resumes_them(bare_remote, tmp_path, make_clone,
                                                                             keys) -> None:
    trust(bare_remote, tmp_path, keys)
    first = clone_with(make_clone, "first", keys["alice"])
    bob = clone_with(make_clone, "bob", keys["bob"])
    plain = clone_with(make_clone, "plain", None)
    for mid, pri in (("m1", "P1"), ("m2", "P2"), ("m3", "P3"), ("m4", "P4"), ("m5", "P5")):
        ok(first, "new", mid, "--title", f"Mission {mid}", "--priority", pri)
    for mid in ("m1", "m2", "m3"):
        ok(first, "claim", mid)
    ok(first, "log", "m1", "halfway there")
    ok(bob, "claim", "m4")
    ok(plain, "claim", "m5")
    claim_as_someone_else(plain, "m5", "alice@agents")  # names alice, proves nothing: not alice's
    old = instance_of(first)
    again = clone_with(make_clone, "again", keys["alice"])  # alice's agent cloned again: a new instance id

    out = ok(again, "start").stdout
    mine = out.split("== Your missions (3) ==\n")[1].split("\n\n")[0].splitlines()
    assert mine[:4] == [
        mine[0],
        f"  held by your principal alice@agents from another clone (instance {old}): resume it here with "
        "gitclaim claim m1",
        "  signature: good (alice@agents)",
        mine[3]]
    assert mine[0].startswith("m1  ACTIVE  P1  Mission m1  (epoch 1, idle ") and mine[3].startswith("  - ")
    assert any(line.startswith("  - ") and line.endswith("halfway there") for line in mine)  # its log tail
    others = out.split("== Other active missions (2) ==\n")[1].split("\n\n")[0].splitlines()
    assert [others[1], others[3]] == ["  signature: good (bob@agents)", "  signature: none"], others
    assert out.rstrip().endswith("Next: resume m1 (gitclaim claim m1)")
    data = json.loads(ok(again, "start", "--json").stdout)
    assert [(r["mission_id"], r["resume"], r["signature"]["state"]) for r in data["mine"]] == [
        ("m1", "gitclaim claim m1", "good"), ("m2", "gitclaim claim m2", "good"), ("m3", "gitclaim claim m3", "good")]
    assert [(r["mission_id"], r["signature"]["state"]) for r in data["others"]] == [("m4", "good"), ("m5", "none")]
    assert data["trust_list"] is True and data["ready"] == []

    # start --claim takes back the most urgent; claim takes back the others: a resume each, never a takeover
    out = ok(again, "start", "--claim").stdout
    assert out.rstrip().endswith(f"Resumed m1 (epoch 2): held before by instance {old}. Next: gitclaim show m1")
    assert ok(again, "claim", "m2").stdout == f"resumed m2 (epoch 2): held before by instance {old}\n"
    got = json.loads(ok(again, "claim", "m3", "--json").stdout)
    assert (got["action"], got["previous"], got["epoch"], got["instance"]) == (
        "resume", {"instance": old, "epoch": 1}, 2, instance_of(again))
    for mid in ("m1", "m2", "m3"):
        msg = git(bare_remote, "log", "-1", "--format=%B", f"refs/missions/{mid}").stdout
        assert "Gitclaim-Action: resume" in msg and f"Gitclaim-Previous-Instance: {old}" in msg, msg
        assert "Takeover" not in msg
    out = ok(again, "start", "--claim").stdout
    assert "== Your missions (3) ==" in out and "held by your principal" not in out
    assert out.rstrip().endswith("Note: not claiming more: resume what you hold (m1, m2, m3)")
    # the other outcomes of claim --json
    got = json.loads(ok(again, "claim", "m3", "--json").stdout)
    assert (got["changed"], got["action"], got["previous"]) == (False, None, None)
    got = json.loads(ok(bob, "claim", "m2", "--force", "--reason", "needed now", "--json").stdout)
    assert (got["action"], got["previous"]) == ("takeover", {"instance": instance_of(again), "epoch": 2})
    ok(first, "new", "m6", "--title", "Mission m6")
    got = json.loads(ok(bob, "claim", "m6", "--json").stdout)
    assert (got["action"], got["previous"]) == ("claim", None)


def test_start_lists_as_yours_only_what_claim_resumes(bare_remote, tmp_path, make_clone, keys) -> None:
    # claimed while alice's key was not yet in the trust list: the claim records no principal, so claim would not
    # resume it, even once its signature reads good
    first = clone_with(make_clone, "first", keys["alice"])
    ok(first, "new", "m1", "--title", "Mission m1")
    ok(first, "claim", "m1")
    trust(bare_remote, tmp_path, keys)
    again = clone_with(make_clone, "again", keys["alice"])
    data = json.loads(ok(again, "start", "--json").stdout)
    assert data["mine"] == []
    assert [(r["mission_id"], r["principal"], r["signature"]["state"]) for r in data["others"]] == [
        ("m1", None, "good")]
