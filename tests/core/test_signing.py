"""Signed claims (issue 15): commits gitclaim signs, what their signatures prove against the trust list on the
default branch, void claims where signing is required, fencing by principal, and an agent's identity kept by its
key across a new clone. Real keys, real ssh-keygen, real git verifying."""

from __future__ import annotations

from pathlib import Path

from gitclaim.core.claimsigs import claim_signatures
from gitclaim.core.trust import TRUST_FILE
from gitclaim.missions.workspace import open_store
from tests.helpers import git, ok, one_line, remote_mission, run_gitclaim
from tests.support.signing import commit_to_main, make_key, signed_clone, trust_line, use_key

REQUIRED = "signing:\n  required: true\n"


def states_of(clone: Path) -> dict[str, object]:
    store = open_store(clone)
    store.sync()
    states, _ = store.all()
    return {mid: sig for mid, sig in claim_signatures(store, states).items()}


def trailers(remote: Path, mission_id: str) -> str:
    return git(remote, "log", "-1", "--format=%B", f"refs/missions/{mission_id}").stdout


def test_claims_show_who_signed_them_against_the_trust_list(team, make_clone, keys, tmp_path) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    bob = signed_clone(make_clone, "bob", keys["bob"])
    mallory = signed_clone(make_clone, "mallory", keys["mallory"])
    plain = signed_clone(make_clone, "plain", None)
    for mid in ("m-a", "m-b", "m-m", "m-n"):
        ok(alice, "new", mid, "--title", f"Mission {mid}")
    ok(alice, "claim", "m-a")
    ok(bob, "claim", "m-b")
    ok(mallory, "claim", "m-m")
    ok(plain, "claim", "m-n")
    sigs = states_of(alice)
    assert {mid: (s.state, s.principal) for mid, s in sigs.items()} == {  # type: ignore[attr-defined]
        "m-a": ("good", "alice@agents"), "m-b": ("good", "bob@agents"), "m-m": ("untrusted", None),
        "m-n": ("none", None)}
    assert 'claim_principal: "alice@agents"' in remote_mission(team, "m-a")
    assert "claim_principal" not in remote_mission(team, "m-m")  # its key is in no trust list
    assert "Gitclaim-Principal: alice@agents" in trailers(team, "m-a")
    # git itself verifies what gitclaim signed in Python
    allowed = tmp_path / "allowed"
    allowed.write_text(trust_line("alice@agents", keys["alice"]))
    res = git(alice, "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", "refs/missions/m-a", check=False)
    assert res.returncode == 0 and 'Good "git" signature for alice@agents' in res.stderr, res.stderr


def test_a_broken_signature_is_bad_and_a_later_write_by_another_key_spoils_the_claim(team, make_clone, keys,
                                                                                    tmp_path) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    ok(alice, "new", "m1", "--title", "One")
    ok(alice, "new", "m2", "--title", "Two")
    ok(alice, "claim", "m1")
    ok(alice, "claim", "m2")
    # m1: the claim commit's message altered after signing, pushed with plain git
    raw = git(alice, "cat-file", "commit", "refs/missions/m1").stdout.replace("claim m1", "claim m1 (edited)")
    forged = git(alice, "hash-object", "-t", "commit", "-w", "--stdin", input=raw).stdout.strip()
    git(alice, "push", "-q", "--force", "origin", f"{forged}:refs/missions/m1")
    # m2: a holder write (same instance id) signed by bob's key
    use_key(alice, keys["bob"])
    ok(alice, "log", "m2", "bob writes as alice's holder")
    sigs = states_of(alice)
    assert sigs["m1"].state == "bad"  # type: ignore[attr-defined]
    assert (sigs["m2"].state, sigs["m2"].principal) == ("bad", "alice@agents")  # type: ignore[attr-defined]


def test_the_git_built_commit_is_signed_too(team, make_clone, keys) -> None:
    # A shared repository leaves object writing to git (core/objects.py): git signs the commit then.
    alice = signed_clone(make_clone, "alice", keys["alice"])
    git(alice, "config", "core.sharedRepository", "group")
    ok(alice, "new", "m1", "--title", "One")
    ok(alice, "claim", "m1")
    assert states_of(alice)["m1"].state == "good"  # type: ignore[attr-defined]


def test_required_signing_voids_an_unsigned_claim_which_a_signed_agent_takes_over(team, make_clone, keys,
                                                                                  tmp_path) -> None:
    plain = signed_clone(make_clone, "plain", None)  # cloned before signing was required: it writes unsigned
    ok(plain, "new", "m1", "--title", "One")
    ok(plain, "claim", "m1")
    commit_to_main(team, tmp_path / "admin", {".gitclaim.yaml": REQUIRED})
    alice = signed_clone(make_clone, "alice", keys["alice"])
    refused = one_line(run_gitclaim(alice, "claim", "m1"), 3)
    assert refused.endswith("its claim is unsigned, and this repository requires signed claims, so it is void: "
                            "take it over with gitclaim claim m1 --steal"), refused
    ok(alice, "claim", "m1", "--steal")
    msg = trailers(team, "m1")
    assert "Gitclaim-Action: takeover" in msg and "Gitclaim-Takeover: steal" in msg
    assert "Gitclaim-Void-Claim: none" in msg and "Gitclaim-Principal: alice@agents" in msg
    assert states_of(alice)["m1"].state == "good"  # type: ignore[attr-defined]
    assert "**STOLEN (void claim: unsigned)** by session" in ok(alice, "show", "m1").stdout
    # a live, good claim is not void: bob's steal is refused as for any live claim
    bob = signed_clone(make_clone, "bob", keys["bob"])
    assert "the claim is live, not stale" in one_line(run_gitclaim(bob, "claim", "m1", "--steal"), 3)


def test_required_signing_refuses_writers_without_a_trusted_key(team, make_clone, keys, tmp_path) -> None:
    commit_to_main(team, tmp_path / "admin", {".gitclaim.yaml": REQUIRED})
    plain = signed_clone(make_clone, "plain", None)
    mallory = signed_clone(make_clone, "mallory", keys["mallory"])
    before = git(team, "for-each-ref", "refs/missions/").stdout
    line = one_line(run_gitclaim(plain, "new", "m1", "--title", "One"), 11)
    assert line == ("gitclaim: this repository requires signed mission commits (.gitclaim.yaml signing.required) "
                    "and this clone has no signing key: set one up with gitclaim init --signing-key FILE "
                    "(docs/signing.md)")
    alice = signed_clone(make_clone, "alice", keys["alice"])
    ok(alice, "new", "m1", "--title", "One")
    line = one_line(run_gitclaim(mallory, "claim", "m1"), 11)
    assert line.startswith("gitclaim: cannot claim mission m1: this repository requires signed claims and this "
                           f"clone's key ({keys['mallory']}) is not in the trust list {TRUST_FILE}"), line
    assert git(team, "for-each-ref", "refs/missions/").stdout != before  # only alice's mission was written
    assert 'status: "QUEUED"' in remote_mission(team, "m1")


def test_required_signing_fences_a_holder_write_by_another_principal(team, make_clone, keys, tmp_path) -> None:
    commit_to_main(team, tmp_path / "admin", {".gitclaim.yaml": REQUIRED})
    alice = signed_clone(make_clone, "alice", keys["alice"])
    ok(alice, "new", "m1", "--title", "One")
    ok(alice, "claim", "m1")
    instance = git(alice, "config", "gitclaim.instance").stdout.strip()
    bob = signed_clone(make_clone, "bob", keys["bob"])
    tip = git(team, "rev-parse", "refs/missions/m1").stdout
    line = one_line(run_gitclaim(bob, "log", "m1", "pretending", env={"GITCLAIM_INSTANCE": instance}), 3)
    assert line == ("gitclaim: cannot log on mission m1: its claim was made by principal alice@agents and this "
                    "clone signs as principal bob@agents; only the claim's principal may write to it")
    assert git(team, "rev-parse", "refs/missions/m1").stdout == tip


def test_an_agent_that_reclones_with_its_key_resumes_its_claims(team, make_clone, keys) -> None:
    first = signed_clone(make_clone, "first", keys["alice"])
    ok(first, "new", "m1", "--title", "One")
    ok(first, "claim", "m1")
    again = signed_clone(make_clone, "again", keys["alice"])  # a new clone: a new instance id, the same key
    out = ok(again, "claim", "m1").stdout
    assert "resumed" in out or "claimed" in out, out
    msg = trailers(team, "m1")
    assert "chore(mission): resume m1" in msg and "Gitclaim-Action: resume" in msg and "Takeover" not in msg
    mission = remote_mission(team, "m1")
    assert "claim_epoch: 2" in mission
    first_instance = git(first, "config", "gitclaim.instance").stdout.strip()
    assert f"by the same principal from instance {first_instance} (epoch 2)" in ok(again, "show", "m1").stdout
    assert git(again, "config", "gitclaim.instance").stdout.strip() in mission
    # the old clone no longer holds it
    assert "you no longer hold it" in one_line(run_gitclaim(first, "log", "m1", "late"), 3)
    ok(again, "release", "m1")  # a released mission names no principal: nobody holds it
    assert "claim_principal" not in remote_mission(team, "m1")
    ok(again, "claim", "m1")
    ok(again, "done", "m1", "--summary", "finished after a new clone")


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def test_the_archive_commit_is_signed_like_the_missions(team, make_clone, keys) -> None:
    alice = signed_clone(make_clone, "alice", keys["alice"])
    ok(alice, "new", "m1", "--title", "One")
    ok(alice, "claim", "m1")
    ok(alice, "done", "m1", "--summary", "finished")
    ok(alice, "archive", "--older-than", "0s")
    raw = git(team, "cat-file", "commit", "refs/gitclaim/archive").stdout
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in raw
    # The link commit below it is not signed: the signature covers it, as the archive commit names it by hash.
    link = git(team, "cat-file", "commit", "refs/gitclaim/archive^").stdout
    assert "gpgsig" not in link and link.startswith(f"tree {EMPTY_TREE}\n")  # a first run's links: no archive yet


def test_a_principal_written_into_an_unsigned_claim_does_not_make_it_resumable(team, make_clone, keys) -> None:
    plain = signed_clone(make_clone, "plain", None)
    ok(plain, "new", "m1", "--title", "One")
    ok(plain, "claim", "m1")
    # mission.md now names alice as the claim's principal, written with plain git and unsigned
    text = git(plain, "show", "refs/missions/m1:mission.md").stdout
    text = text.replace('claim_epoch: 1\n', 'claim_epoch: 1\nclaim_principal: "alice@agents"\n')
    blob = git(plain, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(plain, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    tip = git(plain, "rev-parse", "refs/missions/m1").stdout.strip()
    forged = git(plain, "commit-tree", tree, "-p", tip, "-m",
                 "chore(mission): log note on m1\n\nGitclaim-Action: log\nGitclaim-Epoch: 1\n").stdout.strip()
    git(plain, "push", "-q", f"--force-with-lease=refs/missions/m1:{tip}", "origin", f"{forged}:refs/missions/m1")
    alice = signed_clone(make_clone, "alice", keys["alice"])
    line = one_line(run_gitclaim(alice, "claim", "m1"), 3)
    assert line.startswith("gitclaim: mission m1 is held by"), line
    assert git(team, "rev-parse", "refs/missions/m1").stdout.strip() == forged


def test_a_change_of_the_trust_list_keeps_the_results_it_cannot_alter(team, make_clone, keys, tmp_path) -> None:
    from gitclaim.core import git as g
    from gitclaim.core import trust

    alice = signed_clone(make_clone, "alice", keys["alice"])
    mallory = signed_clone(make_clone, "mallory", keys["mallory"])
    plain = signed_clone(make_clone, "plain", None)
    for clone, mid in ((alice, "m-a"), (mallory, "m-m"), (plain, "m-n")):
        ok(clone, "new", mid, "--title", mid)
        ok(clone, "claim", mid)
    store = open_store(alice)
    store.sync()
    tips = [oid for _, oid in store.ids()]
    first = trust.verified(store.git, store.trust(), store.state_dir, tips)
    assert sorted(s.state for s in first) == ["good", "none", "untrusted"]
    # The list changes (carol's key is added, alice renamed); git can no longer check anything in this process:
    # what the change cannot alter must come from the kept results, and nothing else may pass as good.
    carol = make_key(tmp_path / "keys", "carol")
    commit_to_main(team, tmp_path / "admin", {TRUST_FILE: trust_line("alice@team", keys["alice"])
                                              + trust_line("carol@agents", carol)})
    git(alice, "fetch", "-q", "origin")
    broken = g.Git(alice, env={"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "gpg.ssh.program",
                               "GIT_CONFIG_VALUE_0": "/bin/false"})
    new_trust = trust.load(broken, "origin", False)
    assert new_trust.version != store.trust().version
    again = dict(zip(tips, trust.verified(broken, new_trust, store.state_dir, tips), strict=True))
    assert sorted((s.state, s.principal) for s in again.values()) == [
        ("good", "alice@team"), ("none", None), ("untrusted", None)]
    # a key the new list names with options is checked again by git (here: cannot be, so not good)
    commit_to_main(team, tmp_path / "admin", {TRUST_FILE: 'alice@team valid-after="20200101" '
                                              + " ".join(trust_line("x", keys["alice"]).split()[1:]) + "\n"})
    git(alice, "fetch", "-q", "origin")
    limited = trust.load(broken, "origin", False)
    states = sorted(s.state for s in trust.verified(broken, limited, store.state_dir, tips))
    assert "good" not in states, states


def test_the_kept_claim_states_stay_the_size_of_the_queue(team, make_clone, keys) -> None:
    import json

    alice = signed_clone(make_clone, "alice", keys["alice"])
    for mid in ("m1", "m2"):
        ok(alice, "new", mid, "--title", mid)
        ok(alice, "claim", mid)
    kept = alice / ".git" / "gitclaim" / "claims"
    for _ in range(3):
        ok(alice, "log", "m1", "progress")  # the tip moves: the state kept for the old tip is of no use
        ok(alice, "list", "--json")
        tips = {git(alice, "rev-parse", f"refs/missions/{mid}").stdout.strip() for mid in ("m1", "m2")}
        assert set(json.loads(kept.read_text())["entries"]) == tips
    ok(alice, "list", "--status", "ACTIVE", "--json")  # a filtered listing keeps what it did not look at
    ok(alice, "board", "--json")
    assert set(json.loads(kept.read_text())["entries"]) == tips


def test_the_per_commit_results_are_bounded_and_the_oldest_go_first(tmp_path: Path) -> None:
    from gitclaim.core.trust import GOOD, NONE, Signature, SignatureCache

    path = tmp_path / "signatures"
    cache = SignatureCache(path, "v1")
    for n in range(7):
        cache.put(f"{n:040x}", Signature(NONE) if n % 2 else Signature(GOOD, "alice", "SHA256:k"))
    cache.save(limit=5)
    again = SignatureCache(path, "v1")
    assert list(again.entries) == [f"{n:040x}" for n in range(2, 7)]
    assert again.get(f"{6:040x}") == Signature(GOOD, "alice", "SHA256:k")
    assert again.get(f"{1:040x}") is None  # dropped: checked by git again when it is next wanted
