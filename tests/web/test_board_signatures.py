"""The board shows the signature state of each mission's claim (issue 15, item 3): on the terminal, in the JSON
and on the page in a real headless chromium. Real keys, a real trust list on the remote's main branch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gitclaim.core.trust import TRUST_FILE
from tests.helpers import git, ok
from tests.support.signing import commit_to_main, fingerprint, make_key, trust_line, use_key
from tests.web import browser


def test_each_claim_shows_its_signature_state(make_clone: Callable[..., Path], bare_remote: Path,
                                              tmp_path: Path) -> None:
    keys = {name: make_key(tmp_path / "keys", name) for name in ("alice", "bob", "mallory")}
    commit_to_main(bare_remote, tmp_path / "admin", {
        TRUST_FILE: trust_line("alice@agents", keys["alice"]) + trust_line("bob@agents", keys["bob"])})
    clones = {name: make_clone(name) for name in ("alice", "bob", "mallory", "plain")}
    for name in ("alice", "bob", "mallory"):
        use_key(clones[name], keys[name])
    alice = clones["alice"]
    for mid in ("g1", "u1", "n1", "b1", "q1", "d1"):
        ok(alice, "new", mid, "--title", f"Mission {mid}")
    ok(alice, "claim", "g1", "--as", "alice")
    ok(clones["mallory"], "claim", "u1", "--as", "mallory")
    ok(clones["plain"], "claim", "n1", "--as", "plain")
    ok(alice, "claim", "b1", "--as", "alice")
    raw = git(alice, "cat-file", "commit", "refs/missions/b1").stdout.replace("claim b1", "claim b1 (edited)")
    forged = git(alice, "hash-object", "-t", "commit", "-w", "--stdin", input=raw).stdout.strip()
    git(alice, "push", "-q", "--force", "origin", f"{forged}:refs/missions/b1")
    ok(clones["bob"], "claim", "d1", "--as", "bob")
    ok(clones["bob"], "done", "d1", "--summary", "finished")

    # the terminal board: good claims name their principal, the others are marked (the repository has a list)
    lines = {ln.split()[0]: ln for ln in ok(alice, "board").stdout.splitlines() if ln.startswith("  ")
             and not ln.startswith('  "')}
    assert '"alice" (Test User, ' in lines["g1"] and "  ·  signed by alice@agents  ·  idle " in lines["g1"]
    assert f"  ·  UNTRUSTED claim (key {fingerprint(keys['mallory'])})  ·  idle " in lines["u1"]
    assert "  ·  UNSIGNED claim  ·  idle " in lines["n1"]
    assert "  ·  BAD claim  ·  idle " in lines["b1"]
    assert lines["d1"] == "  d1  P2  Mission d1  ·  signed by bob@agents"
    assert lines["q1"] == "  q1  P2  Mission q1"

    # the JSON: every card's signature, null for a mission without a claim
    data = json.loads(ok(alice, "board", "--json").stdout)
    sigs = {c["mission_id"]: c["signature"] for cards in data["columns"].values() for c in cards}
    assert sigs == {
        "g1": {"state": "good", "principal": "alice@agents", "key": fingerprint(keys["alice"])},
        "u1": {"state": "untrusted", "principal": None, "key": fingerprint(keys["mallory"])},
        "n1": {"state": "none", "principal": None, "key": None},
        "b1": {"state": "bad", "principal": None, "key": None},
        "d1": {"state": "good", "principal": "bob@agents", "key": fingerprint(keys["bob"])},
        "q1": None}
    assert data["trust_source"] == "refs/remotes/origin/HEAD"

    # the page, in chromium: the state on each claimed card, marked unless good
    page = tmp_path / "board.html"
    ok(alice, "board", "--out", str(page))
    dom = browser.parse(browser.dump_dom(page.as_uri()))
    shown = {}
    for card in dom.find_all("article", cls="card"):
        found = card.find_all(cls="sig")
        shown[card.attrs["data-id"]] = (found[0].attrs["data-signature"], " ".join(found[0].text.split())) \
            if found else None
    assert shown == {
        "g1": ("good", "\u2714 signed by alice@agents"),
        "u1": ("untrusted", f"\u26a0 untrusted key {fingerprint(keys['mallory'])}"),
        "n1": ("none", "\u26a0 unsigned claim"),
        "b1": ("bad", "\u26a0 bad signature"),
        "d1": ("good", "\u2714 signed by bob@agents"),
        "q1": None}
    assert dom.find("article", data_id="b1").find(cls="sig-bad")


def test_without_a_trust_list_the_terminal_board_marks_no_unsigned_claim(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "One")
    ok(a, "claim", "m1", "--as", "agent")
    out = ok(a, "board").stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("  m1 "))
    assert "claim" not in line.split("·", 1)[1] and "signed" not in line, line
    data = json.loads(ok(a, "board", "--json").stdout)
    assert data["columns"]["active"][0]["signature"] == {"state": "none", "principal": None, "key": None}
    assert data["trust_source"] is None
