"""`gitclaim init`: configure a clone for gitclaim (fetch refspec, remote, instance id, hooks, agents file).

Library code: returns what it did as lines, raises GitclaimError, never prints. Every step checks first, so
running it twice changes nothing.
"""

from __future__ import annotations

import os

from gitclaim.core import git as g
from gitclaim.core.repo import INSTANCE_ENV, MISSIONS_REFSPEC
from gitclaim.core.store import Store
from gitclaim.errors import NotFound
from gitclaim.missions import agents


def init_clone(store: Store, remote: str, *, hooks: bool = False, agents_file: str | None = None) -> list[str]:
    """Configure the clone; every step checks first, so running it twice changes nothing."""
    repo = store.repo
    if repo.get(f"remote.{remote}.url") is None:
        raise NotFound(f"no remote named {remote!r} in this clone (add it with: git remote add {remote} URL)")
    if agents_file:
        agents.check(store, agents_file)  # before anything is written: a refused file leaves the clone as it was
    configured = repo.get("gitclaim.remote")
    # Reach the remote before writing any configuration: an init that fails must leave the clone as it was.
    # The fetch names its refspec itself, so it needs none configured yet; the remote is chosen in memory only.
    repo.config["gitclaim.remote"] = [remote]
    count = sync_mirror(store)
    report = []
    if MISSIONS_REFSPEC not in repo.get_all(f"remote.{remote}.fetch"):
        g.config_set(repo.git, f"remote.{remote}.fetch", MISSIONS_REFSPEC, add=True)
        report.append(f"added fetch refspec {MISSIONS_REFSPEC} to remote {remote!r}")
    if configured != remote:
        g.config_set(repo.git, "gitclaim.remote", remote)
    explicit = os.environ.get(INSTANCE_ENV)
    if explicit is not None:  # `gitclaim --instance ID init`: carry an identity over to this clone
        repo.adopt_instance(explicit)
        report.append(f"instance id {explicit} (from --instance / {INSTANCE_ENV}, saved for this clone)")
    else:
        had_instance = bool(repo.instance(create=False))
        instance = repo.instance()
        report.append(f"instance id {instance}" + (" (kept)" if had_instance else " (new)"))
    report.append(f"{count} missions on {remote}")
    report += _init_hooks(store, hooks)
    if agents_file:
        report += agents.enable(store, agents_file)
    return report


def sync_mirror(store: Store) -> int:
    """Fetch every mission ref and keep them packed (one file instead of one per mission, which every later
    fetch and read would pay for); the number of missions."""
    store.sync()
    g.pack_refs(store.git)
    return len(store.ids())


def _init_hooks(store: Store, install: bool) -> list[str]:
    from gitclaim.hooks import install as hooks_install

    if not install:
        # Say what is there: right after `gitclaim hooks install`, "not installed" would be wrong.
        found = {name: hooks_install.installed_hook(store.git, name) for name in hooks_install.CLIENT_HOOKS}
        lines = [f"{name} hook installed at {path}" for name, path in found.items() if path is not None]
        missing = [name for name, path in found.items() if path is None]
        if missing:
            lines.append(f"{' and '.join(missing)} hook{'s' if len(missing) > 1 else ''} not installed (run: "
                         "gitclaim hooks install, or gitclaim init --hooks)")
        return lines
    return [hooks_install.install_client_hook(store.git, name).describe() for name in hooks_install.CLIENT_HOOKS]
