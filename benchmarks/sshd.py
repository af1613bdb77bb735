"""An OpenSSH server on 127.0.0.1 for the ssh rows: the test suite's own `tests.servers.SshServer` (key auth,
its own git configuration, listening on loopback only), so the benchmarks measure the same server the tests use.

`tests/servers.py` imports pytest at module level (it also holds the fixtures); pytest is a test dependency and
importing it starts nothing. If that import fails, a minimal starter below does the same job.
"""

from __future__ import annotations

import getpass
import os
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import seeded_bare

LOOPBACK = "127.0.0.1"


@dataclass
class Remote:
    url: str
    bare: Path
    env: dict[str, str]


class Sshd:
    """start() / new_repo(name) -> Remote / stop(); `source` says which implementation runs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        try:
            from tests.servers import SshServer  # the test suite's server

            self._server = SshServer(workdir)
            self.source = "tests.servers.SshServer"
        except Exception as exc:
            self._server = _OwnSshd(workdir)
            self.source = f"benchmarks/sshd.py (tests.servers not importable: {type(exc).__name__}: {exc})"

    def start(self) -> Sshd:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def new_repo(self, name: str) -> Remote:
        t = self._server.new_repo(name)
        return Remote(t.url, t.bare_path, dict(t.env))

    def describe(self) -> str:
        ver = subprocess.run(["ssh", "-V"], capture_output=True, text=True)
        return f"OpenSSH sshd on {LOOPBACK}, key auth ({(ver.stderr or ver.stdout).strip()}), via {self.source}"


class _OwnSshd:
    """Fallback: sshd -D on a free loopback port, ed25519 host and client keys, pubkey auth only."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.base = workdir / "repos"
        self.base.mkdir(exist_ok=True)
        self.host_key = workdir / "host_key"
        self.client_key = workdir / "client_key"
        for key in (self.host_key, self.client_key):
            if not key.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (workdir / "authorized_keys").write_text((workdir / "client_key.pub").read_text())
        self.gitconfig = workdir / "server.gitconfig"
        self.gitconfig.write_text("[safe]\n\tdirectory = *\n[gc]\n\tauto = 0\n[receive]\n\tautogc = false\n")
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._n = 0

    def start(self) -> None:
        with socket.socket() as s:
            s.bind((LOOPBACK, 0))
            self.port = s.getsockname()[1]
        cfg = self.workdir / "sshd_config"
        cfg.write_text("\n".join([
            f"Port {self.port}", f"ListenAddress {LOOPBACK}", f"HostKey {self.host_key}",
            f"PidFile {self.workdir / 'sshd.pid'}", f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
            f"AllowUsers {self.user}", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "StrictModes no", "UsePAM no", "UseDNS no", "PrintMotd no",
            "MaxStartups 200", "MaxSessions 200",
            f"SetEnv GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL={self.gitconfig} HOME={self.workdir}",
            "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org",
        ]) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITCLAIM_"))}
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=1) as c:
                    if c.recv(8).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(10)

    def new_repo(self, name: str):
        self._n += 1
        path = seeded_bare(self.base / f"{name}-{self._n}.git")
        ssh = shlex.join(["ssh", "-F", "/dev/null", "-i", str(self.client_key), "-o", "IdentitiesOnly=yes",
                          "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                          "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"])

        @dataclass
        class T:
            url: str
            bare_path: Path
            env: dict

        return T(f"ssh://{self.user}@{LOOPBACK}:{self.port}{path}", path,
                 {"GIT_SSH_COMMAND": ssh, "GIT_SSH_VARIANT": "ssh"})
