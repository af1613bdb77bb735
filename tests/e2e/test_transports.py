"""The compare-and-swap primitive gitclaim relies on, checked with plain git over real transports.

Every test taking ``transport`` runs over file://, ssh:// (OpenSSH sshd), http:// (lighttpd +
git http-backend) and git:// (git daemon); see tests/support/servers.py and docs/testing.md.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT, git, remote_refs
from tests.support.servers import GitServer, Transport

RACERS = 8


def porcelain(stdout: str) -> dict[str, str]:
    """``git push --porcelain`` output -> {destination ref: flag}; flag "!" means rejected."""
    flags = {}
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and ":" in parts[1]:
            flags[parts[1].rsplit(":", 1)[1]] = parts[0]
    return flags


def commit(clone: Path, message: str) -> str:
    git(clone, "commit", "-q", "--allow-empty", "-m", message)
    return git(clone, "rev-parse", "HEAD").stdout.strip()


def push_lease(clone: Path, ref: str, expect: str, src: str) -> subprocess.CompletedProcess[str]:
    """``git push --porcelain --force-with-lease=<ref>:<expect> origin <src>:<ref>`` (expect "" = create)."""
    return git(clone, "push", "--porcelain", f"--force-with-lease={ref}:{expect}", "origin", f"{src}:{ref}",
               check=False)


def assert_accepted(res: subprocess.CompletedProcess[str], ref: str) -> None:
    assert res.returncode == 0, f"push was rejected:\n{res.stdout}\n{res.stderr}"
    assert porcelain(res.stdout).get(ref) in {"*", " ", "+", "-"}, res.stdout


def assert_rejected(res: subprocess.CompletedProcess[str], ref: str) -> None:
    assert res.returncode != 0, f"push was accepted:\n{res.stdout}\n{res.stderr}"
    assert porcelain(res.stdout).get(ref) == "!", f"no '!' line for {ref}:\n{res.stdout}\n{res.stderr}"


def test_transport_env_is_exported(transport: Transport) -> None:
    for key, value in transport.env.items():
        assert os.environ[key] == value
    if transport.name == "ssh":  # plain `ssh` from PATH, as a user has it: gitclaim may share connections
        assert "GIT_SSH_COMMAND" not in os.environ
        assert (Path(transport.env["PATH"].split(os.pathsep)[0]) / "ssh").exists()
    if transport.name != "file":
        assert transport.url.startswith(f"{transport.name}://127.0.0.1:") or transport.url.startswith(
            f"ssh://{transport.server.user}@127.0.0.1:"  # type: ignore[union-attr]
        )


def test_clone_sees_seed_commit(transport: Transport, make_transport_clone: Callable[..., Path]) -> None:
    clone = make_transport_clone("a")
    assert (clone / "README.md").read_text() == "project\n"
    assert git(clone, "log", "-1", "--format=%s").stdout.strip() == "chore: start project"
    main = git(transport.bare_path, "rev-parse", "refs/heads/main").stdout.strip()
    assert git(clone, "rev-parse", "origin/main").stdout.strip() == main


def test_compare_and_swap_on_mission_refs(transport: Transport, make_transport_clone: Callable[..., Path]) -> None:
    ref = "refs/missions/x"
    a, b = make_transport_clone("a"), make_transport_clone("b")

    # Creation: an empty lease means "the ref must not exist yet".
    first = commit(a, "claim x by a")
    assert_accepted(push_lease(a, ref, "", "HEAD"), ref)
    assert remote_refs(transport.bare_path) == {ref: first}

    # A second creation of the same ref loses, whoever tries it.
    other = commit(b, "claim x by b")
    assert_rejected(push_lease(b, ref, "", "HEAD"), ref)
    assert remote_refs(transport.bare_path) == {ref: first}

    # Fetching the missions namespace brings the winner's ref.
    git(b, "fetch", "-q", "origin", "+refs/missions/*:refs/missions/*")
    assert git(b, "rev-parse", ref).stdout.strip() == first

    # Update with the right old value: accepted.
    git(b, "checkout", "-q", "--detach", first)
    second = commit(b, "update x by b")
    assert second != other
    assert_accepted(push_lease(b, ref, first, "HEAD"), ref)
    assert remote_refs(transport.bare_path) == {ref: second}

    # Update with a stale old value: rejected, remote untouched.
    third = commit(a, "update x by a on a stale view")
    assert_rejected(push_lease(a, ref, first, "HEAD"), ref)
    # ... and with an old value that never was the ref's.
    assert_rejected(push_lease(a, ref, other, "HEAD"), ref)
    assert remote_refs(transport.bare_path) == {ref: second}

    # Deletion under a lease: wrong old value rejected, right one accepted.
    assert_rejected(push_lease(a, ref, third, ""), ref)
    assert remote_refs(transport.bare_path) == {ref: second}
    assert_accepted(push_lease(a, ref, second, ""), ref)
    assert remote_refs(transport.bare_path) == {}


def test_concurrent_creation_exactly_one_wins(transport: Transport,
                                              make_transport_clone: Callable[..., Path]) -> None:
    first = make_transport_clone("racer0")
    clones = [first] + [make_transport_clone(f"racer{i}") for i in range(1, RACERS)]
    for round_ in range(2):
        ref = f"refs/missions/race{round_}"
        oids = [commit(clone, f"claim {ref} by racer {i}") for i, clone in enumerate(clones)]
        assert len(set(oids)) == RACERS
        procs = [
            subprocess.Popen(
                ["git", "push", "--porcelain", f"--force-with-lease={ref}:", "origin", f"HEAD:{ref}"],
                cwd=clone, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            for clone in clones
        ]
        results = [(proc, *proc.communicate(timeout=120)) for proc in procs]
        winners = [i for i, (proc, _, _) in enumerate(results) if proc.returncode == 0]
        report = "\n".join(f"[{i}] rc={p.returncode}\n{out}{err}" for i, (p, out, err) in enumerate(results))
        assert len(winners) == 1, report
        for i, (_proc, out, _) in enumerate(results):
            flag = porcelain(out).get(ref)
            if i in winners:
                assert flag == "*", report
            else:
                assert flag == "!", report
        assert remote_refs(transport.bare_path)[ref] == oids[winners[0]]
    assert set(remote_refs(transport.bare_path)) == {"refs/missions/race0", "refs/missions/race1"}


@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=getattr(pytest.mark, f"transport_{k}")) for k in ("git", "http", "ssh")]
)
def test_private_server_stops_and_restarts_on_same_port(kind: str, request: pytest.FixtureRequest,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue(
        {"git": "private_git_daemon", "http": "private_http_server", "ssh": "private_sshd_server"}[kind]
    )
    remote = server.new_repo("faulty").apply(monkeypatch)
    port = server.port
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", remote.url, str(clone))
    oid = commit(clone, "claim y")

    server.stop()
    assert not server.running
    down = push_lease(clone, "refs/missions/y", "", "HEAD")
    assert down.returncode != 0
    assert remote_refs(remote.bare_path) == {}

    server.start()
    assert server.port == port and server.running
    assert_accepted(push_lease(clone, "refs/missions/y", "", "HEAD"), "refs/missions/y")
    assert remote_refs(remote.bare_path) == {"refs/missions/y": oid}

    server.kill()
    assert git(clone, "ls-remote", "origin", check=False).returncode != 0
    server.start()
    assert git(clone, "ls-remote", "origin", "refs/missions/y").stdout.split() == [oid, "refs/missions/y"]


def test_server_side_hooks_see_the_server_env(transport: Transport, make_transport_clone: Callable[..., Path]) -> None:
    """receive-pack's hooks (gitclaim's guard, later) run with the server's git config and can import gitclaim."""
    hook = transport.bare_path / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "cat >/dev/null\n"
        "env > hook-env\n"
        "python3 -c 'import gitclaim; print(gitclaim.__file__)' > hook-python 2>&1\n"
    )
    hook.chmod(0o755)
    clone = make_transport_clone("a")
    commit(clone, "claim h")
    assert_accepted(push_lease(clone, "refs/missions/h", "", "HEAD"), "refs/missions/h")

    seen = dict(line.split("=", 1) for line in (transport.bare_path / "hook-env").read_text().splitlines()
                if "=" in line)
    assert Path((transport.bare_path / "hook-python").read_text().strip()).is_relative_to(ROOT)
    if transport.server is not None:
        assert seen["HOME"] == str(transport.server.workdir)
        assert seen["GIT_CONFIG_GLOBAL"] == str(transport.server.gitconfig)
        assert seen["GIT_CONFIG_NOSYSTEM"] == "1"
