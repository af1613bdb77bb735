"""Plain helpers for tests: run git and gitclaim as real processes, read the remote's truth."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITCLAIM = [sys.executable, "-m", "gitclaim"]


def git(cwd: Path, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Plain git, for setting up and inspecting repositories independently of gitclaim."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, text=True, capture_output=True, input=input
    )


def run_gitclaim(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
                 input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a real process, as a user would."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [*GITCLAIM, *args], cwd=cwd, text=True, capture_output=True, env=full_env, timeout=timeout,
        input=input,
    )


def remote_refs(remote: Path | str, prefix: str = "refs/missions/") -> dict[str, str]:
    """The remote's refs under prefix, read with plain git: the ground truth a test asserts on."""
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(objectname) %(refname)", prefix],
        cwd=remote, check=True, text=True, capture_output=True,
    ).stdout
    return {ref: oid for oid, ref in (line.split(" ", 1) for line in out.splitlines())}


def remote_mission(remote: Path | str, mission_id: str) -> str:
    """The mission.md at the remote's tip of one mission, read with plain git."""
    return subprocess.run(
        ["git", "show", f"refs/missions/{mission_id}:mission.md"],
        cwd=remote, check=True, text=True, capture_output=True,
    ).stdout
