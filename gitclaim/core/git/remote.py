"""Talking to the remote: fetch, the compare-and-swap push (`--porcelain --force-with-lease`), ls-remote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from gitclaim.core.git.process import Git, GitTimeout
from gitclaim.core.gitrecords import describe_stderr
from gitclaim.errors import RemoteError

# git's progress lines ("remote: Counting objects:  42% (4200/10000)", "Receiving objects: 100% (...), done."),
# each ended by a carriage return or a newline: not part of what went wrong.
_PROGRESS = re.compile(rb"^(?:remote: )?[A-Z][A-Za-z ]*: +\d[^\r\n]*[\r\n]+", re.MULTILINE)

# Fetch and push must never start maintenance, ask for credentials, run the user's pre-push hooks (a test
# suite in a pre-push hook must not run on every claim) or recurse into submodules.
_NET_CONFIG = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "-c", "fetch.recurseSubmodules=false"]


def fetch(git: Git, remote: str, refspecs: Sequence[str], *, timeout: float, prune: bool = True,
          patient: bool = False) -> None:
    """Fetch `refspecs` from `remote` within `timeout` seconds; `patient`: for as long as git reports progress,
    with `timeout` bounding only the time without any (a first fetch of many missions is no hung remote)."""
    # --refmap= : only the refspecs given here move refs. Without it git also moves the remote-tracking refs the
    # configured refspecs map the fetched refs to, ignoring negative ones: mission branches of a branch namespace
    # would appear in refs/remotes/ (`git branch -r`) although init excludes them (docs/config.md).
    args = [*_NET_CONFIG, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
            "--refmap="]
    if prune:
        args.append("--prune")
    if patient:
        args.append("--progress")  # to stderr, which is not a terminal: what shows that git is not stuck
    try:
        res = git.run([*args, "--", remote, *refspecs], check=False, timeout=timeout, idle=patient)
    except GitTimeout as err:
        raise GitTimeout(f"cannot fetch from remote {remote!r}: {err}") from None
    if not res.ok:
        said = describe_stderr(_PROGRESS.sub(b"", res.stderr)) or res.error_line()
        raise RemoteError(f"cannot fetch from remote {remote!r}: {said}")


class RefUpdate(NamedTuple):
    ref: str
    new: str | None  # None deletes the ref
    expected: str | None  # None: the ref must not exist yet


class PushOutcome(NamedTuple):
    """What `git push --porcelain` said, per ref: flag '!' is a rejection; no line means no verdict."""

    returncode: int
    flags: dict[str, str]
    summaries: dict[str, str]
    remote_messages: tuple[str, ...]

    def accepted(self, ref: str) -> bool:
        return self.returncode == 0 and self.flags.get(ref, "!") != "!"

    def rejected(self, ref: str) -> bool:
        return self.flags.get(ref) == "!"

    @property
    def unanswered(self) -> bool:
        """git failed without a verdict on any ref: it could not reach the remote (or lost it mid-way)."""
        return self.returncode != 0 and not self.flags


def push_cas(git: Git, remote: str, updates: Sequence[RefUpdate], *, timeout: float,
             atomic: bool = False) -> PushOutcome:
    """Push each update only if the remote ref still holds its expected value (the remote's ref transaction
    decides). Never raises for a rejection: the caller re-reads the remote to learn what happened."""
    args = [*_NET_CONFIG, "push", "--porcelain", "--no-verify"]
    if atomic:
        args.append("--atomic")
    specs = []
    for up in updates:
        args.append(f"--force-with-lease={up.ref}:{up.expected or ''}")
        specs.append(f"{up.new or ''}:{up.ref}")
    res = git.run([*args, "--", remote, *specs], check=False, timeout=timeout)
    flags, summaries = {}, {}
    for line in res.text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[0]) == 1 and ":" in parts[1]:
            ref = parts[1].rpartition(":")[2]
            flags[ref] = parts[0]
            summaries[ref] = parts[2]
    remote_lines = tuple(
        ln[len("remote: "):].strip() for ln in res.stderr.decode("utf-8", "replace").splitlines()
        if ln.startswith("remote: ") and ln[len("remote: "):].strip()
    )
    return PushOutcome(res.returncode, flags, summaries, remote_lines or (res.error_line(),))


def ls_remote(git: Git, remote: str, patterns: Sequence[str], *, timeout: float) -> dict[str, str]:
    try:
        res = git.run(["ls-remote", "--refs", "--", remote, *patterns], check=False, timeout=timeout)
    except GitTimeout as err:
        raise GitTimeout(f"cannot read remote {remote!r}: {err}") from None
    if not res.ok:
        raise RemoteError(f"cannot read remote {remote!r}: {res.error_line()}")
    out: dict[str, str] = {}
    for line in res.text().splitlines():
        oid, _, ref = line.partition("\t")
        out[ref] = oid
    return out


