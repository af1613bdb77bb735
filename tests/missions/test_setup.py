"""`gitclaim init` (missions/setup.py): its first fetch is bounded by the time without progress, not in total."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers import git, new_mission, ok, one_line, run_gitclaim


def _remote_answering_after(tmp_path: Path, clone: Path, seconds: float, *, talking: bool) -> None:
    """Serve the clone's fetches through an upload-pack that starts only after `seconds`: talking, it says so
    on stderr four times a second (as git's own progress lines do while a large fetch runs); else it is silent,
    a remote that hangs."""
    script = tmp_path / "slow-upload-pack"
    steps = int(seconds / 0.25)
    say = 'echo "remote: Counting objects: $i" >&2; ' if talking else ""
    script.write_text(f'#!/bin/sh\ni=0\nwhile [ $i -lt {steps} ]; do {say}sleep 0.25; i=$((i+1)); done\n'
                      'exec git upload-pack "$@"\n')
    script.chmod(0o755)
    git(clone, "config", "remote.origin.uploadpack", str(script))


def test_first_fetch_runs_as_long_as_it_makes_progress(make_clone: Callable[..., Path], tmp_path: Path) -> None:
    new_mission(make_clone("a"), "m1")
    clone = make_clone("b", init=False)
    _remote_answering_after(tmp_path, clone, 4, talking=True)
    res = ok(clone, "init", env={"GITCLAIM_TIMEOUT": "2"})
    assert "1 missions on origin" in res.stdout
    assert git(clone, "for-each-ref", "--format=%(refname)", "refs/missions/").stdout == "refs/missions/m1\n"
    # An ordinary command's fetch keeps its limit in total: an agent's command ends in bounded time.
    started = time.monotonic()
    line = one_line(run_gitclaim(clone, "list", env={"GITCLAIM_TIMEOUT": "2"}), 6)
    assert line == ("gitclaim: cannot fetch from remote 'origin': git fetch timed out after 2s (the limit is "
                    "GITCLAIM_TIMEOUT or git config gitclaim.timeout)")
    assert time.monotonic() - started < 15


def test_first_fetch_from_a_silent_remote_ends_after_the_limit(make_clone: Callable[..., Path],
                                                               tmp_path: Path) -> None:
    new_mission(make_clone("a"), "m1")
    clone = make_clone("b", init=False)
    _remote_answering_after(tmp_path, clone, 60, talking=False)
    started = time.monotonic()
    line = one_line(run_gitclaim(clone, "init", env={"GITCLAIM_TIMEOUT": "2"}), 6)
    assert line == ("gitclaim: cannot fetch from remote 'origin': git fetch timed out without any progress for 2s "
                    "(the limit is GITCLAIM_TIMEOUT or git config gitclaim.timeout)")
    assert time.monotonic() - started < 15
    assert git(clone, "config", "--get-all", "remote.origin.fetch").stdout == "+refs/heads/*:refs/remotes/origin/*\n"
