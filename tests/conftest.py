"""Shared fixtures: real git, real bare remotes, real clones, git config isolated from the user's home."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers"]

from tests.helpers import ROOT, git, run_gitclaim  # noqa: E402  (after pytest_plugins, as pytest reads it)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile gitclaim once: every test starts real gitclaim processes, and with PYTHONDONTWRITEBYTECODE set
    each of them would otherwise compile every module again."""
    import compileall

    compileall.compile_dir(str(ROOT / "gitclaim"), quiet=1)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and git's global config at a fresh directory; drop GIT_* variables a hook may export."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
        "[protocol \"file\"]\n\tallow = always\n"
        "[advice]\n\tdetachedHead = false\n"
        "[gc]\n\tauto = 0\n"
        "[maintenance]\n\tauto = false\n"
    )
    for key in list(os.environ):
        if key.startswith("GIT_") or key.startswith("GITCLAIM_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return home


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository with one commit on main, standing in for the shared remote."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--bare", "-q", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    (seed / "README.md").write_text("project\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "-q", "-m", "chore: start project")
    git(seed, "push", "-q", "origin", "HEAD:main")
    shutil.rmtree(seed)
    return remote


@pytest.fixture
def make_clone(tmp_path: Path, bare_remote: Path) -> Callable[..., Path]:
    """make_clone("a") -> a fresh clone of the shared remote, with `gitclaim init` already run."""

    def _make(name: str, init: bool = True, remote: str | Path | None = None) -> Path:
        path = tmp_path / name
        git(tmp_path, "clone", "-q", str(remote or bare_remote), str(path))
        if init:
            res = run_gitclaim(path, "init")
            assert res.returncode == 0, res.stderr
        return path

    return _make
