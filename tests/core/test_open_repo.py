"""Opening a repository: its paths and its configuration are read by two git processes that run at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitclaim.core.repo import open_repo
from gitclaim.errors import NotARepository
from tests.helpers import git

# A `git` first on PATH that logs its subcommand, waits (at most 5 s) until two git processes have started, and
# then runs the real git: when the two reads ran one after the other, the first one waits in vain.
WRAPPER = """#!/bin/sh
echo "start $1" >> "{log}"
n=0
while [ "$(grep -c '^start' "{log}")" -lt 2 ]; do
  n=$((n + 1))
  if [ "$n" -gt 100 ]; then echo "alone $1" >> "{log}"; break; fi
  sleep 0.05
done
exec {git} "$@"
"""


def test_paths_and_config_are_read_at_once(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "config", "gitclaim.remote", "upstream")
    bin_dir, log = tmp_path / "bin", tmp_path / "git.log"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(WRAPPER.format(log=log, git=shutil.which("git")))
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(shutil.which('git') or 'git').parent}")
    opened = open_repo(repo / ".")
    assert sorted(log.read_text().splitlines()) == ["start config", "start rev-parse"]  # no "alone"
    assert opened.paths.worktree == repo.resolve() and opened.paths.git_dir == (repo / ".git").resolve()
    assert opened.get("gitclaim.remote") == "upstream"


def test_outside_a_repository_still_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotARepository, match="not a git repository"):
        open_repo(tmp_path)
