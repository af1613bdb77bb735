"""Real git servers on loopback (ssh, smart HTTP, git://): the tests start them through the fixtures in
tests/conftest.py, the benchmarks (benchmarks/harness.py) directly.

One server of each kind runs for the whole test session (started lazily, the first time a test
needs it) and serves a base directory; every test gets its own fresh bare repository inside that
base directory. Everything listens on 127.0.0.1 only, on a port picked by binding 127.0.0.1:0.

The fixtures built on them (tests/conftest.py, see docs/testing.md):

* ``sshd_server``, ``http_server``, ``git_daemon`` -- session-scoped ``GitServer`` objects.
* ``transport`` -- function-scoped, parametrized over ``file``, ``ssh``, ``http``, ``git``: a fresh
  bare repository (one commit on ``main``) reachable over that transport, as a ``Transport``; the
  client environment it needs (``GIT_SSH_COMMAND`` for ssh) is already applied with monkeypatch,
  so git and ``python -m gitclaim`` subprocesses inherit it.
* ``make_transport_clone(name)`` -- a plain ``git clone`` of ``transport.url``.
* ``private_sshd_server``, ``private_http_server``, ``private_git_daemon`` -- function-scoped
  servers owned by one test, for fault injection: ``.stop()``, ``.kill()``, ``.start()`` (same
  port), ``.new_repo(name)`` -> ``Transport``.

Server-side git (upload-pack, receive-pack, hooks) runs with ``GitServer.session_env()`` on every
kind of server: its own git configuration (``GIT_CONFIG_NOSYSTEM=1``, ``GIT_CONFIG_GLOBAL`` in the
server's work directory, never the test's or the user's), HOME in that directory, this
interpreter's bin directory first on PATH and this checkout on PYTHONPATH.
"""

from __future__ import annotations

import getpass
import itertools
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.gitenv import ROOT, git

if TYPE_CHECKING:
    import pytest

LOOPBACK = "127.0.0.1"
TRANSPORTS = ("file", "ssh", "http", "git")
SERVER_FIXTURES = {"ssh": "sshd_server", "http": "http_server", "git": "git_daemon"}
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

SEED_AUTHOR = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


class ServerStartError(RuntimeError):
    """A server process did not come up; the message carries its log."""


# --------------------------------------------------------------------------------------------
# Transport


@dataclass
class Transport:
    """A bare repository reachable over one transport.

    ``url`` is what you pass to ``git clone``; ``bare_path`` is the repository on disk (assert on
    it with plain git, e.g. ``tests.helpers.remote_refs(transport.bare_path)``); ``env`` is the
    environment a client process needs (empty except for ssh).
    """

    name: str
    url: str
    bare_path: Path
    env: dict[str, str] = field(default_factory=dict)
    server: GitServer | None = field(default=None, repr=False, compare=False)

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> Transport:
        """Export ``env`` into os.environ for the rest of the test, so child processes inherit it."""
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        return self


def init_seeded_bare(path: Path) -> Path:
    """``git init --bare`` plus one commit on main holding README.md, like conftest's bare_remote.

    Built with plumbing inside the bare repository (no seed clone, no push): same tree, same
    message, a handful of git calls.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    git(path.parent, "init", "--bare", "-q", "--initial-branch=main", str(path))
    env = {**os.environ, **SEED_AUTHOR}

    def plumb(*args: str, input: str | None = None) -> str:
        return subprocess.run(
            ["git", *args], cwd=path, env=env, check=True, text=True, capture_output=True, input=input
        ).stdout.strip()

    blob = plumb("hash-object", "-w", "--stdin", input="project\n")
    tree = plumb("mktree", input=f"100644 blob {blob}\tREADME.md\n")
    commit = plumb("commit-tree", tree, "-m", "chore: start project")
    plumb("update-ref", "refs/heads/main", commit, "")
    return path


# --------------------------------------------------------------------------------------------
# Process and port plumbing


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the kernel's pick for 127.0.0.1:0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on 127.0.0.1:port (Linux /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    inodes: set[str] = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return inodes
    for line in lines:
        cols = line.split()
        if len(cols) > 9 and cols[1] == wanted and cols[3] == "0A":  # 0A = LISTEN
            inodes.add(cols[9])
    return inodes


def _group_pids(pgid: int) -> list[int]:
    """Processes in process group pgid (``git daemon`` forks ``git-daemon``, which holds the socket)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            pids.append(int(entry))
    return pids


def _group_listens(pgid: int, port: int) -> bool | None:
    """True once a process of group pgid holds the listening socket on the port; None if /proc can't tell."""
    if not Path("/proc/net/tcp").exists():
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for pid in _group_pids(pgid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    return False


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0):
            return True
    except OSError:
        return False


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _server_path() -> str:
    """PATH for server-side git and hooks: this interpreter's bin dir first, so a hook's python3
    (or an installed gitclaim script) is the one running the tests, then the usual PATH."""
    parts = [os.path.dirname(sys.executable), *(os.environ.get("PATH") or DEFAULT_PATH).split(os.pathsep)]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM the server if the pytest process dies without running teardown (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _find_binary(name: str, *candidates: str) -> str | None:
    for cand in candidates:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    return os.path.abspath(found) if found else None


def _git_exec_path() -> str:
    return subprocess.run(["git", "--exec-path"], check=True, text=True, capture_output=True).stdout.strip()


def _missing(what: str) -> None:
    """Skip locally when a server binary is missing, but fail in CI, where .ci/run installs it."""
    import pytest  # here, not at the top: the benchmarks import this module without pytest's fixtures

    message = f"{what} is not installed (tests/run.sh installs git openssh-server openssh-client lighttpd gitolite3)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# --------------------------------------------------------------------------------------------
# Servers


class GitServer:
    """A server process in its own process group, serving bare repositories under ``base``.

    ``start()`` picks a free port on first start and keeps it across ``stop()``/``start()`` so
    clients' URLs stay valid. ``stop()`` sends SIGTERM to the whole process group (in-flight
    connections and CGI children die too) and SIGKILLs whatever is left after STOP_TIMEOUT;
    ``kill()`` SIGKILLs straight away.
    """

    kind = ""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.base = workdir / "repos"
        self.base.mkdir(exist_ok=True)
        self.gitconfig = workdir / "server.gitconfig"
        self.gitconfig.write_text(
            "[http]\n\treceivepack = true\n"  # smart HTTP pushes without REMOTE_USER
            "[safe]\n\tdirectory = *\n"
            "[gc]\n\tauto = 0\n"
            "[receive]\n\tautogc = false\n"
        )
        self.log_path = workdir / f"{self.kind}.log"
        # Extra environment for git on the server side (and its hooks); takes effect at next start().
        self.extra_env: dict[str, str] = {}
        self.port: int | None = port
        self.proc: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    def session_env(self) -> dict[str, str]:
        """What server-side git processes (upload-pack, receive-pack, hooks) run with, on every kind
        of server: the server's own git config, its own HOME, this checkout importable."""
        return {
            "HOME": str(self.workdir),
            "XDG_CONFIG_HOME": str(self.workdir / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(self.gitconfig),
            "PATH": _server_path(),
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }

    def process_env(self) -> dict[str, str]:
        """Environment of the server process itself: no GIT_*/GITCLAIM_* leaking in from a test."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITCLAIM_", "SSH_"))}
        env.update(self.session_env())
        env.setdefault("LC_ALL", "C")
        return env

    # -- to override
    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Write configuration for self.port (called before every start)."""

    def url_for(self, repo: Path) -> str:
        raise NotImplementedError

    def client_env(self) -> dict[str, str]:
        return {}

    def probe(self, port: int) -> bool:
        return _port_accepts(port)

    # -- lifecycle
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> GitServer:
        if self.running:
            return self
        fixed = self.port is not None
        last: ServerStartError | None = None
        for attempt in range(3 if fixed else 5):
            if not fixed:
                self.port = free_port()
            elif attempt:
                time.sleep(0.5)  # restart on the same port: give a lingering socket time to go
            self.prepare()
            try:
                self._spawn()
                return self
            except ServerStartError as exc:  # most likely someone grabbed the port in between
                last = exc
                self._terminate(signal.SIGKILL)
        assert last is not None
        if not fixed:
            self.port = None
        raise last

    def _spawn(self) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting {self.kind} on {LOOPBACK}:{self.port}: {shlex.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(), cwd=self.workdir, env=self.process_env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                # Not from other threads: PDEATHSIG fires when the *thread* that forked exits.
                preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
            )
        deadline = time.monotonic() + START_TIMEOUT
        assert self.port is not None
        while True:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.kind} server exited with {self.proc.returncode} before listening on "
                    f"{LOOPBACK}:{self.port}; log {self.log_path}:\n{self.log_tail()}"
                )
            owns = _group_listens(self.proc.pid, self.port)
            if owns is not False and self.probe(self.port) and self.proc.poll() is None:
                return
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{self.kind} server did not accept connections on {LOOPBACK}:{self.port} within "
                    f"{START_TIMEOUT}s; log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        self._terminate(signal.SIGKILL)

    def restart(self) -> GitServer:
        self.stop()
        return self.start()

    def _terminate(self, sig: signal.Signals) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        pgid = proc.pid  # start_new_session=True: the server leads its own process group
        if proc.poll() is None:
            self._signal_group(pgid, sig)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal_group(pgid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)
        # Children that outlived the leader (forked connections, CGIs) must not keep the port.
        self._signal_group(pgid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_pids(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def log_tail(self, limit: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"

    # -- repositories
    def new_repo(self, name: str | None = None) -> Transport:
        """A fresh bare repository (one commit on main) under base, as a Transport of this server."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name or "repo").strip("._-")[:60] or "repo"
        path = self.base / f"{stem}-{next(self._names)}.git"
        while path.exists():
            path = self.base / f"{stem}-{next(self._names)}.git"
        init_seeded_bare(path)
        return Transport(self.kind, self.url_for(path), path, dict(self.client_env()), server=self)


def _sshd_quote(arg: str) -> str:
    if not re.search(r'[\s"#\'\\]', arg):
        return arg
    if '"' in arg or "\\" in arg:
        raise ValueError(f"cannot pass {arg!r} through sshd_config SetEnv")
    return f'"{arg}"'


class SshServer(GitServer):
    """OpenSSH sshd in the foreground (-D -e), pubkey login for the current user only."""

    kind = "ssh"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        sshd = _find_binary("sshd", "/usr/sbin/sshd")
        keygen = _find_binary("ssh-keygen", "/usr/bin/ssh-keygen")
        ssh = _find_binary("ssh", "/usr/bin/ssh")
        if not (sshd and keygen and ssh):
            _missing("OpenSSH (sshd, ssh, ssh-keygen)")
        assert sshd and keygen and ssh
        super().__init__(workdir, port)
        self.sshd, self.ssh = sshd, ssh
        self.user = getpass.getuser()
        self.host_key = workdir / "ssh_host_ed25519_key"
        self.client_key = workdir / "client_ed25519_key"
        self.authorized_keys = workdir / "authorized_keys"
        self.config = workdir / "sshd_config"
        for key in (self.host_key, self.client_key):
            if not key.exists():
                subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", f"gitclaim-tests-{key.name}",
                                "-f", str(key)], check=True, capture_output=True)
        self.authorized_keys.write_text((workdir / "client_ed25519_key.pub").read_text())
        self.client_key.chmod(0o600)
        # sshd insists on its privilege separation directory (normally made by systemd/the package).
        try:
            Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        except OSError:
            pass
        self._extra = self._supported_extras()

    def _config_text(self, port: int, extra: list[str]) -> str:
        lines = [
            f"Port {port}",
            f"ListenAddress {LOOPBACK}",
            "AddressFamily inet",
            f"HostKey {self.host_key}",
            f"PidFile {self.workdir / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            f"AllowUsers {self.user}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no",
            "StrictModes no",
            "UsePAM no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "PermitTTY no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "PermitTunnel no",
            "MaxStartups 200",
            "MaxSessions 200",
            "LoginGraceTime 30",
            "LogLevel INFO",
            # The session's git-upload-pack/git-receive-pack: /usr/bin on sshd's default PATH, and
            # the server's own git config rather than root's ~/.gitconfig.
            # sshd gives sessions a fresh environment; SetEnv overrides it with session_env(). HOME
            # matters too: the login shell runs git-receive-pack with `-c`, and bash sources
            # $HOME/.bashrc when started by sshd; the machine's root .bashrc must not slow every
            # connection down or print into the git protocol stream.
            "SetEnv " + " ".join(_sshd_quote(f"{k}={v}") for k, v in self.session_env().items()),
            # Like a real git host over ssh: let the client ask for protocol version 2.
            "AcceptEnv GIT_PROTOCOL",
            # Classic curve25519 key exchange: the post-quantum default costs a noticeable slice of
            # every connection and the suite makes hundreds of them.
            "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org",
            *extra,
        ]
        return "\n".join(lines) + "\n"

    def _supported_extras(self) -> list[str]:
        """Options only newer OpenSSH knows (9.8+ penalises sources that drop connections)."""
        extras = []
        for option in ("PerSourcePenalties no",):
            probe = self.workdir / "sshd_config.probe"
            probe.write_text(self._config_text(22, [option]))
            res = subprocess.run([self.sshd, "-t", "-f", str(probe)], capture_output=True, text=True)
            if res.returncode == 0:
                extras.append(option)
            probe.unlink()
        return extras

    def prepare(self) -> None:
        assert self.port is not None
        self.config.write_text(self._config_text(self.port, self._extra))

    def command(self) -> list[str]:
        return [self.sshd, "-D", "-e", "-f", str(self.config)]

    def probe(self, port: int) -> bool:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=2.0) as sock:
                sock.settimeout(2.0)
                return sock.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def url_for(self, repo: Path) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.port}{repo}"

    def ssh_command(self) -> str:
        """A GIT_SSH_COMMAND of a user's own (one fresh connection per git process), for tests that set one."""
        return self.ssh_options() + " -o ControlMaster=no -o ControlPath=none"

    def client_env(self) -> dict[str, str]:
        # Not GIT_SSH_COMMAND: clients reach this server the way a user's plain `ssh` would, through an `ssh`
        # first on PATH that adds the test's key and options, so that gitclaim decides how git uses ssh (and
        # shares connections, as it does by default) exactly as on a user's machine.
        wrapper = self.workdir / "bin" / "ssh"
        if not wrapper.exists():
            wrapper.parent.mkdir(exist_ok=True)
            wrapper.write_text("#!/bin/sh\nexec " + self.ssh_options() + ' "$@"\n')
            wrapper.chmod(0o755)
        return {"PATH": f"{wrapper.parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}

    def ssh_options(self) -> str:
        """The real ssh with this server's client key, no host key checks and no configuration file."""
        return shlex.join([
            self.ssh, "-F", "/dev/null", "-i", str(self.client_key),
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10",
        ])


class HttpServer(GitServer):
    """lighttpd in the foreground (-D) running git http-backend as a CGI (smart HTTP).

    Runs as the invoking user (root in CI): no ``server.username``, so lighttpd keeps root and the
    CGI owns the same files as the repositories it writes (git's safe.directory is also relaxed in
    the server's config). Pushes are allowed by ``http.receivepack=true`` in that config.
    """

    kind = "http"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        lighttpd = _find_binary("lighttpd", "/usr/sbin/lighttpd")
        if not lighttpd:
            _missing("lighttpd")
        assert lighttpd
        backend = os.path.join(_git_exec_path(), "git-http-backend")
        if not os.access(backend, os.X_OK):
            _missing(f"git-http-backend ({backend})")
        super().__init__(workdir, port)
        self.lighttpd, self.backend = lighttpd, backend
        self.docroot = workdir / "htdocs"
        self.docroot.mkdir(exist_ok=True)
        self.uploads = workdir / "uploads"
        self.uploads.mkdir(exist_ok=True)
        self.config = workdir / "lighttpd.conf"

    def prepare(self) -> None:
        def q(value: object) -> str:
            return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

        # mod_cgi hands the CGI only CGI variables plus these: not the server's own environment.
        cgi_env = {"GIT_PROJECT_ROOT": str(self.base), "GIT_HTTP_EXPORT_ALL": "1", **self.session_env()}
        env_lines = ",\n".join(f"    {q(k)} => {q(v)}" for k, v in cgi_env.items())
        self.config.write_text(
            'server.modules = ("mod_alias", "mod_setenv", "mod_cgi")\n'
            f"server.document-root = {q(self.docroot)}\n"
            f"server.bind = {q(LOOPBACK)}\n"
            f"server.port = {self.port}\n"
            f"server.upload-dirs = ({q(self.uploads)})\n"
            "server.max-connections = 512\n"
            "server.max-keep-alive-idle = 5\n"
            f'alias.url = ("/git" => {q(self.backend)})\n'
            '$HTTP["url"] =~ "^/git" {\n'
            '  cgi.assign = ("" => "")\n'
            f"  setenv.add-environment = (\n{env_lines}\n  )\n"
            "}\n"
        )

    def command(self) -> list[str]:
        return [self.lighttpd, "-D", "-f", str(self.config)]

    def url_for(self, repo: Path) -> str:
        return f"http://{LOOPBACK}:{self.port}/git/{repo.relative_to(self.base)}"


class GitDaemon(GitServer):
    """``git daemon`` in the foreground, exporting everything under base, receive-pack enabled."""

    kind = "git"

    def command(self) -> list[str]:
        return [
            "git", "daemon", "--reuseaddr", f"--listen={LOOPBACK}", f"--port={self.port}",
            f"--base-path={self.base}", "--export-all", "--enable=receive-pack",
            "--informative-errors", "--max-connections=128", str(self.base),
        ]

    def url_for(self, repo: Path) -> str:
        return f"git://{LOOPBACK}:{self.port}/{repo.relative_to(self.base)}"


SERVER_CLASSES: dict[str, type[GitServer]] = {"ssh": SshServer, "http": HttpServer, "git": GitDaemon}


@dataclass
class FileServer:
    """No process: the "file" transport is a bare repository addressed by a file:// URL."""

    base: Path
    kind: str = "file"

    def new_repo(self, name: str | None = None) -> Transport:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name or "file-remote").strip("._-") or "file-remote"
        path = self.base / f"{stem}.git"
        init_seeded_bare(path)
        return Transport("file", path.as_uri(), path, {})
