"""The read cache of parsed missions (core/cache.py), `--offline` reads, and packed mission refs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import git, git_commands, run_gitclaim

CACHE = Path(".git") / "gitclaim" / "cache" / "missions.json"


def ok(clone: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, res.stderr
    return res


def listing(clone: Path, *extra: str) -> dict[str, dict]:
    return {r["mission_id"]: r for r in json.loads(ok(clone, "list", "--json", *extra).stdout)}


def loose_mission_refs(clone: Path) -> list[str]:
    folder = clone / ".git" / "refs" / "missions"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_unchanged_missions_are_not_read_again(make_clone, tmp_path: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    for mid in ("m1", "m2", "m3"):
        ok(a, "new", mid, "--title", f"Title {mid}")
    assert "Title m3" in ok(b, "list").stdout  # the table reads every mission through the cache
    assert (b / CACHE).exists()
    assert git_commands(b, tmp_path, "list") == ["fetch", "for-each-ref"]  # no cat-file: all cached
    ok(a, "claim", "m2", "--as", "agent a")
    assert "agent a" in ok(b, "list").stdout
    rows = listing(b)
    assert rows["m2"]["status"] == "ACTIVE" and rows["m2"]["claimed_by"] == "agent a"
    assert rows["m1"]["title"] == "Title m1"
    assert git_commands(b, tmp_path, "next", "--json", "--as", "b") == ["fetch", "for-each-ref", "cat-file", "push"]


def test_a_corrupt_or_foreign_cache_is_rebuilt_never_trusted(make_clone) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "True title")
    ok(a, "list")
    head, _, body = (a / CACHE).read_bytes().partition(b"\n")
    (a / CACHE).write_bytes(head + b"\n" + body.replace(b"True title", b"Fake title"))  # checksum breaks
    assert "True title" in ok(a, "list").stdout
    header = json.loads(head)
    header["cache"] = 999  # another gitclaim's format
    (a / CACHE).write_bytes(json.dumps(header).encode() + b"\n" + body.replace(b"True title", b"Fake title"))
    assert "True title" in ok(a, "list").stdout
    (a / CACHE).write_bytes(b"\x00garbage")
    assert "True title" in ok(a, "list").stdout
    rebuilt_head = json.loads((a / CACHE).read_bytes().partition(b"\n")[0])
    assert (rebuilt_head["cache"] == 1 and rebuilt_head["sha256"] != header["sha256"]) or body


def test_concurrent_readers_and_a_writer(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    for i in range(12):
        ok(a, "new", f"m{i:02d}", "--title", f"M {i}")
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-m", "gitclaim", "list", "--json"], cwd=b, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    ok(a, "claim", "m03", "--as", "a")
    outs = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert all(code == 0 and len(json.loads(out)) == 12 for out, _, code in outs), [o[1] for o in outs]
    assert listing(b)["m03"]["status"] == "ACTIVE"
    assert not list((b / CACHE).parent.glob("*.tmp"))


def test_list_offline_reads_the_mirror_and_says_how_old(make_clone, tmp_path: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "m1", "--title", "One")
    ok(b, "sync")
    ok(a, "claim", "m1", "--as", "a")
    assert git_commands(b, tmp_path, "list", "--offline") == ["for-each-ref", "cat-file"]
    res = ok(b, "list", "--offline", "--json")
    assert json.loads(res.stdout)[0]["status"] == "QUEUED"  # as last fetched
    assert res.stderr.startswith("gitclaim: offline: missions as last fetched ") and res.stderr.endswith(" ago\n")
    res = ok(b, "show", "m1", "--offline")
    assert "status: QUEUED" in res.stdout and "offline: missions as last fetched" in res.stderr
    assert listing(b)["m1"]["status"] == "ACTIVE"
    fresh = make_clone("fresh", init=False)
    res = run_gitclaim(fresh, "list", "--offline")
    assert res.returncode == 0
    assert res.stderr == "gitclaim: offline: this clone has never fetched missions (run: gitclaim sync)\n"


def test_init_and_sync_keep_mission_refs_packed(make_clone) -> None:
    a = make_clone("a")
    for mid in ("m1", "m2"):
        ok(a, "new", mid, "--title", "T")
    b = make_clone("b")
    assert loose_mission_refs(b) == []
    assert "refs/missions/m1" in (b / ".git" / "packed-refs").read_text()
    ok(a, "new", "m3", "--title", "T")
    ok(b, "sync")
    assert loose_mission_refs(b) == []
    assert git(b, "rev-parse", "refs/missions/m3").returncode == 0
