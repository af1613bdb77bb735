"""The core promise over a file remote: one winner per claim, the loser told who holds it, history as
conventional commits, nothing written on refusal."""

from __future__ import annotations

import json
import re

from tests.helpers import git, new_mission, remote_mission, remote_refs, run_gitclaim

CONVENTIONAL = re.compile(r"^(feat|fix|refactor|chore|docs|test|build|ci|perf|style|revert)(\([^)]+\))?!?: .+")



def test_two_clones_claim_conflict_names_holder(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1", "First")
    res = run_gitclaim(a, "claim", "m1", "--as", "session A")
    assert res.returncode == 0, res.stderr
    assert res.stdout == 'claimed m1 as "session A" (epoch 1)\n'
    res = run_gitclaim(b, "claim", "m1", "--as", "session B")
    assert res.returncode == 3
    assert res.stderr.startswith('gitclaim: mission m1 is held by "session A" (Test User, instance ')
    assert "since 20" in res.stderr and len(res.stderr.splitlines()) == 1
    assert json.loads(run_gitclaim(b, "show", "m1", "--json").stdout)["claimed_by"] == "session A"
    assert "session A" in remote_mission(bare_remote, "m1")


def test_history_reads_as_conventional_commits_in_both_clones(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1").returncode == 0
    assert run_gitclaim(a, "log", "m1", "halfway", "--kind", "milestone", "--progress", "50").returncode == 0
    assert run_gitclaim(a, "done", "m1", "--summary", "shipped").returncode == 0
    assert run_gitclaim(b, "sync").returncode == 0
    for clone in (a, b):
        subjects = git(clone, "log", "--format=%s", "refs/missions/m1").stdout.splitlines()
        assert subjects == ["chore(mission): complete m1", "chore(mission): log milestone on m1",
                            "chore(mission): claim m1", "chore(mission): create m1"]
        assert all(CONVENTIONAL.match(s) for s in subjects)
        trailers = git(clone, "log", "-1", "--format=%(trailers:key=Gitclaim-Action,valueonly)",
                       "refs/missions/m1").stdout.strip()
        assert trailers == "complete"


def test_plain_git_fetch_brings_mission_refs_after_init(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1")
    git(b, "fetch", "-q")
    assert git(b, "rev-parse", "refs/missions/m1").stdout.strip() == remote_refs(bare_remote)["refs/missions/m1"]


def test_init_is_safe_to_run_twice(make_clone) -> None:
    a = make_clone("a")
    instance = git(a, "config", "gitclaim.instance").stdout
    res = run_gitclaim(a, "init")
    assert res.returncode == 0 and "(kept)" in res.stdout
    assert git(a, "config", "--get-all", "remote.origin.fetch").stdout.count("+refs/missions/*:") == 1
    assert git(a, "config", "gitclaim.instance").stdout == instance


def test_release_then_claim_by_another_clone(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1").returncode == 0
    assert run_gitclaim(a, "release", "m1", "--note", "handing over").returncode == 0
    res = run_gitclaim(b, "claim", "m1", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "ACTIVE" and data["epoch"] == 2 and data["changed"] is True


def test_claiming_what_you_hold_writes_nothing(make_clone, bare_remote) -> None:
    a = make_clone("a")
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1").returncode == 0
    before = remote_refs(bare_remote)
    res = run_gitclaim(a, "claim", "m1")
    assert res.returncode == 0 and res.stdout.startswith("already yours: m1")
    assert remote_refs(bare_remote) == before


def test_non_holder_release_and_done_refused(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1", "--as", "owner").returncode == 0
    before = remote_refs(bare_remote)
    for cmd in (["release", "m1"], ["done", "m1"], ["log", "m1", "hello"], ["heartbeat", "m1"]):
        res = run_gitclaim(b, *cmd)
        assert res.returncode == 3, (cmd, res.stderr)
        assert 'held by "owner"' in res.stderr and len(res.stderr.splitlines()) == 1
    assert remote_refs(bare_remote) == before


def test_new_refuses_existing_id(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new_mission(a, "m1", "Original")
    res = run_gitclaim(b, "new", "m1", "--title", "Other")
    assert res.returncode == 3 and "already exists" in res.stderr
    assert 'title: "Original"' in remote_mission(bare_remote, "m1")


def test_unknown_mission_is_not_found(make_clone) -> None:
    a = make_clone("a")
    for cmd in (["claim", "nope"], ["show", "nope"]):
        res = run_gitclaim(a, *cmd)
        assert res.returncode == 4, res.stderr
        assert "no mission 'nope'" in res.stderr


def test_never_touches_working_tree_index_or_head(make_clone, bare_remote) -> None:
    a = make_clone("a")
    (a / "README.md").write_text("dirty change\n")
    (a / "staged.txt").write_text("staged\n")
    git(a, "add", "staged.txt")
    head, status = git(a, "rev-parse", "HEAD").stdout, git(a, "status", "--porcelain").stdout
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1").returncode == 0
    assert run_gitclaim(a, "done", "m1").returncode == 0
    assert git(a, "rev-parse", "HEAD").stdout == head
    assert git(a, "status", "--porcelain").stdout == status
    assert (a / "README.md").read_text() == "dirty change\n"


def test_works_in_a_linked_worktree_with_its_own_instance(make_clone, tmp_path) -> None:
    a = make_clone("a")
    git(a, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "side")
    wt = tmp_path / "wt"
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1", "--as", "main tree").returncode == 0
    res = run_gitclaim(wt, "claim", "m1")
    assert res.returncode == 3 and 'held by "main tree"' in res.stderr
    assert git(a, "config", "gitclaim.instance").stdout != git(wt, "config", "gitclaim.worktree-wt.instance").stdout


def test_works_during_a_rebase(make_clone) -> None:
    a = make_clone("a")
    (a / "f.txt").write_text("one\n")
    git(a, "add", "f.txt")
    git(a, "commit", "-q", "-m", "feat: one")
    git(a, "checkout", "-q", "-b", "other", "HEAD~1")
    (a / "f.txt").write_text("two\n")
    git(a, "add", "f.txt")
    git(a, "commit", "-q", "-m", "feat: two")
    assert git(a, "rebase", "main", check=False).returncode != 0  # stops on the conflict
    new_mission(a, "m1")
    assert run_gitclaim(a, "claim", "m1").returncode == 0
    assert (a / ".git" / "rebase-merge").exists()


def test_not_a_repository_and_missing_remote(tmp_path, make_clone) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    res = run_gitclaim(plain, "list")
    assert res.returncode == 2 and res.stderr.startswith("gitclaim: not a git repository")
    a = make_clone("a")
    res = run_gitclaim(a, "init", "--remote", "upstream")
    assert res.returncode == 4 and "no remote named 'upstream'" in res.stderr
    git(a, "remote", "set-url", "origin", str(tmp_path / "vanished.git"))
    res = run_gitclaim(a, "list")
    assert res.returncode == 6 and res.stderr.startswith("gitclaim: cannot fetch from remote 'origin'")
    assert len(res.stderr.splitlines()) == 1


def test_broken_mission_named_and_others_keep_working(make_clone, bare_remote) -> None:
    a = make_clone("a")
    new_mission(a, "good")
    blob = git(a, "hash-object", "-w", "--stdin", input="---\ntitle: [broken\n---\n").stdout.strip()
    tree = git(a, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    commit = git(a, "commit-tree", tree, "-m", "chore: break it").stdout.strip()
    git(a, "push", "-q", "origin", f"{commit}:refs/missions/broken")
    res = run_gitclaim(a, "list")
    assert res.returncode == 0
    assert "gitclaim: mission broken: mission.md frontmatter is not valid YAML" in res.stderr
    assert "good" in res.stdout
    before = remote_refs(bare_remote)
    res = run_gitclaim(a, "claim", "broken")
    assert res.returncode == 1 and res.stderr.startswith("gitclaim: mission broken:")
    assert "Traceback" not in res.stderr
    assert remote_refs(bare_remote) == before
    assert run_gitclaim(a, "claim", "good").returncode == 0


def test_json_fields_are_stable(make_clone) -> None:
    a = make_clone("a")
    new_mission(a, "m1", "T", "--priority", "P1")
    data = json.loads(run_gitclaim(a, "claim", "m1", "--as", "s", "--json").stdout)
    for key in ("mission_id", "status", "title", "priority", "claimed_by", "claimed_at", "instance", "epoch",
                "user", "last_activity", "requires"):
        assert key in data
    assert data["priority"] == 1 and data["claimed_by"] == "s"
    rows = json.loads(run_gitclaim(a, "list", "--json").stdout)
    assert [r["mission_id"] for r in rows] == ["m1"]


def test_version_and_help(make_clone) -> None:
    a = make_clone("a")
    res = run_gitclaim(a, "--version")
    assert res.returncode == 0 and res.stdout.startswith("gitclaim ")
    assert run_gitclaim(a, "--help").returncode == 0
