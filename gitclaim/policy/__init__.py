"""The commit-message policy: Conventional Commits headers and no attribution to tools or models.

Pure: nothing here reads files or runs git. `check_message` is the rule; `policy_from_section` reads the
`policy:` section core/settings.py found in `.gitclaim.yaml`; `check_commits` applies the rule to commit
records (core/git/ reads them). See docs/commit-policy.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use: a mission write needs only the checker, and every import is start-up time
# for an agent that runs gitclaim in a loop.
_HOME = {
    **dict.fromkeys(["Finding", "check_identity", "check_message", "format_violations"], "checker"),
    **dict.fromkeys(["PolicyConfig", "policy_from_section"], "config"),
    **dict.fromkeys(["CommitRecord", "CommitReport", "check_commit", "check_commits"], "history"),
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'gitclaim.policy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gitclaim.policy.{_HOME[name]}"), name)


__all__ = [
    "CommitRecord",
    "CommitReport",
    "Finding",
    "PolicyConfig",
    "check_commit",
    "check_commits",
    "check_identity",
    "check_message",
    "format_violations",
    "policy_from_section",
]
