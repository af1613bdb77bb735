"""Plain helpers for tests: run git and gitclaim as real processes, read the remote's truth."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.gitenv import ROOT, git

__all__ = ["GITCLAIM", "ROOT", "cat_file_pids", "cli_commands", "git", "git_commands", "new_mission", "race", "remote_mission", "remote_refs", "run_gitclaim"]

GITCLAIM = [sys.executable, "-m", "gitclaim"]


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


def ok(clone: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI, which must succeed."""
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, (args, res.stderr)
    return res


def one_line(res: subprocess.CompletedProcess[str], code: int) -> str:
    """The one stderr line of a failure with exit `code`."""
    assert res.returncode == code, (res.returncode, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def git_commands(clone: Path, tmp_path: Path, *args: str) -> list[str]:
    """The git commands a successful gitclaim command ran itself (git's trace2), after opening the repository."""
    import json

    trace = tmp_path / "trace.json"
    trace.unlink(missing_ok=True)
    ok(clone, *args, env={"GIT_TRACE2_EVENT": str(trace)})
    names = [ev["name"] for ev in map(json.loads, trace.read_text().splitlines())
             if ev.get("event") == "cmd_name" and "/" not in ev.get("sid", "")]
    # Opening the repository: the two run at once (core/git/repository.py), so either may start first.
    assert sorted(names[:2]) == ["config", "rev-parse"]
    return names[2:]


def new_mission(clone: Path, mission_id: str, title: str = "A mission", *extra: str) -> None:
    """`gitclaim new` in a clone, asserting it succeeded (setup for a test, not what it checks)."""
    res = run_gitclaim(clone, "new", mission_id, "--title", title, *extra)
    assert res.returncode == 0, res.stderr


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


# A racer: a real process that imports gitclaim, waits at a file barrier so that all racers start their command
# at the same moment, then runs the real CLI entry point and reports its exit code.
RACER = """
import os, sys, time
go = sys.argv[1]
deadline = time.time() + 60
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.001)
from gitclaim.cli import main
main(sys.argv[2:])
"""


def race(clones: list[Path], args_for: Callable[[int], list[str]], barrier_dir: Path,
         env: dict[str, str] | None = None, timeout: float = 120) -> list[subprocess.CompletedProcess[str]]:
    """Start one real process per clone, release them together, return their results in clone order."""
    import time

    go = barrier_dir / f"go-{time.monotonic_ns()}"
    full_env = {**os.environ, **(env or {})}
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(go), *args_for(i)], cwd=clone, env=full_env,
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i, clone in enumerate(clones)
    ]
    time.sleep(0.3)  # let every racer finish importing before the gun
    go.write_text("go")
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def cli_commands() -> dict[str, Any]:
    """Every command of the CLI by its full name ("task start") as click sees it, with every module registered.
    The CLI framework is imported here, not at the top: most tests never need it."""
    import importlib

    import click
    import typer.main

    from gitclaim.cli.app import app

    importlib.import_module("gitclaim.cli.commands")
    found: dict[str, Any] = {}

    def walk(cmd: click.Command, prefix: str) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            found[prefix] = cmd

    walk(typer.main.get_command(app), "")
    return found


def cat_file_pids(repo: Path) -> list[int]:
    """Pids of the `git cat-file --batch` processes running in `repo`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cmd[:3] == [b"git", b"cat-file", b"--batch"] and Path(cwd) == repo.resolve():
            found.append(int(pid))
    return found
