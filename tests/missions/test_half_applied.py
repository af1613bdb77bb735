"""Commands that half-applied or answered wrongly (issue 11, items 10, 12, 13, 14, 17), with real processes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, ok, one_line, remote_refs, run_gitclaim


def config(clone: Path) -> str:
    return git(clone, "config", "--local", "--list").stdout


# ---- 10: init against an unreachable remote writes nothing ----------------------------------------------------

def test_init_against_an_unreachable_remote_writes_nothing(make_clone, tmp_path) -> None:
    a = make_clone("a", init=False)
    git(a, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    before = config(a)
    line = one_line(run_gitclaim(a, "init"), 6)
    assert line.startswith("gitclaim: cannot fetch from remote 'origin': fatal: "), line
    assert config(a) == before
    assert "gitclaim" not in config(a) and "refs/missions" not in config(a)


# ---- 17: init reports an installed hook as installed ----------------------------------------------------------

def test_init_after_hooks_install_says_the_hook_is_installed(make_clone) -> None:
    a = make_clone("a")
    ok(a, "hooks", "install")
    out = ok(a, "init").stdout
    assert f"commit-msg hook installed at {a / '.git' / 'hooks' / 'commit-msg'}\n" in out
    assert f"post-commit hook installed at {a / '.git' / 'hooks' / 'post-commit'}\n" in out
    assert "not installed" not in out


# ---- 12: start lists your missions most urgent first ------------------------------------------------------------

def test_start_lists_your_missions_by_priority_and_resumes_the_most_urgent(make_clone) -> None:
    a = make_clone("a")
    ok(a, "new", "aaa", "--title", "Low", "--priority", "P9")
    ok(a, "new", "zzz", "--title", "Urgent", "--priority", "P0")
    ok(a, "claim", "aaa")
    ok(a, "claim", "zzz")
    out = ok(a, "start").stdout
    mine = out.split("== Your missions (2) ==\n")[1].split("\n\n")[0].splitlines()
    assert [ln.split()[0] for ln in mine if not ln.startswith("  ")] == ["zzz", "aaa"]
    assert out.rstrip().endswith("Next: resume zzz (gitclaim show zzz)")
    assert [r["mission_id"] for r in json.loads(ok(a, "start", "--json").stdout)["mine"]] == ["zzz", "aaa"]


# ---- 13: archived missions ----------------------------------------------------------------------------------------

def test_changes_to_an_archived_mission_are_conflicts(make_clone, bare_remote) -> None:
    a = make_clone("a")
    ok(a, "new", "g", "--title", "Gone")
    ok(a, "claim", "g")
    ok(a, "done", "g")
    ok(a, "archive")
    b = make_clone("b")
    before = remote_refs(bare_remote, "refs/")
    for args in (["claim", "g"], ["log", "g", "late"], ["done", "g"], ["release", "g"]):
        line = one_line(run_gitclaim(b, *args), 3)
        assert line.startswith("gitclaim: mission g is archived (DONE since "), line
        assert line.endswith("; an archived mission cannot be changed (read it with: gitclaim show g)"), line
    assert one_line(run_gitclaim(b, "claim", "nosuch"), 4) == "gitclaim: no mission 'nosuch' on remote 'origin'"
    line = one_line(run_gitclaim(b, "new", "g", "--title", "Again"), 3)
    assert line == ("gitclaim: mission g exists in the archive (DONE: Gone); a mission that requires g would mean "
                    "the new one: choose another id, or pass --reuse-archived-id if that is what you want")
    assert remote_refs(bare_remote, "refs/") == before
    ok(b, "new", "g", "--title", "Again", "--reuse-archived-id")
    assert "refs/missions/g" in remote_refs(bare_remote)


# ---- 14: requirements are checked and shown ---------------------------------------------------------------------

def test_requirements_must_name_missions_and_form_no_cycle(make_clone, bare_remote) -> None:
    a = make_clone("a")
    before = remote_refs(bare_remote)
    assert one_line(run_gitclaim(a, "new", "x", "--title", "X", "--requires", "nosuch"), 4) == (
        "gitclaim: mission x: --requires names no mission on remote 'origin': nosuch (create it first)")
    assert one_line(run_gitclaim(a, "new", "x", "--title", "X", "--requires", "x"), 2) == (
        "gitclaim: mission x cannot require itself (--requires x)")
    assert remote_refs(bare_remote) == before
    # a cycle through existing missions: y was written by hand to require z, which does not exist yet
    ok(a, "new", "y", "--title", "Y")
    text = git(bare_remote, "show", "refs/missions/y:mission.md").stdout.replace("requires: []", "requires: [z]")
    assert "requires: [z]" in text
    blob = git(bare_remote, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(bare_remote, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    tip = git(bare_remote, "rev-parse", "refs/missions/y").stdout.strip()
    commit = git(bare_remote, "commit-tree", tree, "-p", tip, "-m", "chore(mission): edit y").stdout.strip()
    git(bare_remote, "update-ref", "refs/missions/y", commit)
    assert one_line(run_gitclaim(a, "new", "z", "--title", "Z", "--requires", "y"), 2) == (
        "gitclaim: mission z: its requirements form a cycle: z -> y -> z")


def test_next_list_and_start_show_what_missions_wait_on(make_clone) -> None:
    a = make_clone("a")
    ok(a, "new", "base", "--title", "Base")
    ok(a, "new", "top", "--title", "Top", "--requires", "base")
    ok(a, "claim", "base")
    line = one_line(run_gitclaim(a, "next"), 5)
    assert line == ("gitclaim: nothing ready to claim: 1 queued missions wait on requirements that are not DONE "
                    "(top waits on base (ACTIVE)), 1 are held"), line
    listing = ok(a, "list").stdout.splitlines()
    assert listing[0].split() == ["ID", "STATUS", "PRI", "HOLDER", "SINCE", "IDLE", "REQUIRES", "TITLE"]
    assert [ln.split()[-2:] for ln in listing[1:] if ln.startswith("top")] == [["base", "Top"]]
    out = ok(a, "start").stdout
    assert "waiting: top waits on base (ACTIVE)\n" in out
    assert json.loads(ok(a, "start", "--json").stdout)["waiting"] == [
        {"mission_id": "top", "waits_on": ["base (ACTIVE)"]}]


# ---- 22: files are files, and the archive runs can be listed as docs/archive.md says ---------------------------

def test_show_lists_files_at_any_depth_and_refuses_a_directory_clearly(make_clone) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M", "--profile", "standard")
    files = json.loads(ok(a, "show", "m1", "--json").stdout)["files"]
    assert "agents/analyst.md" in files and "agents" not in files and "mission.md" in files
    line = one_line(run_gitclaim(a, "show", "m1", "--file", "agents"), 2)
    assert line.startswith("gitclaim: 'agents' in mission m1 is a directory, not a file; its files: "
                           "agents/analyst.md, "), line
    assert ok(a, "show", "m1", "--file", "agents/analyst.md").stdout


def test_the_archive_runs_are_the_commits_that_change_the_index(make_clone, bare_remote) -> None:
    a = make_clone("a")
    for mid in ("m1", "m2"):
        ok(a, "new", mid, "--title", mid)
        ok(a, "claim", mid)
        ok(a, "done", mid)
        ok(a, "archive")
    runs = git(bare_remote, "log", "--first-parent", "--format=%s", "refs/gitclaim/archive", "--",
               "index.json").stdout.splitlines()
    assert len(runs) == 2 and all(s.startswith("chore(mission): archive ") for s in runs), runs
    plain = git(bare_remote, "log", "--first-parent", "--format=%s", "refs/gitclaim/archive").stdout.splitlines()
    assert len(plain) > 2  # what docs/archive.md used to suggest runs on into a mission's history


def test_edit_checks_requirements_as_new_does(make_clone, bare_remote) -> None:
    a = make_clone("a")
    ok(a, "new", "x", "--title", "X")
    ok(a, "new", "y", "--title", "Y", "--requires", "x")
    before = remote_refs(bare_remote)
    assert one_line(run_gitclaim(a, "edit", "x", "--requires", "nosuch"), 4) == (
        "gitclaim: mission x: --requires names no mission on remote 'origin': nosuch (create it first)")
    assert one_line(run_gitclaim(a, "edit", "x", "--requires", "y"), 2) == (
        "gitclaim: mission x: its requirements form a cycle: x -> y -> x")
    assert remote_refs(bare_remote) == before
