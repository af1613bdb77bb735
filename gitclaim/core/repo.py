"""The repository a command runs in: git boundary, paths, configuration and identity.

Everything a command needs to know about its clone is read here with two git processes (rev-parse and
config --list); nothing else re-reads configuration.
"""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path

from gitclaim.core import git as g
from gitclaim.core import timeutil
from gitclaim.core.refs import Namespace
from gitclaim.core.signing import Signer, signer_from
from gitclaim.errors import InvalidInput, NamespaceMismatch, NotFound

DEFAULT_REMOTE = "origin"
DEFAULT_TIMEOUT = 60.0
MISSIONS_REFSPEC = "+refs/missions/*:refs/missions/*"  # the default namespace's; use `Repo.namespace.refspec`
ARCHIVE_REF = "refs/gitclaim/archive"  # the local mirror of the archive, whatever the namespace (core/refs.py)
NAMESPACE_KEY = "gitclaim.namespace"


INSTANCE_ENV = "GITCLAIM_INSTANCE"
_INSTANCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Things the user should know that are not failures (a copied clone got its own instance id). Library code never
# prints: the CLI's run_app writes these to stderr after the command.
NOTICES: list[str] = []


def check_instance(value: str, source: str) -> str:
    """An instance id goes into commit trailers and mission.md: one short token, never a line break."""
    if not _INSTANCE_RE.fullmatch(value):
        raise InvalidInput(f"invalid instance id {value!r} in {source}: use 1 to 64 letters, digits, '.', '_' or "
                           "'-', starting with a letter or digit")
    return value


class Repo:
    def __init__(self, git: g.Git, paths: g.RepoPaths, config: dict[str, list[str]], long_lived: bool = False) -> None:
        self.git = git
        self.paths = paths
        self.config = config
        self._transports: set[str] = set()  # remotes whose transport is prepared
        self.long_lived = long_lived  # opened by a server (MCP): keep a shared ssh connection longer between calls

    def __repr__(self) -> str:
        return f"Repo(git={self.git!r}, paths={self.paths!r}, long_lived={self.long_lived!r})"

    # ---- configuration ------------------------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        values = self.config.get(key.lower())
        return values[-1] if values else None

    def get_all(self, key: str) -> list[str]:
        return self.config.get(key.lower(), [])

    @property
    def remote(self) -> str:
        return os.environ.get("GITCLAIM_REMOTE") or self.get("gitclaim.remote") or DEFAULT_REMOTE

    def require_remote(self) -> str:
        name = self.remote
        if self.get(f"remote.{name}.url") is None:
            raise NotFound(f"no remote named {name!r} in this clone (set one with: git remote add {name} URL, "
                           "or choose another with: gitclaim init --remote NAME)")
        if name not in self._transports:
            self._transports.add(name)
            # Every command that talks to the remote passes here first: share one ssh connection (core/ssh.py).
            from gitclaim.core import ssh
            from gitclaim.core.hashing import hasher

            # One connection per clone and remote URL: two ssh host aliases of one server (gitolite users with
            # different keys) resolve to the same host, user and port, which is all ssh's %C tells apart.
            urls = "\0".join(self.remote_urls(name))
            scope = hasher("sha1")(f"{self.paths.common_dir}\0{urls}".encode()).hexdigest()[:8]
            self.git.env.update(ssh.multiplex_env(self.remote_urls(name), self.get, list(self.config),
                                                  self.git.env, scope,
                                                  ssh.SERVER_PERSIST if self.long_lived else ssh.DEFAULT_PERSIST))
        return name

    def remote_urls(self, name: str) -> list[str]:
        return self.get_all(f"remote.{name}.url") + self.get_all(f"remote.{name}.pushurl")

    def drop_connection(self) -> None:
        """After a network timeout: stop the shared ssh connection, which may be the part that hangs."""
        from gitclaim.core import ssh

        for url in self.remote_urls(self.remote):
            ssh.stop_master(self.git.env, url)

    def _setting(self, env: str, key: str) -> tuple[str | None, str]:
        """A per-clone setting and where it came from, so a bad value's message names the place to fix."""
        if os.environ.get(env):
            return os.environ[env], f"environment variable {env}"
        return self.get(key), f"git config {key}"

    @property
    def timeout(self) -> float:
        raw, source = self._setting("GITCLAIM_TIMEOUT", "gitclaim.timeout")
        if not raw:
            return DEFAULT_TIMEOUT
        try:
            value = timeutil.parse_duration(raw).total_seconds()
        except InvalidInput:
            raise InvalidInput(f"invalid time limit {raw!r} in {source}: use seconds or a duration like 30s"
                               ) from None
        if value <= 0:
            raise InvalidInput(f"invalid time limit {raw!r} in {source}: it must be positive")
        return value

    @property
    def ttl_override(self) -> timedelta | None:
        """This clone's or process's lease (GITCLAIM_TTL, git config gitclaim.ttl), which wins over the
        committed lease_ttl (core/settings.py); None when neither is set."""
        raw, source = self._setting("GITCLAIM_TTL", "gitclaim.ttl")
        if not raw:
            return None
        try:
            return timeutil.parse_duration(raw)
        except InvalidInput as err:
            raise InvalidInput(f"{err} in {source}") from None

    @property
    def heartbeat_override(self) -> timedelta | None:
        """This clone's or process's heartbeat interval (GITCLAIM_HEARTBEAT_INTERVAL, git config
        gitclaim.heartbeatInterval), which wins over the committed heartbeat_interval; None when unset."""
        raw = os.environ.get("GITCLAIM_HEARTBEAT_INTERVAL") or self.get("gitclaim.heartbeatInterval")
        return timeutil.parse_duration(raw) if raw else None

    @property
    def namespace(self) -> Namespace:
        """The mission namespace this clone was set up for (`gitclaim init` records the committed one)."""
        from gitclaim.core.refs import DEFAULT_NAMESPACE, check_namespace

        recorded = self.get(NAMESPACE_KEY)
        if recorded is None:
            return Namespace(DEFAULT_NAMESPACE)
        return Namespace(check_namespace(recorded, f"git config {NAMESPACE_KEY}"))

    def check_namespace(self, committed: str) -> None:
        """Every clone must use the namespace the repository commits (`committed`, from .gitclaim.yaml): a clone
        set up for another one would create missions where the others never look. Raises NamespaceMismatch."""
        recorded = self.namespace
        if recorded.name != committed:
            raise NamespaceMismatch(
                f"this clone uses the mission namespace {recorded.name} but .gitclaim.yaml says {committed}: "
                "run `gitclaim init` to follow .gitclaim.yaml (docs/config.md)",
                recorded=recorded.name, committed=committed)

    # ---- identity -----------------------------------------------------------------------------------------
    @property
    def instance_key(self) -> str:
        """Each linked worktree gets its own instance id, kept in the shared config under its own name."""
        if self.paths.git_dir.resolve() == self.paths.common_dir.resolve():
            return "gitclaim.instance"
        return f"gitclaim.worktree-{self.paths.git_dir.name}.instance"

    @property
    def instance_dir_key(self) -> str:
        """Where the git directory the instance id was made in is kept (see instance())."""
        return self.instance_key + "dir"

    def instance(self, *, create: bool = True) -> str:
        """This clone's instance id: the identity its claims are held under.

        `GITCLAIM_INSTANCE` (or `gitclaim --instance ID`) carries an identity explicitly, for an agent that
        re-cloned and must keep holding its missions. Otherwise the id lives in git config, bound to the git
        directory it was made in: a copy of a clone (`cp -r`) carries the config but not the place, and must not
        act as the original (it could finish the original's missions), so it gets an id of its own and is told.
        """
        explicit = os.environ.get(INSTANCE_ENV)
        if explicit is not None:
            return check_instance(explicit, f"environment variable {INSTANCE_ENV} (or --instance)")
        current = self.get(self.instance_key)
        if current:
            check_instance(current, f"git config {self.instance_key}")
        if not create:
            return current or ""
        here = str(self.paths.git_dir.resolve())
        bound = self.get(self.instance_dir_key)
        if current and bound == here:
            return current
        if current and bound is None:  # made before ids were bound: bind it where it is now
            self._set(self.instance_dir_key, here)
            return current
        import secrets  # only when an instance id is made

        new_id = secrets.token_hex(6)
        self._set(self.instance_key, new_id)
        self._set(self.instance_dir_key, here)
        if current:
            NOTICES.append(
                f"this clone's instance id {current} was made in {bound}, not here ({here}): a copied clone must "
                f"not act as the original, so this one now has its own instance id {new_id}; if this clone was "
                f"moved rather than copied, take the old identity back with: gitclaim --instance {current} init")
        return new_id

    def adopt_instance(self, instance_id: str) -> None:
        """Make `instance_id` this clone's own, bound here (`gitclaim --instance ID init` after a re-clone)."""
        self._set(self.instance_key, check_instance(instance_id, "--instance"))
        self._set(self.instance_dir_key, str(self.paths.git_dir.resolve()))

    def _set(self, key: str, value: str) -> None:
        g.config_set(self.git, key, value)
        self.config[key.lower()] = [value]

    @property
    def user_name(self) -> str:
        return os.environ.get("GIT_AUTHOR_NAME") or self.get("user.name") or ""

    @property
    def user_email(self) -> str:
        return os.environ.get("GIT_AUTHOR_EMAIL") or self.get("user.email") or ""

    def user(self) -> str:
        """The claim's user: `gitclaim.user` (to match a server login, docs/server-guard.md), else git's."""
        return self.get("gitclaim.user") or self.user_name or f"gitclaim-{self.instance()}"

    def session(self, as_text: str | None) -> str:
        """The seed's claimed_by: --as, else $GITCLAIM_AS, else the git user on this host."""
        text = as_text if as_text is not None else os.environ.get("GITCLAIM_AS")
        if text is not None:
            text = " ".join(text.split())
            if not text:
                raise InvalidInput("the session description (--as / GITCLAIM_AS) is empty")
            if len(text) > 200:
                raise InvalidInput("the session description (--as / GITCLAIM_AS) is longer than 200 characters")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput("the session description (--as / GITCLAIM_AS) is not valid UTF-8 text") from None
            return text
        import socket  # only where no session description was given

        return f"{self.user()}@{socket.gethostname()}"

    def commit_env(self, when: str) -> dict[str, str]:
        """Author and committer for mission commits: the git user, or a stand-in so commits never fail."""
        env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        if not self.user_name:
            env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = f"gitclaim-{self.instance()}"
        if not self.user_email:
            env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = f"{self.instance()}@gitclaim.invalid"
        return env

    @property
    def worktree(self) -> Path | None:
        return self.paths.worktree

    @property
    def state_dir(self) -> Path:
        """gitclaim's own files in the clone's git directory (caches, the fetch stamp, trust list copies)."""
        return self.paths.common_dir / "gitclaim"

    def stamp_fetch(self) -> None:
        # git writes no FETCH_HEAD for gitclaim's fetches (--no-write-fetch-head): this file's time says when the
        # local mirror was last brought up to date, for reads that do not fetch (`list --offline`).
        stamp = self.state_dir / "fetched"
        try:
            stamp.parent.mkdir(exist_ok=True)
            stamp.touch()
        except OSError:
            pass

    def mirror_age(self) -> float | None:
        """Seconds since the local mirror was last fetched (by gitclaim or a plain `git fetch`), None if never."""
        times = []
        for path in (self.state_dir / "fetched", self.paths.common_dir / "FETCH_HEAD"):
            try:
                times.append(path.stat().st_mtime)
            except OSError:
                pass
        return time.time() - max(times) if times else None

    @property
    def signer(self) -> Signer | None:
        """The key this clone signs mission commits with, None when it has none (core/signing.py)."""
        return signer_from(self.get, os.environ, self.git.cwd)


def open_repo(cwd: Path | str | None = None) -> Repo:
    git = g.Git(Path(cwd) if cwd is not None else Path.cwd())
    paths, config = g.open_repository(git)
    return Repo(git, paths, config)
