"""The guard with signed claims (docs/server-guard.md, "Signed claims"): a real bare remote with the guard as its
pre-receive hook, real ssh keys, a trust list and `signing.required` committed on main through that same guard,
pushes by gitclaim and by plain git. Each refusal: the push fails, the ref stays, one line says why and what to do.
Without the requirement the guard only adds one thing: a resume stands when the same principal signed it."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitclaim.core import mission as m
from gitclaim.core.trust import BAD, GOOD, NONE, Signature
from gitclaim.server import rules
from gitclaim.server.signed import Proof
from tests.helpers import git, remote_mission, run_gitclaim
from tests.server.test_guard import (
    REF,
    assert_refused,
    hook_runs_this_gitclaim,  # noqa: F401  (autouse: the hook runs the gitclaim under test)
    instance,
    message,
    ok,
    push,
    set_fields,
    tip,
)
from tests.support.signing import commit_to_main, fingerprint, trust_line, use_key

REQUIRED = "signing:\n  required: true\n"
NEEDS = "this repository requires signed mission commits (.gitclaim.yaml signing.required)"


@pytest.fixture
def team(bare_remote: Path, tmp_path: Path, keys: dict[str, Path]) -> Path:
    """The remote, with the guard as its pre-receive hook; its main branch trusts alice and bob (not mallory)."""
    remote = bare_remote
    ok(run_gitclaim(tmp_path, "guard", "install", str(remote)))
    commit_to_main(remote, tmp_path / "admin", {
        ".gitclaim/allowed_signers": trust_line("alice@agents", keys["alice"]) + trust_line("bob@agents", keys["bob"])})
    return remote


def require_signing(remote: Path, tmp_path: Path) -> None:
    commit_to_main(remote, tmp_path / "admin", {".gitclaim.yaml": REQUIRED}, "chore: require signed claims")


def clone_with(make_clone: Callable[..., Path], name: str, key: Path | None) -> Path:
    clone = make_clone(name)
    if key is not None:
        use_key(clone, key)
    return clone


def with_principal(text: str, principal: str) -> str:
    """mission.md naming `principal` as the claim's (a sparse field: added after claim_epoch when absent)."""
    if "claim_principal:" in text:
        return set_fields(text, claim_principal=principal)
    return re.sub(r"^(claim_epoch: .*)$", rf'\1\nclaim_principal: "{principal}"', text, count=1, flags=re.M)


def forge(clone: Path, text: str, msg: str, parents: list[str], key: Path | None,
          when: datetime | None = None) -> str:
    """A mission commit made with plain git, signed by `key` the way git signs (`commit-tree -S`)."""
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=clone, input=text.encode(), check=True,
                          capture_output=True).stdout.decode().strip()
    tree = git(clone, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    sign = ["-c", "gpg.format=ssh", "-c", f"user.signingKey={key}"] if key else []
    args = ["git", *sign, "commit-tree", tree, *(["-S"] if key else [])]
    for parent in parents:
        args += ["-p", parent]
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    res = subprocess.run(args, cwd=clone, input=msg, text=True, capture_output=True, env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def refused_line(res: subprocess.CompletedProcess[str], mission_id: str) -> str:
    """A gitclaim write the guard refused: exit 6, one line, the guard's reason after the client's words."""
    assert res.returncode == 6, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    head = (f"gitclaim: mission {mission_id}: remote 'origin' refused the push: gitclaim-guard: "
            f"refs/missions/{mission_id}: refused: ")
    assert lines[0].startswith(head), lines[0]
    return re.sub(r"\b[0-9a-f]{12}\b", "<commit>", lines[0][len(head):])


# ---- the requirement --------------------------------------------------------------------------------------

def test_required_signing_refuses_unsigned_untrusted_and_bad_mission_commits(team: Path, make_clone, keys,
                                                                             tmp_path: Path) -> None:
    plain = clone_with(make_clone, "plain", None)  # cloned before the requirement: it writes unsigned
    alice = clone_with(make_clone, "alice", keys["alice"])
    require_signing(team, tmp_path)
    mallory = clone_with(make_clone, "mallory", keys["mallory"])  # a key, but not one of the trust list
    # gitclaim's own pushes
    assert refused_line(run_gitclaim(plain, "new", "m1", "--title", "One"), "m1") == (
        f"commit <commit> is unsigned, and {NEEDS}: set up a signing key with gitclaim init --signing-key FILE "
        "and write it with gitclaim (docs/signing.md)")
    assert refused_line(run_gitclaim(mallory, "new", "m1", "--title", "One"), "m1") == (
        f"commit <commit> is signed by key {fingerprint(keys['mallory'])}, which is not in the trust list "
        f".gitclaim/allowed_signers at the server's HEAD, and {NEEDS}: add the key's line to "
        ".gitclaim/allowed_signers on the default branch (docs/signing.md)")
    assert tip(team) is None
    ok(run_gitclaim(alice, "new", "m1", "--title", "One"))
    ok(run_gitclaim(alice, "claim", "m1"))
    before, text, inst = tip(team), remote_mission(team, "m1"), instance(alice)
    assert before is not None
    # plain git: an unsigned holder write, and one whose signature no longer matches its message
    unsigned = forge(alice, text, message("chore(mission): heartbeat m1", "heartbeat", inst, epoch="1"), [before],
                     None)
    line = assert_refused(push(alice, unsigned, REF), team, REF, before)
    assert line == (f"gitclaim-guard: {REF}: refused: commit {unsigned[:12]} is unsigned, and {NEEDS}: set up a "
                    "signing key with gitclaim init --signing-key FILE and write it with gitclaim (docs/signing.md)")
    signed = forge(alice, text, message("chore(mission): heartbeat m1", "heartbeat", inst, epoch="1"), [before],
                   keys["alice"])
    raw = git(alice, "cat-file", "commit", signed).stdout.replace("heartbeat m1", "heartbeat m1 (edited)", 1)
    broken = git(alice, "hash-object", "-t", "commit", "-w", "--stdin", input=raw).stdout.strip()
    line = assert_refused(push(alice, broken, REF), team, REF, before)
    assert line == (f"gitclaim-guard: {REF}: refused: commit {broken[:12]} has a signature that does not verify "
                    f"(the commit was changed after signing, or its key is revoked), and {NEEDS}: write it again with gitclaim from a clone whose key is in the trust "
                    "list (docs/signing.md)")
    # the signed lifecycle passes, the signed plain-git write too
    ok(push(alice, signed, REF))
    ok(run_gitclaim(alice, "log", "m1", "wrote the parser"))
    ok(run_gitclaim(alice, "done", "m1", "--summary", "shipped"))
    assert 'status: "DONE"' in remote_mission(team, "m1")


def test_required_signing_fences_claims_and_holder_writes_by_principal(team: Path, make_clone, keys,
                                                                       tmp_path: Path) -> None:
    require_signing(team, tmp_path)
    alice = clone_with(make_clone, "alice", keys["alice"])
    ok(run_gitclaim(alice, "new", "m1", "--title", "One"))
    ok(run_gitclaim(alice, "new", "m2", "--title", "Two"))
    ok(run_gitclaim(alice, "claim", "m1"))
    bob = clone_with(make_clone, "bob", keys["bob"])
    before, text = tip(team), remote_mission(team, "m1")
    assert before is not None
    holder = m.parse(text.encode(), "m1").holder_text()
    # bob's key writes as alice's holder (her instance id is no secret)
    forged = forge(bob, text, message("chore(mission): log note on m1", "log", instance(alice), body="mine now",
                                      epoch="1"), [before], keys["bob"])
    line = assert_refused(push(bob, forged, REF), team, REF, before)
    assert line == (f"gitclaim-guard: {REF}: refused: commit {forged[:12]}: it writes to the claim of {holder} "
                    "(epoch 1), made by principal alice@agents, but is signed by bob@agents: only the claim's "
                    "principal writes to it (fencing by principal); take other work: gitclaim next")
    # bob unblocks alice's mission and hands her claim to his own key on the way
    ok(run_gitclaim(alice, "log", "m1", "which database?", "--kind", "issue", "--needs-human"))
    blocked, text = tip(team), remote_mission(team, "m1")
    assert blocked is not None
    git(bob, "fetch", "-q", "origin", REF)
    handed = with_principal(set_fields(text, status="ACTIVE", blocked_reason=None), "bob@agents")
    forged = forge(bob, handed, message("chore(mission): unblock m1", "unblock", "b0b0b0b0b0b0", epoch="1"),
                   [blocked], keys["bob"])
    line = assert_refused(push(bob, forged, REF), team, REF, blocked)
    assert line == (f"gitclaim-guard: {REF}: refused: commit {forged[:12]}: it changes claim_principal from "
                    "alice@agents to bob@agents without a new epoch: only a claim, a takeover or a resume records "
                    "the claim's principal")
    ok(run_gitclaim(bob, "unblock", "m1", "--note", "use sqlite"))  # an honest unblock, by anyone
    before, text = tip(team), remote_mission(team, "m1")
    assert before is not None
    # bob "takes over" alice's live, good claim as if it were void
    taken = with_principal(set_fields(text, claim_instance="b0b0b0b0b0b0", claim_epoch=2), "bob@agents")
    forged = forge(bob, taken, message("chore(mission): take over m1", "takeover", "b0b0b0b0b0b0", epoch="2",
                                       takeover="steal", void_claim="none", principal="bob@agents"),
                   [before], keys["bob"])
    line = assert_refused(push(bob, forged, REF), team, REF, before)
    assert line.startswith(f"gitclaim-guard: {REF}: refused: commit {forged[:12]}: it steals the live claim of "
                           f"{holder} (epoch 1): last active "), line
    assert line.endswith("and the lease is 1d0h; it takes the claim over as void (Gitclaim-Void-Claim: none), but "
                         "that claim is signed good by alice@agents: a good claim is not void; a steal needs a stale "
                         "claim (the claim is live: leave it to its holder and take other work: gitclaim next)"), line
    # bob claims m2 in alice's name
    ref2, before2 = "refs/missions/m2", tip(team, "refs/missions/m2")
    assert before2 is not None
    claimed = with_principal(set_fields(remote_mission(team, "m2"), status="ACTIVE", claim_instance="b0b0b0b0b0b0",
                                        claim_epoch=1), "alice@agents")
    forged = forge(bob, claimed, message("chore(mission): claim m2", "claim", "b0b0b0b0b0b0", epoch="1"), [before2],
                   keys["bob"])
    line = assert_refused(push(bob, forged, ref2), team, ref2, before2)
    assert line == (f"gitclaim-guard: {ref2}: refused: commit {forged[:12]}: the claim records claim_principal "
                    "alice@agents, but the commit is signed by bob@agents: a claim records the principal of the key "
                    "that signs it (write it with gitclaim)")
    # alice in a new clone, with her key: a resume, accepted
    again = clone_with(make_clone, "again", keys["alice"])
    ok(run_gitclaim(again, "claim", "m1"))
    assert "Gitclaim-Action: resume" in git(team, "log", "-1", "--format=%B", REF).stdout
    ok(run_gitclaim(again, "log", "m1", "back at it"))


def test_required_signing_lets_a_void_claim_be_taken_over_at_once(team: Path, make_clone, keys,
                                                                  tmp_path: Path) -> None:
    plain = clone_with(make_clone, "plain", None)
    ok(run_gitclaim(plain, "new", "m1", "--title", "One"))
    ok(run_gitclaim(plain, "claim", "m1"))  # unsigned, before the requirement: the guard let it in then
    require_signing(team, tmp_path)
    alice = clone_with(make_clone, "alice", keys["alice"])
    ok(run_gitclaim(alice, "claim", "m1", "--steal"))
    msg = git(team, "log", "-1", "--format=%B", REF).stdout
    assert "Gitclaim-Takeover: steal" in msg and "Gitclaim-Void-Claim: none" in msg
    assert f'claim_instance: "{instance(alice)}"' in remote_mission(team, "m1")
    # the former holder's unsigned write, pushed with plain git on top of the takeover, is refused
    before = tip(team)
    assert before is not None
    git(plain, "fetch", "-q", "origin", REF)
    late = forge(plain, remote_mission(team, "m1"), message("chore(mission): heartbeat m1", "heartbeat",
                                                            instance(plain), epoch="1"), [before], None)
    line = assert_refused(push(plain, late, REF), team, REF, before)
    assert line.startswith(f"gitclaim-guard: {REF}: refused: commit {late[:12]} is unsigned, and {NEEDS}"), line


# ---- without the requirement: a resume must be the same principal ------------------------------------------

def test_a_resume_stands_only_when_one_principal_signed_the_claim_and_the_resume(team: Path, make_clone,
                                                                               keys) -> None:
    first = clone_with(make_clone, "first", keys["alice"])
    ok(run_gitclaim(first, "new", "m1", "--title", "One"))
    ok(run_gitclaim(first, "claim", "m1"))
    again = clone_with(make_clone, "again", keys["alice"])  # a new clone, a new instance id, the same key
    ok(run_gitclaim(again, "claim", "m1"))
    assert "Gitclaim-Action: resume" in git(team, "log", "-1", "--format=%B", REF).stdout
    before, text = tip(team), remote_mission(team, "m1")
    assert before is not None
    holder = m.parse(text.encode(), "m1").holder_text()
    mallory = clone_with(make_clone, "mallory", keys["mallory"])
    resumed = set_fields(text, claim_instance="0d0d0d0d0d0d", claim_epoch=3)
    msg = message("chore(mission): resume m1", "resume", "0d0d0d0d0d0d", epoch="3", principal="alice@agents",
                  previous_instance=instance(again), previous_epoch="2")
    head = f"gitclaim-guard: {REF}: refused: commit "
    for key, why in ((keys["mallory"], "the resume is signed by a key not in the trust list"),
                     (None, "the resume is unsigned")):
        forged = forge(mallory, resumed, msg, [before], key)
        line = assert_refused(push(mallory, forged, REF), team, REF, before)
        assert line.startswith(f"{head}{forged[:12]}: it resumes the live claim of {holder} (epoch 2): last "
                               "active "), line
        assert line.endswith(f"and the lease is 1d0h, but {why}: a resume needs the claim and the resume signed "
                             "good by one principal of the trust list, anything else is a takeover (leave the claim "
                             "to its holder and take other work: gitclaim next)"), line
    ok(run_gitclaim(again, "done", "m1"))


# ---- the rules on their own -------------------------------------------------------------------------------

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=1)
ALICE = Signature(GOOD, "alice@agents", "SHA256:a")


def _held(**changes: object) -> m.Mission:
    base = m.Mission(mission_id="m1", title="One", status=m.ACTIVE, claim_instance="aaaa", claim_epoch=1,
                     claimed_at="2026-01-02T11:59:00Z", last_activity="2026-01-02T11:59:00Z",
                     claim_principal="alice@agents")
    return base.evolve(**changes)


@pytest.mark.parametrize(("proof", "idle", "kind"), [
    pytest.param(Proof(False, ALICE, ALICE), 0, "resume", id="same-principal"),
    pytest.param(Proof(False, ALICE, Signature(NONE)), 0, None, id="claim-unsigned-live"),
    pytest.param(Proof(False, ALICE, Signature(NONE)), 2, "takeover", id="claim-unsigned-stale"),
    pytest.param(Proof(True, ALICE, Signature(BAD, None, "SHA256:x")), 0, "takeover", id="claim-bad-required"),
    pytest.param(Proof(False, Signature(GOOD, "bob@agents"), ALICE), 0, None, id="other-principal"),
    pytest.param(None, 0, None, id="not-checked"),
])
def test_judge_step_resume(proof: Proof | None, idle: int, kind: str | None) -> None:
    prev = _held(last_activity=(NOW - timedelta(hours=idle, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    new = prev.evolve(claim_instance="bbbb", claim_epoch=2)
    trailers = {"action": "resume", "instance": "bbbb", "epoch": "2", "previous-instance": "aaaa",
                "previous-epoch": "1", "principal": "alice@agents"}
    step = rules.judge_step(prev, new, trailers, "", NOW, TTL, proof)
    assert step.kind == (kind or "refused"), step


def test_a_resume_keeps_a_blocked_mission_blocked() -> None:
    prev = _held(status=m.BLOCKED, blocked_reason="waiting")
    trailers = {"action": "resume", "instance": "bbbb", "epoch": "2"}
    proof = Proof(False, ALICE, ALICE)
    assert rules.judge_step(prev, prev.evolve(claim_instance="bbbb", claim_epoch=2), trailers, "", NOW, TTL,
                            proof).kind == "resume"
    step = rules.judge_step(prev, prev.evolve(claim_instance="bbbb", claim_epoch=2, status=m.ACTIVE,
                                              blocked_reason=None), trailers, "", NOW, TTL, proof)
    assert step.problem == "a resume (epoch 1 -> 2) keeps the mission BLOCKED, not ACTIVE"


def test_a_migration_brings_its_old_unsigned_history_into_a_namespace_that_requires_signing(
        team: Path, make_clone, keys, tmp_path: Path) -> None:
    plain = clone_with(make_clone, "plain", None)
    ok(run_gitclaim(plain, "new", "one", "--title", "One"))
    ok(run_gitclaim(plain, "claim", "one"))  # unsigned, before the requirement
    alice = clone_with(make_clone, "alice", keys["alice"])
    ns = "refs/heads/missions"
    # The new namespace, where signing is required, is committed first; alice's checkout is older: she moves
    # the missions, history and all, into a namespace the guard already judges.
    commit_to_main(team, tmp_path / "admin", {".gitclaim.yaml": f"namespace: {ns}\n{REQUIRED}"},
                   "chore: missions on branches, signed")
    history = git(team, "log", "--format=%H", "refs/missions/one").stdout
    ok(run_gitclaim(alice, "migrate", "--to", ns))
    assert git(team, "log", "--format=%H", f"{ns}/one").stdout == history
    # what is new in the namespace is judged: an unsigned write on top of the old history is refused
    before = tip(team, f"{ns}/one")
    assert before is not None
    git(plain, "fetch", "-q", "origin", f"{ns}/one")
    text = git(team, "show", f"{ns}/one:mission.md").stdout
    late = forge(plain, text, message(
        "chore(mission): heartbeat one", "heartbeat", instance(plain), epoch="1"), [before], None)
    line = assert_refused(push(plain, late, f"{ns}/one"), team, f"{ns}/one", before)
    assert line.startswith(f"gitclaim-guard: {ns}/one: refused: commit {late[:12]} is unsigned"), line


@pytest.mark.parametrize(("proof", "kind", "why"), [
    pytest.param(Proof(True, ALICE, Signature(NONE)), "takeover", None, id="void-unsigned"),
    pytest.param(Proof(True, ALICE, Signature(BAD, "bob@agents", "SHA256:b")), "takeover", None, id="void-bad"),
    pytest.param(Proof(True, ALICE, Signature(GOOD, "bob@agents", "SHA256:b")), None,
                 "it takes the claim over as void (Gitclaim-Void-Claim: none), but that claim is signed good by "
                 "bob@agents: a good claim is not void", id="good-is-not-void"),
    pytest.param(Proof(False, ALICE, Signature(NONE)), None, "a claim is void only where signing is required",
                 id="not-required"),
])
def test_judge_step_void_takeover(proof: Proof, kind: str | None, why: str | None) -> None:
    prev = _held(claim_principal="bob@agents")
    new = prev.evolve(claim_instance="cccc", claim_epoch=2, claim_principal="alice@agents")
    trailers = {"action": "takeover", "instance": "cccc", "epoch": "2", "takeover": "steal", "void-claim": "none"}
    step = rules.judge_step(prev, new, trailers, "", NOW, TTL, proof)
    assert step.kind == (kind or "refused"), step
    if why:
        assert f"; {why}; a steal needs a stale claim" in str(step.problem), step.problem


def test_a_bound_pusher_resumes_only_in_its_own_name() -> None:
    prev = _held(claim_user="alice")
    new = prev.evolve(claim_instance="bbbb", claim_epoch=2, claim_user="alice")
    step = rules.Step("resume")
    assert rules.judge_pusher(step, prev, new, "alice", "GL_USER") is None
    assert rules.judge_pusher(step, prev, new, "bob", "GL_USER") == (
        "the claim is recorded for claim_user 'alice', but 'bob' pushes it: this server requires claims in the "
        "pushing user's name (set the git user name to 'bob')")
