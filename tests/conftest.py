"""Shared fixtures: real git, real bare remotes, real clones, git config isolated from the user's home."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, git, run_gitclaim
from tests.support.gitenv import isolate
from tests.support.servers import (
    SERVER_CLASSES,
    SERVER_FIXTURES,
    TRANSPORTS,
    FileServer,
    GitServer,
    ServerStartError,
    Transport,
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile gitclaim once: every test starts real gitclaim processes, and with PYTHONDONTWRITEBYTECODE set
    each of them would otherwise compile every module again."""
    import compileall

    compileall.compile_dir(str(ROOT / "gitclaim"), quiet=1)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and git's global config at a fresh directory; drop GIT_* variables a hook may export."""
    home = tmp_path_factory.mktemp("home")
    isolate(home, monkeypatch.setenv, lambda key: monkeypatch.delenv(key, raising=False),
            name="Test User", email="test@example.invalid")
    return home


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository with one commit on main, standing in for the shared remote."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--bare", "-q", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    (seed / "README.md").write_text("project\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "-q", "-m", "chore: start project")
    git(seed, "push", "-q", "origin", "HEAD:main")
    shutil.rmtree(seed)
    return remote


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A plain repository with one commit and no remote, for commands that work on commits (check-msg, hooks)."""
    path = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(path))
    git(path, "commit", "-q", "--allow-empty", "-m", "chore: start")
    return path


@pytest.fixture
def make_clone(tmp_path: Path, bare_remote: Path) -> Callable[..., Path]:
    """make_clone("a") -> a fresh clone of the shared remote, with `gitclaim init` already run."""

    def _make(name: str, init: bool = True, remote: str | Path | None = None) -> Path:
        path = tmp_path / name
        git(tmp_path, "clone", "-q", str(remote or bare_remote), str(path))
        if init:
            res = run_gitclaim(path, "init")
            assert res.returncode == 0, res.stderr
        return path

    return _make


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """Real ed25519 keys of alice, bob and mallory, for the signing tests (tests/support/signing.py)."""
    from tests.support.signing import make_key

    return {name: make_key(tmp_path / "keys", name) for name in ("alice", "bob", "mallory")}


@pytest.fixture
def team(bare_remote: Path, tmp_path: Path, keys: dict[str, Path]) -> Path:
    """The shared remote, whose main branch trusts alice and bob (not mallory)."""
    from tests.support.signing import trust_alice_and_bob

    return trust_alice_and_bob(bare_remote, tmp_path / "admin", keys)


# --------------------------------------------------------------------------------------------
# Real git servers on loopback (tests/support/servers.py), started lazily: see docs/testing.md


def pytest_configure(config: pytest.Config) -> None:
    for name in TRANSPORTS:
        config.addinivalue_line("markers", f"transport_{name}: runs over the {name} transport")


def _start_or_error(server: GitServer) -> str | None:
    try:
        server.start()
    except ServerStartError as exc:
        server.kill()
        return str(exc)
    return None


def _session_server(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    server = SERVER_CLASSES[kind](tmp_path_factory.mktemp(f"server-{kind}", numbered=True))
    error = _start_or_error(server)
    if error:
        pytest.fail(error, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sshd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """OpenSSH sshd on 127.0.0.1:<free port> for the whole session."""
    yield from _session_server("ssh", tmp_path_factory)


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """lighttpd + git http-backend on 127.0.0.1:<free port> for the whole session."""
    yield from _session_server("http", tmp_path_factory)


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """git daemon on 127.0.0.1:<free port> for the whole session."""
    yield from _session_server("git", tmp_path_factory)


def _private_server(kind: str, tmp_path: Path) -> Iterator[GitServer]:
    server = SERVER_CLASSES[kind](tmp_path / f"private-{kind}-server")
    error = _start_or_error(server)
    if error:
        pytest.fail(error, pytrace=False)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def private_sshd_server(tmp_path: Path) -> Iterator[GitServer]:
    """An sshd owned by this test alone: stop()/kill()/start() it at will (same port)."""
    yield from _private_server("ssh", tmp_path)


@pytest.fixture
def private_http_server(tmp_path: Path) -> Iterator[GitServer]:
    """A lighttpd + http-backend owned by this test alone: stop()/kill()/start() (same port)."""
    yield from _private_server("http", tmp_path)


@pytest.fixture
def private_git_daemon(tmp_path: Path) -> Iterator[GitServer]:
    """A git daemon owned by this test alone: stop()/kill()/start() it at will (same port)."""
    yield from _private_server("git", tmp_path)


@pytest.fixture(
    params=[pytest.param(name, id=name, marks=getattr(pytest.mark, f"transport_{name}")) for name in TRANSPORTS]
)
def transport(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Transport:
    """A fresh seeded bare repository over file/ssh/http/git, its client env already exported."""
    kind: str = request.param
    if kind == "file":
        result = FileServer(tmp_path).new_repo("file-remote")
    else:
        server: GitServer = request.getfixturevalue(SERVER_FIXTURES[kind])
        if not server.running:  # a test stopped the shared server and did not bring it back
            server.start()
        result = server.new_repo(request.node.name)
    return result.apply(monkeypatch)


@pytest.fixture
def make_transport_clone(tmp_path: Path, transport: Transport) -> Callable[..., Path]:
    """make_transport_clone("a") -> plain ``git clone`` of transport.url at tmp_path/"a".

    ``init=True`` also runs ``gitclaim init`` in the clone (like conftest's make_clone).
    """

    def _make(name: str, init: bool = False) -> Path:
        path = tmp_path / name
        res = git(tmp_path, "clone", "-q", transport.url, str(path), check=False)
        assert res.returncode == 0, f"git clone {transport.url} failed:\n{res.stderr}"
        if init:
            res = run_gitclaim(path, "init")
            assert res.returncode == 0, res.stderr
        return path

    return _make
