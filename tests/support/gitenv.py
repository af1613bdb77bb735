"""An isolated git environment (HOME, global config, no inherited GIT_* variables) and plain git, for the tests
(conftest's autouse fixture) and the benchmarks (benchmarks.common.Workspace) alike."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gitconfig_text(name: str, email: str) -> str:
    """A global git config that makes runs reproducible: fixed identity and branch, no background gc."""
    return (
        f"[user]\n\tname = {name}\n\temail = {email}\n"
        "[init]\n\tdefaultBranch = main\n"
        "[protocol \"file\"]\n\tallow = always\n"
        "[advice]\n\tdetachedHead = false\n"
        "[gc]\n\tauto = 0\n"
        "[maintenance]\n\tauto = false\n"
    )


def isolate(home: Path, setenv: Callable[[str, str], object], delenv: Callable[[str], object], *,
            name: str, email: str) -> Path:
    """Write a fresh global config into `home` and point the environment at it through setenv / delenv (a
    monkeypatch in the tests, os.environ in the benchmarks), so every child process sees only this config.
    Returns the config file."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(gitconfig_text(name, email))
    for key in list(os.environ):
        if key.startswith(("GIT_", "GITCLAIM_")):  # e.g. exported by a hook that runs the suite
            delenv(key)
    for key, value in {
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_TERMINAL_PROMPT": "0", "PYTHONPATH": str(ROOT),
    }.items():
        setenv(key, value)
    return gitconfig


def git(cwd: Path, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Plain git, for setting up and inspecting repositories independently of gitclaim."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, text=True, capture_output=True, input=input
    )
