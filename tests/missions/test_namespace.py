"""The mission namespace (docs/config.md "Mission namespace"): a branch-only remote, where a pre-receive hook
refuses every ref outside refs/heads/claude/, works end to end with `namespace: refs/heads/claude/missions`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import git, race, remote_refs, run_gitclaim

NS = "refs/heads/claude/missions"
ONLY_CLAUDE = """#!/bin/sh
# A branch-only proxy: every ref outside refs/heads/claude/ is refused.
while read old new ref; do
  case "$ref" in
    refs/heads/claude/*) ;;
    *) echo "only claude/* branches may be pushed here: $ref"; exit 1 ;;
  esac
done
"""


def commit_settings(remote: Path, tmp_path: Path, text: str, name: str = "seed-settings") -> None:
    """Commit .gitclaim.yaml on main with plain git (before any hook is installed)."""
    seed = tmp_path / name
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    (seed / ".gitclaim.yaml").write_text(text)
    git(seed, "add", ".gitclaim.yaml")
    git(seed, "commit", "-q", "-m", "chore: set the mission namespace")
    git(seed, "push", "-q", "origin", "HEAD:main")


def only_claude(remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(ONLY_CLAUDE)
    hook.chmod(0o755)


@pytest.fixture
def claude_remote(bare_remote: Path, tmp_path: Path) -> Path:
    """A branch-only remote whose committed .gitclaim.yaml names the claude/ branch namespace."""
    commit_settings(bare_remote, tmp_path, f"namespace: {NS}\n")
    only_claude(bare_remote)
    return bare_remote


def ok(res) -> str:  # type: ignore[no-untyped-def]
    assert res.returncode == 0, res.stderr
    return str(res.stdout)


def test_branch_namespace_end_to_end(claude_remote: Path, make_clone: Callable[..., Path], tmp_path: Path) -> None:
    clones = [make_clone(f"c{i}") for i in range(8)]
    a = clones[0]
    ok(run_gitclaim(a, "new", "one", "--title", "The contested one"))
    assert set(remote_refs(claude_remote, "refs/missions/")) == set()
    assert set(remote_refs(claude_remote, f"{NS}/")) == {f"{NS}/one"}

    results = race(clones, lambda i: ["claim", "one", "--as", f"racer {i}"], tmp_path)
    codes = sorted(r.returncode for r in results)
    assert codes == [0] + [3] * 7, [r.stderr for r in results]
    winner = clones[[r.returncode for r in results].index(0)]

    ok(run_gitclaim(a, "new", "two", "--title", "Second"))
    taken = json.loads(ok(run_gitclaim(a, "next", "--json")))
    assert taken["mission_id"] == "two"
    ok(run_gitclaim(a, "log", "two", "halfway there"))
    ok(run_gitclaim(a, "done", "two"))
    ok(run_gitclaim(winner, "done", "one"))
    listed = json.loads(ok(run_gitclaim(a, "list", "--json")))
    assert {row["mission_id"] for row in listed} == {"one", "two"}
    assert "halfway there" in ok(run_gitclaim(a, "show", "two"))
    history = git(a, "log", "--format=%s", "refs/missions/two").stdout.splitlines()
    assert history == ["chore(mission): complete two", "chore(mission): log note on two",
                       "chore(mission): claim two", "chore(mission): create two"]

    assert "archived 2 missions in 1 commit on refs/heads/claude/missions-archive" in ok(run_gitclaim(a, "archive"))
    assert set(remote_refs(claude_remote, "refs/heads/")) == {"refs/heads/main", f"{NS}-archive"}
    assert remote_refs(claude_remote, "refs/gitclaim/") == {}
    assert git(a, "branch", "-r", "--format=%(refname)").stdout.split() == [
        "refs/remotes/origin/HEAD", "refs/remotes/origin/main"]
    archived = json.loads(ok(run_gitclaim(clones[1], "list", "--archived", "--json")))
    assert {row["mission_id"] for row in archived} >= {"one", "two"}
    assert "halfway there" in ok(run_gitclaim(clones[1], "show", "two"))


def test_init_keeps_mission_branches_out_of_the_ordinary_fetch(claude_remote: Path,
                                                                make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(run_gitclaim(a, "new", "one", "--title", "One"))
    fetch = git(b, "config", "--get-all", "remote.origin.fetch").stdout.split()
    assert fetch == [f"+{NS}/*:refs/missions/*", f"+{NS}-archive*:refs/gitclaim/archive*",
                     "+refs/heads/*:refs/remotes/origin/*", f"^{NS}/*", f"^{NS}-*"]
    git(b, "fetch", "-q", "origin")
    assert git(b, "branch", "-r", "--format=%(refname)").stdout.split() == ["refs/remotes/origin/HEAD", "refs/remotes/origin/main"]
    ok(run_gitclaim(a, "claim", "one"))
    assert git(a, "branch", "-r", "--format=%(refname)").stdout.split() == ["refs/remotes/origin/HEAD", "refs/remotes/origin/main"]
    # the push moved the clone's own mirror, not a remote-tracking branch
    assert git(a, "rev-parse", "refs/missions/one").stdout.strip() == remote_refs(claude_remote, f"{NS}/")[f"{NS}/one"]
    assert "(was refs/missions)" not in ok(run_gitclaim(a, "init"))  # twice changes nothing
    assert git(a, "config", "--get-all", "remote.origin.fetch").stdout.split() == fetch


def test_a_clone_set_up_for_another_namespace_refuses_every_command(claude_remote: Path, tmp_path: Path,
                                                                    make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    git(a, "config", "gitclaim.namespace", "refs/missions")
    res = run_gitclaim(a, "list")
    assert res.returncode == 10
    assert res.stderr == ("gitclaim: this clone uses the mission namespace refs/missions but .gitclaim.yaml says "
                          f"{NS}: run `gitclaim init` to follow .gitclaim.yaml (docs/config.md)\n")
    assert run_gitclaim(a, "new", "x", "--title", "X").returncode == 10
    assert remote_refs(claude_remote, "refs/") == remote_refs(claude_remote, "refs/heads/main")
    assert "mission namespace refs/heads/claude/missions (was refs/missions)" in ok(run_gitclaim(a, "init"))
    ok(run_gitclaim(a, "list"))


def test_an_invalid_namespace_is_one_line(bare_remote: Path, tmp_path: Path, make_clone: Callable[..., Path]) -> None:
    commit_settings(bare_remote, tmp_path, "namespace: heads/x\n")
    res = run_gitclaim(make_clone("a", init=False), "init")
    assert res.returncode == 2
    assert res.stderr == ("gitclaim: .gitclaim.yaml: invalid mission namespace 'heads/x': it does not start with "
                          "refs/ (for example refs/missions or refs/heads/claude/missions)\n")


def test_doctor_names_the_refusal_and_the_namespace_that_works(bare_remote: Path,
                                                                make_clone: Callable[..., Path]) -> None:
    only_claude(bare_remote)
    a = make_clone("a")
    res = run_gitclaim(a, "doctor")
    assert res.returncode == 1
    out = res.stdout.splitlines()
    refused = next(ln for ln in out if ln.startswith("FAIL  push refs/missions/*"))
    assert "the remote refused a new mission ref refs/missions/gitclaim-doctor-probe-" in refused
    assert "only claude/* branches may be pushed here: refs/missions/gitclaim-doctor-probe-" in refused
    works = out.index(next(ln for ln in out if " working namespace: " in ln))
    assert out[works].endswith("the remote refuses refs/missions/* but accepts refs/heads/claude/missions/* "
                               "(created and deleted refs/heads/claude/missions/gitclaim-doctor-probe-"
                               + out[works].rpartition("gitclaim-doctor-probe-")[2])
    assert out[works + 1] == ("      fix: commit `namespace: refs/heads/claude/missions` in .gitclaim.yaml, then run "
                              "`gitclaim init` in every clone (`gitclaim migrate --to refs/heads/claude/missions` "
                              "first if missions exist elsewhere)")
    assert remote_refs(bare_remote, "refs/") == remote_refs(bare_remote, "refs/heads/main")  # probes removed
    data = json.loads(run_gitclaim(a, "doctor", "--json").stdout.split("\n}\n")[0] + "\n}")
    assert (data["namespace"], data["working_namespace"]) == ("refs/missions", NS)


def test_doctor_in_the_branch_namespace_passes_the_push(claude_remote: Path, make_clone: Callable[..., Path]) -> None:
    res = run_gitclaim(make_clone("a"), "doctor", "--json")
    data = json.loads(res.stdout.split("\n}\n")[0] + "\n}")
    checks = {c["name"]: c for c in data["checks"]}
    assert checks[f"push {NS}/*"]["ok"] and checks[f"serve {NS}/*"]["ok"], checks
    assert checks["remove the probe"]["ok"] and "working namespace" not in checks
    assert data["working_namespace"] is None
    assert remote_refs(claude_remote, f"{NS}/") == {}
