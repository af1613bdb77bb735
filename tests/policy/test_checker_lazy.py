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


def test_a_credit_trailer_is_still_checked_against_model_names() -> None:
    got = check_in_new_process("fix: x\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")
    assert "attribution-trailer" in got["found"] and "model" in got["compiled"]
