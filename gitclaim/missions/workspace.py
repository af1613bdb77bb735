"""Opening the store for a command: the repository, its settings, its commit policy and the effects that follow
every landed write (the agents-file section, docs/agents.md), wired once.

The CLI and the MCP server (and through them `next`, `start --claim`, `import`, the workflow tools) all start
here, so they behave the same: no front end has to remember an effect. A CLI command opens its repository once;
the MCP server keeps each opened repository (`StoreCache`) and opens it again only when a file it was read from
has changed, so a warm tool call starts no git process for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gitclaim.core import settings as settings_file
from gitclaim.core.repo import Repo, open_repo
from gitclaim.core.settings import Settings
from gitclaim.core.store import Outcome, Store
from gitclaim.errors import Conflict, GitclaimError


def open_store(cwd: Path | str | None = None, *, on_warning: Callable[[str], None] | None = None,
               check_namespace: bool = True) -> Store:
    """The store of the repository at `cwd`; `on_warning` receives each warning as it happens (the CLI prints
    it on stderr), besides `Store.warnings`. Every command refuses to run in a clone set up for another mission
    namespace than .gitclaim.yaml names (NamespaceMismatch), except the ones that set it up or report on it
    (`init`, `migrate`, `doctor`: check_namespace=False)."""
    repo = open_repo(cwd)
    return _wired(repo, settings_file.load(repo), on_warning, check_namespace)


def _wired(repo: Repo, settings: Settings, on_warning: Callable[[str], None] | None = None,
           check_namespace: bool = True) -> Store:
    if check_namespace:
        repo.check_namespace(settings.namespace)
    store = Store(repo, settings, after_write=(_agents_file,), on_warning=on_warning)
    # The effects every front end needs on a store, attached in one place so none forgets one.
    store.explain_missing = lambda mission_id: archived_conflict(store, mission_id)
    return store


def _agents_file(store: Store, out: Outcome) -> str | None:
    """The agents file's "Active Mission" section follows every landed write (missions/agents.py), imported
    only when there is such a file to keep (its setting, agents.CONFIG_KEY): most clones have none."""
    if not out.changed or not store.repo.get("gitclaim.agentsfile"):
        return None
    from gitclaim.missions import agents

    return agents.after_write(store, out)


def archived_conflict(store: Store, mission_id: str) -> GitclaimError | None:
    """A change to an archived mission is a conflict (it is finished), not "no such mission" (`show` finds it).
    Only asked after the live missions were fetched and this one was not among them."""
    from gitclaim.missions import archive

    entry = archive.archived_index(store).get(mission_id)
    if entry is None:
        return None
    since = f" since {entry.finished_at}" if entry.finished_at else ""
    return Conflict(f"mission {mission_id} is archived ({entry.status}{since}); an archived mission cannot be "
                    f"changed (read it with: gitclaim show {mission_id})")


class StoreCache:
    """Opened repositories by directory, for a long-lived process. Each call still gets a new Store (what a
    command fetched is never reused); what is kept is the repository's paths, configuration and settings,
    read again as soon as one of the files they came from changes (mtime, size or inode), and one `cat-file
    --batch` per repository for its reads (core/git/process.py KeptReader)."""

    def __init__(self) -> None:
        import threading  # only long-lived front ends keep stores; commands never pay for the import

        self._open: dict[Path, tuple[tuple[object, ...], Repo, Settings]] = {}
        # Tool calls run on worker threads: calls that arrive together must not each open the repository (and
        # start a reader) when only one of them is kept.
        self._lock = threading.Lock()

    def store(self, cwd: Path) -> Store:
        key = cwd.resolve()
        with self._lock:
            kept = self._open.get(key)
            if kept is not None and kept[0] == _stamp(kept[1]):
                repo, settings = kept[1], kept[2]
            else:
                if kept is not None:
                    kept[1].git.close()
                repo = open_repo(key)
                repo.long_lived = True  # a shared ssh connection outlives the gaps between tool calls
                repo.git.keep_reader()  # and so does one cat-file: a warm call reads without starting a process
                settings = settings_file.load(repo)
                self._open[key] = (_stamp(repo), repo, settings)
        return _wired(repo, settings)


def _stamp(repo: Repo) -> tuple[object, ...]:
    """What the opened repository was read from: its config files, HEAD (settings come from HEAD in a bare
    repository) and the settings file in the working tree. Files named by `include.path` are not watched."""
    paths = [repo.paths.common_dir / "config", repo.paths.git_dir / "config.worktree", repo.paths.git_dir / "HEAD"]
    glob = os.environ.get("GIT_CONFIG_GLOBAL")
    home = Path(os.environ.get("HOME", "~")).expanduser()
    paths += [Path(glob)] if glob else [home / ".gitconfig", home / ".config" / "git" / "config"]
    if repo.worktree is not None:
        paths.append(repo.worktree / settings_file.FILENAME)
    out: list[object] = [repo.paths.git_dir.exists()]
    for path in paths:
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def check_clone(path: str) -> Path:
    """The directory a long-running front end is told to act in (`gitclaim mcp --repo`), checked once at startup:
    it must exist and be inside a git repository; returned absolute."""
    from gitclaim.errors import InvalidInput, NotARepository

    given = Path(path).expanduser()
    if not given.is_dir():
        raise InvalidInput(f"--repo {path}: no such directory (give the clone the tools act on)")
    try:
        open_repo(given)
    except NotARepository:
        raise NotARepository(f"--repo {path}: not a git repository (give the clone the tools act on)") from None
    return given.resolve()
