"""The hot commands' fast path (cli/fast.py): plain invocations run without typer, with the same output and exit
codes as through the typer app; anything unusual is left to typer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gitclaim.cli.fast import parse
from tests.helpers import run_gitclaim


@pytest.mark.parametrize(("args", "expected"), [
    (["claim", "m1"], ("claim", {"mission_id": "m1"})),
    (["claim", "m1", "--as", "agent 7", "--json"], ("claim", {"mission_id": "m1", "as_text": "agent 7",
                                                             "json_out": True})),
    (["claim", "--as=x", "m1", "--steal"], ("claim", {"mission_id": "m1", "as_text": "x", "steal": True})),
    (["next"], ("next", {})),
    (["heartbeat", "m1", "--epoch", "3"], ("heartbeat", {"mission_id": "m1", "epoch": 3})),
    (["log", "m1"], ("log", {"mission_id": "m1"})),
    (["log", "m1", "did a thing", "--kind", "milestone", "--progress=40"],
     ("log", {"mission_id": "m1", "message": "did a thing", "kind": "milestone", "progress": 40})),
    (["done", "m1", "--summary", "ok"], ("done", {"mission_id": "m1", "summary": "ok"})),
    (["release", "m1", "--note", "later", "--epoch=-1"], ("release", {"mission_id": "m1", "note": "later",
                                                                    "epoch": -1})),
    (["list"], ("list", {})),
    (["list", "--offline", "--json", "--status=active", "--stale"],
     ("list", {"offline": True, "json_out": True, "status": "active", "stale": True})),
])
def test_plain_invocations_are_parsed(args: list[str], expected: tuple) -> None:
    assert parse(args) == expected


@pytest.mark.parametrize("args", [
    ["claim"], ["claim", "a", "b"], ["claim", "m1", "--help"], ["claim", "-h"], ["claim", "m1", "--as"],
    ["claim", "m1", "--as", "--json"], ["claim", "m1", "--stael"], ["claim", "--", "m1"], ["claim", "-m1"],
    ["claim", "m1", "--json=yes"], ["heartbeat", "m1", "--epoch", "x"], ["heartbeat", "m1", "--epoch", " 3"],
    ["next", "m1"], ["list", "--archived"], ["list", "m1"], ["list", "--status"], ["show", "m1"],
    ["--json", "claim", "m1"], [],
])
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse(args) is None


def imported(clone: Path, *args: str) -> set[str]:
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "gitclaim", *args], cwd=clone,
                         capture_output=True, text=True)
    return {m.group(1).split(".")[0] for m in re.finditer(r"import time:.*\|\s*([\w.]+)\s*$", res.stderr, re.M)}


def test_hot_commands_do_not_import_the_cli_framework(make_clone) -> None:
    a = make_clone("a")
    assert run_gitclaim(a, "new", "m1", "--title", "One").returncode == 0
    for args in (["claim", "m1", "--as", "me"], ["heartbeat", "m1"], ["log", "m1", "note"], ["next"],
                 ["list", "--json"], ["list", "--offline"]):
        mods = imported(a, *args)
        assert "gitclaim" in mods and not {"typer", "click", "yaml", "git"} & mods, args
    assert "typer" in imported(a, "claim", "m1", "--help")


def modules(clone: Path, *args: str) -> set[str]:
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "gitclaim", *args], cwd=clone,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return {m.group(1) for m in re.finditer(r"import time:.*\|\s*([\w.]+)\s*$", res.stderr, re.M)}


def test_reads_and_writes_import_only_what_they_use(make_clone) -> None:
    a = make_clone("a")
    assert run_gitclaim(a, "new", "m1", "--title", "One").returncode == 0
    listed = modules(a, "list", "--json")
    assert "gitclaim.missions.listcache" in listed
    assert not {"gitclaim.core.pushing", "gitclaim.core.objects", "gitclaim.core.message",
                "gitclaim.core.transitions", "gitclaim.missions.views", "gitclaim.missions.agents"} & listed
    claimed = modules(a, "claim", "m1", "--as", "me")
    assert "gitclaim.core.pushing" in claimed
    assert not {"secrets", "hmac", "socket", "gitclaim.missions.agents", "gitclaim.missions.views"} & claimed
    # hashlib loads the OpenSSL binding: loose objects and the ssh scope hash with Python's own modules
    assert not {"hashlib", "_hashlib"} & claimed
    # the model, settings and messages are NamedTuples: dataclasses imports inspect (with ast, dis, tokenize)
    assert not {"dataclasses", "inspect"} & claimed
    assert run_gitclaim(a, "new", "m2", "--title", "Two").returncode == 0
    assert not {"dataclasses", "inspect", "hashlib"} & modules(a, "next", "--as", "me")
    # a clone that signs nothing does not load what reads signatures (docs/signing.md)
    assert not {"gitclaim.core.claimsigs", "gitclaim.core.trust"} & claimed


def normalize(text: str) -> str:
    text = re.sub(r"\b[0-9a-f]{40}\b", "<oid>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text).replace("m2", "m1")


def test_same_output_and_exit_codes_both_ways(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    for mid in ("m1", "m2"):
        assert run_gitclaim(a, "new", mid, "--title", "T").returncode == 0
    steps = [
        ["claim", "{id}", "--as", "me"], ["claim", "{id}", "--as", "me", "--json"], ["heartbeat", "{id}"],
        ["log", "{id}", "a note", "--kind", "milestone", "--progress", "50"], ["log", "{id}", "x", "--kind", "oops"],
        ["heartbeat", "{id}", "--epoch", "9"], ["claim", "Bad Id"], ["claim", "nothing-here"],
        ["claim", "nothing-here", "--json"], ["heartbeat", "{id}", "--epoch", "9", "--json"],
        ["done", "{id}", "--summary", "ok", "--json"], ["release", "{id}"],
    ]
    for step in steps:
        fast = run_gitclaim(a, *[s.format(id="m1") for s in step])
        slow = run_gitclaim(a, *[s.format(id="m2") for s in step], env={"GITCLAIM_NO_FAST_PATH": "1"})
        assert (fast.returncode, normalize(fast.stderr)) == (slow.returncode, normalize(slow.stderr)), step
        if "--json" in step and fast.returncode:
            assert json.loads(normalize(fast.stdout)) == json.loads(normalize(slow.stdout)), step
        elif "--json" in step:
            f, s = json.loads(fast.stdout), json.loads(slow.stdout)
            assert {k for k in f if f[k] != s[k]} <= {"mission_id", "commit", "claimed_at", "last_activity",
                                                     "finished_at", "created"}, step
        else:
            assert normalize(fast.stdout) == normalize(slow.stdout), step
    taken = [run_gitclaim(b, "claim", "m1"), run_gitclaim(b, "claim", "m2", env={"GITCLAIM_NO_FAST_PATH": "1"})]
    assert [r.returncode for r in taken] == [3, 3]  # finished missions: refused the same way
    assert normalize(taken[0].stderr) == normalize(taken[1].stderr)


def test_list_the_same_both_ways(make_clone) -> None:
    a = make_clone("a")
    for mid in ("m1", "m2"):
        assert run_gitclaim(a, "new", mid, "--title", f"T {mid}").returncode == 0
    assert run_gitclaim(a, "claim", "m2", "--as", "me").returncode == 0
    for step in (["list"], ["list", "--json"], ["list", "--status", "queued"], ["list", "--json", "--stale"],
                 ["list", "--status", "bogus"], ["list", "--status", "bogus", "--json"], ["list", "--offline"]):
        fast = run_gitclaim(a, *step)
        slow = run_gitclaim(a, *step, env={"GITCLAIM_NO_FAST_PATH": "1"})
        idle = re.compile(r"\b\d+s\b")  # the idle time and the mirror's age may pass a second in between
        assert (fast.returncode, idle.sub("-", fast.stdout), idle.sub("-", fast.stderr)) == \
            (slow.returncode, idle.sub("-", slow.stdout), idle.sub("-", slow.stderr)), step


# The CLI entry point in a process that registers an exit handler first: it runs only if the interpreter tears
# itself down at the end.
TEARDOWN = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("teardown ran\\n"))
from gitclaim.cli import main
main(sys.argv[1:])
"""


def test_hot_commands_end_without_the_interpreters_teardown(make_clone) -> None:
    a = make_clone("a")
    for mid in ("m1", "m2"):
        assert run_gitclaim(a, "new", mid, "--title", f"T {mid}").returncode == 0
    # Block-buffered stdout, as in most shells' pipes: what the command wrote must still arrive whole.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", TEARDOWN, *args], cwd=a, capture_output=True, text=True,
                              env={**env, **extra}, timeout=60)

    listed = run("list", "--json")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert sorted(row["mission_id"] for row in json.loads(listed.stdout)) == ["m1", "m2"]
    claimed = run("claim", "m1", "--as", "me")
    assert (claimed.returncode, claimed.stderr) == (0, "")
    assert claimed.stdout.startswith('claimed m1 as "me"')
    refused = run("claim", "nothing-here")
    assert refused.returncode == 4 and "teardown ran" not in refused.stderr  # no such mission
    assert refused.stderr.startswith("gitclaim: ") and refused.stderr.count("\n") == 1
    # Every other command ends the usual way.
    typer_path = run("list", "--json", GITCLAIM_NO_FAST_PATH="1")
    assert typer_path.returncode == 0 and typer_path.stderr == "teardown ran\n"
    assert [(r["mission_id"], r["status"]) for r in json.loads(typer_path.stdout)] == [("m2", "QUEUED"),
                                                                                     ("m1", "ACTIVE")]
