"""Claude Code's project hooks: written into .claude/settings.json by merging, and the commands they run fed the
hook input JSON Claude Code documents (a SessionStart event, a PostToolUse event) on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import git, remote_refs, run_gitclaim

SETTINGS = Path(".claude") / "settings.json"
THEIRS = {
    "permissions": {"allow": ["Bash(npm test:*)"]},
    "hooks": {"PostToolUse": [{"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "npx prettier"}]}]},
}
SESSION_START_GROUP = {"hooks": [{"type": "command", "command": "gitclaim hooks session-start", "timeout": 60}]}
HEARTBEAT_GROUP = {"matcher": "*", "hooks": [{"type": "command", "command": "gitclaim hooks heartbeat --detach",
                                             "timeout": 30}]}


def ok(clone: Path, *args: str) -> str:
    res = run_gitclaim(clone, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def settings(clone: Path) -> dict:
    return json.loads((clone / SETTINGS).read_text())


def run_hook(clone: Path, event: str, payload: dict, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command the settings file holds for `event`, through a shell, with the event's JSON on stdin."""
    [group] = [g for g in settings(clone)["hooks"][event] if g["hooks"][0]["command"].startswith("gitclaim")]
    command = group["hooks"][0]["command"]
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(clone)}
    return subprocess.run(["sh", "-c", command], cwd=cwd or clone, input=json.dumps(payload), text=True,
                          capture_output=True, env=env, timeout=60)


def event(name: str, clone: Path, **fields: object) -> dict:
    """The common input fields of Claude Code's hooks, plus the event's own."""
    return {"session_id": "abc123", "transcript_path": "/tmp/abc123.jsonl", "cwd": str(clone),
            "permission_mode": "default", "hook_event_name": name, **fields}


def test_install_merges_into_existing_settings_and_uninstall_restores_them(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")
    (clone / ".claude").mkdir()
    (clone / SETTINGS).write_text(json.dumps(THEIRS, indent=4))
    res = run_gitclaim(clone, "hooks", "install", "--hook", "claude-code")
    assert (res.returncode, res.stdout) == (0, f"added the gitclaim SessionStart and PostToolUse hooks to "
                                               f"{clone / SETTINGS}\n")
    assert settings(clone) == {
        "permissions": THEIRS["permissions"],
        "hooks": {"PostToolUse": [THEIRS["hooks"]["PostToolUse"][0], HEARTBEAT_GROUP],
                  "SessionStart": [SESSION_START_GROUP]},
    }
    before = (clone / SETTINGS).read_bytes()
    again = ok(clone, "hooks", "install", "--hook", "claude-code")
    assert again == f"the gitclaim Claude Code hooks are already in {clone / SETTINGS}\n"
    assert (clone / SETTINGS).read_bytes() == before
    assert not (clone / ".git" / "hooks" / "post-commit").exists()  # only what was asked for
    assert ok(clone, "hooks", "uninstall", "--hook", "claude-code") == \
        f"removed the gitclaim Claude Code hooks from {clone / SETTINGS}\n"
    assert settings(clone) == THEIRS


def test_a_settings_file_made_for_gitclaim_alone_is_removed_again(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")
    ok(clone, "hooks", "install", "--hook", "claude-code")
    assert settings(clone) == {"hooks": {"SessionStart": [SESSION_START_GROUP], "PostToolUse": [HEARTBEAT_GROUP]}}
    ok(clone, "hooks", "uninstall", "--hook", "claude-code")
    assert not (clone / SETTINGS).exists()
    assert ok(clone, "hooks", "uninstall", "--hook", "claude-code") == \
        f"no gitclaim Claude Code hooks in {clone / SETTINGS}\n"


@pytest.mark.parametrize("text, problem", [
    ("{\"hooks\": [", "is not valid JSON (line 1: Expecting value)"),
    ("[1, 2]", "is not a JSON object"),
])
def test_a_settings_file_that_is_not_a_json_object_is_never_clobbered(
        make_clone: Callable[..., Path], text: str, problem: str) -> None:
    clone = make_clone("a")
    (clone / ".claude").mkdir()
    (clone / SETTINGS).write_text(text)
    res = run_gitclaim(clone, "hooks", "install", "--hook", "claude-code")
    assert (res.returncode, res.stdout) == (2, "")
    assert res.stderr == f"gitclaim: {clone / SETTINGS} {problem}; fix it by hand, nothing was written\n"
    assert (clone / SETTINGS).read_text() == text


def test_session_start_hook_prints_the_start_report(make_clone: Callable[..., Path], tmp_path: Path) -> None:
    clone = make_clone("a")
    ok(clone, "hooks", "install", "--hook", "claude-code")
    ok(clone, "new", "m1", "--title", "Held one")
    ok(clone, "new", "m2", "--title", "Ready one")
    ok(clone, "claim", "m1", "--as", "agent session")
    instance = git(clone, "config", "gitclaim.instance").stdout.strip()
    # Claude Code runs the hook in the project; the JSON's cwd is honoured when the runner's directory is not it.
    for cwd in (clone, tmp_path):
        res = run_hook(clone, "SessionStart", event("SessionStart", clone, source="startup"), cwd=cwd)
        assert (res.returncode, res.stderr) == (0, "")
        lines = res.stdout.splitlines()
        assert lines[0] == f"gitclaim start: instance {instance}, session \"Test User@{os.uname().nodename}\""
        assert "== Your missions (1) ==" in lines and "== Ready queue (1) ==" in lines
        assert lines[-1] == "Next: resume m1 (gitclaim show m1)"


def test_session_start_hook_outside_a_clone_says_so_in_the_context(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "gitclaim", "hooks", "session-start"], cwd=tmp_path, text=True,
                         capture_output=True, input=json.dumps(event("SessionStart", tmp_path, source="resume")))
    assert (res.returncode, res.stderr) == (0, "")
    assert res.stdout == (f"gitclaim start could not run here: not a git repository: {tmp_path} (run gitclaim "
                          "inside a clone of the shared repo). Run `gitclaim start` yourself before claiming work.\n")


def test_post_tool_use_hook_heartbeats_in_the_background(make_clone: Callable[..., Path], bare_remote: Path) -> None:
    clone = make_clone("a")
    ok(clone, "hooks", "install", "--hook", "claude-code")
    ok(clone, "new", "m1", "--title", "Held one")
    ok(clone, "claim", "m1")
    claimed = remote_refs(bare_remote)["refs/missions/m1"]
    git(clone, "config", "gitclaim.heartbeatInterval", "0")
    payload = event("PostToolUse", clone, tool_name="Write", tool_use_id="toolu_01",
                    tool_input={"file_path": str(clone / "a.txt"), "content": "hi"},
                    tool_response={"filePath": str(clone / "a.txt"), "success": True})
    res = run_hook(clone, "PostToolUse", payload)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    deadline = time.monotonic() + 20
    while remote_refs(bare_remote)["refs/missions/m1"] == claimed and time.monotonic() < deadline:
        time.sleep(0.1)
    tip = git(bare_remote, "log", "-1", "--format=%s", "refs/missions/m1").stdout.strip()
    assert tip == "chore(mission): heartbeat m1"


def test_post_tool_use_hook_starts_nothing_within_the_interval(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")
    ok(clone, "hooks", "install", "--hook", "claude-code")
    git(clone, "config", "gitclaim.heartbeatInterval", "1h")
    stamp = clone / ".git" / "gitclaim" / "heartbeat" / ".last-run"
    assert run_hook(clone, "PostToolUse", event("PostToolUse", clone, tool_name="Read")).returncode == 0
    log = stamp.with_name(".last-run.log")
    deadline = time.monotonic() + 20
    while not log.exists() and time.monotonic() < deadline:  # the background run has finished
        time.sleep(0.1)
    assert log.read_text().endswith(" heartbeat run\nno mission held by this clone\n")
    first = stamp.stat().st_mtime_ns
    # A hook that starts a run marks it before it returns: an unchanged stamp means nothing was started.
    assert run_hook(clone, "PostToolUse", event("PostToolUse", clone, tool_name="Read")).returncode == 0
    assert stamp.stat().st_mtime_ns == first
