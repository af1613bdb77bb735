"""The one hook installer: gitclaim's hooks in a clone, commit-msg (the commit policy) and post-commit (the
heartbeat that keeps this clone's claims alive while work is committed), and the server guard's pre-receive.

The hook directory comes from `git rev-parse --git-path hooks`, which honours core.hooksPath. A hook that is
already there and is not ours is never overwritten: it moves to `<hook>.legacy`, and our script runs it first.
Our script is recognised by its id line, so installing twice changes nothing. The scripts themselves are
package data (`gitclaim/hooks/scripts`, the repository's top-level `hooks/` folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from gitclaim.core import git as g
from gitclaim.core.atomicfile import write_atomic
from gitclaim.core.git import Git
from gitclaim.errors import Conflict, InvalidInput

HOOK_NAME = "commit-msg"
POST_COMMIT = "post-commit"
CLIENT_HOOKS = (HOOK_NAME, POST_COMMIT)  # what `gitclaim hooks install` installs by default, in this order
LEGACY_SUFFIX = ".legacy"
HOOK_ID = "# gitclaim-hook: commit-msg"

GUARD_HOOK_NAME = "pre-receive"
GUARD_HOOK_ID = "# gitclaim-hook: pre-receive"
# Gitea and Forgejo own hooks/pre-receive and run every executable in hooks/pre-receive.d/ with the same
# input; a file there survives their "resynchronize hooks" and needs no chaining.
GUARD_DELEGATE_DIR = "pre-receive.d"
GUARD_DELEGATE_NAME = "gitclaim-guard"

Action = Literal["installed", "updated", "unchanged", "removed", "not-installed"]


@dataclass(frozen=True)
class InstallResult:
    """What install/uninstall did. `legacy` is the foreign hook kept aside (install) or put back (uninstall);
    `what` names the hook in messages (default: "<file name> hook")."""

    action: Action
    hook: Path
    legacy: Path | None = None
    what: str | None = None

    def describe(self) -> str:
        """One line for a person; the CLI prints it."""
        name = self.what or f"{self.hook.name} hook"
        if self.action == "installed":
            kept = f" (the existing hook was kept as {self.legacy.name} and runs first)" if self.legacy else ""
            return f"installed the {name} at {self.hook}{kept}"
        if self.action == "updated":
            return f"updated the {name} at {self.hook}"
        if self.action == "unchanged":
            return f"the {name} is already installed at {self.hook}"
        restored = "; the previous hook is back in place" if self.legacy else ""
        if self.action == "removed":
            return f"removed the {name} from {self.hook}{restored}"
        return f"no gitclaim {name} at {self.hook}{restored}"

    @property
    def message(self) -> str:
        """Same as describe(): the name `gitclaim init` reads."""
        return self.describe()

    def __str__(self) -> str:
        return self.describe()


def hook_script(name: str = HOOK_NAME) -> str:
    """A hook as shipped in the package (the top-level hooks/ folder, gitclaim/hooks/scripts)."""
    return resources.files("gitclaim.hooks").joinpath("scripts", name).read_text(encoding="utf-8")


def hook_id(name: str) -> str:
    """The id line that marks a script as gitclaim's (the script's second line starts with it)."""
    return f"# gitclaim-hook: {name}"


def hooks_dir(git: Git) -> Path:
    """Where git looks for hooks in this repository (core.hooksPath if set), as an absolute path."""
    return g.git_path(git, "hooks")


def install_commit_msg_hook(git: Git, *, force: bool = False) -> InstallResult:
    """Install (or update) our commit-msg hook; `force` lets a foreign hook replace an existing .legacy."""
    return install_client_hook(git, HOOK_NAME, force=force)


def install_client_hook(git: Git, name: str, *, force: bool = False) -> InstallResult:
    """Install (or update) one of our client hooks (CLIENT_HOOKS) in this clone."""
    hook = hooks_dir(git) / _known(name)
    action, legacy = place_hook(hook, hook_script(name), hook_id(name), force=force)
    return InstallResult(action, hook, legacy)


def _known(name: str) -> str:
    if name not in CLIENT_HOOKS:
        raise InvalidInput(f"unknown hook {name!r}: gitclaim installs {', '.join(CLIENT_HOOKS)}")
    return name


def install_guard_hook(repo: Path, *, force: bool = False) -> InstallResult:
    """Install (or update) the server guard in the repository at `repo`, normally a bare one. An existing
    foreign pre-receive hook moves to pre-receive.legacy and keeps running first; `force` lets it replace an
    older .legacy. Installing twice changes nothing."""
    git = Git(repo)
    g.discover(git)  # NotARepository, with the path, when it is not one
    hooks = hooks_dir(git)
    hooks.mkdir(parents=True, exist_ok=True)
    delegate = hooks / GUARD_DELEGATE_DIR
    hook = delegate / GUARD_DELEGATE_NAME if delegate.is_dir() else hooks / GUARD_HOOK_NAME
    # The temporary file goes in the hooks directory itself: Gitea's runner executes everything in
    # pre-receive.d/ and must never see a half-written file there.
    action, legacy = place_hook(hook, hook_script(GUARD_HOOK_NAME), GUARD_HOOK_ID, force=force, scratch=hooks)
    return InstallResult(action, hook, legacy, what="gitclaim guard")


def installed_hook(git: Git, name: str = HOOK_NAME) -> Path | None:
    """One of our client hooks' path when it is in place and executable, else None."""
    hook = hooks_dir(git) / _known(name)
    text = _read(hook) if hook.is_file() else None
    return hook if text is not None and _is_ours(text, hook_id(name)) and os.access(hook, os.X_OK) else None


def place_hook(hook: Path, script: str, hook_id: str, *, force: bool = False,
               scratch: Path | None = None) -> tuple[Literal["installed", "updated", "unchanged"], Path | None]:
    """Put `script` at `hook`, for every hook gitclaim ships (commit-msg here, the server guard's pre-receive).
    Our own script (recognised by `hook_id` near the top) is refreshed; a foreign hook moves to `<hook>.legacy`
    and keeps running first; running it twice changes nothing. Returns what was done and the kept legacy hook.
    `scratch` is where the temporary file is written before it is renamed into place (default: beside it)."""
    legacy = hook.with_name(hook.name + LEGACY_SUFFIX)
    hook.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(hook):
        current = _read(hook)
        if current is not None and _is_ours(current, hook_id):
            kept = legacy if os.path.lexists(legacy) else None
            if current == script and os.access(hook, os.X_OK):
                return "unchanged", kept
            _write_executable(hook, script, scratch)
            return "updated", kept
        _keep_foreign(hook, legacy, force)
    _write_executable(hook, script, scratch)
    return "installed", legacy if os.path.lexists(legacy) else None


def uninstall_commit_msg_hook(git: Git) -> InstallResult:
    """Remove our commit-msg hook and put back the one it replaced; a foreign hook is left alone."""
    return uninstall_client_hook(git, HOOK_NAME)


def uninstall_client_hook(git: Git, name: str) -> InstallResult:
    """Remove one of our client hooks and put back the one it replaced; a foreign hook is left alone."""
    directory = hooks_dir(git)
    hook, legacy = directory / _known(name), directory / (name + LEGACY_SUFFIX)
    current = _read(hook) if os.path.lexists(hook) else None
    if current is not None and _is_ours(current, hook_id(name)):
        hook.unlink()
        return InstallResult("removed", hook, _restore(legacy, hook))
    if os.path.lexists(hook):
        return InstallResult("not-installed", hook)  # someone else's hook: not ours to touch
    return InstallResult("not-installed", hook, _restore(legacy, hook))


def _keep_foreign(hook: Path, legacy: Path, force: bool) -> None:
    """Move a foreign hook to .legacy, refusing to lose an older .legacy unless forced."""
    if os.path.lexists(legacy) and not force:
        raise Conflict(
            f"{hook} is not gitclaim's and {legacy.name} already exists; merge or remove one of them, "
            f"or rerun with --force to replace {legacy.name} with the current hook"
        )
    os.replace(hook, legacy)


def _restore(legacy: Path, hook: Path) -> Path | None:
    if not os.path.lexists(legacy):
        return None
    os.replace(legacy, hook)
    return hook


def _is_ours(text: str, hook_id: str = HOOK_ID) -> bool:
    return any(line.startswith(hook_id) for line in text.splitlines()[:5])


def _read(path: Path) -> str | None:
    """The hook's text, or None when it is not a readable text file (a directory, a dangling link)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write_executable(path: Path, text: str, scratch: Path | None = None) -> None:
    # Renamed over the target from a dot-name: git never runs a half-written hook.
    write_atomic(path, text.encode("utf-8"), mode=0o755, scratch=scratch)
