"""Archive: finished missions move to refs/gitclaim/archive in one atomic push, histories stay readable."""

from __future__ import annotations

import json
from pathlib import Path

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.missions import archive, setup
from gitclaim.missions.workspace import open_store
from tests.helpers import git, git_commands, remote_refs, run_gitclaim

ARCHIVE = "refs/gitclaim/archive"



def fast_clone(make_clone, name: str) -> Path:
    """A clone initialised in-process: the CLI runs where it is the subject of the test, start-up costs add up."""
    path = make_clone(name, init=False)
    setup.init_clone(open_store(path), "origin")
    return path

def setup_missions(clone: Path, finished: dict[str, str], open_: dict[str, str]) -> dict[str, str]:
    """Create missions through the library (fast); finished ones are claimed and finished. Returns the tips."""
    store = open_store(clone)
    actor = claims.actor_for(store, "archiver")
    tips = {}
    for mid, status in {**finished, **open_}.items():
        tips[mid] = claims.create(store, actor, mid, f"Mission {mid}").state.commit
        if status != m.QUEUED:
            tips[mid] = claims.claim(store, actor, mid).state.commit
        if status in m.FINISHED:
            tips[mid] = claims.finish(store, actor, mid, status=status, summary=f"{mid} over").state.commit
    return tips


def parents(repo: Path, rev: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n", "1", rev).stdout.split()[1:]


def archive_run(repo: Path, rev: str) -> tuple[str | None, list[str]]:
    """What the archive commit `rev` added: the archive commit before it (None for the first) and the tips its link
    commits hold, in order. Also checks the shape every archive commit must keep: at most two parents."""
    assert git(repo, "rev-list", "--min-parents=3", rev).stdout == ""
    top = parents(repo, rev)
    assert len(top) == 1 and "Gitclaim-Count:" in git(repo, "log", "-1", "--format=%B", rev).stdout
    link, tips = top[0], []
    while True:
        subject = git(repo, "log", "-1", "--format=%s", link).stdout.strip()
        above = parents(repo, link)
        tips.append(above[-1])
        assert subject == f"chore(mission): archive {mission_of(repo, above[-1])}"
        if len(above) == 1:
            return None, tips[::-1]
        if not git(repo, "log", "-1", "--format=%s", above[0]).stdout.startswith("chore(mission): archive "):
            raise AssertionError(f"link {link} does not sit on a link or an archive commit")
        if "Gitclaim-Count:" in git(repo, "log", "-1", "--format=%B", above[0]).stdout:
            return above[0], tips[::-1]
        link = above[0]


def mission_of(repo: Path, tip: str) -> str:
    """The id of the mission whose tip this is, from its subject (`chore(mission): complete d1`)."""
    return git(repo, "log", "-1", "--format=%s", tip).stdout.split()[-1]


def index(repo: Path) -> dict:
    return json.loads(git(repo, "show", f"{ARCHIVE}:index.json").stdout)["missions"]


def test_archive_moves_finished_missions_and_keeps_their_history(make_clone, bare_remote) -> None:
    a = fast_clone(make_clone, "a")
    tips = setup_missions(a, {"d1": m.DONE, "f1": m.FAILED}, {"act": m.ACTIVE, "que": m.QUEUED})

    res = run_gitclaim(a, "archive", "--older-than", "1d", "--dry-run")
    assert res.returncode == 0 and res.stdout.startswith("nothing to archive")
    res = run_gitclaim(a, "archive", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["count"], out["pushes"], len(out["commits"])) == (2, 1, 1)

    refs = remote_refs(bare_remote, "refs/")
    assert {r for r in refs if r.startswith("refs/missions/")} == {"refs/missions/act", "refs/missions/que"}
    assert refs[ARCHIVE] == out["commits"][0]
    assert archive_run(bare_remote, ARCHIVE) == (None, [tips["d1"], tips["f1"]])
    assert git(bare_remote, "log", "--format=%s", tips["d1"]).stdout.splitlines() == [
        "chore(mission): complete d1", "chore(mission): claim d1", "chore(mission): create d1"]
    assert git(bare_remote, "log", "-1", "--format=%s", ARCHIVE).stdout.strip() == "chore(mission): archive 2 missions"
    assert {k: v["tip"] for k, v in index(bare_remote).items()} == {"d1": tips["d1"], "f1": tips["f1"]}
    assert git(bare_remote, "show", f"{ARCHIVE}:missions/f1.md").stdout == \
        git(bare_remote, "show", f"{tips['f1']}:mission.md").stdout

    # A clone that never saw the archive reads it on demand.
    b = fast_clone(make_clone, "b")
    res = run_gitclaim(b, "show", "d1")
    assert res.returncode == 0, res.stderr
    assert "archived: yes" in res.stdout and "**DONE**: d1 over" in res.stdout and "**CLAIMED**" in res.stdout
    res = run_gitclaim(b, "list", "--archived", "--json")
    assert [(r["mission_id"], r["status"]) for r in json.loads(res.stdout)] == [("d1", "DONE"), ("f1", "FAILED")]

    # Archiving more later appends: the previous archive commit is the first parent.
    first = refs[ARCHIVE]
    store = open_store(a)
    tips["act"] = claims.finish(store, claims.actor_for(store), "act").state.commit
    assert run_gitclaim(a, "archive").returncode == 0
    assert archive_run(bare_remote, ARCHIVE) == (first, [tips["act"]])
    assert sorted(index(bare_remote)) == ["act", "d1", "f1"]
    assert list(remote_refs(bare_remote)) == ["refs/missions/que"]


def reopen_on_the_remote(clone: Path, mission_id: str) -> str:
    """Another party moves a finished mission back to QUEUED, with plain git: a new commit on its ref."""
    git(clone, "fetch", "-q", "origin")
    old = git(clone, "rev-parse", f"refs/missions/{mission_id}").stdout.strip()
    text = git(clone, "show", f"{old}:mission.md").stdout.replace('status: "DONE"', 'status: "QUEUED"')
    blob = git(clone, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(clone, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    new = git(clone, "commit-tree", tree, "-p", old, "-m", f"chore(mission): reopen {mission_id}").stdout.strip()
    git(clone, "push", "-q", "origin", f"{new}:refs/missions/{mission_id}")
    return new


def test_archive_push_is_atomic_and_retried_when_a_mission_changes(make_clone, bare_remote, monkeypatch) -> None:
    a, b = fast_clone(make_clone, "a"), fast_clone(make_clone, "b")
    tips = setup_missions(a, {"x": m.DONE, "y": m.DONE}, {})
    real_push = g.push_cas
    pushes: list[list[str]] = []
    reopened: list[str] = []

    def racing_push(git_, remote, updates, **kw):
        if not pushes:  # between archive's fetch and its push, someone reopens x
            reopened.append(reopen_on_the_remote(b, "x"))
        pushes.append(sorted(u.ref for u in updates))
        return real_push(git_, remote, updates, **kw)

    monkeypatch.setattr(g, "push_cas", racing_push)
    result = archive.archive(open_store(a))
    assert pushes == [[ARCHIVE, "refs/missions/x", "refs/missions/y"], [ARCHIVE, "refs/missions/y"]]
    assert [r["mission_id"] for r in result.missions] == ["y"] and result.pushes == 2
    refs = remote_refs(bare_remote, "refs/")
    assert refs["refs/missions/x"] == reopened[0] and "refs/missions/y" not in refs
    assert archive_run(bare_remote, ARCHIVE) == (None, [tips["y"]]) and list(index(bare_remote)) == ["y"]


def test_archive_never_takes_unfinished_missions_and_reports_a_refusal(make_clone, bare_remote) -> None:
    a = fast_clone(make_clone, "a")
    setup_missions(a, {}, {"act": m.ACTIVE, "que": m.QUEUED})
    res = run_gitclaim(a, "archive", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["count"] == 0
    assert ARCHIVE not in remote_refs(bare_remote, "refs/")

    setup_missions(a, {"d1": m.DONE}, {})
    hook = bare_remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'archive refused here' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = remote_refs(bare_remote, "refs/")
    res = run_gitclaim(a, "archive")
    assert res.returncode == 6 and "refused the atomic push" in res.stderr and "archive refused here" in res.stderr
    assert remote_refs(bare_remote, "refs/") == before


def test_archive_batches_are_sized_by_the_remote_and_share_one_fetch(make_clone, bare_remote, monkeypatch) -> None:
    # git compares each ref a push names with every ref of the remote: with room for 12 such pairs, a push takes
    # 12 // (missions + 1) missions (the real budget is 1,000,000 pairs: 100 missions at 10,000 refs).
    a = fast_clone(make_clone, "a")
    tips = setup_missions(a, {f"d{i}": m.DONE for i in range(5)}, {"q": m.QUEUED})
    monkeypatch.setattr(archive, "MAX_PAIRS", 12)
    assert [archive.batch_size(r) for r in (1, 6, 7, 13, 10**6)] == [12, 2, 1, 1, 1]
    real_push, real_fetch = g.push_cas, g.fetch
    pushes: list[list[str]] = []
    fetches: list[list[str]] = []
    monkeypatch.setattr(g, "push_cas", lambda git_, remote, updates, **kw: (
        pushes.append(sorted(u.ref for u in updates)), real_push(git_, remote, updates, **kw))[1])
    monkeypatch.setattr(g, "fetch", lambda git_, remote, specs, **kw: (
        fetches.append(list(specs)), real_fetch(git_, remote, specs, **kw))[1])
    result = archive.archive(open_store(a))
    # 6 missions, then 5, then 3 are left: 1, 2 and 3 missions per push (12 // 7, 12 // 6, 12 // 4).
    assert pushes == [[ARCHIVE, "refs/missions/d0"],
                      [ARCHIVE, "refs/missions/d1", "refs/missions/d2"],
                      [ARCHIVE, "refs/missions/d3", "refs/missions/d4"]]
    assert len(fetches) == 1 and result.pushes == 3
    assert sorted(r["mission_id"] for r in result.missions) == [f"d{i}" for i in range(5)]
    assert list(remote_refs(bare_remote)) == ["refs/missions/q"]
    assert sorted(index(bare_remote)) == [f"d{i}" for i in range(5)]
    assert {e["tip"] for e in index(bare_remote).values()} == {tips[f"d{i}"] for i in range(5)}
    # Each run's link commits hold its own missions, on the run before.
    second, last = archive_run(bare_remote, ARCHIVE)
    assert second is not None
    first, middle = archive_run(bare_remote, second)
    assert first is not None
    assert (last, middle, archive_run(bare_remote, first)) == (
        [tips["d3"], tips["d4"]], [tips["d1"], tips["d2"]], (None, [tips["d0"]]))


def test_a_shared_repository_writes_the_links_with_one_git_process(make_clone, bare_remote, tmp_path) -> None:
    # core.sharedRepository leaves the writing of objects to git (their group permissions): the link commits are
    # built in Python all the same and written by one `git hash-object --stdin-paths`, not a process per mission.
    a = fast_clone(make_clone, "a")
    git(a, "config", "core.sharedRepository", "group")
    tips = setup_missions(a, {f"d{i}": m.DONE for i in range(4)}, {})
    names = git_commands(a, tmp_path, "archive")
    assert names.count("commit-tree") == 1 and names.count("hash-object") == 2, names
    assert archive_run(bare_remote, ARCHIVE) == (None, [tips[f"d{i}"] for i in range(4)])
    assert git(bare_remote, "fsck", "--no-dangling").returncode == 0
    link = parents(bare_remote, ARCHIVE)[0]
    mode = (a / ".git" / "objects" / link[:2] / link[2:]).stat().st_mode
    assert mode & 0o040, oct(mode)  # group-readable, as git writes a shared repository's objects


def test_links_that_only_git_can_write_are_written_by_git(make_clone, bare_remote, tmp_path) -> None:
    # A commit encoding other than UTF-8 is git's to write: each link is one `git commit-tree`, same shape.
    a = fast_clone(make_clone, "a")
    git(a, "config", "i18n.commitEncoding", "ISO-8859-1")
    tips = setup_missions(a, {"d1": m.DONE, "d2": m.DONE}, {})
    names = git_commands(a, tmp_path, "archive")
    assert names.count("commit-tree") == 3, names
    assert archive_run(bare_remote, ARCHIVE) == (None, [tips["d1"], tips["d2"]])
    assert git(bare_remote, "log", "-1", "--format=%e", f"{ARCHIVE}^").stdout.strip() == "ISO-8859-1"
