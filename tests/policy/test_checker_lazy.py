"""The checker compiles a rule's regular expressions only when a message needs them (every write checks its
message, in a new process for each CLI command)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
from gitclaim.policy import checker, patterns
from gitclaim.policy.config import PolicyConfig
found = checker.check_message(sys.argv[1], PolicyConfig(), verbatim=True)
print(json.dumps({"found": [f.rule for f in found], "compiled": sorted(vars(patterns.PATTERNS))}))
"""


def check_in_new_process(message: str) -> dict[str, list[str]]:
    res = subprocess.run([sys.executable, "-c", SCRIPT, message], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_a_mission_commit_message_compiles_only_what_it_meets() -> None:
    got = check_in_new_process("chore(mission): claim m1\n\nGitclaim-Action: claim\nGitclaim-Epoch: 1\n")
    assert got["found"] == []
    assert "signatures" in got["compiled"] and "header" in got["compiled"]
    assert not {"model", "aider_name", "scissors"} & set(got["compiled"])
    # Nor the patterns its text cannot start or contain (patterns.py: the plain test beside each)
    assert not {"merge", "git_merge", "git_revert", "autosquash", "breaking", "trailer"} & set(got["compiled"])


def test_the_plain_tests_let_every_message_they_should_reach_its_pattern() -> None:
    got = check_in_new_process('Merge branch \'x\' into main\n\nfixup! nothing\n')
    assert "merge" in got["compiled"] and "git_merge" in got["compiled"] and got["found"] == []
    got = check_in_new_process('fixup! Revert "feat: x"\n\nbreaking change: y\nReviewed-by: Ann <a@b.c>\n')
    assert {"autosquash", "git_revert", "breaking", "trailer"} <= set(got["compiled"])
    assert got["found"] == ["breaking-change-footer"]


def test_a_credit_trailer_is_still_checked_against_model_names() -> None:
    got = check_in_new_process("fix: x\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")
    assert "attribution-trailer" in got["found"] and "model" in got["compiled"]
