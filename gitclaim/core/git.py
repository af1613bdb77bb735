"""The one module that runs git.

What git prints is read by core/gitrecords.py (pure parsers, no processes): the commit record `Commit` and
`parse_commit`, trees, `cat-file --batch` output; their names are also importable from here.

Every git process gitclaim starts goes through `Git.run`: argument lists only (never a shell), machine formats
only (`--porcelain`, `-z`, `--format`, `cat-file --batch`), never localized prose. Options are separated from
user text by the callers' validation (mission ids never start with '-') and by `--` / `--end-of-options` where
git accepts them.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitclaim.core.gitrecords import LOG_FORMAT, describe_stderr, parse_batch, parse_log
from gitclaim.core.gitrecords import Commit as Commit
from gitclaim.core.gitrecords import GitObject as GitObject
from gitclaim.core.gitrecords import Ident as Ident
from gitclaim.core.gitrecords import TreeEntry as TreeEntry
from gitclaim.core.gitrecords import parse_commit as parse_commit
from gitclaim.core.gitrecords import parse_ident as parse_ident
from gitclaim.core.gitrecords import parse_tree as parse_tree
from gitclaim.errors import GitclaimError, InvalidInput, NotARepository, RemoteError

# Git must never stop to ask a person anything, and must speak the same language whatever the user's locale.
_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "LANG": "C",
    "GIT_OPTIONAL_LOCKS": "0",
}


class Result(NamedTuple):
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    def error_line(self) -> str:
        """What git said went wrong, for messages only, never for decisions: its `fatal:` / `error:` lines
        when it printed any (the lines after them are advice such as "Please make sure you have the correct
        access rights and the repository exists", which on its own says nothing), else all its lines joined."""
        return describe_stderr(self.stderr) or f"git exited with {self.returncode}"


class GitTimeout(RemoteError):
    """A git process ran past its time limit and was killed with its children."""


class Git:
    """Runs git in one repository (or plain directory), with a fixed environment."""

    def __init__(self, cwd: Path | str, env: dict[str, str] | None = None) -> None:
        self.cwd = Path(cwd)
        self.env = {**os.environ, **_BASE_ENV, **(env or {})}

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """Run `git <args>`; raise GitclaimError on a non-zero exit when `check`, GitTimeout past `timeout`."""
        argv = ("git", *args)
        try:
            proc = subprocess.Popen(
                argv,
                cwd=self.cwd,
                env={**self.env, **env} if env else self.env,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # so a timeout can kill ssh and the helpers git started, too
            )
        except FileNotFoundError as exc:
            raise GitclaimError("git is not installed or not on PATH") from exc
        except NotADirectoryError as exc:
            raise NotARepository(f"not a directory: {self.cwd}") from exc
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise GitTimeout(f"git {_subcommand(args)} timed out after {timeout:g}s (the limit is GITCLAIM_TIMEOUT "
                             "or git config gitclaim.timeout)") from exc
        except BaseException:
            _kill_group(proc)
            raise
        res = Result(argv, proc.returncode, out, err)
        if check and not res.ok:
            raise GitclaimError(f"git {_subcommand(args)} failed: {res.error_line()}")
        return res


def _subcommand(args: Sequence[str]) -> str:
    """The git command's name for messages: the first argument that is not a `-c key=value` option."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return args[0] if args else "git"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


# ---------------------------------------------------------------------------------------------------------------
# Repository discovery and configuration


class RepoPaths(NamedTuple):
    git_dir: Path
    common_dir: Path
    bare: bool
    worktree: Path | None


def discover(git: Git) -> RepoPaths:
    res = git.run(
        ["rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-bare-repository", "--show-cdup"],
        check=False,
    )
    if not res.ok:
        raise NotARepository(f"not a git repository: {git.cwd} (run gitclaim inside a clone of the shared repo)")
    lines = res.text().split("\n")
    git_dir = Path(lines[0])
    common = Path(lines[1])
    common = common if common.is_absolute() else (git.cwd / common).resolve()
    bare = lines[2] == "true"
    worktree = None if bare else (git.cwd / (lines[3] if len(lines) > 3 else "")).resolve()
    return RepoPaths(git_dir, common, bare, worktree)


def config_list(git: Git) -> dict[str, list[str]]:
    """Every configuration value in effect, keys lower-cased as git reports them (one process)."""
    res = git.run(["config", "-z", "--list"], check=False)
    values: dict[str, list[str]] = {}
    for entry in res.stdout.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        values.setdefault(key, []).append(value)
    return values


def config_set(git: Git, key: str, value: str, *, add: bool = False) -> None:
    git.run(["config", "--add", key, value] if add else ["config", key, value])


def init_bare(git: Git, path: Path) -> None:
    git.run(["init", "-q", "--bare", "--", str(path)])


def clone(git: Git, url: str, path: Path) -> None:
    git.run(["clone", "-q", "--", url, str(path)])
def config_replace_all(git: Git, key: str, values: Sequence[str]) -> None:
    """Set every value of a multi-valued key, in this order (the order of fetch refspecs matters to git)."""
    git.run(["config", "--unset-all", key], check=False)  # exit 5 when there was none
    for value in values:
        git.run(["config", "--add", key, value])


# ---------------------------------------------------------------------------------------------------------------
# Objects: read in batches through `cat-file --batch`, written with hash-object, mktree and commit-tree


def cat_file_batch(git: Git, specs: Sequence[str]) -> list[GitObject | None]:
    """Read many objects in one `cat-file --batch` process; None for a spec that names nothing."""
    if not specs:
        return []
    for spec in specs:
        if "\n" in spec:
            raise ValueError("object spec with a newline")
    payload = ("\n".join(specs) + "\n").encode()
    res = git.run(["cat-file", "--batch"], input=payload)
    return parse_batch(res.stdout, len(specs))


class CatFile:
    """One long-lived `cat-file --batch` for walks where each read decides the next (a commit's parent)."""

    def __init__(self, git: Git) -> None:
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=git.cwd, env=git.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    def get(self, spec: str) -> GitObject | None:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(spec.encode() + b"\n")
        self._proc.stdin.flush()
        fields = self._proc.stdout.readline().decode().split()
        if len(fields) != 3:
            return None
        data = self._proc.stdout.read(int(fields[2]) + 1)[:-1]
        return GitObject(fields[0], fields[1], data)

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def var_ident(git: Git, which: str) -> tuple[str, str] | None:
    """(name, email) git would record as `which` (GIT_AUTHOR_IDENT or GIT_COMMITTER_IDENT) right now, with
    `--author` and the GIT_AUTHOR_* variables git commit exports to its hooks; None when git has no identity."""
    res = git.run(["var", which], check=False)
    text = res.text().strip()
    if not res.ok or "> " not in text:
        return None
    ident = parse_ident(text)
    return ident.name, ident.email


def read_commits(git: Git, rev_range: str) -> list[Commit]:
    """Every commit of a revision range (`origin/main..HEAD`), oldest first: one rev-list, one cat-file.
    InvalidInput when git rejects the range."""
    if not rev_range.strip() or rev_range.startswith("-"):
        raise InvalidInput(f"invalid range {rev_range!r}: expected something like origin/main..HEAD")
    res = git.run(["rev-list", "--reverse", "--end-of-options", rev_range, "--"], check=False)
    if not res.ok:
        raise InvalidInput(f"invalid range {rev_range!r}: {res.error_line()}")
    oids = res.text().split()
    return [parse_commit(oid, obj.data) for oid, obj in zip(oids, cat_file_batch(git, oids), strict=True) if obj]


def first_parent_chain(git: Git, new: str, old: str | None, *, limit: int) -> list[str]:
    """The first-parent chain from `new` back to `old` (exclusive; to the root when old is None), oldest
    first, at most `limit` commits."""
    args = ["rev-list", "--first-parent", "--reverse", f"--max-count={limit}", new]
    if old is not None:
        args.append(f"^{old}")
    return git.run(args).text().split()


def unreachable_commits(git: Git, new: str) -> list[str] | None:
    """Commits reachable from `new` that no ref reaches yet, oldest first; None when `new` is not a commit."""
    res = git.run(["rev-list", "--reverse", new, "--not", "--all"], check=False)
    return res.text().split() if res.ok else None


def git_path(git: Git, name: str) -> Path:
    """Where git keeps `name` in this repository (`hooks` honours core.hooksPath), as an absolute path."""
    res = git.run(["rev-parse", "--git-path", name], check=False)
    if not res.ok:
        raise NotARepository(f"not a git repository: {git.cwd}")
    # The answer is relative to the directory git ran in, or absolute when core.hooksPath is.
    return (git.cwd / res.text().strip()).resolve()


def first_parent_log(git: Git, tips: Sequence[str], exclude: Sequence[str] = ()) -> list[Commit]:
    """Every commit on the first-parent chains of `tips`, stopping at commits reachable from `exclude`: one
    `git log` process for any number of chains (revisions go in on stdin, so the argument list stays short)."""
    if not tips:
        return []
    revs = [*tips, *(f"^{oid}" for oid in exclude)]
    if any("\n" in rev or rev.startswith("-") for rev in revs):
        raise ValueError("revision with a newline or a leading dash")
    res = git.run(["-c", "log.showSignature=false", "log", "--first-parent", "--no-decorate", "--no-color",
                   "-z", f"--format={LOG_FORMAT}", "--stdin"], input=("\n".join(revs) + "\n").encode())
    return parse_log(res.stdout)


def trailer_values(git: Git, tip: str, key: str) -> list[str]:
    """The value of trailer `key` in every commit reachable from `tip`, newest first (one `git log`)."""
    res = git.run(["log", f"--format=%(trailers:key={key},valueonly)%x00", tip, "--"])
    return [value.strip() for value in res.text().split("\0") if value.strip()]


def list_files(git: Git, treeish: str) -> list[str]:
    """Every file's path in a tree, at any depth (`agents/analyst.md`, not `agents`), in one process."""
    res = git.run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", treeish])
    return sorted(name.decode("utf-8", "surrogateescape") for name in res.stdout.split(b"\0") if name)


def write_blob(git: Git, data: bytes) -> str:
    return git.run(["hash-object", "-w", "--no-filters", "--stdin"], input=data).text().strip()


def write_tree(git: Git, entries: Sequence[TreeEntry]) -> str:
    payload = b"".join(f"{e.mode} {e.type} {e.oid}\t{e.name}".encode() + b"\0" for e in entries)
    return git.run(["mktree", "-z"], input=payload).text().strip()


def commit_tree(git: Git, tree: str, parents: Sequence[str], message: str, env: dict[str, str]) -> str:
    args = ["commit-tree", "--no-gpg-sign", tree]
    for parent in parents:
        args += ["-p", parent]
    return git.run([*args, "-F", "-"], input=message.encode(), env=env).text().strip()


# ---------------------------------------------------------------------------------------------------------------
# Local refs


def for_each_ref(git: Git, prefix: str) -> list[tuple[str, str]]:
    """(refname, oid) of every ref under prefix, in one process."""
    res = git.run(["for-each-ref", "--format=%(objectname) %(refname)", prefix])
    return [(ref, oid) for oid, _, ref in (ln.partition(" ") for ln in res.text().splitlines() if ln)]


def update_ref(git: Git, ref: str, new: str, old: str | None) -> bool:
    """Move a local ref only if it still holds `old` (None: must not exist); False when it did not."""
    zero = "0" * len(new)
    res = git.run(["update-ref", "--no-deref", "-m", "gitclaim", ref, new, old or zero], check=False)
    return res.ok


def pack_refs(git: Git) -> None:
    """Move loose refs into packed-refs: a fetch writes one file per new mission ref, and every later fetch,
    for-each-ref and push pays for each loose file."""
    git.run(["pack-refs", "--all"], check=False)


def delete_ref(git: Git, ref: str) -> None:
    git.run(["update-ref", "--no-deref", "-d", ref], check=False)


def update_refs(git: Git, updates: Sequence[RefUpdate]) -> None:
    """Move or delete many local refs in one process (`update-ref --stdin`, one transaction), each only if it
    still holds its expected value. When one has moved meanwhile the transaction fails as a whole: then each
    ref is moved on its own, and the one that moved is left as it is (the next fetch brings the remote's)."""
    if not updates:
        return
    lines = []
    for up in updates:
        old = up.expected or "0" * len(up.new or up.expected or "0" * 40)
        lines.append(f"delete {up.ref} {old}" if up.new is None else f"update {up.ref} {up.new} {old}")
    res = git.run(["update-ref", "--no-deref", "-m", "gitclaim", "--stdin"], input="\n".join(lines).encode() + b"\n",
                  check=False)
    if res.ok:
        return
    for up in updates:
        if up.new is None:
            delete_ref(git, up.ref)
        else:
            update_ref(git, up.ref, up.new, up.expected)


# ---------------------------------------------------------------------------------------------------------------
# Talking to the remote: fetch, compare-and-swap push, ls-remote

# Fetch and push must never start maintenance, ask for credentials, run the user's pre-push hooks (a test
# suite in a pre-push hook must not run on every claim) or recurse into submodules.
_NET_CONFIG = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "-c", "fetch.recurseSubmodules=false"]


def fetch(git: Git, remote: str, refspecs: Sequence[str], *, timeout: float, prune: bool = True) -> None:
    # --refmap= : only the refspecs given here move refs. Without it git also moves the remote-tracking refs the
    # configured refspecs map the fetched refs to, ignoring negative ones: mission branches of a branch namespace
    # would appear in refs/remotes/ (`git branch -r`) although init excludes them (docs/config.md).
    args = [*_NET_CONFIG, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
            "--refmap="]
    if prune:
        args.append("--prune")
    try:
        res = git.run([*args, "--", remote, *refspecs], check=False, timeout=timeout)
    except GitTimeout as err:
        raise GitTimeout(f"cannot fetch from remote {remote!r}: {err}") from None
    if not res.ok:
        raise RemoteError(f"cannot fetch from remote {remote!r}: {res.error_line()}")


class RefUpdate(NamedTuple):
    ref: str
    new: str | None  # None deletes the ref
    expected: str | None  # None: the ref must not exist yet


class PushOutcome(NamedTuple):
    """What `git push --porcelain` said, per ref: flag '!' is a rejection; no line means no verdict."""

    returncode: int
    flags: dict[str, str]
    summaries: dict[str, str]
    remote_messages: tuple[str, ...]

    def accepted(self, ref: str) -> bool:
        return self.returncode == 0 and self.flags.get(ref, "!") != "!"

    def rejected(self, ref: str) -> bool:
        return self.flags.get(ref) == "!"

    @property
    def unanswered(self) -> bool:
        """git failed without a verdict on any ref: it could not reach the remote (or lost it mid-way)."""
        return self.returncode != 0 and not self.flags


def push_cas(git: Git, remote: str, updates: Sequence[RefUpdate], *, timeout: float,
             atomic: bool = False) -> PushOutcome:
    """Push each update only if the remote ref still holds its expected value (the remote's ref transaction
    decides). Never raises for a rejection: the caller re-reads the remote to learn what happened."""
    args = [*_NET_CONFIG, "push", "--porcelain", "--no-verify"]
    if atomic:
        args.append("--atomic")
    specs = []
    for up in updates:
        args.append(f"--force-with-lease={up.ref}:{up.expected or ''}")
        specs.append(f"{up.new or ''}:{up.ref}")
    res = git.run([*args, "--", remote, *specs], check=False, timeout=timeout)
    flags, summaries = {}, {}
    for line in res.text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[0]) == 1 and ":" in parts[1]:
            ref = parts[1].rpartition(":")[2]
            flags[ref] = parts[0]
            summaries[ref] = parts[2]
    remote_lines = tuple(
        ln[len("remote: "):].strip() for ln in res.stderr.decode("utf-8", "replace").splitlines()
        if ln.startswith("remote: ") and ln[len("remote: "):].strip()
    )
    return PushOutcome(res.returncode, flags, summaries, remote_lines or (res.error_line(),))


def ls_remote(git: Git, remote: str, patterns: Sequence[str], *, timeout: float) -> dict[str, str]:
    try:
        res = git.run(["ls-remote", "--refs", "--", remote, *patterns], check=False, timeout=timeout)
    except GitTimeout as err:
        raise GitTimeout(f"cannot read remote {remote!r}: {err}") from None
    if not res.ok:
        raise RemoteError(f"cannot read remote {remote!r}: {res.error_line()}")
    out: dict[str, str] = {}
    for line in res.text().splitlines():
        oid, _, ref = line.partition("\t")
        out[ref] = oid
    return out


# ---------------------------------------------------------------------------------------------------------------
# An independent reader for audits: GitPython, not the code paths above, so that a bug in how gitclaim reads
# and writes is not also in how its results are checked. Imported lazily: it costs ~100 ms.


class AuditCommit(NamedTuple):
    oid: str
    parents: tuple[str, ...]
    message: str
    committed: int
    mission_md: bytes | None


def audit_refs(repo_path: Path | str, prefix: str = "refs/missions/") -> dict[str, list[AuditCommit]]:
    """Every ref under prefix with its whole history (newest first, all parents followed), read by GitPython."""
    import git as gitpython  # GitPython

    repo = gitpython.Repo(str(repo_path))
    try:
        out: dict[str, list[AuditCommit]] = {}
        for ref in repo.refs:
            if not ref.path.startswith(prefix):
                continue
            chain, seen, todo = [], set(), [ref.commit]
            while todo:
                commit = todo.pop()
                if commit.hexsha in seen:
                    continue
                seen.add(commit.hexsha)
                try:
                    blob = (commit.tree / "mission.md").data_stream.read()
                except KeyError:
                    blob = None
                chain.append(AuditCommit(commit.hexsha, tuple(p.hexsha for p in commit.parents),
                                         str(commit.message), int(commit.committed_date), blob))
                todo.extend(commit.parents)
            out[ref.path] = chain
        return out
    finally:
        repo.close()
