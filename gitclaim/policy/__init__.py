"""The commit-message policy: Conventional Commits headers and no attribution to tools or models.

`check_message` is the rule (pure); `load_policy` / `policy_from_repo` say what the repository configured;
`check_range` applies the rule to commits that already exist. See docs/commit-policy.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use: a mission write needs only the checker, and every import is start-up time
# for an agent that runs gitclaim in a loop.
_HOME = {
    **dict.fromkeys(["Violation", "check_identity", "check_message", "format_violations"], "checker"),
    **dict.fromkeys(["PolicyConfig", "load_policy", "policy_from_repo"], "config"),
    **dict.fromkeys(["CommitInfo", "CommitReport", "check_commit", "check_range", "read_commits"], "history"),
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'gitclaim.policy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gitclaim.policy.{_HOME[name]}"), name)


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
