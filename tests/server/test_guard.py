"""The server guard: a real bare remote with `gitclaim guard install`, forged pushes made with plain git
plumbing (each refused, the remote ref unchanged, one refusal line), and gitclaim's own commands still accepted.
The state machine's table is also checked directly on `judge_step`, without git."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitclaim.core import mission as m
from gitclaim.core.git import Commit
from gitclaim.core.settings import Settings
from gitclaim.errors import InvalidInput
from gitclaim.hooks.install import GUARD_HOOK_ID
from gitclaim.server import guard, rules
from gitclaim.server.push import PushedCommit, ReceivedUpdate, parse_updates
from tests.helpers import ROOT, git, remote_mission, remote_refs, run_gitclaim

REF = "refs/missions/m1"
OTHER = "b0b0b0b0b0b0"  # another agent's instance id, for commits forged in clone a


# ---- helpers ------------------------------------------------------------------------------------------------

def ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res


def instance(clone: Path) -> str:
    return git(clone, "config", "gitclaim.instance").stdout.strip()


def guard_lines(stderr: str) -> list[str]:
    return [ln.split("remote: ", 1)[1].strip() for ln in stderr.splitlines()
            if ln.startswith("remote: ") and "gitclaim-guard:" in ln]


def assert_refused(res: subprocess.CompletedProcess[str], remote: Path, ref: str, before: str | None,
                   *fragments: str) -> str:
    """The push failed, the remote ref did not move, and exactly one guard line names the ref and the why."""
    assert res.returncode != 0, f"push was accepted:\n{res.stdout}\n{res.stderr}"
    assert remote_refs(remote, ref).get(ref) == before
    lines = guard_lines(res.stderr)
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"gitclaim-guard: {ref}: refused: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def push(clone: Path, src: str, ref: str, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", *args, "origin", f"{src}:{ref}"], cwd=clone, text=True,
                          capture_output=True, env={**os.environ, **(env or {})})


def set_fields(text: str, **fields: object) -> str:
    """mission.md with some frontmatter lines replaced (gitclaim writes one `key: <JSON>` line per field)."""
    for key, value in fields.items():
        text, count = re.subn(rf"^{key}: .*$", f"{key}: {json.dumps(value)}", text, count=1, flags=re.M)
        assert count == 1, key
    return text


def message(subject: str, action: str, inst: str, *, body: str = "", **trailers: str) -> str:
    lines = [subject, ""] + ([body, ""] if body else [])
    lines += [f"Gitclaim-Action: {action}", f"Gitclaim-Instance: {inst}"]
    lines += [f"Gitclaim-{key.replace('_', '-').title()}: {value}" for key, value in trailers.items()]
    return "\n".join(lines) + "\n"


def forge(clone: Path, text: str | bytes, msg: str, parents: list[str], *, when: datetime | None = None,
          filename: str = "mission.md") -> str:
    """A commit made with plumbing, the way any git user could: blob, tree, commit-tree."""
    data = text.encode() if isinstance(text, str) else text
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=clone, input=data, check=True,
                          capture_output=True).stdout.decode().strip()
    tree = git(clone, "mktree", input=f"100644 blob {blob}\t{filename}\n").stdout.strip()
    args = ["git", "commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    return subprocess.run(args, cwd=clone, input=msg, text=True, check=True, capture_output=True,
                          env=env).stdout.strip()


def configure_server(remote: Path, tmp_path: Path, yaml_text: str, message_: str = "chore: configure gitclaim"
                     ) -> None:
    """Commit .gitclaim.yaml to the remote's default branch (HEAD), where the guard reads its settings."""
    work = tmp_path / f"config-{len(list(tmp_path.iterdir()))}"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    (work / ".gitclaim.yaml").write_text(yaml_text)
    git(work, "add", ".gitclaim.yaml")
    git(work, "commit", "-q", "-m", message_)
    ok(push(work, "HEAD", "refs/heads/main"))


@pytest.fixture(autouse=True)
def hook_runs_this_gitclaim(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook runs the gitclaim under test with the test's interpreter, whatever else is on PATH
    (test_hook_falls_back_to_python covers the hook's own search)."""
    wrapper = tmp_path_factory.mktemp("bin") / "gitclaim"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitclaim "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("GITCLAIM_BIN", str(wrapper))


@pytest.fixture
def remote(bare_remote: Path, tmp_path: Path) -> Path:
    res = run_gitclaim(tmp_path, "guard", "install", str(bare_remote))
    assert res.returncode == 0, res.stderr
    return bare_remote


@pytest.fixture
def held(remote: Path, make_clone: Callable[..., Path]) -> tuple[Path, Path]:
    """Mission m1 created and claimed (epoch 1) by clone a."""
    a = make_clone("a")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission"))
    ok(run_gitclaim(a, "claim", "m1"))
    return remote, a


@pytest.fixture
def held2(held: tuple[Path, Path], make_clone: Callable[..., Path]) -> tuple[Path, Path, Path]:
    """`held`, plus clone b: another agent with its own instance id."""
    return (*held, make_clone("b"))


def tip(remote: Path, ref: str = REF) -> str | None:
    return remote_refs(remote, ref).get(ref)


# ---- installing -------------------------------------------------------------------------------------------

def test_install_writes_the_packaged_hook_and_is_idempotent(bare_remote: Path, tmp_path: Path) -> None:
    first = ok(run_gitclaim(tmp_path, "guard", "install", str(bare_remote)))
    hook = bare_remote / "hooks" / "pre-receive"
    assert first.stdout == f"installed the gitclaim guard at {hook}\n"
    assert os.access(hook, os.X_OK)
    assert hook.read_text() == (ROOT / "hooks" / "pre-receive").read_text()
    again = ok(run_gitclaim(tmp_path, "guard", "install", str(bare_remote)))
    assert again.stdout == f"the gitclaim guard is already installed at {hook}\n"


def test_install_keeps_a_foreign_hook_which_runs_first(bare_remote: Path, tmp_path: Path,
                                                        make_clone: Callable[..., Path]) -> None:
    hook = bare_remote / "hooks" / "pre-receive"
    seen = tmp_path / "seen.txt"
    hook.write_text(f"#!/bin/sh\ncat >> {seen}\nexit 0\n")
    hook.chmod(0o755)
    res = ok(run_gitclaim(tmp_path, "guard", "install", str(bare_remote)))
    assert "(the existing hook was kept as pre-receive.legacy and runs first)" in res.stdout
    a = make_clone("a")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission"))
    assert seen.read_text().split()[2] == REF  # the legacy hook read the same input line
    # The foreign hook's refusal stands, whatever the guard thinks.
    (bare_remote / "hooks" / "pre-receive.legacy").write_text("#!/bin/sh\necho 'legacy says no' >&2\nexit 1\n")
    res = run_gitclaim(a, "new", "m2", "--title", "Second mission")
    assert res.returncode == 6
    assert "legacy says no" in res.stderr
    assert tip(bare_remote, "refs/missions/m2") is None


def test_install_refuses_to_lose_an_older_legacy_hook(bare_remote: Path, tmp_path: Path) -> None:
    hooks = bare_remote / "hooks"
    (hooks / "pre-receive").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "pre-receive.legacy").write_text("#!/bin/sh\nexit 0\n")
    res = run_gitclaim(tmp_path, "guard", "install", str(bare_remote))
    assert res.returncode == 3
    assert "pre-receive.legacy already exists" in res.stderr
    ok(run_gitclaim(tmp_path, "guard", "install", "--force", str(bare_remote)))
    assert (hooks / "pre-receive.legacy").read_text() == "#!/bin/sh\nexit 0\n"
    assert GUARD_HOOK_ID in (hooks / "pre-receive").read_text()


def test_install_uses_gitea_delegate_directory(bare_remote: Path, tmp_path: Path) -> None:
    (bare_remote / "hooks" / "pre-receive.d").mkdir()
    res = ok(run_gitclaim(tmp_path, "guard", "install", str(bare_remote)))
    hook = bare_remote / "hooks" / "pre-receive.d" / "gitclaim-guard"
    assert res.stdout == f"installed the gitclaim guard at {hook}\n"
    assert not (bare_remote / "hooks" / "pre-receive").exists()


def test_install_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "guard", "install", str(tmp_path))
    assert res.returncode == 2
    assert res.stderr.startswith("gitclaim: not a git repository")


# ---- gitclaim's own writes pass ----------------------------------------------------------------------------

def test_gitclaim_lifecycle_is_accepted(held2: tuple[Path, Path, Path]) -> None:
    remote, a, b = held2
    ok(run_gitclaim(a, "log", "m1", "wrote the parser"))
    ok(run_gitclaim(a, "heartbeat", "m1"))
    ok(run_gitclaim(a, "log", "m1", "which database?", "--kind", "issue", "--needs-human"))
    ok(run_gitclaim(a, "log", "m1", "still waiting"))  # the holder writes while BLOCKED
    ok(run_gitclaim(b, "unblock", "m1", "--note", "use sqlite"))  # anyone may unblock
    ok(run_gitclaim(a, "release", "m1"))
    ok(run_gitclaim(b, "claim", "m1"))
    ok(run_gitclaim(b, "done", "m1", "--summary", "parser shipped"))
    text = remote_mission(remote, "m1")
    assert '"DONE"' in text and "claim_epoch: 2" in text


def test_gitclaim_fail_and_force_takeover_are_accepted(held2: tuple[Path, Path, Path]) -> None:
    remote, _a, b = held2
    ok(run_gitclaim(b, "claim", "m1", "--force", "--reason", "a is on leave"))
    ok(run_gitclaim(b, "fail", "m1", "--summary", "upstream API is gone"))
    assert 'status: "FAILED"' in remote_mission(remote, "m1")


def test_steal_of_a_stale_claim_is_accepted(remote: Path, tmp_path: Path,
                                            make_clone: Callable[..., Path]) -> None:
    configure_server(remote, tmp_path, "lease_ttl: 1s\n")
    a, b = make_clone("a"), make_clone("b")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission"))
    ok(run_gitclaim(a, "claim", "m1"))
    time.sleep(2.2)
    ok(run_gitclaim(b, "claim", "m1", "--steal", env={"GITCLAIM_TTL": "1s"}))
    assert f'claim_instance: "{instance(b)}"' in remote_mission(remote, "m1")


def test_cli_write_refused_by_the_guard_exits_6_with_one_line(held2: tuple[Path, Path, Path]) -> None:
    # The client thinks a 1s lease is over; the server's lease is the default 24h, so the steal is refused.
    remote, _a, b = held2
    before = tip(remote)
    time.sleep(2.2)  # whole-second timestamps: idle must exceed the 1s client lease for sure
    res = run_gitclaim(b, "claim", "m1", "--steal", env={"GITCLAIM_TTL": "1s"})
    assert res.returncode == 6
    assert tip(remote) == before
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("gitclaim: mission m1: remote 'origin' refused the push: "
                               f"gitclaim-guard: {REF}: refused: commit ")
    assert "it steals the live claim of" in lines[0] and "the lease is 1d0h" in lines[0]


def test_cli_log_refused_for_the_servers_policy(remote: Path, tmp_path: Path,
                                                make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")  # cloned before the server's policy forbids "banana": its own check passes
    configure_server(remote, tmp_path, "policy:\n  extra_types: []\n  forbidden_terms: [banana]\n")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission"))
    ok(run_gitclaim(a, "claim", "m1"))
    res = run_gitclaim(a, "log", "m1", "baked banana bread")
    assert res.returncode == 6
    assert len(res.stderr.splitlines()) == 1
    assert "refused: commit " in res.stderr and "it breaks the commit policy" in res.stderr
    assert 'line 3: forbidden-term: "banana"' in res.stderr


def test_plain_git_may_push_several_good_commits_at_once(held: tuple[Path, Path]) -> None:
    remote, a = held
    old, inst = tip(remote), instance(a)
    text = remote_mission(remote, "m1")
    first = forge(a, set_fields(text, status="BLOCKED", blocked_reason="need a decision"),
                  message("chore(mission): log issue on m1", "log", inst, body="need a decision", epoch="1",
                          kind="issue", needs_human="yes"), [old])
    second = forge(a, text, message("chore(mission): unblock m1", "unblock", inst, epoch="1"), [first])
    ok(push(a, second, REF))
    assert tip(remote) == second


# ---- forged pushes are refused -----------------------------------------------------------------------------

def test_deleting_a_mission_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    assert_refused(push(a, "", REF), remote, REF, before, "deleting a mission is refused", "gitclaim archive")


def test_rewriting_history_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    parent = git(a, "rev-parse", f"{before}^").stdout.strip()
    text = remote_mission(remote, "m1")
    sibling = forge(a, text, message("chore(mission): claim m1", "claim", instance(a), epoch="1"), [parent])
    assert_refused(push(a, sibling, REF, "--force"), remote, REF, before, "non-fast-forward",
                   f"does not extend the current tip {before[:12]}")
    rewind = push(a, parent, REF, "--force")
    assert_refused(rewind, remote, REF, before, "non-fast-forward")


@pytest.mark.parametrize(("subject", "action", "takeover", "expected"), [
    pytest.param("chore(mission): take over m1", "takeover", "steal",
                 ("it steals the live claim of", "the lease is 1d0h"), id="steal-of-a-live-claim"),
    pytest.param("chore(mission): claim m1", "claim", None,
                 ("it claims a mission held by", "only a takeover replaces a holder"), id="claim-over-a-holder"),
    pytest.param("chore(mission): take over m1", "takeover", "force", ("without a reason",),
                 id="force-takeover-without-reason"),
])
def test_taking_a_held_mission_is_refused(held: tuple[Path, Path], subject: str, action: str, takeover: str | None,
                                          expected: tuple[str, ...]) -> None:
    remote, a = held
    before, inst = tip(remote), OTHER
    text = set_fields(remote_mission(remote, "m1"), claim_instance=inst, claim_epoch=2)
    trailers = {"takeover": takeover} if takeover else {}
    forged = forge(a, text, message(subject, action, inst, epoch="2", **trailers), [before])
    assert_refused(push(a, forged, REF), remote, REF, before, *expected)


def test_write_by_a_non_holder_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    forged = forge(a, remote_mission(remote, "m1"),
                   message("chore(mission): log note on m1", "log", OTHER, body="hi", epoch="1"), [before])
    assert_refused(push(a, forged, REF), remote, REF, before, f"written by instance {OTHER}",
                   f"instance {instance(a)}")


def test_message_breaking_the_policy_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    body = "wrote the parser\n\nCo-authored-by: Claude <noreply@anthropic.com>"
    forged = forge(a, remote_mission(remote, "m1"),
                   message("chore(mission): log note on m1", "log", instance(a), body=body, epoch="1"), [before])
    assert_refused(push(a, forged, REF), remote, REF, before, f"commit {forged[:12]}: it breaks the commit policy",
                   'line 5: attribution-trailer: "Co-authored-by: Claude <noreply@anthropic.com>"')


@pytest.mark.parametrize("breakage, fragment", [
    (lambda text: text.replace("---\n", "---\ntitle: [unclosed\n", 1), "not valid YAML"),
    (lambda text: set_fields(text, gitclaim_format=2), "format version 2"),
    (lambda text: text.replace('gitclaim_format: 1\n', ''), "has no gitclaim_format field"),
])
def test_unreadable_mission_md_is_refused(held: tuple[Path, Path], breakage: Callable[[str], str],
                                          fragment: str) -> None:
    remote, a = held
    before = tip(remote)
    forged = forge(a, breakage(remote_mission(remote, "m1")),
                   message("chore(mission): heartbeat m1", "heartbeat", instance(a), epoch="1"), [before])
    assert_refused(push(a, forged, REF), remote, REF, before, f"commit {forged[:12]}: mission m1: ", fragment)


def test_commit_without_mission_md_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    forged = forge(a, "x\n", message("chore(mission): heartbeat m1", "heartbeat", instance(a)), [before],
                   filename="README.md")
    assert_refused(push(a, forged, REF), remote, REF, before, "holds no mission.md")


def test_queued_to_done_is_refused(remote: Path, make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission"))
    before = tip(remote)
    forged = forge(a, set_fields(remote_mission(remote, "m1"), status="DONE"),
                   message("chore(mission): complete m1", "complete", instance(a)), [before])
    assert_refused(push(a, forged, REF), remote, REF, before, "QUEUED -> DONE without a claim")


def test_epoch_decrease_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    forged = forge(a, set_fields(remote_mission(remote, "m1"), claim_epoch=0),
                   message("chore(mission): heartbeat m1", "heartbeat", instance(a), epoch="0"), [before])
    assert_refused(push(a, forged, REF), remote, REF, before, "the epoch goes back from 1 to 0")


def test_writes_to_a_finished_mission_are_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    ok(run_gitclaim(a, "done", "m1"))
    before = tip(remote)
    forged = forge(a, set_fields(remote_mission(remote, "m1"), status="ACTIVE"),
                   message("chore(mission): log note on m1", "log", instance(a), body="one more", epoch="1"),
                   [before])
    assert_refused(push(a, forged, REF), remote, REF, before, "the mission is DONE: a finished mission takes no more commits")


def test_a_bad_commit_anywhere_in_a_push_refuses_it_all(held: tuple[Path, Path]) -> None:
    remote, a = held
    before, text = tip(remote), remote_mission(remote, "m1")
    good = forge(a, text, message("chore(mission): heartbeat m1", "heartbeat", instance(a), epoch="1"), [before])
    bad = forge(a, text, message("chore(mission): heartbeat m1", "heartbeat", OTHER, epoch="1"), [good])
    assert_refused(push(a, bad, REF), remote, REF, before, f"commit {bad[:12]}: it is written by instance")


def test_merge_commits_are_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before, text = tip(remote), remote_mission(remote, "m1")
    side = forge(a, text, message("chore(mission): heartbeat m1", "heartbeat", instance(a), epoch="1"), [before])
    merge = forge(a, text, message("chore(mission): heartbeat m1", "heartbeat", instance(a), epoch="1"),
                  [before, side])
    assert_refused(push(a, merge, REF), remote, REF, before, f"commit {merge[:12]} is a merge")


def test_creation_must_be_a_queued_mission(held: tuple[Path, Path]) -> None:
    remote, a = held
    ref = "refs/missions/m2"
    text = remote_mission(remote, "m1").replace('"m1"', '"m2"')  # ACTIVE, epoch 1, with a holder
    forged = forge(a, text, message("chore(mission): create m2", "create", instance(a)), [])
    assert_refused(push(a, forged, ref), remote, ref, None, "a new mission starts at epoch 0 with no holder")


def test_commits_without_gitclaim_trailers_are_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    forged = forge(a, remote_mission(remote, "m1"), "chore(mission): tweak m1\n", [before])
    assert_refused(push(a, forged, REF), remote, REF, before, "no Gitclaim-Action and Gitclaim-Instance")


def test_invalid_mission_ids_are_refused_but_may_be_removed(held: tuple[Path, Path]) -> None:
    remote, a = held
    ref = "refs/missions/Bad_Id"
    assert_refused(push(a, tip(remote) or "", ref), remote, ref, None, "'Bad_Id' is not a valid mission id")
    git(remote, "update-ref", ref, tip(remote) or "")  # made before the guard was installed
    ok(push(a, "", ref))
    assert tip(remote, ref) is None


def test_broken_server_settings_refuse_mission_writes_only(held: tuple[Path, Path], tmp_path: Path) -> None:
    remote, a = held
    configure_server(remote, tmp_path, "policy: [unclosed\n")  # the branch push that breaks it still lands
    before = tip(remote)
    res = run_gitclaim(a, "heartbeat", "m1")
    assert res.returncode == 6
    assert "HEAD:.gitclaim.yaml cannot be used" in res.stderr
    assert tip(remote) == before


ZERO_TTL = ".gitclaim.yaml: lease_ttl must be a positive duration, got 0"


def test_zero_lease_ttl_is_one_rule_for_client_and_guard(held: tuple[Path, Path], tmp_path: Path) -> None:
    # Once the client silently used 24 hours while the guard refused every mission push: now both refuse the
    # file with the same words, the client before writing anything (exit 2, like any invalid setting).
    remote, a = held
    configure_server(remote, tmp_path, "lease_ttl: 0\n")
    before = tip(remote)
    (a / ".gitclaim.yaml").write_text("lease_ttl: 0\n")
    res = run_gitclaim(a, "heartbeat", "m1")
    assert (res.returncode, res.stderr) == (2, f"gitclaim: {ZERO_TTL}\n")
    (a / ".gitclaim.yaml").unlink()  # a client that does not have the file yet: the guard says the same
    res = run_gitclaim(a, "heartbeat", "m1")
    assert res.returncode == 6
    assert res.stderr == (f"gitclaim: mission m1: remote 'origin' refused the push: gitclaim-guard: {REF}: refused: "
                          f"the server's HEAD:.gitclaim.yaml cannot be used ({ZERO_TTL}); fix it on the default "
                          "branch\n")
    assert tip(remote) == before


# ---- archive ------------------------------------------------------------------------------------------------

def archive_commit(clone: Path, parents: list[str]) -> str:
    tree = git(clone, "mktree", input="").stdout.strip()
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return git(clone, *args, "-m", "chore(archive): archive finished missions").stdout.strip()


def test_deletion_through_the_archive_is_accepted(held: tuple[Path, Path]) -> None:
    remote, a = held
    ok(run_gitclaim(a, "done", "m1"))
    done = tip(remote)
    assert done is not None
    first = archive_commit(a, [done])
    res = subprocess.run(["git", "push", "--atomic", "origin", f"{first}:refs/gitclaim/archive", f":{REF}"],
                         cwd=a, text=True, capture_output=True)
    ok(res)
    assert tip(remote) is None
    assert tip(remote, "refs/gitclaim/archive") == first
    # The archive only grows: rewinding or deleting it is refused.
    orphan = archive_commit(a, [])
    assert_refused(push(a, orphan, "refs/gitclaim/archive", "--force"), remote, "refs/gitclaim/archive", first,
                   "non-fast-forward: the archive only grows")
    assert_refused(push(a, "", "refs/gitclaim/archive"), remote, "refs/gitclaim/archive", first,
                   "deleting it would lose the archived missions")


def test_gitclaim_archive_passes_the_guard(held: tuple[Path, Path]) -> None:
    # The guard finds each deleted mission's tip among the parents of the new archive commits: with gitclaim's
    # link commits (docs/archive.md), the commit the archive ref points at holds none of them itself.
    remote, a = held
    ok(run_gitclaim(a, "done", "m1"))
    for mid in ("m2", "m3"):
        ok(run_gitclaim(a, "new", mid, "--title", f"Mission {mid}"))
        ok(run_gitclaim(a, "cancel", mid, "--reason", "not needed"))
    res = ok(run_gitclaim(a, "archive", "--json"))
    assert json.loads(res.stdout)["count"] == 3 and remote_refs(remote) == {}
    index = json.loads(git(remote, "show", "refs/gitclaim/archive:index.json").stdout)["missions"]
    assert sorted(index) == ["m1", "m2", "m3"]
    assert git(remote, "rev-list", "--min-parents=3", "refs/gitclaim/archive").stdout == ""


def test_deletion_with_an_archive_missing_the_tip_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    unrelated = archive_commit(a, [])
    res = subprocess.run(["git", "push", "--atomic", "origin", f"{unrelated}:refs/gitclaim/archive", f":{REF}"],
                         cwd=a, text=True, capture_output=True)
    assert_refused(res, remote, REF, before, "deleting a mission is refused")
    assert tip(remote, "refs/gitclaim/archive") is None


def test_archiving_a_live_mission_is_refused(held: tuple[Path, Path]) -> None:
    remote, a = held
    before = tip(remote)
    assert before is not None
    res = subprocess.run(["git", "push", "--atomic", "origin", f"{archive_commit(a, [before])}:refs/gitclaim/archive",
                          f":{REF}"], cwd=a, text=True, capture_output=True)
    assert_refused(res, remote, REF, before, "the mission is ACTIVE: only DONE, FAILED and CANCELLED missions are archived")


def test_gitclaim_archive_is_accepted(held: tuple[Path, Path]) -> None:
    remote, a = held
    if run_gitclaim(a, "archive", "--help").returncode != 0:
        pytest.skip("gitclaim archive is not available yet")
    ok(run_gitclaim(a, "done", "m1"))
    ok(run_gitclaim(a, "archive"))
    assert tip(remote) is None
    assert tip(remote, "refs/gitclaim/archive") is not None


# ---- branches -----------------------------------------------------------------------------------------------

def branch_commit(clone: Path, msg: str) -> str:
    git(clone, "commit", "-q", "--allow-empty", "-m", msg)
    return git(clone, "rev-parse", "HEAD").stdout.strip()


BAD_BRANCH_MESSAGE = "feat: add parser\n\nCo-authored-by: Claude <noreply@anthropic.com>"


def test_branch_messages_are_not_checked_by_default(remote: Path, make_clone: Callable[..., Path]) -> None:
    a = make_clone("a", init=False)
    branch_commit(a, BAD_BRANCH_MESSAGE)
    ok(push(a, "HEAD", "refs/heads/topic"))


@pytest.mark.parametrize("how", ["git-config", "gitclaim-yaml"])
def test_branch_messages_are_checked_when_enabled(remote: Path, tmp_path: Path, make_clone: Callable[..., Path],
                                                  how: str) -> None:
    if how == "git-config":
        git(remote, "config", "gitclaim.guardBranches", "true")
    else:
        configure_server(remote, tmp_path, "guard:\n  branches: true\n")
    a = make_clone("a", init=False)
    bad = branch_commit(a, BAD_BRANCH_MESSAGE)
    branch_commit(a, "feat: add lexer")
    line = assert_refused(push(a, "HEAD", "refs/heads/topic"), remote, "refs/heads/topic", None,
                          f"commit {bad[:12]}", "attribution-trailer")
    assert "feat: add lexer" not in line
    main_before = tip(remote, "refs/heads/main")
    assert_refused(push(a, "HEAD", "refs/heads/main"), remote, "refs/heads/main", main_before, "attribution")
    git(a, "reset", "-q", "--hard", "origin/main")
    branch_commit(a, "feat: add lexer")
    ok(push(a, "HEAD", "refs/heads/topic"))
    ok(push(a, "HEAD", "refs/heads/main"))


# ---- who pushes ---------------------------------------------------------------------------------------------

def test_required_user_binds_claims_to_the_pusher(remote: Path, make_clone: Callable[..., Path]) -> None:
    git(remote, "config", "gitclaim.guardRequireUser", "true")
    a = make_clone("a")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission", env={"GL_USER": "bob"}))  # anyone creates
    res = run_gitclaim(a, "claim", "m1", env={"GL_USER": "alice"})
    assert res.returncode == 6
    assert "the claim is recorded for claim_user 'Test User', but 'alice' pushes it" in res.stderr
    ok(run_gitclaim(a, "claim", "m1", env={"GL_USER": "test user"}))
    res = run_gitclaim(a, "log", "m1", "note", env={"GL_USER": "bob"})
    assert res.returncode == 6
    assert "'bob' pushes a write to the claim of 'Test User'" in res.stderr
    res = run_gitclaim(a, "log", "m1", "note")
    assert res.returncode == 6
    assert "$GL_USER is not set" in res.stderr
    ok(run_gitclaim(a, "log", "m1", "note", env={"GL_USER": "Test User"}))


def test_user_env_name_is_configurable(remote: Path, make_clone: Callable[..., Path]) -> None:
    git(remote, "config", "gitclaim.guardRequireUser", "true")
    git(remote, "config", "gitclaim.guardUserEnv", "GITEA_PUSHER_NAME")
    a = make_clone("a")
    ok(run_gitclaim(a, "new", "m1", "--title", "First mission"))
    res = run_gitclaim(a, "claim", "m1", env={"GL_USER": "Test User"})
    assert res.returncode == 6 and "$GITEA_PUSHER_NAME is not set" in res.stderr
    ok(run_gitclaim(a, "claim", "m1", env={"GITEA_PUSHER_NAME": "Test User"}))


# ---- the state machine, without git ------------------------------------------------------------------------

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=24)


def at(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


QUEUED = m.Mission("m1", "T", last_activity=at(hours=1))
ACTIVE = QUEUED.evolve(status=m.ACTIVE, claim_instance="aaa", claim_user="ann", claimed_by="ann@h",
                       claimed_at=at(hours=1), claim_epoch=1)
BLOCKED = ACTIVE.evolve(status=m.BLOCKED, blocked_reason="why")
STALE = ACTIVE.evolve(last_activity=at(hours=30))
RELEASED = QUEUED.evolve(claim_epoch=1)
CLAIM_B = ACTIVE.evolve(claim_instance="bbb", claim_user="bob", claimed_by="bob@h", claim_epoch=2)


def tr(action: str, inst: str, **more: str) -> dict[str, str]:
    return {"action": action, "instance": inst, **{k.replace("_", "-"): v for k, v in more.items()}}


@pytest.mark.parametrize("prev, new, trailers, body, kind", [
    (None, QUEUED, tr("create", "aaa"), "", "create"),
    (None, QUEUED.evolve(status=m.DONE), tr("import", "aaa"), "", "import"),
    (QUEUED, ACTIVE, tr("claim", "aaa", epoch="1"), "", "claim"),
    (QUEUED, QUEUED.evolve(priority=0), tr("edit", "zzz"), "", "edit"),
    (ACTIVE, ACTIVE.evolve(last_activity=at(minutes=1)), tr("heartbeat", "aaa", epoch="1"), "", "holder"),
    (ACTIVE, BLOCKED, tr("log", "aaa", epoch="1"), "", "holder"),
    (ACTIVE, RELEASED, tr("release", "aaa", epoch="1"), "", "holder"),
    (ACTIVE, ACTIVE.evolve(status=m.DONE), tr("complete", "aaa", epoch="1"), "", "holder"),
    (BLOCKED, BLOCKED.evolve(status=m.FAILED), tr("fail", "aaa", epoch="1"), "", "holder"),
    (BLOCKED, BLOCKED, tr("heartbeat", "aaa", epoch="1"), "", "holder"),
    (BLOCKED, ACTIVE, tr("unblock", "zzz", epoch="1"), "", "unblock"),
    (BLOCKED.evolve(claim_instance=None), RELEASED, tr("unblock", "zzz"), "", "unblock"),
    (STALE, CLAIM_B, tr("takeover", "bbb", epoch="2", takeover="steal", previous_instance="aaa"), "", "takeover"),
    (ACTIVE, CLAIM_B, tr("takeover", "bbb", epoch="2", takeover="force"), "on leave", "takeover"),
    (BLOCKED, CLAIM_B, tr("takeover", "bbb", epoch="2", takeover="force"), "on leave", "takeover"),
    (RELEASED, CLAIM_B, tr("claim", "bbb", epoch="2"), "", "claim"),
])
def test_allowed_transitions(prev: m.Mission | None, new: m.Mission, trailers: dict[str, str], body: str,
                             kind: str) -> None:
    assert rules.judge_step(prev, new, trailers, body, NOW, TTL) == rules.Step(kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("prev, new, trailers, body, problem", [
    (None, ACTIVE, tr("create", "aaa"), "", "starts at epoch 0 with no holder"),
    (None, QUEUED.evolve(status=m.DONE), tr("create", "aaa"), "", "starts QUEUED"),
    (QUEUED, QUEUED.evolve(status=m.DONE), tr("complete", "aaa"), "", "QUEUED -> DONE without a claim"),
    (QUEUED, ACTIVE.evolve(claim_epoch=2), tr("claim", "aaa", epoch="2"), "", "jumps from 0 to 2"),
    (ACTIVE, RELEASED.evolve(claim_epoch=0), tr("release", "aaa"), "", "goes back from 1 to 0"),
    (ACTIVE, ACTIVE, tr("heartbeat", "aaa", epoch="7"), "", "Gitclaim-Epoch trailer says 7"),
    (ACTIVE, ACTIVE, tr("heartbeat", "bbb", epoch="1"), "", "written by instance bbb"),
    (ACTIVE, ACTIVE.evolve(claim_user="mallory"), tr("log", "aaa"), "", "changes the claim"),
    (BLOCKED, ACTIVE, tr("log", "aaa", epoch="1"), "", "that is an unblock"),
    (BLOCKED, RELEASED, tr("unblock", "zzz"), "", "an unblock moves BLOCKED to ACTIVE"),
    (ACTIVE, QUEUED.evolve(claim_epoch=1, claim_instance="aaa"), tr("release", "aaa"), "", "no holder"),
    (ACTIVE, ACTIVE.evolve(claim_instance=None), tr("log", "aaa"), "", "names no claim_instance"),
    (ACTIVE, CLAIM_B, tr("claim", "bbb", epoch="2"), "", "only a takeover replaces a holder"),
    (ACTIVE, CLAIM_B, tr("takeover", "bbb", takeover="steal"), "", "steals the live claim"),
    (ACTIVE, CLAIM_B, tr("takeover", "bbb", takeover="force"), " ", "without a reason"),
    (ACTIVE, CLAIM_B, tr("takeover", "bbb"), "", "steal or force"),
    (STALE, CLAIM_B, tr("takeover", "bbb", takeover="steal", previous_epoch="5"), "", "Previous-Epoch"),
    (ACTIVE, CLAIM_B, tr("takeover", "ccc", takeover="force"), "x", "is not the new holder"),
    (ACTIVE, CLAIM_B.evolve(status=m.BLOCKED), tr("takeover", "bbb", takeover="force"), "x", "ACTIVE, not BLOCKED"),
    (ACTIVE.evolve(status=m.DONE), ACTIVE.evolve(status=m.DONE), tr("log", "aaa"), "", "finished mission takes no more commits"),
    (ACTIVE, ACTIVE, {"action": "log"}, "", "no Gitclaim-Action and Gitclaim-Instance"),
])
def test_refused_transitions(prev: m.Mission | None, new: m.Mission, trailers: dict[str, str], body: str,
                             problem: str) -> None:
    step = rules.judge_step(prev, new, trailers, body, NOW, TTL)
    assert step.kind == "refused"
    assert step.problem is not None and problem in step.problem, step.problem


def test_steal_is_judged_by_the_commit_time_but_never_a_future_one() -> None:
    recent = ACTIVE.evolve(last_activity=at(hours=2))
    steal = tr("takeover", "bbb", epoch="2", takeover="steal")
    assert rules.judge_step(recent, CLAIM_B, steal, "", NOW, timedelta(hours=1)).kind == "takeover"
    assert rules.judge_step(recent, CLAIM_B, steal, "", NOW, timedelta(hours=3)).kind == "refused"
    # judge_mission caps the commit's own date at the server's clock: a commit dated next week steals nothing.
    update = ReceivedUpdate(REF, "1" * 40, "2" * 40)
    future = int((NOW + timedelta(days=7)).timestamp())
    body = m.render(CLAIM_B).decode()
    commit = PushedCommit(Commit("2" * 40, "3" * 40, ("1" * 40,), "b", "b@x", future, "b", "b@x", future,
                                 "chore(mission): take over m1\n\nGitclaim-Action: takeover\nGitclaim-Instance: bbb\n"
                                 "Gitclaim-Epoch: 2\nGitclaim-Takeover: steal\n"), body.encode())
    rules_3h = rules.Rules(Settings(lease_ttl=timedelta(hours=3)))
    refusal = guard.judge_mission(update, [commit], m.render(recent), rules_3h, now=NOW)
    assert refusal is not None and "steals the live claim" in refusal.reason


def test_parse_updates_reads_hook_input_and_rejects_garbage() -> None:
    zero, oid = "0" * 40, "a" * 40
    assert parse_updates(f"{zero} {oid} {REF}\n{oid} {zero} refs/heads/x\n") == [
        ReceivedUpdate(REF, None, oid), ReceivedUpdate("refs/heads/x", oid, None)]
    with pytest.raises(InvalidInput):
        parse_updates("hello world\n")


def test_refusal_is_one_line() -> None:
    assert guard.Refusal(REF, "a\nb  c").line() == f"gitclaim-guard: {REF}: refused: a b c"
    assert guard.Refusal(None, "x").line() == "gitclaim-guard: refused: x"


def test_hook_falls_back_to_python(remote: Path, held: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # No GITCLAIM_BIN and no gitclaim executable on PATH: the hook finds the package through python3.
    monkeypatch.delenv("GITCLAIM_BIN")
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "gitclaim").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), *path]))
    _, a = held
    before = tip(remote)
    assert_refused(push(a, "", REF), remote, REF, before, "deleting a mission is refused")


def test_hook_fails_closed_without_gitclaim(remote: Path, held: tuple[Path, Path], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Pythons that cannot import gitclaim (exit 127, as the hook's probe does), no gitclaim executable.
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    for name in ("python3", "python"):
        (fake / name).write_text("#!/bin/sh\ncat >/dev/null\nexit 127\n")
        (fake / name).chmod(0o755)
    monkeypatch.delenv("GITCLAIM_BIN")
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "gitclaim").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join([str(fake), *path]))
    _, a = held
    before = tip(remote)
    forged = forge(a, remote_mission(remote, "m1"),
                   message("chore(mission): heartbeat m1", "heartbeat", instance(a), epoch="1"), [before])
    res = push(a, forged, REF)
    assert res.returncode != 0 and tip(remote) == before
    assert "gitclaim-guard: refused: this server's pre-receive hook needs gitclaim" in res.stderr
