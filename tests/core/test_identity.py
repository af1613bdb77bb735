"""Identity follows the agent, not the directory: an explicit instance id, a copied clone detected, and the
instance id read from git config validated (issue 11, item 21)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers import git, remote_mission, remote_refs, run_gitclaim


def ok(clone: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, (args, res.stderr)
    return res


def instance(clone: Path) -> str:
    return git(clone, "config", "gitclaim.instance").stdout.strip()


def test_a_fresh_clone_carries_its_identity_explicitly(make_clone, bare_remote) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M")
    ok(a, "claim", "m1")
    me = instance(a)
    again = make_clone("again")  # the same agent, after losing its clone
    res = run_gitclaim(again, "done", "m1")
    assert res.returncode == 3 and "you do not hold it" in res.stderr
    ok(again, "log", "m1", "still mine", env={"GITCLAIM_INSTANCE": me})
    ok(again, "--instance", me, "heartbeat", "m1")
    out = ok(again, "--instance", me, "init").stdout
    assert f"instance id {me} (from --instance / GITCLAIM_INSTANCE, saved for this clone)" in out
    assert instance(again) == me
    ok(again, "done", "m1")
    assert 'status: "DONE"' in remote_mission(bare_remote, "m1")


def test_a_copied_clone_gets_its_own_instance_and_is_told(make_clone, bare_remote, tmp_path) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M")
    ok(a, "claim", "m1")
    original = instance(a)
    copy = tmp_path / "copy"
    shutil.copytree(a, copy, symlinks=True)
    before = remote_refs(bare_remote)
    res = run_gitclaim(copy, "done", "m1")
    assert res.returncode == 3
    notice, refusal = res.stderr.splitlines()  # told as it happens, before the command's own answer
    new_id = instance(copy)
    assert new_id != original
    assert notice == (
        f"gitclaim: this clone's instance id {original} was made in {a / '.git'}, not here ({copy / '.git'}): a "
        f"copied clone must not act as the original, so this one now has its own instance id {new_id}; if this "
        f"clone was moved rather than copied, take the old identity back with: gitclaim --instance {original} init")
    assert refusal.startswith("gitclaim: cannot finish mission m1: it is held by ")
    assert remote_refs(bare_remote) == before
    assert len(run_gitclaim(copy, "done", "m1").stderr.splitlines()) == 1  # told once: the copy is bound now
    ok(a, "done", "m1")  # the original is still the holder


def test_an_instance_id_with_a_newline_is_refused(make_clone, bare_remote) -> None:
    a = make_clone("a")
    ok(a, "new", "m1", "--title", "M")
    git(a, "config", "gitclaim.instance", "abc\nGitclaim-Epoch: 9")
    before = remote_refs(bare_remote)
    res = run_gitclaim(a, "claim", "m1")
    assert res.returncode == 2
    assert res.stderr == ("gitclaim: invalid instance id 'abc\\nGitclaim-Epoch: 9' in git config gitclaim.instance: "
                          "use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit\n")
    res = run_gitclaim(a, "claim", "m1", env={"GITCLAIM_INSTANCE": "x y"})
    assert res.returncode == 2 and "in environment variable GITCLAIM_INSTANCE (or --instance)" in res.stderr
    assert remote_refs(bare_remote) == before


def test_a_config_write_waits_out_another_process_holding_the_config_lock(make_clone) -> None:
    # Linked worktrees share one config file; git gives up at once when config.lock exists.
    import threading

    a = make_clone("a")
    git(a, "config", "--unset-all", "gitclaim.instance")
    lock = a / ".git" / "config.lock"
    lock.write_text("")
    threading.Timer(0.3, lock.unlink).start()
    ok(a, "new", "m1", "--title", "M")  # the first command makes and saves the instance id
    assert instance(a)


def test_a_config_lock_that_never_goes_fails_with_gits_own_message(make_clone) -> None:
    a = make_clone("a")
    git(a, "config", "--unset-all", "gitclaim.instance")
    (a / ".git" / "config.lock").write_text("")
    res = run_gitclaim(a, "new", "m1", "--title", "M")
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith("gitclaim: git config failed: error: could not lock config file"), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
