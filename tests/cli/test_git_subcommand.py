"""`git claim ...` works as a git subcommand through the installed `git-claim` script."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

from tests.helpers import git


def test_git_claim_runs_gitclaim(make_clone, monkeypatch) -> None:
    scripts = Path(sysconfig.get_path("scripts"))
    assert (scripts / "git-claim").exists(), "install gitclaim first (pip install -e .)"
    monkeypatch.setenv("PATH", f"{scripts}{os.pathsep}{os.environ['PATH']}")
    a = make_clone("a")
    res = git(a, "claim", "--version")
    assert res.stdout.startswith("gitclaim ")
    res = git(a, "claim", "new", "via-git", "--title", "through git", check=False)
    assert res.returncode == 0, res.stderr
    assert git(a, "claim", "list").stdout.splitlines()[1].startswith("via-git")
