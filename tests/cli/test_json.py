"""--json on every command, and errors under --json as one JSON object on stdout besides the stderr line
(issue 11, items 27-28), through real gitclaim processes on real clones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT, cli_commands, git, run_gitclaim

# Commands whose stdout is not theirs to format: the MCP protocol, git's hook channel, a shell script.
NO_JSON = {"mcp", "guard pre-receive", "completion", "hooks session-start"}




def test_every_command_takes_json_but_the_documented_few() -> None:
    without = {name for name, cmd in cli_commands().items() if not any("--json" in p.opts for p in cmd.params)}
    assert without == NO_JSON & set(cli_commands())
    doc = (ROOT / "docs" / "json.md").read_text()
    assert "except `mcp`" in doc and "`guard pre-receive`" in doc and "`completion`" in doc


def error_of(res) -> dict:  # type: ignore[no-untyped-def]
    data = json.loads(res.stdout)
    assert list(data) == ["error"]
    assert res.stderr == f"gitclaim: {data['error']['message']}\n"  # and exactly the one line on stderr
    assert data["error"]["exit_code"] == res.returncode
    return data["error"]


def test_a_refused_claim_names_the_holder(make_clone: Callable[..., Path]) -> None:
    a, b = make_clone("a"), make_clone("b")
    assert run_gitclaim(a, "new", "m1", "--title", "First").returncode == 0
    assert run_gitclaim(a, "claim", "m1", "--as", "alice session").returncode == 0
    inst = git(a, "config", "gitclaim.instance").stdout.strip()
    err = error_of(run_gitclaim(b, "claim", "m1", "--json"))
    assert (err["exit_code"], err["kind"]) == (3, "conflict")
    assert err["message"].startswith('mission m1 is held by "alice session"')
    holder = err["holder"]
    assert (holder["session"], holder["instance"], holder["epoch"], holder["user"]) == (
        "alice session", inst, 1, "Test User")
    assert holder["claimed_at"] and holder["last_activity"]
    for args in (["done", "m1"], ["log", "m1", "note"], ["release", "m1"], ["edit", "m1", "--title", "x"]):
        err = error_of(run_gitclaim(b, *args, "--json"))
        assert (err["kind"], err["holder"]["instance"]) == ("conflict", inst), args


@pytest.mark.parametrize(("args", "code", "kind", "message"), [
    (["claim", "nosuch"], 4, "not_found", "no mission 'nosuch' on remote 'origin'"),
    (["claim", "Bad Id"], 2, "usage", None),
    (["list", "--bogus"], 2, "usage", "No such option '--bogus'. (see: gitclaim list --help)"),
    (["next"], 5, "nothing_ready", None),
    (["reopen", "m1"], 2, "usage", "reopen needs --reason TEXT for the history"),
])
def test_errors_are_json_on_stdout(make_clone: Callable[..., Path], args: list[str], code: int, kind: str,
                                   message: str | None) -> None:
    a = make_clone("a")
    res = run_gitclaim(a, *args, "--json")
    err = error_of(res)
    assert (res.returncode, err["kind"]) == (code, kind)
    if message is not None:
        assert err["message"] == message
    assert "holder" not in err


def test_without_json_errors_stay_one_line(make_clone: Callable[..., Path]) -> None:
    res = run_gitclaim(make_clone("a"), "claim", "nosuch")
    assert (res.returncode, res.stdout, res.stderr) == (4, "", "gitclaim: no mission 'nosuch' on remote 'origin'\n")


def test_a_json_after_the_separator_is_not_the_option(make_clone: Callable[..., Path]) -> None:
    res = run_gitclaim(make_clone("a"), "log", "nosuch", "--", "--json")
    assert res.returncode == 4 and res.stdout == ""


def test_init_json(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a", init=False)
    res = run_gitclaim(a, "init", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert (data["remote"], data["missions"], data["agents_file"]) == ("origin", 0, None)
    assert data["instance"] == git(a, "config", "gitclaim.instance").stdout.strip()
    assert data["steps"][0] == "added fetch refspec +refs/missions/*:refs/missions/* to remote 'origin'"


def test_next_json_says_changed(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    assert run_gitclaim(a, "new", "m1", "--title", "First").returncode == 0
    data = json.loads(run_gitclaim(a, "next", "--json").stdout)
    assert (data["mission_id"], data["changed"], data["lost_races"], data["pushes"]) == ("m1", True, 0, 1)


def test_check_msg_json(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "-m", "feat: fine", "--json")
    assert (res.returncode, json.loads(res.stdout), res.stderr) == (
        0, {"ok": True, "source": "message", "violations": []}, "")
    (repo / "MSG").write_text("add AI helper\n")
    res = run_gitclaim(repo, "check-msg", "MSG", "--json")
    err = error_of(res)
    assert (res.returncode, err["kind"], err["source"]) == (7, "policy", "MSG")
    assert [(v["line"], v["rule"], v["text"]) for v in err["violations"]] == [
        (1, "header-format", "add AI helper"), (1, "forbidden-term", "AI")]


def test_check_msg_range_json(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "feat: one")
    res = run_gitclaim(repo, "check-msg", "--range", "HEAD~1..HEAD", "--json")
    assert json.loads(res.stdout) == {"ok": True, "range": "HEAD~1..HEAD", "checked": 1, "commits": []}
    git(repo, "commit", "-q", "--allow-empty", "-m", "feat: two", "--author", "Al (aider) <al@example.com>")
    res = run_gitclaim(repo, "check-msg", "--range", "HEAD~2..HEAD", "--json")
    err = error_of(res)
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert (err["checked"], [c["commit"] for c in err["commits"]]) == (2, [head])
    assert err["commits"][0]["violations"][0] | {"hint": None} == {
        "line": None, "rule": "attribution-author", "text": "Al (aider) <al@example.com>", "hint": None}


def test_hooks_install_and_uninstall_json(repo: Path) -> None:
    hook = str((repo / ".git" / "hooks" / "commit-msg").resolve())
    outs = [json.loads(run_gitclaim(repo, *args, "--json").stdout) for args in
            (["hooks", "install"], ["hooks", "install"], ["hooks", "uninstall"])]
    assert [out["hooks"][0] for out in outs] == [
        {"action": a, "hook": hook, "legacy": None} for a in ("installed", "unchanged", "removed")]
    assert [out["hooks"][1]["action"] for out in outs] == ["installed", "unchanged", "removed"]  # post-commit


def test_guard_install_json(bare_remote: Path, tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "guard", "install", str(bare_remote), "--json")
    data = json.loads(res.stdout)
    assert (res.returncode, data["action"], data["legacy"]) == (0, "installed", None)
    assert data["hook"].endswith("pre-receive")


def test_validate_json(tmp_path: Path) -> None:
    good = ROOT / "gitclaim" / "workflows" / "templates" / "simple"
    res = run_gitclaim(tmp_path, "validate", str(good), "--json")
    assert json.loads(res.stdout) == {"source": str(good), "valid": True, "problems": []}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mission.md").write_text("---\ntitle: x\n---\n")
    (bad / "workflow.md").write_text("---\nphases:\n  - id: a\n    number: 1\n    name: A\n    requires: [zz]\n---\n")
    res = run_gitclaim(tmp_path, "validate", str(bad), "--json")
    err = error_of(res)
    assert (res.returncode, err["source"]) == (1, str(bad))
    assert err["problems"] and set(err["problems"][0]) == {"phase", "rule", "message"}


def test_demo_json(tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "demo", "--agents", "2", "--json", timeout=180)
    data = json.loads(res.stdout)
    assert (res.returncode, data["exactly_once"], len(data["race_losers"])) == (0, True, 1)
    assert set(data["claims_per_mission"].values()) == {1}
