"""Claude Code hook settings for a project: `gitclaim hooks install --hook claude-code` (docs/agents.md).

Two entries go into the project's `.claude/settings.json` (the file Claude Code reads for project hooks):

* `SessionStart` runs `gitclaim hooks session-start`, whose standard output Claude Code adds to the agent's
  context: `gitclaim start`'s report, so the agent begins every session knowing what it holds and what is ready,
  without having to remember to ask;
* `PostToolUse` (every tool) runs `gitclaim hooks heartbeat --detach`: rate-limited, in the background, so the
  lease of what the agent holds stays alive while it works.

The file is merged, never clobbered: other settings and other hooks stay as they are, ours are recognised by
their command and added once, and removing them takes out only what was added (a file left empty is deleted).
A file that is not a JSON object is refused with nothing written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gitclaim.core.atomicfile import write_atomic
from gitclaim.errors import GitclaimError, InvalidInput

SETTINGS = Path(".claude") / "settings.json"
SESSION_START = "gitclaim hooks session-start"
HEARTBEAT = "gitclaim hooks heartbeat --detach"
# Event -> (matcher, command, timeout in seconds). SessionStart without a matcher runs for every source
# (startup, resume, clear, compact): after a compaction the agent needs the report again.
ENTRIES: dict[str, tuple[str | None, str, int]] = {
    "SessionStart": (None, SESSION_START, 60),
    "PostToolUse": ("*", HEARTBEAT, 30),
}
OURS = frozenset(command for _, command, _ in ENTRIES.values())

Action = Literal["installed", "unchanged", "removed", "not-installed"]


@dataclass(frozen=True)
class SettingsResult:
    action: Action
    path: Path

    def describe(self) -> str:
        if self.action == "installed":
            return f"added the gitclaim SessionStart and PostToolUse hooks to {self.path}"
        if self.action == "unchanged":
            return f"the gitclaim Claude Code hooks are already in {self.path}"
        if self.action == "removed":
            return f"removed the gitclaim Claude Code hooks from {self.path}"
        return f"no gitclaim Claude Code hooks in {self.path}"


def install(root: Path) -> SettingsResult:
    """Add our hooks to `<root>/.claude/settings.json`, keeping everything already there."""
    path = root / SETTINGS
    data = _load(path)
    hooks = _hooks_section(data, path)
    changed = False
    for event, (matcher, command, timeout) in ENTRIES.items():
        groups = _event_groups(hooks, event, path)
        if any(_is_ours(handler, command) for group in groups for handler in _handlers(group)):
            continue
        group: dict[str, Any] = {} if matcher is None else {"matcher": matcher}
        group["hooks"] = [{"type": "command", "command": command, "timeout": timeout}]
        groups.append(group)
        changed = True
    if not changed:
        return SettingsResult("unchanged", path)
    _save(path, data)
    return SettingsResult("installed", path)


def uninstall(root: Path) -> SettingsResult:
    """Take our hooks out of the settings file, and whatever became empty because of it."""
    path = root / SETTINGS
    if not path.exists():
        return SettingsResult("not-installed", path)
    data = _load(path)
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return SettingsResult("not-installed", path)
    removed = False
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            handlers = _handlers(group)
            kept = [h for h in handlers if not any(_is_ours(h, command) for command in OURS)]
            if len(kept) == len(handlers):
                kept_groups.append(group)
                continue
            removed = True
            if kept:
                kept_groups.append({**group, "hooks": kept})
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not removed:
        return SettingsResult("not-installed", path)
    if not hooks:
        del data["hooks"]
    if data:
        _save(path, data)
    else:
        path.unlink()  # it held nothing but our hooks: the project is as it was before
    return SettingsResult("removed", path)


def _is_ours(handler: Any, command: str) -> bool:
    return isinstance(handler, dict) and handler.get("type") == "command" \
        and str(handler.get("command", "")).strip() == command


def _handlers(group: Any) -> list[Any]:
    handlers = group.get("hooks") if isinstance(group, dict) else None
    return handlers if isinstance(handlers, list) else []


def _hooks_section(data: dict[str, Any], path: Path) -> dict[str, Any]:
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InvalidInput(f"{path}: \"hooks\" is not a JSON object; fix it by hand, nothing was written")
    return hooks


def _event_groups(hooks: dict[str, Any], event: str, path: Path) -> list[Any]:
    groups = hooks.setdefault(event, [])
    if not isinstance(groups, list):
        raise InvalidInput(f"{path}: \"hooks\".\"{event}\" is not a JSON array; fix it by hand, nothing was written")
    return groups


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise GitclaimError(f"cannot read {path}: {exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); fix it by hand, "
                           "nothing was written") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} is not a JSON object; fix it by hand, nothing was written")
    return data


def _save(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomic(path, text.encode("utf-8"))  # Claude Code never reads half a settings file
    except OSError as exc:
        raise GitclaimError(f"cannot write {path}: {exc.strerror}") from None
