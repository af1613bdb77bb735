"""`gitclaim init`: configure a clone for gitclaim (fetch refspec, remote, instance id, hooks, agents file).

Library code: returns what it did as lines, raises GitclaimError, never prints. Every step checks first, so
running it twice changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from gitclaim.core import git as g
from gitclaim.core.refs import LOCAL_ARCHIVE, LOCAL_PREFIX, Namespace
from gitclaim.core.repo import INSTANCE_ENV, NAMESPACE_KEY, Repo
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
    # The fetch names its refspec itself, so it needs none configured yet; the remote and the namespace (the
    # one .gitclaim.yaml names) are chosen in memory only.
    before, on_disk = repo.namespace, repo.get(NAMESPACE_KEY)
    ns = Namespace(store.settings.namespace)
    repo.config["gitclaim.remote"] = [remote]
    repo.config[NAMESPACE_KEY] = [ns.name]
    count = sync_mirror(store)
    report = use_namespace(repo, remote, ns, before, on_disk)
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


def use_namespace(repo: Repo, remote: str, ns: Namespace, before: Namespace, on_disk: str | None) -> list[str]:
    """Record `ns` in the clone (whose config file holds `on_disk`) and make the remote's fetch refspecs mirror
    it at refs/missions/*; the refspecs of the namespace used `before` are removed. Changes nothing when all is
    in place."""
    report = []
    if on_disk != ns.name:
        g.config_set(repo.git, NAMESPACE_KEY, ns.name)
        repo.config[NAMESPACE_KEY] = [ns.name]
    if before != ns:
        report.append(f"mission namespace {ns.name} (was {before.name})")
    key = f"remote.{remote}.fetch"
    current = repo.get_all(key)
    wanted = fetch_refspecs(current, ns, before)
    if wanted != current:
        g.config_replace_all(repo.git, key, wanted)
        repo.config[key] = wanted
        report.append(f"added fetch refspec {ns.refspec} to remote {remote!r}" if wanted == [*current, ns.refspec]
                      else f"fetch refspecs of remote {remote!r}: {' '.join(wanted)}")
    _drop_tracking(repo, remote, [ns] if before == ns else [ns, before])
    return report


def fetch_refspecs(current: Sequence[str], ns: Namespace, old: Namespace) -> list[str]:
    """The fetch refspecs for namespace `ns`: the mirror's own refspec, and in a branch namespace, that one and
    the archive's first (a push moves the tracking ref of the first refspec that matches, whatever the negative
    ones say, and the mirror must be the one moved) and negative refspecs last, which keep mission branches out
    of a plain `git fetch` and `git branch -r`."""
    ours = (f":{LOCAL_PREFIX}*", f":{LOCAL_ARCHIVE}*")
    gone = {*old.negative_refspecs, *ns.negative_refspecs}
    others = [v for v in current if not v.endswith(ours) and v not in gone]
    if ns.is_branch:
        return [ns.refspec, ns.archive_fetch, *others, *ns.negative_refspecs]
    return [*others, ns.refspec]


def _drop_tracking(repo: Repo, remote: str, namespaces: Sequence[Namespace]) -> None:
    """Remove the remote-tracking refs a plain fetch or a push made for mission branches before init excluded
    them (`refs/remotes/<remote>/claude/missions/*`, `.../claude/missions-archive`), so `git branch -r` shows
    only the project's branches."""
    drop = []
    for ns in namespaces:
        if not ns.is_branch:
            continue
        rest = ns.name[len("refs/heads/"):]
        base = f"refs/remotes/{remote}/"
        parent = (base + rest).rpartition("/")[0] + "/"
        for ref, _ in g.for_each_ref(repo.git, parent):
            if ref.startswith((f"{base}{rest}/", f"{base}{rest}-")):
                drop.append(g.RefUpdate(ref, None, None))
    g.update_refs(repo.git, drop)


def sync_mirror(store: Store) -> int:
    """Fetch every mission ref and keep them packed (one file instead of one per mission, which every later
    fetch and read would pay for); the number of missions. Like `git clone`, this first fetch of every mission
    runs as long as git reports progress: the time limit (GITCLAIM_TIMEOUT) bounds the time without any, so a
    dead remote still ends it, while a remote of 100,000 missions on a busy machine is no failure."""
    store.sync(patient=True)
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
