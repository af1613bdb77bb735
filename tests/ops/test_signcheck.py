"""`gitclaim doctor`'s signing checks (issue 15, item 1): no key is fine unless the repository requires signed
claims; a key is checked by signing and verifying with real ssh-keygen; the trust list and the ref it was read
from; whether the key is in it, as which principal. Real keys, real CLI processes, text and --json."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from gitclaim.core.trust import TRUST_FILE
from tests.helpers import git, run_gitclaim
from tests.server.test_guard import hook_runs_this_gitclaim  # noqa: F401  (the guard runs the code under test)
from tests.support.signing import commit_to_main, make_key, public_key, trust_line, use_key

REQUIRED = "signing:\n  required: true\n"
SIGNING = ("signing required", "signing key", "trust list", "trusted key", "trusted now")


def doctor_json(clone: Path, code: int, env: dict[str, str] | None = None) -> dict:
    res = run_gitclaim(clone, "doctor", "--json", env=env)
    assert res.returncode == code, res.stdout + res.stderr
    return json.loads(res.stdout)


def signing_lines(clone: Path, code: int) -> list[str]:
    res = run_gitclaim(clone, "doctor")
    assert res.returncode == code, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.endswith(tuple(f"{n}:" for n in SIGNING))
                 or any(f" {n}: " in ln for n in SIGNING))
    end = next(i for i, ln in enumerate(lines) if i > start and "remote reachable:" in ln)
    return lines[start:end]


def test_no_key_is_fine_where_signing_is_not_required(make_clone) -> None:
    clone = make_clone("a")
    assert signing_lines(clone, 0) == [
        "ok    signing required: not required (.gitclaim.yaml has no signing.required): signatures are shown, "
        "unsigned claims still hold",
        "ok    signing key: none: this clone's mission commits are not signed (to sign them: gitclaim init "
        "--signing-key FILE (or --new-signing-key FILE for a new agent key))",
        "ok    trust list: none on refs/remotes/origin/HEAD: fine while this clone does not sign (signatures by "
        "others show untrusted)"]
    data = doctor_json(clone, 0)
    assert data["signing"] == {"required": False, "key": None, "key_source": None, "signs": None,
                               "public_key": None, "trust_source": "refs/remotes/origin/HEAD", "principal": None}


def test_a_trusted_key_that_signs(make_clone, bare_remote: Path, tmp_path: Path) -> None:
    key = make_key(tmp_path / "keys", "alice")
    other = make_key(tmp_path / "keys", "bob")
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", key)
                                                     + trust_line("bob@agents", other)})
    clone = make_clone("a")
    use_key(clone, key)
    short = public_key(key).split()[1][-12:]
    assert signing_lines(clone, 0)[1:] == [
        f"ok    signing key: {key} (git config gitclaim.signingKey): a test signature verifies with its public "
        f"key ssh-ed25519 ...{short}",
        f"ok    trust list: 2 principals in {TRUST_FILE} on refs/remotes/origin/HEAD (as of the last fetch)",
        "ok    trusted key: this clone's key is in the trust list as alice@agents: its claims show good "
        "(alice@agents)",
        "ok    trusted now: a signature made now verifies as alice@agents against the trust list and its "
        "revocations"]
    data = doctor_json(clone, 0)
    assert data["signing"] == {"required": False, "key": str(key), "key_source": "git config gitclaim.signingKey",
                               "signs": True, "public_key": public_key(key),
                               "trust_source": "refs/remotes/origin/HEAD", "principal": "alice@agents"}
    # git's own setting for signed commits is enough: gitclaim signs with it, and the doctor checks it
    git(clone, "config", "--unset", "gitclaim.signingKey")
    git(clone, "config", "gpg.format", "ssh")
    git(clone, "config", "user.signingKey", str(other))
    data = doctor_json(clone, 0)["signing"]
    assert (data["key_source"], data["signs"], data["principal"]) == ("git config user.signingKey", True,
                                                                      "bob@agents")


def test_an_untrusted_key_is_advice_with_the_line_to_commit(make_clone, tmp_path: Path) -> None:
    key = make_key(tmp_path / "keys", "mallory")
    clone = make_clone("a")
    use_key(clone, key)
    lines = signing_lines(clone, 0)
    assert lines[2:] == [
        f"warn  trust list: no {TRUST_FILE} on refs/remotes/origin/HEAD (as of the last fetch): every signature "
        "counts as untrusted",
        f"      fix: commit {TRUST_FILE} on the default branch (gitclaim init --signing-key FILE prints a key's "
        "line for it)",
        "warn  trusted key: this clone's key is not in the trust list on refs/remotes/origin/HEAD: its claims show "
        "untrusted",
        f"      fix: add this line to {TRUST_FILE} on the default branch: test@example.invalid {public_key(key)}"]


def test_required_signing_without_a_key_fails_with_the_fix(make_clone, bare_remote: Path, tmp_path: Path) -> None:
    commit_to_main(bare_remote, tmp_path / "admin", {".gitclaim.yaml": REQUIRED})
    clone = make_clone("a")
    assert signing_lines(clone, 1) == [
        "ok    signing required: .gitclaim.yaml requires signed claims (signing.required): a claim that is not "
        "good is void, and only its principal may write to it",
        "FAIL  signing key: none, and this repository requires signed claims: this clone cannot claim or write "
        "missions",
        "      fix: gitclaim init --signing-key FILE (or --new-signing-key FILE for a new agent key), then commit "
        "its trust-list line (docs/signing.md)",
        f"FAIL  trust list: no {TRUST_FILE} on refs/remotes/origin/HEAD (as of the last fetch): every signature "
        "counts as untrusted",
        f"      fix: commit {TRUST_FILE} on the default branch (gitclaim init --signing-key FILE prints a key's "
        "line for it)"]
    res = run_gitclaim(clone, "doctor")
    assert res.stderr == "gitclaim: doctor: 2 of 14 checks failed (signing key, trust list)\n"
    # an untrusted key where signing is required: its claims are void, a failure
    key = make_key(tmp_path / "keys", "mallory")
    use_key(clone, key)
    checks = {c["name"]: c for c in doctor_json(clone, 1)["checks"]}
    assert checks["trusted key"] == {
        "name": "trusted key", "ok": False, "required": True,
        "detail": "this clone's key is not in the trust list on refs/remotes/origin/HEAD: its claims show "
                  "untrusted, and void: this repository requires signed claims",
        "fix": f"add this line to {TRUST_FILE} on the default branch: test@example.invalid {public_key(key)}"}


def test_a_key_that_cannot_sign_fails_without_a_prompt(make_clone, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(locked)], check=True)
    clone = make_clone("a")
    data = doctor_json(clone, 1, env={"GITCLAIM_SIGNING_KEY": str(locked),
                                      "SSH_AUTH_SOCK": "/nonexistent/agent.sock"})
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["signing key"] == {
        "name": "signing key", "ok": False, "required": True,
        "detail": f"cannot sign with {locked} (environment variable GITCLAIM_SIGNING_KEY): the key has a passphrase "
                  f"and no ssh agent holds it (add it to the agent: ssh-add {locked})",
        "fix": "fix the key, or name another: gitclaim init --signing-key FILE (or --new-signing-key FILE for a "
               "new agent key)"}
    assert "trusted key" not in checks and data["signing"]["signs"] is False
    # the doctor records nothing
    assert git(clone, "config", "--get", "gitclaim.signingKey", check=False).returncode == 1


def test_the_probe_is_signed_so_a_guard_that_requires_signing_accepts_it(make_clone, bare_remote: Path,
                                                                        tmp_path: Path) -> None:
    # (tests.server.test_guard's autouse fixture, imported above, makes the guard run the gitclaim under test)
    key = make_key(tmp_path / "keys", "alice")
    assert run_gitclaim(tmp_path, "guard", "install", str(bare_remote)).returncode == 0
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", key),
                                                     ".gitclaim.yaml": REQUIRED})
    clone = make_clone("a")
    use_key(clone, key)
    checks = {c["name"]: c for c in doctor_json(clone, 0)["checks"]}
    assert checks["push refs/missions/*"]["ok"] and checks["trusted key"]["ok"], checks
    # unsigned, the same probe is refused by that guard: the doctor's signing checks say why
    git(clone, "config", "--unset", "gitclaim.signingKey")
    checks = {c["name"]: c for c in doctor_json(clone, 1)["checks"]}
    assert not checks["push refs/missions/*"]["ok"] and not checks["signing key"]["ok"]


def test_a_listed_key_that_expired_or_was_revoked_is_not_trusted_now(make_clone, bare_remote: Path,
                                                                    tmp_path: Path) -> None:
    key = make_key(tmp_path / "keys", "alice")
    commit_to_main(bare_remote, tmp_path / "admin", {
        TRUST_FILE: f'alice@agents valid-before="20200101" {public_key(key)}\n'})
    clone = make_clone("a")
    use_key(clone, key)
    checks = {c["name"]: c for c in doctor_json(clone, 0)["checks"]}
    assert checks["trusted key"]["ok"]  # listed ...
    fix = (f"check the options on its line in {TRUST_FILE} (valid-after, valid-before, namespaces) and "
           ".gitclaim/revoked_signers, or set up another key: gitclaim init --signing-key FILE (or "
           "--new-signing-key FILE for a new agent key)")
    detail = checks["trusted now"]["detail"]
    assert detail.startswith(f"the trust list does not accept a signature by {key} (git config "
                             "gitclaim.signingKey) as alice@agents: key has expired: verify time ")
    assert detail.endswith("> valid-before 2020-01-01T00:00:00: its new claims show untrusted or bad")
    assert (checks["trusted now"]["ok"], checks["trusted now"]["required"], checks["trusted now"]["fix"]) == (
        False, False, fix)
    # revoked, where signing is required: a failure
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", key),
                                                     ".gitclaim/revoked_signers": public_key(key) + "\n",
                                                     ".gitclaim.yaml": REQUIRED})
    git(clone, "pull", "-q", "origin", "main")
    checks = {c["name"]: c for c in doctor_json(clone, 1)["checks"]}
    assert checks["trusted now"] == {
        "name": "trusted now", "ok": False, "required": True,
        "detail": f"the trust list does not accept a signature by {key} (git config gitclaim.signingKey) as "
                  "alice@agents: the key is revoked, or its line does not allow git signatures: its new claims "
                  "show untrusted or bad", "fix": fix}
    assert checks["trust list"]["detail"] == (f"1 principal in {TRUST_FILE} on refs/remotes/origin/HEAD, "
                                              "revocations in .gitclaim/revoked_signers (as of the last fetch)")
