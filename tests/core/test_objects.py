"""Objects written from Python are byte for byte what git writes, and a write starts no process per object."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitclaim.core import git as g
from gitclaim.core.objects import ObjectWriter
from gitclaim.core.repo import open_repo
from tests.helpers import git, run_gitclaim

ENV = {"GIT_AUTHOR_DATE": "2026-03-04T05:06:07Z", "GIT_COMMITTER_DATE": "2026-03-04T07:06:07+02:00"}


def writer(path: Path) -> ObjectWriter:
    repo = open_repo(path)
    return ObjectWriter.for_repo(repo.git, repo.paths.common_dir, repo.config)


def by_git(path: Path, tree: str, parents: list[str], message: str, env: dict[str, str]) -> str:
    return g.commit_tree(g.Git(path), tree, parents, message, env)


@pytest.mark.parametrize("fmt", ["sha1", "sha256"])
def test_blob_tree_commit_match_git(tmp_path: Path, fmt: str) -> None:
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", f"--object-format={fmt}", str(repo))
    w = writer(repo)
    assert w.direct
    data = "---\ntitle: \"é\"\n---\nbody\n".encode()
    blob = w.blob(data)
    assert blob == git(repo, "hash-object", "--stdin", input=data.decode()).stdout.strip()
    sub = w.tree([g.TreeEntry("100644", "blob", blob, "x.md")])
    entries = [g.TreeEntry("040000", "tree", sub, "agents"), g.TreeEntry("100644", "blob", blob, "mission.md")]
    tree = w.tree(entries)
    payload = "".join(f"{e.mode} {e.type} {e.oid}\t{e.name}\n" for e in entries)
    assert tree == git(repo, "mktree", input=payload).stdout.strip()
    message = "feat(missions): claim m1\n\nGitclaim-Action: claim\n"
    first = w.commit(tree, [], message, ENV)
    assert first == by_git(repo, tree, [], message, ENV)
    second = w.commit(tree, [first], "chore: note\n", ENV)
    assert second == by_git(repo, tree, [first], "chore: note\n", ENV)
    assert git(repo, "fsck", "--strict", "--no-dangling", check=False).returncode == 0
    assert git(repo, "cat-file", "-p", f"{second}:agents/x.md").stdout == data.decode()


def test_identity_overrides_follow_git(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "config", "committer.name", "Commit Ter")
    w = writer(repo)
    tree = w.tree([])
    env = {**ENV, "GIT_AUTHOR_EMAIL": "a@example.invalid"}
    assert w.commit(tree, [], "x\n", env) == by_git(repo, tree, [], "x\n", env)


def test_left_to_git_when_only_git_can_tell(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "config", "user.name", " Spaced <Name> ")  # git strips and rewrites this identity
    w = writer(repo)
    tree = w.tree([])
    assert w.commit(tree, [], "x\n", ENV) == by_git(repo, tree, [], "x\n", ENV)
    git(repo, "config", "core.sharedRepository", "group")
    assert not writer(repo).direct


def test_claim_starts_no_process_per_object(make_clone, bare_remote: Path, tmp_path: Path) -> None:
    a = make_clone("a")
    assert run_gitclaim(a, "new", "m1", "--title", "One").returncode == 0
    trace = tmp_path / "trace.json"
    res = run_gitclaim(a, "claim", "m1", "--as", "me", env={"GIT_TRACE2_EVENT": str(trace)})
    assert res.returncode == 0, res.stderr
    names = [ev.get("name") for ev in map(json.loads, trace.read_text().splitlines())
             if ev.get("event") == "cmd_name" and "/" not in ev.get("sid", "")]
    assert not {"hash-object", "mktree", "commit-tree"} & set(names)
    assert names.count("push") == 1
    assert git(bare_remote, "fsck", "--strict", "--no-dangling", check=False).returncode == 0
    log = git(bare_remote, "log", "-1", "--format=%an <%ae> %ad", "--date=raw", "refs/missions/m1").stdout
    assert log.startswith("Test User <test@example.invalid> ")
    assert os.listdir(a / ".git" / "objects")  # loose objects written in the clone


@pytest.mark.parametrize(("config", "synced"), [
    ({}, False),  # git's default: loose objects are not synced
    ({"core.fsyncObjectFiles": "false"}, False),
    ({"core.fsyncObjectFiles": "true"}, True),
    ({"core.fsync": "loose-object"}, True),
    ({"core.fsync": "all"}, True),
])
def test_objects_are_synced_when_git_would_sync_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      config: dict[str, str], synced: bool) -> None:
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", str(repo))
    for key, value in config.items():
        git(repo, "config", key, value)
    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", calls.append)
    w = writer(repo)
    blob = w.blob(b"one\n")
    w.tree([g.TreeEntry("100644", "blob", blob, "mission.md")])
    assert len(calls) == (2 if synced else 0)
    assert blob == git(repo, "hash-object", "--stdin", input="one\n").stdout.strip()
    assert not [p for p in (repo / ".git" / "objects").rglob("tmp_obj_*")]  # no temporary file left behind
    mode = (repo / ".git" / "objects" / blob[:2] / blob[2:]).stat().st_mode & 0o777
    assert mode == 0o444
