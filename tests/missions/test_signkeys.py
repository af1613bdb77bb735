"""`gitclaim init --signing-key FILE` / `--new-signing-key FILE` (issue 15, item 1): the key is checked with a real
ssh-keygen before anything is recorded, recorded as an absolute path in the clone's git config, and its trust-list
line printed with whether the default branch's trust list already holds it. Bad input: one line, its exit code,
nothing recorded and no key left behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitclaim.core.trust import TRUST_FILE
from tests.helpers import git, ok, one_line, run_gitclaim
from tests.support.signing import commit_to_main, make_key, public_key, trust_line

NO_AGENT = {"SSH_AUTH_SOCK": "/nonexistent/agent.sock"}


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return make_key(tmp_path / "keys", "alice")


def config(clone: Path, name: str = "gitclaim.signingKey") -> str | None:
    res = git(clone, "config", "--get", name, check=False)
    return res.stdout.strip() if res.returncode == 0 else None


def test_signing_key_is_checked_recorded_and_its_line_printed(make_clone, key: Path) -> None:
    clone = make_clone("a", init=False)
    res = ok(clone, "init", "--signing-key", os.path.relpath(key, clone), "--principal", "alice@agents")
    line = f"alice@agents {public_key(key)}"
    out = res.stdout.splitlines()
    assert f"signing key {key} (gitclaim.signingKey): signs and verifies" in out
    assert out[-3:] == [
        f"trust list line for {TRUST_FILE} (commit it on the default branch):", line,
        f"there is no {TRUST_FILE} on refs/remotes/origin/HEAD yet: commit it with the line above on the default "
        "branch"]
    assert config(clone) == str(key)  # absolute, though given relative
    # the clone now signs: git itself verifies its claim against that very line
    ok(clone, "new", "m1", "--title", "One")
    ok(clone, "claim", "m1")
    allowed = clone.parent / "allowed"
    allowed.write_text(line + "\n")
    res = git(clone, "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", "refs/missions/m1",
              check=False)
    assert res.returncode == 0 and 'Good "git" signature for alice@agents' in res.stderr, res.stderr


def test_says_whether_the_default_branch_trusts_the_key(make_clone, bare_remote: Path, key: Path,
                                                       tmp_path: Path) -> None:
    other = make_key(tmp_path / "keys", "bob")
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("bob@agents", other)})
    clone = make_clone("a", init=False)
    res = ok(clone, "init", "--signing-key", str(key))
    assert res.stdout.splitlines()[-2:] == [
        f"test@example.invalid {public_key(key)}",  # the default principal: git's user.email
        f"this key is not yet in the trust list on refs/remotes/origin/HEAD: add the line above to {TRUST_FILE} "
        "on the default branch"]
    git(clone, "config", "gitclaim.user", "agent-7")  # gitclaim's own user name comes before user.email
    res = ok(clone, "init", "--signing-key", str(other))
    assert res.stdout.splitlines()[-2:] == [
        f"agent-7 {public_key(other)}",
        "this key is already in the trust list on refs/remotes/origin/HEAD as bob@agents (not agent-7): its "
        "claims record bob@agents"]
    res = ok(clone, "init", "--signing-key", str(other), "--principal", "bob@agents", "--json")
    data = json.loads(res.stdout)["signing"]
    assert data == {"key": str(other), "created": False, "principal": "bob@agents", "public_key": public_key(other),
                    "line": f"bob@agents {public_key(other)}", "trust_file": TRUST_FILE,
                    "trust_source": "refs/remotes/origin/HEAD", "trusted": True, "listed_as": "bob@agents"}
    assert config(clone) == str(other)


def test_new_signing_key_creates_a_key_without_passphrase_and_never_overwrites(make_clone, tmp_path: Path) -> None:
    clone = make_clone("a")
    path = tmp_path / "keys" / "agent7"
    path.parent.mkdir()
    res = ok(clone, "init", "--new-signing-key", str(path), "--principal", "agent-7@ci")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pub = Path(f"{path}.pub").read_text().split()
    assert pub[0] == "ssh-ed25519" and pub[2] == "agent-7@ci"
    out = res.stdout.splitlines()
    assert f"created signing key {path} (ed25519, no passphrase, mode 0600) and {path}.pub" in out
    assert f"agent-7@ci ssh-ed25519 {pub[1]}" in out
    assert config(clone) == str(path)
    # the same name again: refused, the key untouched (a rerun must never replace an agent's identity)
    before = path.read_bytes()
    res = run_gitclaim(clone, "init", "--new-signing-key", str(path))
    assert one_line(res, 2) == (f"gitclaim: {path} already exists: gitclaim never overwrites a key; use it with "
                                f"gitclaim init --signing-key {path}, or name a new file")
    assert path.read_bytes() == before
    # a stray .pub is not overwritten either, and no private key is made beside it
    lone = tmp_path / "keys" / "lone"
    Path(f"{lone}.pub").write_text("ssh-ed25519 AAAA old\n")
    res = run_gitclaim(clone, "init", "--new-signing-key", str(lone))
    assert one_line(res, 2) == (f"gitclaim: {lone}.pub already exists: gitclaim never overwrites a key; use it "
                                f"with gitclaim init --signing-key {lone}, or name a new file")
    assert not lone.exists() and config(clone) == str(path)
    res = run_gitclaim(clone, "init", "--new-signing-key", str(tmp_path / "nodir" / "k"))
    assert one_line(res, 2) == (f"gitclaim: cannot create a key at {tmp_path / 'nodir' / 'k'}: the directory "
                                f"{tmp_path / 'nodir'} does not exist")
    assert sorted(p.name for p in path.parent.iterdir()) == ["agent7", "agent7.pub", "lone.pub"]


def test_a_mistyped_key_path_is_an_error_not_a_new_key(make_clone, key: Path) -> None:
    clone = make_clone("a")
    typo = key.parent / "alcie"
    res = run_gitclaim(clone, "init", "--signing-key", str(typo))
    assert one_line(res, 11) == (f"gitclaim: --signing-key {typo}: no such file; nothing was recorded (to create a "
                                 f"new key there: gitclaim init --new-signing-key {typo})")
    assert not typo.exists() and config(clone) is None
    res = run_gitclaim(clone, "init", "--signing-key", str(key.parent))
    assert one_line(res, 11) == (f"gitclaim: --signing-key {key.parent} is a directory, not a key file; nothing "
                                 "was recorded")


def test_keys_that_cannot_sign_are_refused_without_a_prompt(make_clone, tmp_path: Path, key: Path) -> None:
    clone = make_clone("a")
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    junk.chmod(0o600)
    res = run_gitclaim(clone, "init", "--signing-key", str(junk))
    assert one_line(res, 11) == (f"gitclaim: cannot sign with {junk} (--signing-key): the file is not an ssh key; "
                                 "nothing was recorded")
    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(locked)], check=True)
    res = run_gitclaim(clone, "init", "--signing-key", str(locked), env=NO_AGENT, timeout=20)
    assert one_line(res, 11) == (f"gitclaim: cannot sign with {locked} (--signing-key): the key has a passphrase "
                                 f"and no ssh agent holds it (add it to the agent: ssh-add {locked}); nothing was "
                                 "recorded")
    loose = tmp_path / "loose"
    loose.write_bytes(key.read_bytes())
    Path(f"{loose}.pub").write_bytes(Path(f"{key}.pub").read_bytes())
    loose.chmod(0o644)
    res = run_gitclaim(clone, "init", "--signing-key", str(loose))
    assert one_line(res, 11) == (f"gitclaim: cannot sign with {loose} (--signing-key): ssh refuses a private key "
                                 f"that others can read (chmod 600 {loose}); nothing was recorded")
    mixed = tmp_path / "mixed"
    mixed.write_bytes(key.read_bytes())
    mixed.chmod(0o600)
    Path(f"{mixed}.pub").write_bytes(Path(f"{locked}.pub").read_bytes())
    res = run_gitclaim(clone, "init", "--signing-key", str(mixed))
    assert one_line(res, 11) == (f"gitclaim: cannot sign with {mixed} (--signing-key): {mixed}.pub is not the "
                                 f"public half of {mixed}; nothing was recorded")
    assert config(clone) is None


@pytest.mark.parametrize(("args", "message"), [
    (["--signing-key", "k", "--new-signing-key", "n"],
     "--signing-key and --new-signing-key exclude each other: use an existing key, or create one"),
    (["--principal", "alice"],
     "--principal names a signing key's owner: give it with --signing-key FILE or --new-signing-key FILE"),
    (["--new-signing-key", "NEWKEY", "--principal", "alice smith"],
     "--principal 'alice smith' cannot be a principal: one word without blanks, quotes or commas, not starting "
     "with '#' (e.g. agent-7@ci)"),
    (["--new-signing-key", "NEWKEY", "--principal", "a,b"],
     "--principal 'a,b' cannot be a principal: one word without blanks, quotes or commas, not starting with '#' "
     "(e.g. agent-7@ci)"),
])
def test_bad_options_change_nothing(make_clone, args: list[str], message: str) -> None:
    clone = make_clone("a")
    res = run_gitclaim(clone, "init", *args)
    assert one_line(res, 2) == f"gitclaim: {message}"
    assert config(clone) is None and not (clone / "NEWKEY").exists()


def test_where_signing_is_required_init_says_the_key_must_be_listed_first(make_clone, bare_remote: Path,
                                                                         key: Path, tmp_path: Path) -> None:
    commit_to_main(bare_remote, tmp_path / "admin", {".gitclaim.yaml": "signing:\n  required: true\n"})
    clone = make_clone("a", init=False)
    res = ok(clone, "init", "--signing-key", str(key), "--principal", "alice@agents")
    assert res.stdout.splitlines()[-1] == (
        "this repository requires signed claims (.gitclaim.yaml signing.required): this clone can claim once that "
        "line is on the default branch and fetched (git fetch)")
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", key)})
    git(clone, "fetch", "-q", "origin")
    res = ok(clone, "init", "--signing-key", str(key), "--principal", "alice@agents")
    assert res.stdout.splitlines()[-1] == ("this key is already in the trust list on refs/remotes/origin/HEAD as "
                                           "alice@agents")
    ok(clone, "new", "m1", "--title", "One")
    ok(clone, "claim", "m1")


def test_a_default_principal_that_cannot_be_one_is_refused_with_the_fix(make_clone, key: Path) -> None:
    clone = make_clone("a")
    git(clone, "config", "gitclaim.user", "Alice Smith")
    res = run_gitclaim(clone, "init", "--signing-key", str(key))
    assert one_line(res, 2) == ("gitclaim: the default principal (gitclaim.user, else user.email) 'Alice Smith' "
                                "cannot be a principal: one word without blanks, quotes or commas, not starting "
                                "with '#' (e.g. agent-7@ci); give one with --principal NAME")
    assert config(clone) is None


def test_a_failing_init_removes_the_key_it_created(make_clone, tmp_path: Path) -> None:
    clone = make_clone("a", init=False)
    path = tmp_path / "fresh"
    res = run_gitclaim(clone, "init", "--remote", "nowhere", "--new-signing-key", str(path))
    assert one_line(res, 4) == ("gitclaim: no remote named 'nowhere' in this clone (add it with: git remote add "
                                "nowhere URL)")
    assert not path.exists() and config(clone) is None
    git(clone, "remote", "add", "broken", str(tmp_path / "missing.git"))
    res = run_gitclaim(clone, "init", "--remote", "broken", "--new-signing-key", str(path))
    assert res.returncode == 6, res.stderr
    assert not path.exists() and not Path(f"{path}.pub").exists() and config(clone) is None


def test_the_environment_key_is_named_when_it_overrides(make_clone, key: Path, tmp_path: Path) -> None:
    clone = make_clone("a")
    other = make_key(tmp_path / "keys", "other")
    res = ok(clone, "init", "--signing-key", str(key), env={"GITCLAIM_SIGNING_KEY": str(other)})
    assert (f"note: GITCLAIM_SIGNING_KEY={other} is set and takes precedence over it in this environment"
            in res.stdout.splitlines())
    assert config(clone) == str(key)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real ssh-agent on a socket of its own, stopped (by its pid) after the test."""
    sock = tmp_path / "agent.sock"
    out = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], check=True, capture_output=True, text=True).stdout
    pid = int(out.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        yield {"SSH_AUTH_SOCK": str(sock)}
    finally:
        os.kill(pid, signal.SIGTERM)


def test_a_key_with_a_passphrase_signs_through_the_agent(make_clone, tmp_path: Path,
                                                         agent: dict[str, str]) -> None:
    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(locked)], check=True)
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho secret\n")
    askpass.chmod(0o700)
    subprocess.run(["ssh-add", "-q", str(locked)], check=True, capture_output=True, stdin=subprocess.DEVNULL,
                   env={**os.environ, **agent, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"})
    clone = make_clone("a")
    for name in (f"{locked}.pub", str(locked)):  # the public half (git's way with an agent), or the key file
        res = ok(clone, "init", "--signing-key", name, "--principal", "agent-7@ci", env=agent)
        assert f"agent-7@ci {public_key(locked)}" in res.stdout.splitlines()
        assert config(clone) == name
    ok(clone, "new", "m1", "--title", "One", env=agent)
    ok(clone, "claim", "m1", env=agent)
    assert "gpgsig" in git(clone, "cat-file", "commit", "refs/missions/m1").stdout
