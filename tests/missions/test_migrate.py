"""`gitclaim migrate --to NAMESPACE` (docs/config.md "Moving to another namespace"): real clones, a real remote."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers import git, remote_refs, run_gitclaim
from tests.missions.test_namespace import NS, ok


def histories(remote: Path, prefix: str) -> dict[str, list[str]]:
    return {ref[len(prefix):]: git(remote, "log", "--format=%H", ref).stdout.split()
            for ref in remote_refs(remote, prefix)}


def seeded(make_clone: Callable[..., Path]) -> Path:
    a = make_clone("a")
    for name in ("one", "two", "three"):
        ok(run_gitclaim(a, "new", name, "--title", name.title()))
    ok(run_gitclaim(a, "claim", "one"))
    ok(run_gitclaim(a, "claim", "two"))
    ok(run_gitclaim(a, "done", "two"))
    ok(run_gitclaim(a, "archive"))
    return a


def test_migrate_moves_live_and_archived_missions_with_their_histories(
        bare_remote: Path, make_clone: Callable[..., Path]) -> None:
    a = seeded(make_clone)
    before = histories(bare_remote, "refs/missions/")
    archive = remote_refs(bare_remote, "refs/gitclaim/")["refs/gitclaim/archive"]

    out = ok(run_gitclaim(a, "migrate", "--to", NS))
    assert out.splitlines()[0] == f"moved 2 missions and the archive from refs/missions to {NS} in one atomic push"
    assert histories(bare_remote, f"{NS}/") == before
    assert remote_refs(bare_remote, "refs/missions/") == {}
    assert remote_refs(bare_remote, "refs/gitclaim/") == {}
    assert remote_refs(bare_remote, f"{NS}-archive") == {f"{NS}-archive": archive}
    assert git(a, "config", "gitclaim.namespace").stdout.strip() == NS
    assert git(a, "rev-parse", "refs/missions/one").stdout.strip() == before["one"][0]
    assert git(a, "branch", "-r", "--format=%(refname)").stdout.split() == [
        "refs/remotes/origin/HEAD", "refs/remotes/origin/main"]
    # the moved missions keep working from this clone (once .gitclaim.yaml says so)
    (a / ".gitclaim.yaml").write_text(f"namespace: {NS}\n")
    ok(run_gitclaim(a, "done", "one"))
    assert "Two" in ok(run_gitclaim(a, "show", "two"))

    again = json.loads(ok(run_gitclaim(a, "migrate", "--to", NS, "--from", "refs/missions", "--json")))
    assert (again["moved"], again["removed"], again["archive_moved"]) == ([], [], False)
    assert remote_refs(bare_remote, "refs/gitclaim/") == {}


def test_other_clones_stop_until_they_follow(bare_remote: Path, make_clone: Callable[..., Path]) -> None:
    a = seeded(make_clone)
    b = make_clone("b")
    ok(run_gitclaim(a, "migrate", "--to", NS))
    (a / ".gitclaim.yaml").write_text(f"namespace: {NS}\n")
    git(a, "add", ".gitclaim.yaml")
    git(a, "commit", "-q", "-m", "chore: missions on claude branches")
    git(a, "push", "-q", "origin", "HEAD:main")
    git(b, "pull", "-q", "origin", "main")
    assert run_gitclaim(b, "claim", "three").returncode == 10
    assert remote_refs(bare_remote, "refs/missions/") == {}
    ok(run_gitclaim(b, "init"))
    ok(run_gitclaim(b, "claim", "three"))
    assert set(remote_refs(bare_remote, f"{NS}/")) == {f"{NS}/one", f"{NS}/three"}


def test_migrate_is_refused_while_another_runs(bare_remote: Path, make_clone: Callable[..., Path],
                                               tmp_path: Path) -> None:
    a, b = seeded(make_clone), make_clone("b")
    # another clone's migration, mid-way: its lock is on the remote
    lock = git(b, "commit-tree", "-m", "chore(gitclaim): move the missions to another namespace\n\n"
               "Gitclaim-Instance: 0123456789ab\nGitclaim-Started: 2999-01-01T00:00:00Z",
               "HEAD^{tree}").stdout.strip()
    git(b, "push", "-q", "origin", f"{lock}:refs/gitclaim/migration")
    before = remote_refs(bare_remote, "refs/")
    res = run_gitclaim(a, "migrate", "--to", NS)
    assert res.returncode == 3
    assert res.stderr == ("gitclaim: another migration is running ('chore(gitclaim): move the missions to another "
                          "namespace', instance 0123456789ab, since 2999-01-01T00:00:00Z; lock "
                          "refs/gitclaim/migration): wait for it to finish, then run this again\n")
    assert remote_refs(bare_remote, "refs/") == before
    assert git(a, "for-each-ref", "refs/gitclaim/migrate/").stdout == ""


def test_a_rerun_after_a_died_migration_finishes_it(bare_remote: Path, make_clone: Callable[..., Path]) -> None:
    a = seeded(make_clone)
    tips = remote_refs(bare_remote, "refs/missions/")
    # died after the lock and the move, before releasing the lock and recording the namespace
    ok(run_gitclaim(a, "migrate", "--to", NS))
    git(a, "config", "gitclaim.namespace", "refs/missions")
    instance = git(a, "config", "gitclaim.instance").stdout.strip()
    lock = git(a, "commit-tree", "-m", "chore(gitclaim): migrate\n\nGitclaim-Instance: " + instance
               + "\nGitclaim-Started: 2999-01-01T00:00:00Z", "HEAD^{tree}").stdout.strip()
    git(a, "push", "-q", "origin", f"{lock}:refs/gitclaim/migration")
    out = ok(run_gitclaim(a, "migrate", "--to", NS))
    assert out.splitlines()[0] == f"nothing to move from refs/missions to {NS}"
    assert remote_refs(bare_remote, "refs/gitclaim/") == {}
    assert {ref.rpartition("/")[2]: oid for ref, oid in remote_refs(bare_remote, f"{NS}/").items()} == \
        {ref.rpartition("/")[2]: oid for ref, oid in tips.items()}


def test_a_mission_in_both_namespaces_with_other_commits_stops_it(bare_remote: Path,
                                                                   make_clone: Callable[..., Path]) -> None:
    a = seeded(make_clone)
    other = remote_refs(bare_remote, "refs/missions/")["refs/missions/three"]
    git(a, "push", "-q", "origin", f"{other}:{NS}/one")
    before = remote_refs(bare_remote, "refs/")
    res = run_gitclaim(a, "migrate", "--to", NS)
    assert res.returncode == 3
    assert res.stderr.startswith("gitclaim: cannot migrate: one exists in both namespaces with different commits")
    assert {k: v for k, v in remote_refs(bare_remote, "refs/").items() if k != "refs/gitclaim/migration"} == before
    assert remote_refs(bare_remote, "refs/gitclaim/migration") == {}


def test_the_guard_lets_a_migration_through_and_then_guards_the_new_namespace(
        bare_remote: Path, make_clone: Callable[..., Path]) -> None:
    assert run_gitclaim(bare_remote, "guard", "install", str(bare_remote)).returncode == 0
    a = make_clone("a")
    ok(run_gitclaim(a, "new", "one", "--title", "One"))
    ok(run_gitclaim(a, "claim", "one"))
    refused = git(a, "push", "origin", ":refs/missions/one", check=False)
    assert refused.returncode != 0 and "deleting a mission is refused" in refused.stderr
    ok(run_gitclaim(a, "migrate", "--to", NS))
    assert set(remote_refs(bare_remote, f"{NS}/")) == {f"{NS}/one"} and remote_refs(bare_remote, "refs/missions/") == {}
    (a / ".gitclaim.yaml").write_text(f"namespace: {NS}\n")
    git(a, "add", ".gitclaim.yaml")
    git(a, "commit", "-q", "-m", "chore: missions on branches")
    git(a, "push", "-q", "origin", "HEAD:main")
    tip = remote_refs(bare_remote, f"{NS}/")[f"{NS}/one"]
    refused = git(a, "push", "origin", f":{NS}/one", check=False)
    assert refused.returncode != 0
    assert f"deleting a mission is refused: missions leave {NS}/ only through `gitclaim archive`" in refused.stderr
    assert remote_refs(bare_remote, f"{NS}/") == {f"{NS}/one": tip}
    ok(run_gitclaim(a, "done", "one"))
