"""The escape hatches (issue 11, items 23-26): edit, reopen, cancel and a summary after done, through real
gitclaim processes on real clones of a bare remote, behind the server guard, and on the guard's table."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitclaim.core import mission as m
from gitclaim.server import rules as guard  # judge_step and Step live in the rules module
from tests.helpers import git, remote_mission, remote_refs, run_gitclaim


def ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res


def field(remote: Path, mission_id: str, key: str) -> object:
    for line in remote_mission(remote, mission_id).splitlines():
        if line.startswith(f"{key}: "):
            return json.loads(line.split(": ", 1)[1])
    raise KeyError(key)


def log_lines(clone: Path, mission_id: str) -> list[str]:
    out = ok(run_gitclaim(clone, "show", mission_id)).stdout
    return [ln.split(" - ", 1)[1] for ln in out.splitlines() if ln.startswith("- ")]


@pytest.fixture
def two(make_clone: Callable[..., Path]) -> tuple[Path, Path]:
    a, b = make_clone("a"), make_clone("b")
    ok(run_gitclaim(a, "new", "m1", "--title", "First"))
    return a, b


# ---- 23: edit --------------------------------------------------------------------------------------------------

def test_edit_queued_by_anyone(two: tuple[Path, Path], bare_remote: Path, tmp_path: Path) -> None:
    a, b = two
    ok(run_gitclaim(a, "new", "dep", "--title", "Dependency"))
    (tmp_path / "body.md").write_text("# Plan\n\nDo it.\n")
    res = run_gitclaim(b, "edit", "m1", "--title", "  First   mission ", "--priority", "critical",
                       "--requires", "dep", "--body-file", str(tmp_path / "body.md"))
    assert (res.returncode, res.stdout, res.stderr) == (0, "edited m1\n", "")
    assert (field(bare_remote, "m1", "title"), field(bare_remote, "m1", "priority"),
            field(bare_remote, "m1", "requires")) == ("First mission", 0, ["dep"])
    assert remote_mission(bare_remote, "m1").endswith("---\n# Plan\n\nDo it.\n")
    assert git(bare_remote, "log", "-1", "--format=%B", "refs/missions/m1").stdout.splitlines()[:1] == [
        "chore(mission): edit m1"]
    assert log_lines(a, "m1")[-1] == "**EDITED** (title, priority, requires, body)"
    res = ok(run_gitclaim(b, "edit", "m1", "--no-requires", "--json"))
    assert json.loads(res.stdout)["requires"] == [] and json.loads(res.stdout)["changed"] is True


def test_edit_with_same_values_is_a_no_op(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, _ = two
    before = remote_refs(bare_remote)
    res = run_gitclaim(a, "edit", "m1", "--title", "First", "--priority", "2")
    assert (res.returncode, res.stdout) == (0, "edited m1 (nothing to change)\n")
    assert remote_refs(bare_remote) == before


@pytest.mark.parametrize(("args", "message"), [
    ([], "gitclaim: nothing to edit: give --title, --priority, --requires, --no-requires or --body-file\n"),
    (["--requires", "x", "--no-requires"], "gitclaim: use either --requires ID or --no-requires, not both\n"),
    (["--requires", "m1"], "gitclaim: mission m1 cannot require itself\n"),
    (["--priority", "urgentish"], "gitclaim: priority must be 0-1000, P0-P9 or critical/high/medium/low, "
                                  "got 'urgentish'\n"),
    (["--title", "  "], "gitclaim: a mission needs a title (--title TEXT)\n"),
])
def test_edit_refuses_bad_input(two: tuple[Path, Path], bare_remote: Path, args: list[str], message: str) -> None:
    a, _ = two
    before = remote_refs(bare_remote)
    res = run_gitclaim(a, "edit", "m1", *args)
    assert (res.returncode, res.stdout, res.stderr) == (2, "", message)
    assert remote_refs(bare_remote) == before


def test_edit_held_only_by_the_holder(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, b = two
    ok(run_gitclaim(a, "claim", "m1"))
    before = remote_refs(bare_remote)
    res = run_gitclaim(b, "edit", "m1", "--title", "Mine now")
    assert res.returncode == 3
    assert res.stderr.startswith("gitclaim: cannot edit mission m1: it is held by ")
    assert remote_refs(bare_remote) == before
    ok(run_gitclaim(a, "edit", "m1", "--title", "Renamed by the holder"))
    assert (field(bare_remote, "m1", "title"), field(bare_remote, "m1", "status")) == (
        "Renamed by the holder", "ACTIVE")


def test_edit_finished_is_a_conflict(two: tuple[Path, Path]) -> None:
    a, _ = two
    ok(run_gitclaim(a, "claim", "m1"))
    ok(run_gitclaim(a, "done", "m1"))
    res = run_gitclaim(a, "edit", "m1", "--title", "x")
    assert (res.returncode, res.stderr) == (3, "gitclaim: cannot edit mission m1: it is DONE; reopen it first "
                                               "(gitclaim reopen m1 --reason TEXT)\n")


def test_edit_unknown_mission(two: tuple[Path, Path]) -> None:
    res = run_gitclaim(two[0], "edit", "nosuch", "--title", "x")
    assert (res.returncode, res.stderr) == (4, "gitclaim: no mission 'nosuch'\n")


# ---- 24: reopen ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("finish", ["done", "fail"])
def test_reopen_a_finished_mission(two: tuple[Path, Path], bare_remote: Path, finish: str) -> None:
    a, b = two
    ok(run_gitclaim(a, "claim", "m1"))
    ok(run_gitclaim(a, finish, "m1", "--summary", "first try"))
    res = run_gitclaim(b, "reopen", "m1", "--reason", "it broke logout")
    assert (res.returncode, res.stdout, res.stderr) == (0, "reopened m1\n", "")
    assert [field(bare_remote, "m1", k) for k in ("status", "claim_instance", "finished_at", "summary",
                                                    "claim_epoch")] == ["QUEUED", None, None, None, 1]
    word = "DONE" if finish == "done" else "FAILED"
    assert log_lines(b, "m1")[-2:] == [f"**{word}**: first try", "**REOPENED**: it broke logout"]
    res = ok(run_gitclaim(b, "next", "--json"))
    assert (json.loads(res.stdout)["mission_id"], json.loads(res.stdout)["epoch"]) == ("m1", 2)
    # the former holder's late write stays fenced off
    res = run_gitclaim(a, "done", "m1")
    assert res.returncode == 3


def test_reopen_needs_a_reason_and_a_finished_mission(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, _ = two
    before = remote_refs(bare_remote)
    res = run_gitclaim(a, "reopen", "m1")
    assert (res.returncode, res.stderr) == (2, "gitclaim: reopen needs --reason TEXT for the history\n")
    res = run_gitclaim(a, "reopen", "m1", "--reason", "x")
    assert (res.returncode, res.stderr) == (3, "gitclaim: mission m1 is QUEUED, not DONE, FAILED or CANCELLED: "
                                               "only a finished mission is reopened\n")
    assert remote_refs(bare_remote) == before


# ---- 25: cancel ------------------------------------------------------------------------------------------------

def test_cancel_leaves_the_queue_stays_in_history_and_archives(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, b = two
    res = run_gitclaim(b, "cancel", "m1", "--reason", "superseded by m2")
    assert (res.returncode, res.stdout, res.stderr) == (0, "cancelled m1\n", "")
    assert (field(bare_remote, "m1", "status"), field(bare_remote, "m1", "summary")) == (
        "CANCELLED", "superseded by m2")
    res = run_gitclaim(a, "next")
    assert res.returncode == 5
    res = run_gitclaim(a, "claim", "m1")
    assert (res.returncode, res.stderr) == (3, "gitclaim: mission m1 is CANCELLED; it cannot be claimed\n")
    assert "m1  CANCELLED" in ok(run_gitclaim(a, "list")).stdout
    assert log_lines(a, "m1")[-1] == "**CANCELLED**: superseded by m2"
    res = run_gitclaim(b, "cancel", "m1", "--reason", "again")
    assert (res.returncode, res.stdout) == (0, "cancelled m1 (nothing to change)\n")
    res = ok(run_gitclaim(a, "archive"))
    assert res.stdout.startswith("archived m1 (CANCELLED, finished ")
    assert "refs/missions/m1" not in remote_refs(bare_remote)
    shown = ok(run_gitclaim(b, "show", "m1", "--json"))
    assert (json.loads(shown.stdout)["status"], json.loads(shown.stdout)["archived"]) == ("CANCELLED", True)


def test_cancel_held_only_by_the_holder(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, b = two
    ok(run_gitclaim(a, "claim", "m1"))
    res = run_gitclaim(b, "cancel", "m1", "--reason", "x")
    assert res.returncode == 3 and res.stderr.startswith("gitclaim: cannot cancel mission m1: it is held by ")
    assert field(bare_remote, "m1", "status") == "ACTIVE"
    ok(run_gitclaim(a, "cancel", "m1", "--reason", "wrong approach"))
    assert field(bare_remote, "m1", "status") == "CANCELLED"
    ok(run_gitclaim(b, "reopen", "m1", "--reason", "right approach after all"))
    assert field(bare_remote, "m1", "status") == "QUEUED"


def test_cancel_refusals(two: tuple[Path, Path]) -> None:
    a, _ = two
    res = run_gitclaim(a, "cancel", "m1")
    assert (res.returncode, res.stderr) == (2, "gitclaim: cancel needs --reason TEXT for the history\n")
    ok(run_gitclaim(a, "claim", "m1"))
    ok(run_gitclaim(a, "done", "m1"))
    res = run_gitclaim(a, "cancel", "m1", "--reason", "x")
    assert res.returncode == 3 and "is DONE since" in res.stderr and "already out of the queue" in res.stderr


# ---- 26: a summary after done ---------------------------------------------------------------------------------

def test_done_summary_after_done_is_recorded(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, _ = two
    ok(run_gitclaim(a, "claim", "m1"))
    ok(run_gitclaim(a, "done", "m1", "--summary", "first text"))
    res = run_gitclaim(a, "done", "m1", "--summary", "new text")
    assert (res.returncode, res.stdout, res.stderr) == (
        0, "recorded the new summary of m1 (it was already DONE)\n", "")
    assert (field(bare_remote, "m1", "summary"), field(bare_remote, "m1", "status")) == ("new text", "DONE")
    assert log_lines(a, "m1")[-2:] == ["**DONE**: first text", "**SUMMARY**: new text"]
    before = remote_refs(bare_remote)
    for args in (["--summary", "new text"], []):
        res = run_gitclaim(a, "done", "m1", *args)
        assert (res.returncode, res.stdout) == (0, "done m1 (nothing to change)\n")
    assert remote_refs(bare_remote) == before
    res = ok(run_gitclaim(a, "done", "m1", "--summary", "third", "--json"))
    assert (json.loads(res.stdout)["summary"], json.loads(res.stdout)["changed"]) == ("third", True)


# ---- behind the server guard ----------------------------------------------------------------------------------

def test_the_guard_accepts_every_correction(bare_remote: Path, tmp_path: Path,
                                            make_clone: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    wrapper = tmp_path / "bin" / "gitclaim"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitclaim "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("GITCLAIM_BIN", str(wrapper))
    ok(run_gitclaim(tmp_path, "guard", "install", str(bare_remote)))
    a, b = make_clone("a"), make_clone("b")
    ok(run_gitclaim(a, "new", "m1", "--title", "First"))
    ok(run_gitclaim(b, "edit", "m1", "--priority", "high"))
    ok(run_gitclaim(a, "claim", "m1"))
    ok(run_gitclaim(a, "edit", "m1", "--title", "First, renamed"))
    ok(run_gitclaim(a, "done", "m1", "--summary", "one"))
    ok(run_gitclaim(a, "done", "m1", "--summary", "two"))
    ok(run_gitclaim(b, "reopen", "m1", "--reason", "regression"))
    ok(run_gitclaim(b, "cancel", "m1", "--reason", "not needed"))
    ok(run_gitclaim(a, "reopen", "m1", "--reason", "needed"))
    ok(run_gitclaim(a, "claim", "m1"))
    ok(run_gitclaim(a, "cancel", "m1", "--reason", "dropped"))
    ok(run_gitclaim(a, "archive"))
    assert "refs/missions/m1" not in remote_refs(bare_remote)


NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
QUEUED = m.Mission("m1", "T", last_activity="2025-01-01T11:00:00Z", claim_epoch=1)
ACTIVE = QUEUED.evolve(status=m.ACTIVE, claim_instance="aaa", claim_user="ann", claimed_by="ann@h",
                       claimed_at="2025-01-01T11:00:00Z")
DONE = ACTIVE.evolve(status=m.DONE, summary="s", finished_at="2025-01-01T11:30:00Z")
CANCELLED = QUEUED.evolve(status=m.CANCELLED, summary="why", finished_at="2025-01-01T11:30:00Z")


def tr(action: str, inst: str) -> dict[str, str]:
    return {"action": action, "instance": inst, "epoch": "1"}


@pytest.mark.parametrize(("prev", "new", "trailers", "kind"), [
    (QUEUED, CANCELLED, tr("cancel", "zzz"), "cancel"),
    (ACTIVE, ACTIVE.evolve(status=m.CANCELLED), tr("cancel", "aaa"), "holder"),
    (ACTIVE.evolve(status=m.BLOCKED), ACTIVE.evolve(status=m.CANCELLED), tr("cancel", "aaa"), "holder"),
    (ACTIVE, ACTIVE.evolve(title="New"), tr("edit", "aaa"), "holder"),
    (DONE, QUEUED, tr("reopen", "zzz"), "reopen"),
    (DONE.evolve(status=m.FAILED), QUEUED, tr("reopen", "zzz"), "reopen"),
    (CANCELLED, QUEUED, tr("reopen", "zzz"), "reopen"),
    (DONE, DONE.evolve(summary="new"), tr("summary", "aaa"), "holder"),
])
def test_guard_allows_the_corrections(prev: m.Mission, new: m.Mission, trailers: dict[str, str], kind: str
                                      ) -> None:
    assert guard.judge_step(prev, new, trailers, "r", NOW, TTL) == guard.Step(kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(("prev", "new", "trailers", "problem"), [
    (ACTIVE, ACTIVE.evolve(status=m.CANCELLED), tr("cancel", "bbb"), "written by instance bbb"),
    (QUEUED, CANCELLED, tr("edit", "zzz"), "QUEUED -> CANCELLED without a claim"),
    (DONE, DONE.evolve(summary="new"), tr("summary", "bbb"), "a finished mission takes no more commits"),
    (DONE, DONE.evolve(summary="new", claimed_by="x"), tr("summary", "aaa"), "takes no more commits"),
    (DONE, ACTIVE, tr("reopen", "zzz"), "takes no more commits except a reopen"),
    (DONE, QUEUED.evolve(claim_epoch=2), {"action": "reopen", "instance": "z"}, "changes the epoch from 1 to 2"),
    (CANCELLED, CANCELLED.evolve(title="x"), tr("edit", "zzz"), "the mission is CANCELLED"),
])
def test_guard_refuses_other_writes_on_finished_missions(prev: m.Mission, new: m.Mission,
                                                         trailers: dict[str, str], problem: str) -> None:
    step = guard.judge_step(prev, new, trailers, "r", NOW, TTL)
    assert step.kind == "refused" and step.problem is not None and problem in step.problem, step.problem
