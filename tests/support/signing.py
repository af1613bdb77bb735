"""Real ssh keys and a trust list committed on the remote's default branch, for the signing tests (docs/signing.md)
and the signing benchmark."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.gitenv import git


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
