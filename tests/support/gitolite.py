"""gitolite3 (Debian's package) behind the test sshd on 127.0.0.1: a real forge with users, for the guard.

``GitoliteServer`` is the suite's OpenSSH server (servers.SshServer) whose authorized_keys is the one gitolite
writes: every key logs in as the server's user and runs ``gitolite-shell <name>``, which sets ``GL_USER`` and
checks gitolite's access rules before git-receive-pack runs. Setting it up is what a gitolite admin does:

1. ``gitolite setup -pk admin.pub`` as the server user (here the test's user, with its own HOME under the
   server's work directory; on a real server a dedicated account such as ``git`` or ``gitolite3``);
2. ``~/.gitolite.rc``: ``LOCAL_CODE`` on (where site hooks live), ``GIT_CONFIG_KEYS`` allowing ``gitclaim.*``
   keys in gitolite.conf, and ``$ENV{GITCLAIM_BIN}``: the gitclaim executable of the server user's own install,
   because hooks run with gitolite's environment, not a login shell's;
3. the guard: gitclaim's pre-receive script as ``$LOCAL_CODE/hooks/common/pre-receive``, linked into every
   repository by ``gitolite setup --hooks-only`` (and by gitolite itself into repositories created later);
4. users and repositories: the admin clones ``gitolite-admin``, adds ``keydir/<user>.pub`` and the repositories
   (with ``config gitclaim.guardRequireUser = true``) to ``conf/gitolite.conf``, and pushes.

The session PATH has no gitclaim and no interpreter that can import it, and no PYTHONPATH: the guard runs only
because ``GITCLAIM_BIN`` names the install (a small script starting this interpreter on this checkout).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support.gitenv import ROOT
from tests.support.servers import LOOPBACK, SshServer, _find_binary, _missing, init_seeded_bare

USERS = ("alice", "bob")
GITOLITE_PATH = "/usr/local/bin:/usr/bin:/bin"


def gitolite_binary() -> str:
    found = _find_binary("gitolite", "/usr/bin/gitolite", "/usr/share/gitolite3/gitolite")
    if not found:
        _missing("gitolite3 (Debian's package gitolite3)")
    assert found
    return found


class GitoliteServer(SshServer):
    kind = "gitolite"

    def __init__(self, workdir: Path, repos: tuple[str, ...], port: int | None = None) -> None:
        self.gitolite = gitolite_binary()
        self.home = workdir / "gitolite-home"  # before the base class, which asks session_env() already
        self.repos = repos
        super().__init__(workdir, port)
        self.home.mkdir(exist_ok=True)
        self.keys = {name: self._key(name) for name in ("admin", *USERS)}
        self.bin = self._gitclaim_bin()
        self._setup_as_server_user()
        # sshd reads the keys gitolite maintains: each runs gitolite-shell with the key's user name.
        self.authorized_keys = self.home / ".ssh" / "authorized_keys"

    # ---- the server user's side ----------------------------------------------------------------------------
    def session_env(self) -> dict[str, str]:
        env = super().session_env()
        env.update(HOME=str(self.home), PATH=GITOLITE_PATH)
        env.pop("PYTHONPATH", None)
        return env

    def _gitolite(self, *args: str) -> None:
        subprocess.run([self.gitolite, *args], env=self.process_env(), cwd=self.home, check=True,
                       capture_output=True, text=True)

    def _key(self, name: str) -> Path:
        key = self.workdir / f"{name}_ed25519"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True,
                           capture_output=True)
        key.chmod(0o600)
        return key

    def _gitclaim_bin(self) -> Path:
        """The server user's gitclaim install, as a virtualenv's bin/gitclaim would be."""
        path = self.workdir / "server-venv" / "bin" / "gitclaim"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} "
                        "-m gitclaim \"$@\"\n")
        path.chmod(0o755)
        return path

    def _setup_as_server_user(self) -> None:
        admin_pub = self.workdir / "admin.pub"
        admin_pub.write_text(Path(f"{self.keys['admin']}.pub").read_text())
        self._gitolite("setup", "-pk", str(admin_pub))
        rc = self.home / ".gitolite.rc"
        text = rc.read_text()
        text = text.replace('# LOCAL_CODE                =>  "$ENV{HOME}/local",',
                            'LOCAL_CODE                =>  "$ENV{HOME}/local",', 1)
        text = re.sub(r"GIT_CONFIG_KEYS\s*=>\s*'',", "GIT_CONFIG_KEYS => 'gitclaim\\\\..*',", text, count=1)
        rc.write_text(f"$ENV{{GITCLAIM_BIN}} = '{self.bin}';\n{text}")
        from gitclaim.hooks.install import GUARD_HOOK_NAME, hook_script

        hook = self.home / "local" / "hooks" / "common" / GUARD_HOOK_NAME
        hook.parent.mkdir(parents=True, exist_ok=True)
        hook.write_text(hook_script(GUARD_HOOK_NAME))
        hook.chmod(0o755)
        self._gitolite("setup", "--hooks-only")

    # ---- the admin's side ----------------------------------------------------------------------------------
    def ssh_command_for(self, user: str) -> str:
        return shlex.join([
            self.ssh, "-F", "/dev/null", "-i", str(self.keys[user]), "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", "-o", "ControlMaster=no", "-o", "ControlPath=none",
        ])

    def repo_url(self, name: str) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.port}/{name}"

    def git_as(self, user: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIT_SSH_COMMAND": self.ssh_command_for(user)}
        return subprocess.run(["git", *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=120)

    def add_users_and_repos(self) -> None:
        """What an admin does: users' keys and the repositories, pushed to gitolite-admin; then main seeded."""
        admin = self.workdir / "gitolite-admin"
        res = self.git_as("admin", self.workdir, "clone", "-q", self.repo_url("gitolite-admin"), str(admin))
        assert res.returncode == 0, res.stderr
        for user in USERS:
            (admin / "keydir" / f"{user}.pub").write_text(Path(f"{self.keys[user]}.pub").read_text())
        conf = ["repo gitolite-admin", "    RW+     =   admin", ""]
        for name in self.repos:
            conf += [f"repo {name}", "    RW+     =   admin " + " ".join(USERS),
                     "    config gitclaim.guardRequireUser = true", ""]
        (admin / "conf" / "gitolite.conf").write_text("\n".join(conf))
        for args in (("add", "-A"), ("commit", "-q", "-m", "chore: users and mission repositories"),
                     ("push", "-q", "origin", "HEAD:master")):
            res = self.git_as("admin", admin, *args)
            assert res.returncode == 0, f"git {args}: {res.stderr}"
        self._gitolite("setup", "--hooks-only")
        for name in self.repos:
            seed = init_seeded_bare(self.workdir / "seeds" / f"{name}.git")
            res = self.git_as("admin", seed, "push", "-q", self.repo_url(name), "main:main")
            assert res.returncode == 0, res.stderr

    def bare(self, name: str) -> Path:
        return self.home / "repositories" / f"{name}.git"
