"""Checking commits that already exist: a revision range read in one `git log` process."""

from __future__ import annotations

from dataclasses import dataclass

from gitclaim.core.git import Git
from gitclaim.errors import InvalidInput
from gitclaim.policy.checker import Violation, check_identity, check_message
from gitclaim.policy.config import PolicyConfig

# %x1f (unit separator) between fields, NUL (-z) between commits: neither occurs in names or emails, and the
# message comes last so a stray separator inside it cannot shift the other fields.
_FIELDS = ("%H", "%an", "%ae", "%cn", "%ce", "%B")
_FORMAT = "%x1f".join(_FIELDS)


@dataclass(frozen=True)
class CommitInfo:
    oid: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    message: str


@dataclass(frozen=True)
class CommitReport:
    commit: CommitInfo
    violations: list[Violation]


def read_commits(git: Git, rev_range: str) -> list[CommitInfo]:
    """Every commit `git log <rev_range>` lists, newest first; InvalidInput when git rejects the range."""
    if not rev_range.strip() or rev_range.startswith("-"):
        raise InvalidInput(f"invalid range {rev_range!r}: expected something like origin/main..HEAD")
    res = git.run(
        ["log", "-z", f"--format={_FORMAT}", "--end-of-options", rev_range, "--"], check=False
    )
    if not res.ok:
        raise InvalidInput(f"invalid range {rev_range!r}: {res.error_line()}")
    return [_parse(record) for record in res.stdout.decode("utf-8", "replace").split("\0") if record]


def check_commit(commit: CommitInfo, config: PolicyConfig) -> list[Violation]:
    """The message (as committed, so verbatim) plus the author and committer identities."""
    return [
        *check_identity("author", commit.author_name, commit.author_email, config),
        *check_identity("committer", commit.committer_name, commit.committer_email, config),
        *check_message(commit.message, config, verbatim=True),
    ]


def check_range(git: Git, rev_range: str, config: PolicyConfig) -> list[CommitReport]:
    """One report per commit in the range, oldest first (the order a reader fixes them in)."""
    commits = reversed(read_commits(git, rev_range))
    return [CommitReport(c, check_commit(c, config)) for c in commits]


def _parse(record: str) -> CommitInfo:
    oid, an, ae, cn, ce, message = record.split("\x1f", len(_FIELDS) - 1)
    return CommitInfo(oid.lstrip("\n"), an, ae, cn, ce, message)
