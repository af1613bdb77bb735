"""What a user reads when something goes wrong: git's own reason, the right holder story, no override handed
out, no negative idle time, the source of a bad setting, what a filter found nothing for (issue 11, 1-9)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.helpers import git, remote_refs, run_gitclaim


def ok(clone: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, (args, res.stderr)
    return res


def new(clone: Path, mission_id: str, *extra: str) -> None:
    ok(clone, "new", mission_id, "--title", f"Mission {mission_id}", *extra)


def one_line(res: subprocess.CompletedProcess[str], code: int) -> str:
    assert res.returncode == code, (res.returncode, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


# ---- 1: git's real reason --------------------------------------------------------------------------------

def test_a_moved_remote_is_reported_with_gits_fatal_line(make_clone, bare_remote, tmp_path) -> None:
    a = make_clone("a")
    new(a, "m1")
    bare_remote.rename(tmp_path / "moved.git")
    said = f"fatal: '{bare_remote}' does not appear to be a git repository"
    for args in (["list"], ["init"], ["show", "m1"], ["new", "m2", "--title", "x"]):
        assert one_line(run_gitclaim(a, *args), 6) == f"gitclaim: cannot fetch from remote 'origin': {said}", args
    # claim and new push first: a push that failed at once is not "no answer"
    # claim pushes first (the local mirror has the mission): a push that failed at once is not "no answer"
    line = one_line(run_gitclaim(a, "claim", "m1"), 6)
    assert line == f"gitclaim: mission m1: cannot push to remote 'origin': {said}", line
    res = run_gitclaim(a, "doctor")
    assert res.returncode == 6
    assert f"cannot read remote 'origin': {said}\n" in res.stdout


# ---- 2, 3, 4: refusals of held missions ------------------------------------------------------------------

def test_a_clone_that_never_held_the_mission_is_not_told_it_was_taken_over(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "alice")
    claimed_at = re.search(r"claimed_at: \"?([^\"\n]+)", git(bare_remote, "show", "refs/missions/m1:mission.md")
                           .stdout).group(1)
    before = remote_refs(bare_remote)
    for cmd, doing in ((["release"], "release"), (["done"], "finish"), (["fail"], "fail"),
                       (["log", "m1", "x"], "log on"), (["heartbeat"], "heartbeat")):
        args = cmd if len(cmd) > 1 else [*cmd, "m1"]
        line = one_line(run_gitclaim(b, *args), 3)
        assert line.startswith(f'gitclaim: cannot {doing} mission m1: it is held by "alice" (')
        assert line.endswith(f"since {claimed_at} (epoch 1); you do not hold it (take other work: gitclaim next)")
        assert "took it over" not in line and "no longer" not in line
    assert remote_refs(bare_remote) == before


def test_a_former_holder_is_told_it_no_longer_holds_the_mission(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "first")
    ok(a, "release", "m1")
    ok(b, "claim", "m1", "--as", "second")
    line = one_line(run_gitclaim(a, "done", "m1"), 3)
    assert 'it is held by "second"' in line and line.endswith("(epoch 2); you no longer hold it")
    assert "took it over" not in line  # a claim after a release is no takeover


def test_a_live_claim_refusal_never_names_the_override(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "alice")
    for extra in ([], ["--steal"]):
        line = one_line(run_gitclaim(b, "claim", "m1", *extra), 3)
        assert "--force" not in line and "--steal" not in line, line
        assert 'held by "alice"' in line and line.endswith("gitclaim next"), line
    assert "live, not stale" in one_line(run_gitclaim(b, "claim", "m1", "--steal"), 3)
    assert "--force" in ok(b, "claim", "--help").stdout  # still there for a person who means it


def test_a_stale_claim_refusal_keeps_the_steal_hint(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "alice")
    import time

    time.sleep(2.2)  # timestamps have whole seconds: idle must exceed the 1s TTL for sure
    line = one_line(run_gitclaim(b, "claim", "m1", env={"GITCLAIM_TTL": "1s"}), 3)
    assert line.endswith("take it over with gitclaim claim m1 --steal") and "--force" not in line, line


def test_idle_time_is_never_negative(make_clone, bare_remote, tmp_path) -> None:
    a = make_clone("a")
    new(a, "m1")
    # a claim stamped in the future, as by a writer whose clock runs ahead of the reader's
    ok(a, "claim", "m1", "--as", "ahead")
    text = git(bare_remote, "show", "refs/missions/m1:mission.md").stdout
    future = re.sub(r'(last_activity: )"?[^"\n]+"?', r'\g<1>"2999-01-01T00:00:00Z"', text)
    blob = git(bare_remote, "hash-object", "-w", "--stdin", input=future).stdout.strip()
    tree = git(bare_remote, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    tip = git(bare_remote, "rev-parse", "refs/missions/m1").stdout.strip()
    commit = git(bare_remote, "commit-tree", tree, "-p", tip, "-m", "chore(mission): heartbeat m1").stdout.strip()
    git(bare_remote, "update-ref", "refs/missions/m1", commit)
    b = make_clone("b")
    line = one_line(run_gitclaim(b, "claim", "m1"), 3)
    assert "last activity 0s ago" in line, line
    assert " -" not in ok(b, "list").stdout.split("\n")[1]


# ---- 5: settings name their source ---------------------------------------------------------------------

def test_bad_settings_name_where_they_come_from(make_clone) -> None:
    a = make_clone("a")
    assert one_line(run_gitclaim(a, "list", env={"GITCLAIM_TIMEOUT": "bogus"}), 2) == (
        "gitclaim: invalid time limit 'bogus' in environment variable GITCLAIM_TIMEOUT: use seconds or a "
        "duration like 30s")
    git(a, "config", "gitclaim.timeout", "0")
    assert one_line(run_gitclaim(a, "list"), 2) == (
        "gitclaim: invalid time limit '0' in git config gitclaim.timeout: it must be positive")
    git(a, "config", "--unset", "gitclaim.timeout")
    assert "in environment variable GITCLAIM_TTL" in one_line(run_gitclaim(a, "list", env={"GITCLAIM_TTL": "x"}),
                                                               2)
    (a / ".gitclaim.yaml").write_text("lease_ttl: banana\n")
    line = one_line(run_gitclaim(a, "list"), 2)
    assert line.startswith("gitclaim: .gitclaim.yaml: lease_ttl: invalid duration 'banana'"), line


# ---- 6: empty listings say what was filtered -----------------------------------------------------------

def test_empty_filtered_listings_say_what_found_nothing(make_clone) -> None:
    a = make_clone("a")
    assert ok(a, "list").stdout == "no missions\n"
    new(a, "m1")
    ok(a, "claim", "m1")
    assert ok(a, "list", "--stale").stdout == "no stale missions (none held and idle for more than 1d0h)\n"
    assert ok(a, "list", "--status", "active", "--stale").stdout == (
        "no stale missions with status ACTIVE (none held and idle for more than 1d0h)\n")
    assert ok(a, "list", "--status", "done").stdout == "no missions with status DONE\n"
    assert ok(a, "list", "--archived").stdout == "no archived missions\n"


# ---- 7: the execution log keeps what was written ---------------------------------------------------------

def test_decision_without_question_and_multiline_messages(make_clone) -> None:
    a = make_clone("a")
    new(a, "m1")
    ok(a, "claim", "m1")
    ok(a, "log", "m1", "use sqlite", "--kind", "decision")
    ok(a, "log", "m1", "first line\nsecond line\n\nlast paragraph")
    out = ok(a, "show", "m1").stdout
    assert re.search(r"^- \d\d:\d\d - \*\*DECISION\*\*: use sqlite$", out, re.M), out
    assert re.search(r"^- \d\d:\d\d - first line\n  second line\n\n  last paragraph$", out, re.M), out


# ---- 8: refs that are not missions are named ---------------------------------------------------------------

def test_refs_with_invalid_names_and_a_directory_mission_md_are_reported(make_clone, bare_remote) -> None:
    a = make_clone("a")
    new(a, "m1")
    tip = git(bare_remote, "rev-parse", "refs/missions/m1").stdout.strip()
    for ref in ("refs/missions/UPPER", "refs/missions/nested/deep"):
        git(bare_remote, "update-ref", ref, tip)
    tree = git(bare_remote, "rev-parse", f"{tip}^{{tree}}").stdout.strip()
    outer = git(bare_remote, "mktree", input=f"040000 tree {tree}\tmission.md\n").stdout.strip()
    commit = git(bare_remote, "commit-tree", outer, "-m", "chore: broken").stdout.strip()
    git(bare_remote, "update-ref", "refs/missions/dir", commit)
    res = run_gitclaim(a, "list")
    assert res.returncode == 0
    invalid = ("its name is not a valid mission id (it has a character that is not allowed or does not start "
               "with a letter or digit); gitclaim ignores it: rename or delete it on the remote")
    assert sorted(res.stderr.splitlines()) == [
        "gitclaim: mission dir: its mission.md is a directory, not a file",
        f"gitclaim: ref refs/missions/UPPER: {invalid}",
        f"gitclaim: ref refs/missions/nested/deep: {invalid}",
    ], res.stderr
    assert "m1" in res.stdout


# ---- 9: demo and archive wording ---------------------------------------------------------------------------

def test_archive_with_nothing_old_enough_says_at_least(make_clone) -> None:
    a = make_clone("a")
    new(a, "m1")
    ok(a, "claim", "m1")
    ok(a, "done", "m1")
    assert ok(a, "archive", "--older-than", "1d").stdout == (
        "nothing to archive (no DONE or FAILED mission finished at least 1d ago)\n")
