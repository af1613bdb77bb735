"""One BLOCKED rule for the CLI and the MCP tools, task ids in `log --task`, workflow checks that agree with
each other, and output failures handled like git (issue 11, items 15, 18, 19, 20)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import GITCLAIM, ok, one_line, remote_refs, run_gitclaim

# ---- 18: BLOCKED stops the mission, from the CLI as from the MCP tools ---------------------------------------

def test_a_blocked_mission_refuses_done_milestones_and_decisions_from_the_cli(make_clone, bare_remote) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M")
    ok(a, "claim", "m1")
    ok(a, "log", "m1", "no credentials", "--kind", "issue", "--needs-human")
    before = remote_refs(bare_remote)
    blocked = "gitclaim: mission m1 is BLOCKED: no credentials (gitclaim unblock m1)"
    for args in (["done", "m1"], ["log", "m1", "half", "--kind", "milestone"],
                 ["log", "m1", "go on", "--kind", "decision", "--chosen", "x"]):
        assert one_line(run_gitclaim(a, *args), 3) == blocked, args
    assert remote_refs(bare_remote) == before
    ok(a, "log", "m1", "waiting for a person")  # reporting stays allowed
    ok(a, "unblock", "m1", "--note", "credentials added")
    ok(a, "log", "m1", "half", "--kind", "milestone")
    ok(a, "done", "m1")


# ---- 15: log --task takes the id task start printed, and only a task that exists --------------------------------

def test_log_task_accepts_the_full_and_short_id_and_refuses_unknown_tasks(make_clone, bare_remote) -> None:
    a = make_clone("a")
    ok(a, "new", "m3", "--title", "M", "--profile", "simple")
    ok(a, "claim", "m3")
    task = ok(a, "task", "start", "m3", "--phase", "1", "--name", "Build").stdout.strip()
    assert task == "m3/t1"
    ok(a, "log", "m3", "half way", "--kind", "milestone", "--task", "m3/t1")
    ok(a, "log", "m3", "use httpx", "--kind", "decision", "--task", "t1")
    ctx = json.loads(ok(a, "context", "m3", "--phase", "1", "--json").stdout)
    assert [(x["task_id"], x["phase"]) for x in ctx["milestones"] + ctx["decisions"]] == [("m3/t1", 1)] * 2
    before = remote_refs(bare_remote)
    assert one_line(run_gitclaim(a, "log", "m3", "x", "--task", "t99"), 4) == "gitclaim: mission m3 has no task t99"
    assert one_line(run_gitclaim(a, "log", "m3", "x", "--task", "other/t1"), 2) == (
        "gitclaim: task other/t1 belongs to mission other, not m3")
    assert remote_refs(bare_remote) == before


# ---- 19: validate and context agree with task start --------------------------------------------------------------

def test_validate_reports_no_self_cycle_for_a_shared_phase_number(tmp_path) -> None:
    d = tmp_path / "dup"
    d.mkdir()
    (d / "mission.md").write_text("---\ntitle: Dup\n---\n")
    (d / "workflow.md").write_text(
        "---\nphases:\n  - id: a\n    number: 1\n    completion: done\n  - id: b\n    number: 2\n"
        "    requires: a\n    completion: done\n  - id: c\n    number: 2\n    requires: b\n    completion: done\n---\n")
    res = run_gitclaim(tmp_path, "validate", str(d))
    assert res.returncode == 1
    assert "phase c: phase-number: phase 'c' has number 2, like phase 'b'" in res.stdout
    assert "no-cycles" not in res.stdout, res.stdout


def test_context_of_a_phase_the_workflow_lacks_is_refused(make_clone) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M", "--profile", "standard")
    line = one_line(run_gitclaim(a, "context", "m1", "--phase", "9"), 2)
    assert line == ("gitclaim: mission m1 has no phase 9 in its workflow.md (phases: 1 (analysis), "
                    "2 (implementation), 3 (review))")
    ok(a, "context", "m1", "--phase", "2")


# ---- 20: output failures ---------------------------------------------------------------------------------------

@pytest.fixture
def long_show(make_clone) -> Path:
    """A mission whose `show` prints far more than a pipe holds, so a reader that stops early breaks it."""
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M")
    ok(a, "claim", "m1")
    for i in range(5):
        ok(a, "log", "m1", f"entry {i} " + "word " * 3900)
    return a


def test_a_reader_that_stops_early_ends_gitclaim_quietly(long_show: Path) -> None:
    proc = subprocess.Popen([*GITCLAIM, "show", "m1"], cwd=long_show, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "m1: M\n"
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_write_errors_are_one_line_with_exit_9(make_clone) -> None:
    a = make_clone("a")
    with open("/dev/full", "w") as full:
        res = subprocess.run([*GITCLAIM, "list"], cwd=a, stdout=full, stderr=subprocess.PIPE, text=True)
    assert res.returncode == 9 and res.stderr == "gitclaim: cannot write the output: No space left on device\n"
    res = subprocess.run(["sh", "-c", f"{' '.join(GITCLAIM)} list >&-"], cwd=a, stderr=subprocess.PIPE, text=True)
    assert res.returncode == 9 and res.stderr == "gitclaim: cannot write the output: standard output is closed\n"
