"""The commit-message policy: Conventional Commits headers and no attribution to tools or models.

`check_message` is the rule (pure); `load_policy` / `policy_from_repo` say what the repository configured;
`check_range` applies the rule to commits that already exist. See docs/commit-policy.md.
"""

from gitclaim.policy.checker import Violation, check_identity, check_message, format_violations
from gitclaim.policy.config import PolicyConfig, load_policy, policy_from_repo
from gitclaim.policy.history import CommitInfo, CommitReport, check_commit, check_range, read_commits

__all__ = [
    "CommitInfo",
    "CommitReport",
    "PolicyConfig",
    "Violation",
    "check_commit",
    "check_identity",
    "check_message",
    "check_range",
    "format_violations",
    "load_policy",
    "policy_from_repo",
    "read_commits",
]
