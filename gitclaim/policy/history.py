"""Checking commits that already exist: the message as committed, and who wrote and committed it.

Pure, like the rest of the package: the commits come from the caller (core/git/ `read_commits` for a
revision range, the server guard's reader for a push), as any record with the fields below; git's own record
is `gitclaim.core.git.Commit`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gitclaim.policy.checker import Finding, check_identity, check_message
from gitclaim.policy.config import PolicyConfig


class CommitRecord(Protocol):
    """What the policy reads of a commit."""

    @property
    def oid(self) -> str: ...
    @property
    def author_name(self) -> str: ...
    @property
    def author_email(self) -> str: ...
    @property
    def committer_name(self) -> str: ...
    @property
    def committer_email(self) -> str: ...
    @property
    def message(self) -> str: ...


C = TypeVar("C", bound=CommitRecord)


@dataclass(frozen=True)
class CommitReport(Generic[C]):
    commit: C
    violations: list[Finding]


def check_commit(commit: CommitRecord, config: PolicyConfig) -> list[Finding]:
    """The message (as committed, so verbatim) plus the author and committer identities."""
    return [
        *check_identity("author", commit.author_name, commit.author_email, config),
        *check_identity("committer", commit.committer_name, commit.committer_email, config),
        *check_message(commit.message, config, verbatim=True),
    ]


def check_commits(commits: Iterable[C], config: PolicyConfig) -> list[CommitReport[C]]:
    """One report per commit, in the order given (oldest first is the order a reader fixes them in)."""
    return [CommitReport(c, check_commit(c, config)) for c in commits]
