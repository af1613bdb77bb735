"""Opening the store for a command: the repository, its settings and its commit policy, wired once.

The CLI and the MCP server both start here, so they behave the same.
"""

from __future__ import annotations

from pathlib import Path

from gitclaim.core.repo import open_repo
from gitclaim.core.settings import Settings
from gitclaim.core.store import Store


def open_store(cwd: Path | str | None = None) -> Store:
    repo = open_repo(cwd)
    settings = Settings.load(repo)
    return Store(repo, policy_check=settings.policy_check)
