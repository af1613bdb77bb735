"""gitolite3 with two ssh users in front of the guard (tests/support/gitolite.py): a claim race, a takeover and
the guard's binding of claims to the pushing user (gitclaim.guardRequireUser with gitolite's GL_USER), all
through real ssh logins, gitolite-shell and gitolite's access checks on 127.0.0.1."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import git, race, remote_mission, remote_refs, run_gitclaim
from tests.support.gitolite import GitoliteServer
from tests.support.signing import make_key, trust_line, use_key

REPOS = ("race", "takeover", "binding", "plain-push", "signed")


@pytest.fixture(scope="module")
def gitolite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitoliteServer]:
    server = GitoliteServer(tmp_path_factory.mktemp("server-gitolite"), REPOS)
    server.start()
    try:
        server.add_users_and_repos()
        yield server
    finally:
        server.stop()


def clone_as(server: GitoliteServer, user: str, repo: str, path: Path, *, name: str | None = None) -> Path:
    """A clone that logs in with `user`'s key and records `name` (default: the login) as its git user."""
    res = server.git_as(user, path.parent, "clone", "-q", "-c", f"core.sshCommand={server.ssh_command_for(user)}",
                        server.repo_url(repo), str(path))
    assert res.returncode == 0, res.stderr
    git(path, "config", "user.name", name or user)
    res = run_gitclaim(path, "init")
    assert res.returncode == 0, res.stderr
    return path


def test_the_guard_runs_through_gitolite_for_the_server_users_install(gitolite: GitoliteServer,
                                                                       tmp_path: Path) -> None:
    hook = gitolite.bare("plain-push") / "hooks" / "pre-receive"
    assert hook.is_symlink() and hook.resolve() == gitolite.home / "local" / "hooks" / "common" / "pre-receive"
    alice = clone_as(gitolite, "alice", "plain-push", tmp_path / "alice")
    assert run_gitclaim(alice, "new", "m1", "--title", "One").returncode == 0
    # A plain push that deletes a mission: gitolite lets alice (RW+), the guard does not.
    res = git(alice, "push", "origin", ":refs/missions/m1", check=False)
    assert res.returncode != 0
    assert "remote: gitclaim-guard: refs/missions/m1: refused: " in res.stderr
    assert "refs/missions/m1" in remote_refs(gitolite.bare("plain-push"))


def test_a_race_through_gitolite_has_one_winner(gitolite: GitoliteServer, tmp_path: Path) -> None:
    clones = [clone_as(gitolite, user, "race", tmp_path / f"{user}-{i}") for i in range(2) for user in ("alice",
                                                                                                         "bob")]
    assert run_gitclaim(clones[0], "new", "prize", "--title", "Only one").returncode == 0
    results = race(clones, lambda i: ["claim", "prize", "--as", f"racer {i}"], tmp_path)
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 3, 3, 3], [r.stderr for r in results]
    winner = next(i for i, r in enumerate(results) if r.returncode == 0)
    text = remote_mission(gitolite.bare("race"), "prize")
    assert f'claimed_by: "racer {winner}"' in text
    assert f'claim_user: "{("alice", "bob")[winner % 2]}"' in text
    for r in results:
        if r.returncode == 3:
            assert r.stderr.startswith("gitclaim: mission prize is held by ")


def test_a_takeover_through_gitolite_fences_the_old_holder(gitolite: GitoliteServer, tmp_path: Path) -> None:
    alice = clone_as(gitolite, "alice", "takeover", tmp_path / "alice")
    bob = clone_as(gitolite, "bob", "takeover", tmp_path / "bob")
    assert run_gitclaim(alice, "new", "job", "--title", "Job").returncode == 0
    assert run_gitclaim(alice, "claim", "job").returncode == 0
    res = run_gitclaim(bob, "claim", "job", "--force", "--reason", "alice is away")
    assert res.returncode == 0, res.stderr
    taken = remote_refs(gitolite.bare("takeover"))["refs/missions/job"]
    res = run_gitclaim(alice, "heartbeat", "job")
    assert res.returncode == 3
    assert "you no longer hold it" in res.stderr
    assert remote_refs(gitolite.bare("takeover"))["refs/missions/job"] == taken
    assert 'claim_user: "bob"' in remote_mission(gitolite.bare("takeover"), "job")


def test_claims_are_bound_to_the_gitolite_user(gitolite: GitoliteServer, tmp_path: Path) -> None:
    alice = clone_as(gitolite, "alice", "binding", tmp_path / "alice")
    impostor = clone_as(gitolite, "bob", "binding", tmp_path / "impostor", name="alice")
    bare = gitolite.bare("binding")
    assert run_gitclaim(alice, "new", "task", "--title", "Task").returncode == 0
    # bob logs in with his key but records the claim for alice: GL_USER is bob, so the guard refuses it.
    res = run_gitclaim(impostor, "claim", "task")
    assert res.returncode == 6
    assert res.stderr.startswith("gitclaim: mission task: remote 'origin' refused the push: gitclaim-guard: "
                                 "refs/missions/task: refused: ")
    assert "the claim is recorded for claim_user 'alice', but 'bob' pushes it" in res.stderr
    assert run_gitclaim(alice, "claim", "task").returncode == 0
    claimed = remote_refs(bare)["refs/missions/task"]
    # bob copies alice's instance id as well, so his client believes it holds the claim: the server still knows.
    instance = git(alice, "config", "gitclaim.instance").stdout.strip()
    git(impostor, "config", "gitclaim.instance", instance)
    res = run_gitclaim(impostor, "heartbeat", "task")
    assert res.returncode == 6
    assert "'bob' pushes a write to the claim of 'alice' (epoch 1)" in res.stderr
    assert remote_refs(bare)["refs/missions/task"] == claimed
    assert run_gitclaim(alice, "heartbeat", "task").returncode == 0


def test_gitolite_refuses_an_unsigned_mission_push_where_signing_is_required(gitolite: GitoliteServer,
                                                                             tmp_path: Path) -> None:
    bare = gitolite.bare("signed")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")  # the default branch, where the guard reads its rules
    bob = clone_as(gitolite, "bob", "signed", tmp_path / "bob")  # cloned before signing is required: unsigned
    alice = clone_as(gitolite, "alice", "signed", tmp_path / "alice")
    key = make_key(tmp_path / "keys", "alice")
    (alice / ".gitclaim").mkdir()
    (alice / ".gitclaim" / "allowed_signers").write_text(trust_line("alice@agents", key))
    (alice / ".gitclaim.yaml").write_text("signing:\n  required: true\n")
    git(alice, "add", ".gitclaim.yaml", ".gitclaim/allowed_signers")
    git(alice, "commit", "-q", "-m", "chore: require signed claims")
    git(alice, "push", "-q", "origin", "HEAD:main")
    use_key(alice, key)
    res = run_gitclaim(bob, "new", "task", "--title", "Task")
    assert res.returncode == 6
    assert len(res.stderr.splitlines()) == 1, res.stderr
    assert res.stderr.startswith("gitclaim: mission task: remote 'origin' refused the push: gitclaim-guard: "
                                 "refs/missions/task: refused: commit ")
    assert res.stderr.rstrip().endswith(
        " is unsigned, and this repository requires signed mission commits (.gitclaim.yaml signing.required): set "
        "up a signing key with gitclaim init --signing-key FILE and write it with gitclaim (docs/signing.md)")
    assert "refs/missions/task" not in remote_refs(bare)
    # alice signs with a key of the trust list: her mission and her claim (in her own name) pass
    assert run_gitclaim(alice, "new", "task", "--title", "Task").returncode == 0
    assert run_gitclaim(alice, "claim", "task").returncode == 0
    assert 'claim_principal: "alice@agents"' in remote_mission(bare, "task")


def test_gitolite_install_starts_nothing_listening() -> None:
    # Debian's package only installs files; with no admin key it sets nothing up and starts no service.
    res = subprocess.run(["dpkg-query", "-L", "gitolite3"], capture_output=True, text=True)
    assert res.returncode == 0
    assert not [p for p in res.stdout.splitlines() if p.startswith(("/etc/init.d/", "/lib/systemd/",
                                                                   "/usr/lib/systemd/"))]
