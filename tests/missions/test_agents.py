"""Agent integration: `init --agents` keeps the Active Mission section of CLAUDE.md in step with this clone's
claims, installs the /start command, and never touches a byte outside its markers."""

from __future__ import annotations

import pytest

from gitclaim.core import transitions as claims
from gitclaim.errors import GitclaimError
from gitclaim.missions import agents, setup
from gitclaim.missions.workspace import open_store
from tests.helpers import git, run_gitclaim

BEFORE = "# Project rules\n\nAlways run the tests.\n\n"
AFTER = "\n\n## Notes\n\nKeep this.   \n"


def fast_clone(make_clone, name: str):
    """A clone initialised in-process: the CLI runs where it is the subject of the test."""
    path = make_clone(name, init=False)
    setup.init_clone(open_store(path), "origin")
    return path


def section_of(text: str) -> str:
    return text[text.index(agents.BEGIN):text.index(agents.END) + len(agents.END)]


def test_init_agents_then_claim_and_done_update_the_section(make_clone) -> None:
    a = make_clone("a", init=False)
    b = fast_clone(make_clone, "b")
    store_b = open_store(b)
    actor_b = claims.actor_for(store_b, "session B")
    for mid, title in (("m1", "Migrate admin"), ("other", "Someone else's")):
        claims.create(store_b, actor_b, mid, title)
    claims.claim(store_b, actor_b, "other")
    (a / "CLAUDE.md").write_text(BEFORE + agents.BEGIN + "\nold text\n" + agents.END + AFTER)

    res = run_gitclaim(a, "init", "--agents", "CLAUDE.md")
    assert res.returncode == 0, res.stderr
    assert git(a, "config", "gitclaim.agentsfile").stdout.strip() == "CLAUDE.md"
    start = (a / ".claude" / "commands" / "start.md").read_text()
    assert start.startswith("---\ndescription:") and "gitclaim start $ARGUMENTS" in start
    text = (a / "CLAUDE.md").read_text()
    assert text.startswith(BEFORE) and text.endswith(AFTER)
    assert "None: this clone holds no mission" in section_of(text)

    assert run_gitclaim(a, "claim", "m1", "--as", "session A").returncode == 0
    text = (a / "CLAUDE.md").read_text()
    assert text.startswith(BEFORE) and text.endswith(AFTER)
    sec = section_of(text)
    assert "## Active Mission\nMission: Migrate admin\nMission ID: `m1`\nPath: refs/missions/m1" in sec
    assert "Status: ACTIVE (epoch 1" in sec and '"session A"' in sec and "`gitclaim done m1" in sec
    assert "other" not in sec  # held by another clone's instance

    assert run_gitclaim(a, "done", "m1").returncode == 0
    text = (a / "CLAUDE.md").read_text()
    assert text.startswith(BEFORE) and text.endswith(AFTER) and "None: this clone holds no mission" in text


def test_enable_creates_the_file_through_a_symlink_and_keeps_an_existing_start_command(make_clone) -> None:
    a = fast_clone(make_clone, "a")
    own = a / ".claude" / "commands" / "start.md"
    own.parent.mkdir(parents=True)
    own.write_text("our own /start\n")
    (a / "AGENTS.md").symlink_to("CLAUDE.md")  # the link is kept; the file it names gets the section
    report = agents.enable(open_store(a), "AGENTS.md")
    assert own.read_text() == "our own /start\n" and any("kept the existing" in r for r in report)
    assert (a / "AGENTS.md").is_symlink() and git(a, "config", "gitclaim.agentsfile").stdout.strip() == "AGENTS.md"
    text = (a / "CLAUDE.md").read_text()
    assert text.startswith(agents.BEGIN) and text.endswith(agents.END + "\n")
    with pytest.raises(GitclaimError):
        agents.enable(open_store(a), "../outside.md")


def test_replace_section_touches_only_the_markers() -> None:
    sec = agents.section([])
    assert agents.replace_section("", sec) == sec + "\n"
    assert agents.replace_section("top", sec) == "top\n\n" + sec + "\n"
    assert agents.replace_section("top\n", sec) == "top\n\n" + sec + "\n"
    crlf = "a\r\n" + agents.BEGIN + "\r\nx\r\n" + agents.END + "\r\nb\r\n"
    new = agents.replace_section(crlf, agents.section([], "\r\n"))
    assert new.startswith("a\r\n") and new.endswith("\r\nb\r\n") and "\n" not in new.replace("\r\n", "")
    with pytest.raises(GitclaimError):
        agents.replace_section("x\n" + agents.BEGIN + "\nno end\n", sec)


def test_init_agents_with_broken_markers_changes_nothing(make_clone) -> None:
    a = make_clone("a", init=False)
    broken = BEFORE + agents.BEGIN + "\nno end marker\n"
    (a / "CLAUDE.md").write_text(broken)
    res = run_gitclaim(a, "init", "--agents", "CLAUDE.md")
    assert res.returncode == 1
    assert res.stderr == (f"gitclaim: cannot update {(a / 'CLAUDE.md').resolve()}: found {agents.BEGIN} without "
                          f"{agents.END}; fix the markers by hand\n")
    assert git(a, "config", "--get-regexp", "^gitclaim\\.", check=False).stdout == ""  # nothing recorded
    assert git(a, "config", "--get-all", "remote.origin.fetch").stdout == "+refs/heads/*:refs/remotes/origin/*\n"
    assert not (a / ".claude").exists() and (a / "CLAUDE.md").read_text() == broken


def test_a_section_that_cannot_be_updated_is_a_warning_on_every_write_that_tries(make_clone) -> None:
    a = make_clone("a")
    assert run_gitclaim(a, "init", "--agents", "CLAUDE.md").returncode == 0
    for mid in ("m1", "m2"):
        assert run_gitclaim(a, "new", mid, "--title", mid).returncode == 0
    (a / "CLAUDE.md").write_text(agents.END + "\n")  # the begin marker is gone
    warning = (f"gitclaim: warning: cannot update {(a / 'CLAUDE.md').resolve()}: found {agents.END} without "
               f"{agents.BEGIN}; fix the markers by hand\n")
    for args in (["claim", "m1"], ["log", "m1", "half way"], ["next"], ["done", "m1"], ["done", "m2"],
                 ["new", "m3", "--title", "m3"], ["start", "--claim"]):
        res = run_gitclaim(a, *args)
        want = "" if args[0] == "new" else warning  # a new mission is nobody's: the section does not change
        assert res.returncode == 0 and res.stderr == want, (args, res.stderr)
    assert "claimed m3" in res.stdout or "m3" in res.stdout
    res = run_gitclaim(a, "start", "--claim")  # already holds m3: no write, no warning
    assert res.returncode == 0 and res.stderr == ""
    assert (a / "CLAUDE.md").read_text() == agents.END + "\n"
