"""`list --json` from the listing cache (missions/listcache.py): the same document as the rows of
views.list_missions, no git process for refs whose files did not change, and never a stale or foreign answer."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from gitclaim.core import refsnap
from gitclaim.missions import views, workspace
from tests.helpers import git, git_commands, new_mission, ok, run_gitclaim

LISTING = Path(".git") / "gitclaim" / "cache" / "listing"


def expected(clone: Path, **filters: object) -> str:
    """The document the listing must equal: views.list_missions' rows as json.dumps writes them."""
    rows = views.list_missions(workspace.open_store(clone), fetch=False, **filters).rows  # type: ignore[arg-type]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def without_idle(text: str) -> str:
    return re.sub(r'"idle": "[^"]*"', '"idle": "-"', text)  # a second may pass between two readers


def settle(clone: Path, ago: float = 60) -> None:
    """Make packed-refs look written `ago` seconds ago: long ago, as it is after any pause between commands, is
    settled (refsnap.settled); a negative `ago` (the future) never is."""
    when = time.time() - ago
    os.utime(clone / ".git" / "packed-refs", (when, when))


def test_the_document_is_the_rows_of_the_listing_byte_for_byte(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1", "Première — ünïcode \"quoted\"", "--priority", "P0")
    new_mission(a, "m2", "Needs m1", "--requires", "m1")
    new_mission(a, "m3", "Held")
    new_mission(a, "m4", "Done")
    ok(a, "claim", "m3", "--as", "agent a")
    ok(a, "claim", "m4", "--as", "agent a")
    ok(a, "done", "m4", "--summary", "ok")
    ok(b, "sync")
    for _ in range(2):  # built from the missions, then from the cache
        assert without_idle(ok(b, "list", "--json").stdout) == without_idle(expected(b))
    settle(b)
    for _ in range(2):  # the second time without for-each-ref
        assert without_idle(ok(b, "list", "--json").stdout) == without_idle(expected(b))
    for args, filters in ((["--status", "active"], {"status": "active"}), (["--status", "DONE"], {"status": "DONE"}),
                          (["--stale"], {"stale_only": True})):
        assert without_idle(ok(b, "list", "--json", *args).stdout) == without_idle(expected(b, **filters))
    time.sleep(2.1)
    stale = ok(b, "list", "--json", "--stale", env={"GITCLAIM_TTL": "1s"}).stdout
    assert [r["mission_id"] for r in json.loads(stale)] == ["m3"] and json.loads(stale)[0]["stale"] is True
    assert ok(b, "list", "--json", "--status", "failed").stdout == "[]\n"


def test_unchanged_ref_files_mean_no_git_process_and_any_move_is_seen(make_clone, tmp_path: Path) -> None:
    a, b = make_clone("a"), make_clone("b")
    for mid in ("m1", "m2"):
        new_mission(a, mid)
    ok(b, "sync")
    settle(b)
    assert git_commands(b, tmp_path, "list", "--json") == ["fetch", "for-each-ref", "cat-file"]  # builds, stamps
    assert git_commands(b, tmp_path, "list", "--json") == ["fetch"]
    assert git_commands(b, tmp_path, "list", "--offline", "--json") == []
    ok(a, "claim", "m2", "--as", "agent a")
    rows = {r["mission_id"]: r for r in json.loads(ok(b, "list", "--json").stdout)}  # the fetch wrote a loose ref
    assert rows["m2"]["status"] == "ACTIVE" and rows["m2"]["claimed_by"] == "agent a"
    # A ref moved behind gitclaim's back, by plain git: seen without a fetch.
    ok(a, "claim", "m1", "--as", "agent a")
    git(b, "fetch", "-q", "origin", "refs/missions/m1")
    git(b, "update-ref", "refs/missions/m1", "FETCH_HEAD")
    rows = {r["mission_id"]: r for r in json.loads(ok(b, "list", "--offline", "--json").stdout)}
    assert rows["m1"]["status"] == "ACTIVE"
    git(b, "update-ref", "-d", "refs/missions/m1")
    assert [r["mission_id"] for r in json.loads(ok(b, "list", "--offline", "--json").stdout)] == ["m2"]
    git(b, "pack-refs", "--all")  # a new packed-refs, just written: not trusted until it has settled
    for _ in range(2):
        settle(b, -5)  # as if written a moment ago, however long the commands take on a busy machine
        assert "for-each-ref" in git_commands(b, tmp_path, "list", "--offline", "--json")
    settle(b)
    assert "for-each-ref" in git_commands(b, tmp_path, "list", "--offline", "--json")
    # Only the trust list is read (core/trust.py), for the signature of m2's claim; its state is cached per tip.
    assert git_commands(b, tmp_path, "list", "--offline", "--json") == ["cat-file"]


def test_a_corrupt_or_foreign_listing_is_rebuilt_never_trusted(make_clone, tmp_path: Path) -> None:
    a = make_clone("a")
    new_mission(a, "m1", "True title")
    settle(a)
    ok(a, "list", "--json")
    good = (a / LISTING).read_bytes()
    assert good.count(b"True title") == 1
    for bad in (good.replace(b"True title", b"Fake title"),  # the checksum breaks
                good.replace(b'"cache": 1', b'"cache": 999'),  # another gitclaim's format
                good.replace(b'"loose": {}', b'"loose": {"refs/missions/x": "0"}'),  # the stamp is vouched for too
                good[:len(good) // 2], b"\x00garbage"):
        (a / LISTING).write_bytes(bad)
        assert json.loads(ok(a, "list", "--offline", "--json").stdout)[0]["title"] == "True title"
    header = json.loads(good.partition(b"\n")[0])
    header["gitclaim"] = "0.0.0-other"
    (a / LISTING).write_bytes(json.dumps(header).encode() + b"\n" + good.partition(b"\n")[2].replace(b"True", b"Fake"))
    assert json.loads(ok(a, "list", "--offline", "--json").stdout)[0]["title"] == "True title"
    assert not [p for p in (a / LISTING).parent.iterdir() if p.name.endswith(".gitclaim-tmp")]


def test_unreadable_missions_and_bad_ref_names_are_reported_every_time(make_clone) -> None:
    a = make_clone("a")
    new_mission(a, "m1")
    blob = git(a, "hash-object", "-w", "--stdin", input="no frontmatter\n").stdout.strip()
    tree = git(a, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    commit = git(a, "commit-tree", tree, "-m", "chore: by hand").stdout.strip()
    git(a, "update-ref", "refs/missions/broken", commit)
    git(a, "update-ref", "refs/missions/Bad_Name", commit)
    settle(a)
    for _ in range(3):
        res = ok(a, "list", "--offline", "--json")
        assert [r["mission_id"] for r in json.loads(res.stdout)] == ["m1"]
        assert res.stderr.splitlines()[1:] == [
            "gitclaim: ref refs/missions/Bad_Name: its name is not a valid mission id (it has a character that is "
            "not allowed or does not start with a letter or digit); gitclaim ignores it: rename or delete it on "
            "the remote",
            "gitclaim: mission broken: mission.md has no YAML frontmatter"]


def test_the_stamp_names_packed_refs_and_every_loose_ref(make_clone) -> None:
    a = make_clone("a")
    new_mission(a, "m1")  # the local mirror moves with the push: a loose ref
    common = a / ".git"
    oid = git(a, "rev-parse", "refs/missions/m1").stdout.strip()
    assert refsnap.stamp(common) == {"packed": refsnap.stamp(common)["packed"], "loose": {"refs/missions/m1": oid}}
    ok(a, "sync")  # packs the mission refs
    snap = refsnap.stamp(common)
    assert snap is not None and snap["loose"] == {} and snap["packed"] is not None
    assert not refsnap.settled(snap, time.time())  # packed just now
    assert refsnap.settled(snap, time.time() + 3)
    new_mission(a, "m2")
    (common / "refs" / "missions" / "m3.lock").write_text("")
    assert refsnap.stamp(common) is None  # a ref being written: ask git
    (common / "refs" / "missions" / "m3.lock").unlink()
    git(a, "symbolic-ref", "refs/missions/alias", "refs/missions/m2")
    assert refsnap.stamp(common) is None  # a symbolic ref: only git knows where it points
    res = run_gitclaim(a, "list", "--offline", "--json")
    assert res.returncode == 0 and {r["mission_id"] for r in json.loads(res.stdout)} >= {"m1", "m2"}
