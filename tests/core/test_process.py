"""Starting git (core/git/process.py): what a timeout leaves behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gitclaim.core import git as g
from gitclaim.core.git import process


def test_a_timeout_lets_git_remove_its_lock_files(repo: Path) -> None:
    # `git commit -a` holds index.lock while its editor runs: the editor here outlives the time limit, so git is
    # stopped holding the lock, as a push is stopped while it rewrites packed-refs. Killed with SIGKILL, git
    # would leave the lock behind and every later git command that takes it would fail with "File exists".
    started = time.monotonic()
    with pytest.raises(g.GitTimeout, match=r"^git commit timed out after 1s \(the limit is GITCLAIM_TIMEOUT"):
        g.Git(repo).run(["commit", "-a", "--allow-empty", "-q"], env={"GIT_EDITOR": "sleep 60; :"}, timeout=1)
    assert time.monotonic() - started < 10
    assert not (repo / ".git" / "index.lock").exists()
    g.Git(repo).run(["commit", "--allow-empty", "-q", "-m", "chore: after the timeout"])  # the lock is free


def test_a_process_that_ignores_sigterm_is_killed(repo: Path) -> None:
    # The editor ignores SIGTERM and git waits for it: after the grace period the whole group is killed.
    editor = "trap '' TERM; sleep 60; :"
    started = time.monotonic()
    with pytest.raises(g.GitTimeout):
        g.Git(repo).run(["commit", "-a", "--allow-empty", "-q"], env={"GIT_EDITOR": editor}, timeout=1)
    assert 1 + process.TERM_GRACE - 0.5 < time.monotonic() - started < 1 + process.TERM_GRACE + 5
