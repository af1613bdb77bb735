"""Reusing one ssh connection across gitclaim's git processes (OpenSSH ControlMaster).

Over ssh most of a push is the connection itself (key exchange, authentication). When gitclaim alone decides how
git reaches an ssh remote, it hands git an ssh command that shares one connection per host: the first process
becomes the master (`ControlMaster=auto`), the others talk through its socket, and the master exits on its own
once no process has used it for `ControlPersist` seconds. docs/config.md has the setting and the security notes.

Left alone, so the user's choice wins: a `GIT_SSH_COMMAND`, `GIT_SSH` or `core.sshCommand` of theirs, an ssh
variant other than OpenSSH, `url.*.insteadOf` rewriting, and a host for which their ssh configuration already has
a ControlMaster or ControlPath (asked with `ssh -G`, whose verdict is kept per host until an ssh configuration
file changes). The sockets live in a directory of this user's alone (mode 0700, checked on every use, never
trusted otherwise).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import stat
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from gitclaim.core import timeutil
from gitclaim.core.atomicfile import write_atomic
from gitclaim.core.hashing import hasher
from gitclaim.errors import InvalidInput

DEFAULT_PERSIST = 60  # seconds a master stays after its last use: agents heartbeat and claim in bursts
SERVER_PERSIST = 600  # the MCP server's default: its calls come minutes apart, and it is one process
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")
# A Unix socket path is limited to 108 bytes; ssh adds ".<16 random characters>" while it binds.
_MAX_SOCKET = 100


class Host(NamedTuple):
    user: str | None
    host: str
    port: str | None


_SSH_SCHEMES = ("ssh", "git+ssh", "ssh+git")


def parse_ssh_url(url: str) -> Host | None:
    """The ssh destination of a git URL (`ssh://[user@]host[:port]/path` or `[user@]host:path`), else None."""
    scheme, sep, _ = url.partition("://")
    if (sep and scheme not in _SSH_SCHEMES) or url.startswith(("/", ".")):
        return None  # file://, https://, a local path: decided without compiling the patterns below
    m = re.match(r"^(?:ssh|git\+ssh|ssh\+git)://(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d*))?/", url)
    if m:
        return Host(m.group(1), m.group(2).strip("[]"), m.group(3) or None)
    if "://" in url:
        return None
    # scp-like syntax: a colon before any slash (git's own rule), and not a local path such as ./a:b
    m = re.match(r"^(?:([^@/:]+)@)?(\[[^\]]+\]|[^:/]+):", url)
    if m and not url.startswith(("/", ".")):
        return Host(m.group(1), m.group(2).strip("[]"), None)
    return None


def enabled(get: Callable[[str], str | None], env: Mapping[str, str]) -> bool:
    raw = env.get("GITCLAIM_SSH_MULTIPLEX") or get("gitclaim.sshmultiplex") or "true"
    value = raw.strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise InvalidInput(f"invalid gitclaim.sshMultiplex / GITCLAIM_SSH_MULTIPLEX {raw!r}: use true or false")


def persist_seconds(get: Callable[[str], str | None], env: Mapping[str, str], default: int = DEFAULT_PERSIST
                    ) -> int:
    raw = env.get("GITCLAIM_SSH_PERSIST") or get("gitclaim.sshpersist")
    if not raw:
        return default
    seconds = int(timeutil.parse_duration(raw).total_seconds())
    if seconds <= 0:
        raise InvalidInput("gitclaim.sshPersist / GITCLAIM_SSH_PERSIST must be positive")
    return seconds


def multiplex_env(urls: list[str], get: Callable[[str], str | None], config_keys: list[str],
                  env: Mapping[str, str], scope: str, persist: int = DEFAULT_PERSIST) -> dict[str, str]:
    """The environment that makes git share ssh connections to these remote URLs, or {} to leave git alone.

    `scope` (one clone) is part of the socket's name: the processes of one clone share a connection, but many
    agents' clones on one machine do not all funnel through one (a server caps the sessions per connection,
    OpenSSH's MaxSessions is 10 by default)."""
    if not urls or not enabled(get, env):
        return {}
    if env.get("GIT_SSH_COMMAND") or env.get("GIT_SSH") or get("core.sshcommand"):
        return {}
    variant = (env.get("GIT_SSH_VARIANT") or get("ssh.variant") or "auto").lower()
    if variant not in ("auto", "ssh"):
        return {}
    if any(k.startswith("url.") and k.endswith(("insteadof", "pushinsteadof")) for k in config_keys):
        return {}
    hosts = [parse_ssh_url(u) for u in urls]
    if any(h is None for h in hosts):
        return {}
    ssh = _which("ssh", env.get("PATH") or os.defpath)
    directory = control_dir(env)
    if ssh is None or directory is None:
        return {}
    if not all(_free_of_user_mux(ssh, h, directory, env) for h in hosts if h is not None):
        return {}
    command = shlex.join([
        "ssh", "-o", "ControlMaster=auto", "-o", f"ControlPath={directory}/{scope}-%C",
        "-o", f"ControlPersist={persist_seconds(get, env, persist)}",
    ])
    return {"GIT_SSH_COMMAND": command, "GITCLAIM_SSH_CONTROL": str(directory)}


def _which(name: str, path: str) -> str | None:
    """The program the shell would run for `name` (shutil.which, without importing shutil on the hot path)."""
    for d in path.split(os.pathsep):
        candidate = os.path.join(d or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def control_dir(env: Mapping[str, str]) -> Path | None:
    """This user's private socket directory, created 0700; None when it is not safely ours."""
    uid = os.getuid()
    runtime = env.get("XDG_RUNTIME_DIR")
    tmp = env.get("TMPDIR") or "/tmp"
    base = Path(runtime if runtime and os.path.isabs(runtime) else tmp)
    path = base / f"gitclaim-ssh-{uid}"
    if len(str(path)) + 52 > _MAX_SOCKET:  # "/<8-character scope>-<40-character %C>"
        return None
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = path.lstat()
    except OSError:
        return None
    # Another user's directory, a symlink, or one others can enter would let them reach our connections.
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        return None
    return path


def _ssh_config_stamp(ssh: str) -> str:
    """What `ssh -G` depends on that can change: the ssh binary and the configuration files it reads."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    files = [Path(ssh), home / ".ssh" / "config", Path("/etc/ssh/ssh_config")]
    extra = Path("/etc/ssh/ssh_config.d")
    if extra.is_dir():
        files += sorted(extra.iterdir())
    parts = [ssh]
    for f in files:
        try:
            st = f.stat()
            parts.append(f"{f}:{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")
        except OSError:
            parts.append(f"{f}:-")
    return hasher("sha1")("\n".join(parts).encode()).hexdigest()


def _free_of_user_mux(ssh: str, host: Host, directory: Path, env: Mapping[str, str]) -> bool:
    """True when the user's ssh configuration sets no ControlMaster / ControlPath for this host."""
    stamp = _ssh_config_stamp(ssh)
    key = hasher("sha1")(f"{host.user}\0{host.host}\0{host.port}".encode()).hexdigest()[:16]
    memo = directory / f"checked-{key}"
    try:
        kept = memo.read_text().split()
        if len(kept) == 2 and kept[0] == stamp and kept[1] in ("free", "own"):
            return kept[1] == "free"
    except OSError:
        pass
    args = [ssh, "-G"]
    if host.port:
        args += ["-p", host.port]
    if host.user:
        args += ["-l", host.user]
    try:
        res = subprocess.run([*args, "--", host.host], capture_output=True, stdin=subprocess.DEVNULL,
                             env=dict(env), timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if res.returncode != 0:
        return False  # not OpenSSH, or a configuration ssh cannot read: leave ssh to itself
    seen = dict(ln.split(" ", 1) for ln in res.stdout.decode("utf-8", "replace").splitlines() if " " in ln)
    free = seen.get("controlmaster", "false") in ("false", "no") and seen.get("controlpath", "none") == "none"
    try:
        write_atomic(memo, f"{stamp} {'free' if free else 'own'}\n".encode())
    except OSError:
        pass
    return free


def stop_master(env: Mapping[str, str], url: str) -> None:
    """Ask the master for `url` to exit (after a timeout: a master stuck on a dead connection must not serve
    the next command). Harmless when there is none."""
    command, host = env.get("GIT_SSH_COMMAND"), parse_ssh_url(url)
    if not env.get("GITCLAIM_SSH_CONTROL") or not command or host is None:
        return
    args = [*shlex.split(command), "-O", "exit"]
    if host.port:
        args += ["-p", host.port]
    if host.user:
        args += ["-l", host.user]
    try:
        subprocess.run([*args, "--", host.host], capture_output=True, stdin=subprocess.DEVNULL, env=dict(env),
                       timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass
