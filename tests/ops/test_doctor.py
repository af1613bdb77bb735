"""`gitclaim doctor`: what it reports on a healthy clone and remote (local and over real servers), and what it
says, with the fix, when the clone is not set up, the remote is gone or a clock is off."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.missions.workspace import open_store
from gitclaim.ops import doctor
from tests.helpers import git, remote_refs, run_gitclaim
from tests.support.servers import Transport, free_port

REMOTE_CHECKS = {"remote reachable", "protocol version", "push refs/missions/*", "serve refs/missions/*",
                 "remove the probe", "atomic pushes", "clock"}


def checks_of(res: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(res.stdout)["checks"]}


def stderr_line(res: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


def test_all_ok_after_init_with_hooks(make_clone, bare_remote: Path) -> None:
    clone = make_clone("a", init=False)
    assert run_gitclaim(clone, "init", "--hooks").returncode == 0
    assert run_gitclaim(clone, "new", "m1", "--title", "Something").returncode == 0

    res = run_gitclaim(clone, "doctor")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not [ln for ln in res.stdout.splitlines() if ln.startswith(("FAIL", "warn"))], res.stdout
    assert "fetches speak protocol version 2" in res.stdout
    assert "receive-pack advertises atomic" in res.stdout

    res = run_gitclaim(clone, "doctor", "--json")
    assert res.returncode == 0, res.stderr
    checks = checks_of(res)
    assert set(checks) >= REMOTE_CHECKS and all(c["ok"] for c in checks.values()), checks
    assert set(remote_refs(bare_remote)) == {"refs/missions/m1"}  # the probe is gone
    assert git(clone, "status", "--porcelain").stdout == ""


def test_missing_refspec_and_hook_are_reported_with_the_fix(make_clone) -> None:
    clone = make_clone("a")  # plain init: no commit-msg hook
    git(clone, "config", "--unset-all", "remote.origin.fetch", r"\+refs/missions/")

    res = run_gitclaim(clone, "doctor")
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout.splitlines()
    refspec = next(i for i, ln in enumerate(out) if ln.startswith("FAIL  fetch refspec"))
    assert out[refspec + 1] == "      fix: gitclaim init --remote origin"
    hook = next(i for i, ln in enumerate(out) if ln.startswith("warn  commit-msg hook"))
    assert out[hook + 1] == "      fix: gitclaim hooks install"
    assert stderr_line(res) == "gitclaim: doctor: 1 of 14 checks failed (fetch refspec)"

    assert run_gitclaim(clone, "init", "--hooks").returncode == 0
    res = run_gitclaim(clone, "doctor")
    assert res.returncode == 0 and "FAIL" not in res.stdout and "warn" not in res.stdout, res.stdout


def test_a_clone_never_initialised(make_clone) -> None:
    clone = make_clone("raw", init=False)
    res = run_gitclaim(clone, "doctor", "--json")
    assert res.returncode == 1, res.stderr
    checks = checks_of(res)
    assert not checks["fetch refspec"]["ok"] and not checks["instance id"]["ok"]
    assert checks["instance id"]["fix"] == "gitclaim init"
    # The doctor changed nothing: no instance id was created.
    assert git(clone, "config", "--get", "gitclaim.instance", check=False).stdout == ""


def test_unreachable_remote_exits_6(make_clone) -> None:
    clone = make_clone("a")
    git(clone, "remote", "set-url", "origin", f"git://127.0.0.1:{free_port()}/nothing.git")
    res = run_gitclaim(clone, "doctor", env={"GITCLAIM_TIMEOUT": "10"})
    assert res.returncode == 6, res.stdout + res.stderr
    assert any(ln.startswith("FAIL  remote reachable") for ln in res.stdout.splitlines()), res.stdout
    assert stderr_line(res) == "gitclaim: doctor: remote 'origin' cannot be reached"


def test_unknown_remote_name(make_clone) -> None:
    clone = make_clone("a")
    res = run_gitclaim(clone, "doctor", "--remote", "upstream")
    assert res.returncode == 1, res.stderr
    assert "fix: git remote add upstream URL && gitclaim init --remote upstream" in res.stdout


def test_clock_behind_the_remote_is_flagged(make_clone) -> None:
    clone = make_clone("a")
    someone = make_clone("someone", init=False)
    future = timeutil.format_ts(timeutil.now() + timedelta(hours=2))
    text = m.render(m.Mission("from-the-future", "Written by a fast clock", created=future, last_activity=future))
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=someone, input=text, capture_output=True,
                          check=True).stdout.decode().strip()
    tree = git(someone, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    env = {**os.environ, "GIT_COMMITTER_DATE": future, "GIT_AUTHOR_DATE": future}
    commit = subprocess.run(["git", "commit-tree", tree, "-m", "chore(mission): create from-the-future"],
                            cwd=someone, env=env, capture_output=True, text=True, check=True).stdout.strip()
    git(someone, "push", "-q", "origin", f"{commit}:refs/missions/from-the-future")

    res = run_gitclaim(clone, "doctor", "--json")
    assert res.returncode == 1, res.stderr
    clock = checks_of(res)["clock"]
    assert not clock["ok"] and "refs/missions/from-the-future" in clock["detail"], clock
    assert "NTP" in clock["fix"]
    assert "refs/missions/from-the-future" not in remote_refs(clone)  # compared without moving the mirror


def test_guarded_remote_accepts_the_probe_and_no_one_can_claim_it(make_clone, bare_remote: Path) -> None:
    assert run_gitclaim(bare_remote, "guard", "install", str(bare_remote)).returncode == 0
    clone = make_clone("a", init=False)
    assert run_gitclaim(clone, "init", "--hooks").returncode == 0
    res = run_gitclaim(clone, "doctor", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    checks = checks_of(res)
    assert checks["push refs/missions/*"]["ok"] and checks["serve refs/missions/*"]["ok"], checks
    left = [ref for ref in remote_refs(bare_remote) if doctor.PROBE_PREFIX in ref]
    # The guard refuses deleting missions; a probe it keeps is DONE, and nothing hands it out.
    assert bool(left) != checks["remove the probe"]["ok"], (left, checks["remove the probe"])
    assert run_gitclaim(clone, "next").returncode == 5


@pytest.mark.parametrize("transport", ["ssh", "http", "git"], indirect=True)
def test_doctor_over_real_servers(transport: Transport, make_transport_clone) -> None:
    clone = make_transport_clone("a", init=True)
    res = run_gitclaim(clone, "doctor", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    checks = checks_of(res)
    advice = {"commit-msg hook", "protocol version"}
    failing = {name: c for name, c in checks.items() if not c["ok"] and name not in advice}
    assert not failing, failing
    version = checks["protocol version"]
    if transport.name == "ssh":  # the test sshd does not AcceptEnv GIT_PROTOCOL: version 0, and the doctor says so
        assert version["ok"] or version["fix"] == "AcceptEnv GIT_PROTOCOL in the server's sshd_config", version
    else:
        assert version["detail"] == "fetches speak protocol version 2", version
    assert not [ref for ref in remote_refs(transport.bare_path) if doctor.PROBE_PREFIX in ref]


def test_packet_trace_parsing() -> None:
    trace = (
        "12:00:00.000001 pkt-line.c:80           packet:  upload-pack> version 2\n"
        "12:00:00.000002 pkt-line.c:80           packet:          git< version 2\n"
        "12:00:00.000003 pkt-line.c:80           packet: receive-pack< 0000 refs/x\\0report-status atomic\n"
        "12:00:00.000004 pkt-line.c:80           packet:         push< abc refs/heads/main\\0report-status "
        "delete-refs side-band-64k quiet ofs-delta agent=git/2.39.5\n"
    )
    assert doctor.protocol_version(trace) == 2
    assert doctor.capabilities(trace) == {"report-status", "delete-refs", "side-band-64k", "quiet", "ofs-delta",
                                          "agent=git/2.39.5"}
    assert doctor.protocol_version("") == 0 and doctor.capabilities("") is None


def test_library_returns_checks(make_clone) -> None:
    report = doctor.diagnose(open_store(make_clone("a")))
    assert report.ok and report.reachable
    assert all(isinstance(c, doctor.Check) for c in report.checks)
