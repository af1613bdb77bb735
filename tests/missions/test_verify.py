"""`gitclaim verify` (issue 15, item 3): every commit of the missions' histories against the trust list on the
remote's default branch, fencing by principal over the history, exit 11 unless all are good. Real keys, real
ssh-keygen, a real trust list committed on the remote's main branch."""

from __future__ import annotations

import json
from pathlib import Path

from gitclaim.core.trust import TRUST_FILE
from tests.helpers import git, ok, one_line, run_gitclaim
from tests.support.signing import commit_to_main, fingerprint, signed_clone, trust_line, use_key


def tip(remote: Path, mission_id: str, back: int = 0) -> str:
    return git(remote, "rev-parse", f"refs/missions/{mission_id}~{back}").stdout.strip()


def test_verify_reports_every_commit_that_is_not_good_and_exits_11(team, make_clone, keys) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    bob = signed_clone(make_clone, "bob", keys["bob"])
    mallory = signed_clone(make_clone, "mallory", keys["mallory"])
    for mid in ("m-good", "m-untrusted", "m-broken", "m-fenced"):
        ok(alice, "new", mid, "--title", f"Mission {mid}")
    ok(alice, "claim", "m-good")
    ok(alice, "log", "m-good", "halfway")
    ok(mallory, "claim", "m-untrusted")
    # m-broken: the claim commit's message altered after signing, pushed over it with plain git
    ok(alice, "claim", "m-broken")
    raw = git(alice, "cat-file", "commit", "refs/missions/m-broken").stdout.replace("claim m-broken",
                                                                                     "claim m-broken (edited)")
    forged = git(alice, "hash-object", "-t", "commit", "-w", "--stdin", input=raw).stdout.strip()
    git(alice, "push", "-q", "--force", "origin", f"{forged}:refs/missions/m-broken")
    # m-fenced: alice claims, then a write as alice's holder (her instance) signed by bob's key
    ok(alice, "claim", "m-fenced")
    use_key(alice, keys["bob"])
    ok(alice, "log", "m-fenced", "bob writes as alice's holder")

    res = run_gitclaim(bob, "verify")
    assert res.returncode == 11, res.stderr
    assert res.stdout.splitlines() == [
        f"m-broken {forged[:12]} claim bad",  # git names no key for a signature that does not match
        f"m-fenced {tip(team, 'm-fenced')[:12]} log bad (signed by bob@agents, not by the claim's principal "
        "alice@agents)",
        f"m-untrusted {tip(team, 'm-untrusted')[:12]} claim untrusted (key {fingerprint(keys['mallory'])})",
        "verified 10 commits of 4 missions: 3 not good",
    ]
    assert res.stderr == ("gitclaim: verify: 3 of 10 commits are not signed good by a principal of the trust list "
                          "(refs/remotes/origin/HEAD); a claim they carry is void where signed claims are required "
                          "(docs/signing.md)\n")
    # the named missions only; all good: exit 0
    res = ok(bob, "verify", "m-good")
    assert res.stdout == "verified 3 commits of 1 mission: 0 not good\n" and res.stderr == ""


def test_verify_json_is_one_document_per_mission_per_commit(team, make_clone, keys) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    plain = signed_clone(make_clone, "plain", None)
    ok(alice, "new", "m1", "--title", "One")
    ok(plain, "claim", "m1")
    ok(alice, "new", "m2", "--title", "Two")
    ok(alice, "claim", "m2")
    res = run_gitclaim(alice, "verify", "m2", "m1", "--json")
    assert res.returncode == 11 and res.stderr.startswith("gitclaim: verify: 1 of 4 commits"), res.stderr
    data = json.loads(res.stdout)  # one document: the error is the document's own ok/not_good
    alice_key = {"state": "good", "principal": "alice@agents", "key": fingerprint(keys["alice"])}
    instance = {c: git(c, "config", "gitclaim.instance").stdout.strip() for c in (alice, plain)}
    assert data == {
        "ok": False, "commits": 4, "not_good": 1,
        "trust": {"source": "refs/remotes/origin/HEAD", "default_branch": "refs/heads/main",
                  "principals": ["alice@agents", "bob@agents"]},
        "missions": [
            {"mission_id": "m2", "tip": tip(team, "m2"), "ok": True, "archived": False, "commits": [
                {"commit": tip(team, "m2", 1), "action": "create", "instance": instance[alice], "state": "good",
                 "signature": alice_key, "claim_principal": None},
                {"commit": tip(team, "m2"), "action": "claim", "instance": instance[alice], "state": "good",
                 "signature": alice_key, "claim_principal": None}]},
            {"mission_id": "m1", "tip": tip(team, "m1"), "ok": False, "archived": False, "commits": [
                {"commit": tip(team, "m1", 1), "action": "create", "instance": instance[alice], "state": "good",
                 "signature": alice_key, "claim_principal": None},
                {"commit": tip(team, "m1"), "action": "claim", "instance": instance[plain], "state": "none",
                 "signature": {"state": "none", "principal": None, "key": None}, "claim_principal": None}]},
        ]}
    # a holder's later write under a good claim names the principal it must be signed by
    ok(alice, "heartbeat", "m2")
    data = json.loads(ok(alice, "verify", "m2", "--json").stdout)
    assert data["missions"][0]["commits"][-1]["claim_principal"] == "alice@agents" and data["ok"] is True


def test_verify_fetches_the_default_branch_so_the_trust_list_is_current(team, make_clone, keys, tmp_path) -> None:
    mallory = signed_clone(make_clone, "mallory", keys["mallory"])
    ok(mallory, "new", "m1", "--title", "One")
    assert run_gitclaim(mallory, "verify").returncode == 11
    # the team trusts mallory now: the clone has not fetched main since, verify does
    commit_to_main(team, tmp_path / "admin", {TRUST_FILE: trust_line("mallory@agents", keys["mallory"])})
    assert ok(mallory, "verify").stdout == "verified 1 commit of 1 mission: 0 not good\n"
    assert git(mallory, "rev-parse", "refs/remotes/origin/main").stdout == git(team, "rev-parse", "main").stdout
    # without refs/remotes/origin/HEAD it fetches main (what the trust list is read from then)
    git(mallory, "remote", "set-head", "origin", "-d")
    commit_to_main(team, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", keys["alice"])})
    res = run_gitclaim(mallory, "verify", "--json")
    assert res.returncode == 11 and json.loads(res.stdout)["trust"] == {
        "source": "refs/remotes/origin/main", "default_branch": "refs/heads/main", "principals": ["alice@agents"]}
    # with no default branch at all: a warning, and no signature is trusted
    git(mallory, "update-ref", "-d", "refs/remotes/origin/main")
    res = run_gitclaim(mallory, "verify")
    assert res.returncode == 11
    assert res.stderr.splitlines()[0] == (
        "gitclaim: warning: no default branch known for remote 'origin' (no refs/remotes/origin/HEAD, main or "
        "master): the trust list is empty; run git remote set-head origin --auto")


def test_verify_of_an_unknown_mission_is_exit_4_and_reads_nothing_more(team, make_clone, keys) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    ok(alice, "new", "m1", "--title", "One")
    assert one_line(run_gitclaim(alice, "verify", "m1", "nosuch"), 4) == "gitclaim: no mission 'nosuch' on remote " \
        "'origin'"
    assert one_line(run_gitclaim(alice, "verify", "Bad Id"), 2).startswith("gitclaim: invalid mission id")


def test_fencing_follows_the_claim_through_a_takeover(team, make_clone, keys) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    bob = signed_clone(make_clone, "bob", keys["bob"])
    ok(alice, "new", "m1", "--title", "One")
    ok(alice, "claim", "m1")
    ok(bob, "claim", "m1", "--force", "--reason", "alice is away")
    ok(bob, "heartbeat", "m1")
    data = json.loads(ok(bob, "verify", "--json").stdout)
    commits = data["missions"][0]["commits"]
    assert [(c["action"], c["signature"]["principal"], c["claim_principal"]) for c in commits] == [
        ("create", "alice@agents", None), ("claim", "alice@agents", None), ("takeover", "bob@agents", None),
        ("heartbeat", "bob@agents", "bob@agents")]
    assert data["ok"] is True


def test_verify_archived_checks_the_histories_the_archive_keeps(team, make_clone, keys) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    mallory = signed_clone(make_clone, "mallory", keys["mallory"])
    ok(alice, "new", "m-live", "--title", "Live")
    ok(alice, "new", "m-old", "--title", "Old")
    ok(mallory, "claim", "m-old")
    ok(mallory, "done", "m-old")
    done_commit, claim_commit = tip(team, "m-old"), tip(team, "m-old", 1)
    ok(alice, "archive")
    assert git(team, "for-each-ref", "--format=%(refname)", "refs/missions/").stdout == "refs/missions/m-live\n"
    # without --archived: live missions only, and an archived id is named as such, with the way to check it
    assert ok(alice, "verify").stdout == "verified 1 commit of 1 mission: 0 not good\n"
    assert one_line(run_gitclaim(alice, "verify", "m-old"), 4) == (
        "gitclaim: mission 'm-old' is archived: check it with gitclaim verify --archived m-old")
    res = run_gitclaim(alice, "verify", "--archived")
    assert res.returncode == 11, res.stderr
    untrusted = f"untrusted (key {fingerprint(keys['mallory'])})"
    assert res.stdout.splitlines() == [f"m-old (archived) {claim_commit[:12]} claim {untrusted}",
                                       f"m-old (archived) {done_commit[:12]} complete {untrusted}",
                                       "verified 4 commits of 2 missions: 2 not good"]
    doc = json.loads(run_gitclaim(alice, "verify", "--archived", "--json").stdout)
    assert [(m["mission_id"], m["archived"], m["ok"]) for m in doc["missions"]] == [
        ("m-live", False, True), ("m-old", True, False)]
    assert one_line(run_gitclaim(alice, "verify", "--archived", "nosuch"), 4) == (
        "gitclaim: no mission 'nosuch' on remote 'origin' (live or archived)")
