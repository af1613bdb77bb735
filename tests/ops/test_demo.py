"""`gitclaim demo`, the README's first command: exactly-once assignment, checked against the remote."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import run_gitclaim


def test_demo_shows_exactly_once_assignment_and_cleans_up(tmp_path) -> None:
    res = run_gitclaim(tmp_path, "demo", "--agents", "4", timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "OK: every one of the 9 missions was claimed exactly once; no mission went to two agents" in out
    assert re.search(r"winner: agent-\d", out)
    assert out.count("loser saw: gitclaim: mission hot-fix-payments is held by") == 3  # every loser
    assert re.findall(r"\((\d+) claim\)", out) == ["1"] * 9
    tmp = re.search(r"bare remote (\S+)/remote\.git", out).group(1)
    assert not Path(tmp).exists()  # the temporary directory is gone
