"""Real ssh keys and a trust list committed on the remote's default branch, for the signing tests (docs/signing.md)
and the signing benchmark."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support.gitenv import git

TRUST_FILE = ".gitclaim/allowed_signers"  # gitclaim.core.trust.TRUST_FILE, spelled out: the docs' path


def make_key(directory: Path, name: str) -> Path:
    """A new ed25519 key without a passphrase: `directory/name` and `directory/name.pub`."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True,
                   capture_output=True)
    return key


def public_key(key: Path) -> str:
    """`<type> <base64>` of a key made by make_key."""
    return " ".join(Path(f"{key}.pub").read_text().split()[:2])


def trust_line(principal: str, key: Path) -> str:
    return f"{principal} {public_key(key)}\n"


def commit_to_main(remote: Path, work: Path, files: dict[str, str], message: str = "chore: trust list") -> None:
    """Commit `files` on the remote's main branch, as a person pushing to the default branch would."""
    if not work.exists():
        git(remote.parent, "clone", "-q", str(remote), str(work))
    git(work, "pull", "-q", "origin", "main")
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(work, "add", name)
    git(work, "commit", "-q", "-m", message)
    git(work, "push", "-q", "origin", "HEAD:main")


def use_key(clone: Path, key: Path) -> None:
    """Make `clone` sign its mission commits with `key` (what `gitclaim init --signing-key` records)."""
    git(clone, "config", "gitclaim.signingKey", str(key))


def fingerprint(key: Path) -> str:
    """The key's SHA256 fingerprint as git reports it (%GF), from ssh-keygen itself."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f"{key}.pub"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


def trust_alice_and_bob(remote: Path, work: Path, keys: dict[str, Path]) -> Path:
    """The remote's main branch trusts alice and bob (not mallory): the signing tests' team."""
    commit_to_main(remote, work, {
        TRUST_FILE: trust_line("alice@agents", keys["alice"]) + trust_line("bob@agents", keys["bob"])})
    return remote


def signed_clone(make_clone: Callable[..., Path], name: str, key: Path | None) -> Path:
    """A clone made by the make_clone fixture, signing with `key` (None: it signs nothing)."""
    clone = make_clone(name)
    if key is not None:
        use_key(clone, key)
    return clone
