"""The repository itself: discovery, configuration, and local refs (read with for-each-ref, moved with
update-ref --stdin).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitclaim.core.git.process import Git, Result
from gitclaim.core.git.remote import RefUpdate
from gitclaim.errors import NotARepository


class RepoPaths(NamedTuple):
    git_dir: Path
    common_dir: Path
    bare: bool
    worktree: Path | None


_DISCOVER = ("rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-bare-repository", "--show-cdup")
_CONFIG_LIST = ("config", "-z", "--list")


def discover(git: Git) -> RepoPaths:
    return _paths(git, git.run(_DISCOVER, check=False))


def config_list(git: Git) -> dict[str, list[str]]:
    """Every configuration value in effect, keys lower-cased as git reports them (one process)."""
    return _config(git.run(_CONFIG_LIST, check=False))


def open_repository(git: Git) -> tuple[RepoPaths, dict[str, list[str]]]:
    """`discover` and `config_list` at once: both are git's own reading of the repository from the same
    directory and environment, so neither waits for the other (a command's start-up, where they run, is paid
    by every agent call)."""
    found, config = git.run_together([_DISCOVER, _CONFIG_LIST])
    return _paths(git, found), _config(config)


def _paths(git: Git, res: Result) -> RepoPaths:
    if not res.ok:
        raise NotARepository(f"not a git repository: {git.cwd} (run gitclaim inside a clone of the shared repo)")
    lines = res.text().split("\n")
    git_dir = Path(lines[0])
    common = Path(lines[1])
    common = common if common.is_absolute() else (git.cwd / common).resolve()
    bare = lines[2] == "true"
    worktree = None if bare else (git.cwd / (lines[3] if len(lines) > 3 else "")).resolve()
    return RepoPaths(git_dir, common, bare, worktree)


def _config(res: Result) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for entry in res.stdout.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        values.setdefault(key, []).append(value)
    return values


def config_set(git: Git, key: str, value: str, *, add: bool = False) -> None:
    _config_write(git, ["config", "--add", key, value] if add else ["config", key, value])


def _config_write(git: Git, args: list[str], *, check: bool = True) -> None:
    """Write git config, waiting out another process's config.lock: git gives up at once when the lock is
    taken, and agents in linked worktrees of one clone share one config file and often start together."""
    for _ in range(_CONFIG_LOCK_TRIES):
        res = git.run(args, check=False)
        if res.ok or not _config_locked(res.stderr):
            break
        time.sleep(0.02 + random.random() * 0.02)  # jitter, so two waiters do not retry in step
    if check and not res.ok:
        git.run(args)  # a failed write wrote nothing: run it once more to fail with git's own message


_CONFIG_LOCK_TRIES = 50  # about 1.5 s of waiting in all


def _config_locked(stderr: bytes) -> bool:
    return b"could not lock config file" in stderr


def init_bare(git: Git, path: Path) -> None:
    git.run(["init", "-q", "--bare", "--", str(path)])


def clone(git: Git, url: str, path: Path) -> None:
    git.run(["clone", "-q", "--", url, str(path)])
def config_replace_all(git: Git, key: str, values: Sequence[str]) -> None:
    """Set every value of a multi-valued key, in this order (the order of fetch refspecs matters to git)."""
    _config_write(git, ["config", "--unset-all", key], check=False)  # exit 5 when there was none
    for value in values:
        _config_write(git, ["config", "--add", key, value])


# ---------------------------------------------------------------------------------------------------------------
# Local refs


def for_each_ref(git: Git, prefix: str) -> list[tuple[str, str]]:
    """(refname, oid) of every ref under prefix, in one process."""
    res = git.run(["for-each-ref", "--format=%(objectname) %(refname)", prefix])
    return [(ref, oid) for oid, _, ref in (ln.partition(" ") for ln in res.text().splitlines() if ln)]


def symbolic_refs(git: Git, refs: Sequence[str]) -> dict[str, str]:
    """Which of `refs` exist, each with the ref it points at ('' when it is not symbolic): one for-each-ref."""
    res = git.run(["for-each-ref", "--format=%(refname)%00%(symref)", "--", *refs])
    return {ref: target for ref, _, target in (ln.partition("\0") for ln in res.text().splitlines() if ln)}


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


