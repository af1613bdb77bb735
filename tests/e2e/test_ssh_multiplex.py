"""Shared ssh connections (core/ssh.py): gitclaim's git processes reuse one connection per clone and host, the
master goes away on its own after the persistence time, the user's own ssh choices are left alone, and one
setting turns it off."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitclaim.core.ssh import parse_ssh_url
from tests.helpers import git, remote_refs, run_gitclaim
from tests.support.servers import GitServer


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private XDG_RUNTIME_DIR of this test (socket paths are limited to about 100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="gcx", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    yield path
    for pid in masters(path):  # a failing test must not leave one behind
        os.kill(pid, 9)
    for leftover in sorted(path.rglob("*"), reverse=True):
        leftover.rmdir() if leftover.is_dir() else leftover.unlink()
    path.rmdir()


def masters(runtime: Path) -> list[int]:
    """ssh processes whose command line names a socket under `runtime` (the master's title is '<path> [mux]')."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(runtime) in cmdline and "[mux]" in cmdline:
            found.append(int(entry.name))
    return found


def logins(server: GitServer) -> int:
    return server.log_tail(10**7).count("Accepted publickey")


@pytest.fixture
def ssh_clone(private_sshd_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
              ) -> tuple[Path, GitServer, Path]:
    transport = private_sshd_server.new_repo("mux").apply(monkeypatch)
    clone = tmp_path / "clone"
    assert git(tmp_path, "clone", "-q", transport.url, str(clone), check=False).returncode == 0
    return clone, private_sshd_server, transport.bare_path


def test_commands_share_one_connection_and_the_master_leaves(ssh_clone, runtime_dir: Path) -> None:
    clone, server, bare = ssh_clone
    env = {"GITCLAIM_SSH_PERSIST": "20"}  # long enough for the next command on a loaded machine
    before = logins(server)
    for args in (["init"], ["new", "m1", "--title", "One"], ["claim", "m1", "--as", "me"], ["heartbeat", "m1"],
                 ["log", "m1", "a note"], ["list"]):
        res = run_gitclaim(clone, *args, env=env)
        assert res.returncode == 0, res.stderr
    assert logins(server) - before == 1  # six commands, many git processes, one ssh login
    sockets = list((runtime_dir / f"gitclaim-ssh-{os.getuid()}").glob("*-*"))
    assert [s for s in sockets if not s.name.startswith("checked-")]
    assert (runtime_dir / f"gitclaim-ssh-{os.getuid()}").stat().st_mode & 0o777 == 0o700
    assert masters(runtime_dir)
    assert "refs/missions/m1" in remote_refs(bare)
    deadline = time.monotonic() + 20 + 15
    while masters(runtime_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert masters(runtime_dir) == []  # gone within the persistence time (plus scheduling slack)


def test_many_processes_at_once_in_one_clone(ssh_clone, runtime_dir: Path) -> None:
    import subprocess
    import sys

    clone, _server, _ = ssh_clone
    assert run_gitclaim(clone, "init", env={"GITCLAIM_SSH_MULTIPLEX": "0"}).returncode == 0
    env = {**os.environ, "GITCLAIM_SSH_PERSIST": "2"}
    procs = [subprocess.Popen([sys.executable, "-m", "gitclaim", "list", "--json"], cwd=clone, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [r[2] for r in results] == [0] * 8, [r[1] for r in results]


def test_off_with_one_setting(ssh_clone, runtime_dir: Path) -> None:
    clone, server, _ = ssh_clone
    assert run_gitclaim(clone, "init", env={"GITCLAIM_SSH_MULTIPLEX": "false"}).returncode == 0
    git(clone, "config", "gitclaim.sshMultiplex", "false")
    before = logins(server)
    for _ in range(2):
        assert run_gitclaim(clone, "list").returncode == 0
    assert logins(server) - before == 2
    assert masters(runtime_dir) == []
    git(clone, "config", "gitclaim.sshMultiplex", "maybe")
    res = run_gitclaim(clone, "list")
    assert res.returncode == 2 and "invalid gitclaim.sshMultiplex" in res.stderr


def test_users_own_ssh_command_is_left_alone(ssh_clone, runtime_dir: Path) -> None:
    clone, server, _ = ssh_clone
    own = server.ssh_command()  # type: ignore[attr-defined]
    assert run_gitclaim(clone, "init", env={"GIT_SSH_COMMAND": own}).returncode == 0
    before = logins(server)
    for _ in range(2):
        assert run_gitclaim(clone, "list", env={"GIT_SSH_COMMAND": own}).returncode == 0
    git(clone, "config", "core.sshCommand", own)
    assert run_gitclaim(clone, "list").returncode == 0
    assert logins(server) - before == 3
    assert masters(runtime_dir) == []


def test_an_unsafe_socket_directory_is_never_used(ssh_clone, runtime_dir: Path) -> None:
    clone, server, _ = ssh_clone
    unsafe = runtime_dir / f"gitclaim-ssh-{os.getuid()}"
    unsafe.mkdir(mode=0o755)
    unsafe.chmod(0o755)  # others may enter: someone else could have made it
    before = logins(server)
    assert run_gitclaim(clone, "init").returncode == 0
    assert run_gitclaim(clone, "list").returncode == 0
    assert logins(server) - before == 2
    assert masters(runtime_dir) == []


@pytest.mark.parametrize(("url", "host"), [
    ("ssh://git@example.invalid:2222/srv/r.git", ("git", "example.invalid", "2222")),
    ("git+ssh://example.invalid/r.git", (None, "example.invalid", None)),
    ("git@example.invalid:team/r.git", ("git", "example.invalid", None)),
    ("ssh://[::1]:22/r.git", (None, "::1", "22")),
    ("https://example.invalid/r.git", None),
    ("file:///srv/r.git", None),
    ("/srv/r.git", None),
    ("./a:b", None),
])
def test_parse_ssh_url(url: str, host: tuple[str | None, str, str | None] | None) -> None:
    got = parse_ssh_url(url)
    assert (tuple(got) if got else None) == host


def test_the_mcp_server_keeps_its_connection_longer(tmp_path: Path, runtime_dir: Path) -> None:
    from gitclaim.missions.workspace import StoreCache, open_store

    clone = tmp_path / "c"
    git(tmp_path, "init", "-q", str(clone))
    git(clone, "remote", "add", "origin", "ssh://git@127.0.0.1:9/srv/r.git")  # never contacted: only `ssh -G`
    commands = []
    for store in (open_store(clone), StoreCache().store(clone)):
        store.repo.require_remote()
        commands.append(store.git.env.get("GIT_SSH_COMMAND", ""))
    assert "ControlPersist=60" in commands[0].split()[-1] and commands[0].endswith("=60")
    assert commands[1].endswith("ControlPersist=600")
    git(clone, "config", "gitclaim.sshPersist", "30s")
    store = StoreCache().store(clone)
    store.repo.require_remote()
    assert store.git.env["GIT_SSH_COMMAND"].endswith("ControlPersist=30")
