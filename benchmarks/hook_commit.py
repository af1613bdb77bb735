#!/usr/bin/env python3
"""What the post-commit heartbeat hook costs `git commit`: commits with and without gitclaim's hooks.

    python3 benchmarks/hook_commit.py [-n 30]

Five clones of one bare remote on disk, each holding one mission, differ only in their hooks: none, post-commit,
post-commit with a heartbeat interval of 0 (every commit pushes a heartbeat in the background), commit-msg, and
commit-msg + post-commit. `git commit --allow-empty -m ...` runs n times in each, interleaved, and the wall time
of the `git commit` process is measured (the background heartbeat is not waited for: that is the point). The
hooks find `gitclaim` as a user's shell would, on PATH: this interpreter's bin directory goes first, so it is the
installed console script, not a version manager's shim. Prints a markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common as c

VARIANTS: dict[str, tuple[list[str], str | None]] = {
    # name: (hooks installed, gitclaim.heartbeatInterval)
    "no hooks": ([], None),
    "empty post-commit (exit 0)": (["empty"], None),
    "post-commit": (["post-commit"], None),
    "post-commit, interval 0": (["post-commit"], "0"),
    "commit-msg": (["commit-msg"], None),
    "commit-msg + post-commit": (["commit-msg", "post-commit"], None),
}
BASELINE = {"empty post-commit (exit 0)": "no hooks", "post-commit": "no hooks", "post-commit, interval 0": "no hooks", "commit-msg + post-commit": "commit-msg"}


def prepare(ws: c.Workspace, bare: Path, index: int, name: str, hooks: list[str], interval: str | None) -> Path:
    clone = c.clone(str(bare), ws.path(f"clone-{index}"))
    mission = f"m{index}"
    c.gitclaim(clone, "new", mission, "--title", f"held by {name}")
    c.gitclaim(clone, "claim", mission)
    for hook in hooks:
        if hook == "empty":  # the floor of any post-commit hook: git starting a shell script that does nothing
            path = clone / ".git" / "hooks" / "post-commit"
            path.write_text("#!/bin/sh\nexit 0\n")
            path.chmod(0o755)
        else:
            c.gitclaim(clone, "hooks", "install", "--hook", hook)
    if interval is not None:
        c.git(clone, "config", "gitclaim.heartbeatInterval", interval)
    return clone


def wait_for_background(clones: list[Path], quiet_for: float = 3.0, limit: float = 120.0) -> None:
    """Until no heartbeat log has changed for `quiet_for` seconds: the background runs have finished."""
    logs = [cl / ".git" / "gitclaim" / "heartbeat" / ".last-run.log" for cl in clones]
    deadline = time.monotonic() + limit
    last = None
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        now = [p.stat().st_mtime_ns if p.exists() else 0 for p in logs]
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= quiet_for:
            return
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=30, help="commits per variant (default 30)")
    args = parser.parse_args()
    ws = c.Workspace()
    os.environ["PATH"] = f"{os.path.dirname(c.PYTHON)}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        bare = c.seeded_bare(ws.path("remote.git"))
        clones = {name: prepare(ws, bare, i, name, hooks, interval)
                  for i, (name, (hooks, interval)) in enumerate(VARIANTS.items())}

        def commit(clone: Path) -> Callable[[int], float]:
            return lambda i: c.timed(["git", "commit", "-q", "--allow-empty", "-m", f"feat: step {i}"], clone)

        samples = c.interleave({name: commit(clone) for name, clone in clones.items()}, args.n)
        wait_for_background(list(clones.values()))
        interval0 = list(VARIANTS).index("post-commit, interval 0")
        pushed = c.git(bare, "rev-list", "--count", f"refs/missions/m{interval0}")
    finally:
        ws.close()
    print(f"| variant | n | median | {samples['no hooks'].spread()[2]} | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name, sample in samples.items():
        lo, hi, _ = sample.spread()
        base = BASELINE.get(name)
        ratio = f"{sample.median / samples[base].median:.2f}× {base}" if base else ""
        print(f"| {name} | {sample.n} | {c.ms(sample.median)} | {c.ms(lo)}–{c.ms(hi)} | {ratio} |")
    print(f"\ncommits on the interval-0 clone's mission after the run: {pushed} "
          "(create, claim, and one per heartbeat that landed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
