"""Asking git whether commits are signed, and by whom: one `git log --no-walk` for any number of commits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitclaim.core.git.process import Git

_FORMAT = "%H%x1f%G?%x1f%GS%x1f%GF%x1e"


class CommitSignature(NamedTuple):
    oid: str
    code: str  # git's %G?: G good, U valid but not trusted, B bad, N none, X/Y/R/E the rest (git-log(1))
    principal: str  # %GS: for ssh, the allowed-signers principal of a good signature
    key: str  # %GF: the key's fingerprint


def commit_signatures(git: Git, oids: Sequence[str], allowed: Path, revoked: Path | None) -> list[CommitSignature]:
    """The signature of each commit in `oids`, checked against an allowed-signers file (git runs ssh-keygen
    for each signed commit: one git process in all). Commits git cannot read are left out."""
    if not oids:
        return []
    config = ["-c", f"gpg.ssh.allowedSignersFile={allowed}"]
    if revoked is not None:
        config += ["-c", f"gpg.ssh.revocationFile={revoked}"]
    res = git.run([*config, "log", "--no-walk=unsorted", "--stdin", f"--format={_FORMAT}"],
                  input=("\n".join(oids) + "\n").encode(), check=False)
    out = []
    for record in res.stdout.decode("utf-8", "replace").split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 4 and fields[0]:
            out.append(CommitSignature(*fields))
    return out
