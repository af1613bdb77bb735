"""`gitclaim watch`: events from the missions' histories, conditions, timeouts, across real clones."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from gitclaim.missions.watch import Watcher
from gitclaim.missions.workspace import open_store
from tests.helpers import GITCLAIM, run_gitclaim


def ok(clone: Path, *args: str) -> str:
    res = run_gitclaim(clone, *args)
    assert res.returncode == 0, (args, res.stderr)
    return res.stdout


def start_watch(clone: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """A real `gitclaim watch` process, returned once its first read is done (its first line says so)."""
    proc = subprocess.Popen([*GITCLAIM, "watch", *args], cwd=clone, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout
    return proc, proc.stdout.readline()


def test_watch_returns_within_its_interval_of_a_claim_in_another_clone(make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "m", "--title", "Watched")
    ok(a, "new", "other", "--title", "Not watched")
    proc, first = start_watch(a, "m", "--until", "claimed", "--interval", "1", "--timeout", "60")
    try:
        assert first == "watching a claim of m (2 missions, a fetch every 1s or more)\n"
        ok(b, "claim", "other", "--as", "agent-b")  # not watched: no event, and the back-off is reset
        ok(b, "claim", "m", "--as", "agent-b")
        claimed_at = time.monotonic()
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - claimed_at
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1] == "condition holds: m was claimed"
    assert " m claim QUEUED -> ACTIVE holder \"agent-b\" (Test User, instance " in lines[0]
    assert took < 1 * 1.5 + 3  # the next fetch after the claim, on a loaded machine


def test_watch_json_events_and_claim_then_release_between_two_fetches(make_clone: Callable[..., Path]) -> None:
    """Both commits landed while the watcher slept: the history still gives both events, in order."""
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "m", "--title", "Watched")
    store = open_store(a)

    def sleep(_: float) -> None:  # between two fetches, another clone claims and releases
        if watcher.polls == 1:
            ok(b, "claim", "m", "--as", "agent-b")
            ok(b, "release", "m")

    watcher = Watcher(store, ["m"], "released", interval=1, timeout=60, sleep=sleep)
    events = [ev.to_json() for ev in watcher.events()]
    assert watcher.polls == 2 and watcher.reason == "m was released (release)"
    assert [(e["action"], e["status_before"], e["status_after"]) for e in events] == [
        ("claim", "QUEUED", "ACTIVE"), ("release", "ACTIVE", "QUEUED")]
    assert events[0]["holder"]["session"] == "agent-b" and events[0]["epoch"] == 1
    assert events[1]["holder"] is None
    tip = subprocess.run(["git", "rev-parse", "refs/missions/m"], cwd=b, capture_output=True, text=True).stdout
    assert events[1]["commit"] == tip.strip()
    assert set(events[0]) == {"mission_id", "action", "status_before", "status_after", "holder", "epoch", "commit",
                              "time", "signature"}
    assert events[0]["signature"] == {"state": "none", "principal": None, "key": None}  # b signs nothing


def test_watch_json_prints_one_object_a_line(make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "m", "--title", "Watched")
    proc = subprocess.Popen([*GITCLAIM, "watch", "--until", "done", "--interval", "1", "--json", "--timeout", "60"],
                            cwd=a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # its first read is done well before this (no line to wait for in --json)
        ok(b, "claim", "m", "--as", "agent-b")
        ok(b, "done", "m", "--summary", "finished")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, err) == (0, "")
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["action"] for e in events][-1] == "complete"
    assert events[-1]["status_before"] == "ACTIVE" and events[-1]["status_after"] == "DONE"


def test_watch_timeout_exits_8(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    ok(a, "new", "m", "--title", "Watched")
    started = time.monotonic()
    res = run_gitclaim(a, "watch", "m", "--until", "claimed", "--interval", "1", "--timeout", "2")
    assert time.monotonic() - started < 15
    assert (res.returncode, res.stderr) == (8, "gitclaim: timed out after 2s waiting for a claim of m\n")
    assert res.stdout == "watching a claim of m (1 mission, a fetch every 1s or more)\n"
    # with --json, stdout holds only JSON lines: the error is the last one
    res = run_gitclaim(a, "watch", "m", "--until", "claimed", "--interval", "1", "--timeout", "1", "--json")
    assert res.returncode == 8
    assert [json.loads(line) for line in res.stdout.splitlines()] == [{"error": {
        "exit_code": 8, "kind": "timed_out", "message": "timed out after 1s waiting for a claim of m"}}]


def test_watch_done_and_ready_already_true_return_at_once(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    ok(a, "new", "dep", "--title", "Requirement")
    ok(a, "new", "next", "--title", "Needs dep", "--requires", "dep")
    ok(a, "claim", "dep")
    res = run_gitclaim(a, "watch", "--until", "ready", "--timeout", "1")
    assert (res.returncode, res.stdout) == (8, "watching any mission to be ready (2 missions, a fetch every 5s or more)\n")
    ok(a, "done", "dep")
    res = run_gitclaim(a, "watch", "dep", "--until", "done", "--timeout", "1")
    assert (res.returncode, res.stdout, res.stderr) == (0, "condition holds: dep DONE\n", "")
    res = run_gitclaim(a, "watch", "--until", "ready", "--timeout", "1")
    assert (res.returncode, res.stdout) == (0, "condition holds: next is ready to claim\n")


def test_watch_ready_wakes_when_a_requirement_finishes(make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "dep", "--title", "Requirement")
    ok(a, "new", "next", "--title", "Needs dep", "--requires", "dep")
    ok(a, "claim", "dep")
    proc, first = start_watch(b, "next", "--until", "ready", "--interval", "1", "--timeout", "60")
    try:
        assert first.startswith("watching next to be ready (2 missions")
        ok(a, "done", "dep")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the event is on dep, which is not watched: only the verdict is printed
    assert (proc.returncode, out, err) == (0, "condition holds: next is ready to claim\n", "")


def test_watch_refuses_bad_input(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    res = run_gitclaim(a, "watch", "nope", "--timeout", "1")
    assert (res.returncode, res.stderr) == (4, "gitclaim: no mission 'nope' on remote 'origin' (live or archived)\n")
    res = run_gitclaim(a, "watch", "--until", "soon")
    assert (res.returncode, res.stderr) == (
        2, "gitclaim: unknown condition 'soon': use one of changed, claimed, released, done, ready\n")
    res = run_gitclaim(a, "watch", "--timeout", "later")
    assert res.returncode == 2 and res.stderr.startswith("gitclaim: invalid duration 'later'")
    res = run_gitclaim(a, "watch", "../x")
    assert res.returncode == 2 and res.stdout == ""


def test_watch_done_stops_at_once_when_a_named_mission_ended_otherwise(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    ok(a, "new", "dep", "--title", "Requirement")
    ok(a, "new", "other", "--title", "Still queued")
    ok(a, "cancel", "dep", "--reason", "superseded")
    started = time.monotonic()
    res = run_gitclaim(a, "watch", "other", "dep", "--until", "done", "--timeout", "60")
    assert time.monotonic() - started < 30
    assert (res.returncode, res.stderr) == (3, "gitclaim: mission dep ended CANCELLED, so it will not be DONE unless "
                                               "it is reopened: stopped waiting (see gitclaim show dep)\n")
    # archived, the same: its last status is read from the archive index
    ok(a, "archive")
    res = run_gitclaim(a, "watch", "dep", "--until", "done", "--timeout", "60", "--json")
    assert res.returncode == 3
    assert json.loads(res.stdout.splitlines()[-1])["error"]["kind"] == "conflict"


def test_watch_done_ends_when_a_watched_mission_fails_in_another_clone(make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "dep", "--title", "Requirement")
    ok(b, "claim", "dep", "--as", "agent-b")
    proc, first = start_watch(a, "dep", "--until", "done", "--interval", "1", "--timeout", "60")
    try:
        assert first.startswith("watching dep to be DONE (1 mission")
        ok(b, "fail", "dep", "--summary", "cannot reproduce")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, (out, err)
    assert err == ("gitclaim: mission dep ended FAILED, so it will not be DONE unless it is reopened: stopped waiting "
                   "(see gitclaim show dep)\n")
    assert "dep" in out and "FAILED" in out  # the event was printed before the verdict


def test_watch_done_holds_for_a_mission_finished_and_archived_between_two_polls(
        make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    ok(a, "new", "dep", "--title", "Requirement")
    ok(b, "claim", "dep", "--as", "agent-b")
    proc, first = start_watch(a, "dep", "--until", "done", "--interval", "3", "--timeout", "60")
    try:
        assert first.startswith("watching dep to be DONE (1 mission")
        ok(b, "done", "dep")
        ok(b, "archive")  # the ref is gone before watch's next fetch: its only event is the removal
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, err) == (0, ""), out
    assert out.endswith("condition holds: dep DONE\n")
