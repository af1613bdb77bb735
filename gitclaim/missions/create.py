"""`gitclaim new`: a mission created from flags, a body file, a directory or a workflow profile.

Library code: returns the outcome, raises GitclaimError, never prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.core.store import Outcome, Store
from gitclaim.errors import Conflict, InvalidInput, NotFound


def new_mission(store: Store, mission_id: str, *, title: str | None, priority: str | int | None = None,
                body_file: Path | None = None, requires: tuple[str, ...] = (),
                files: dict[str, bytes] | None = None, as_text: str | None = None,
                reuse_archived: bool = False) -> Outcome:
    """Publish a QUEUED mission. `files` are the tree of a mission directory or a workflow profile, already
    read and validated by gitclaim/workflows/missiondir.py: `mission_files` (workflows sit above this layer)."""
    check_id(mission_id)
    for req in requires:
        check_id(req)
    files = dict(files or {})
    body = ""
    extra: dict = {}
    if files:
        base = m.parse(files.pop(m.FILENAME), mission_id, require_format=False) if m.FILENAME in files else None
        if base is not None:
            title = title or base.title
            body = base.body
            priority = priority if priority is not None else base.priority
            requires = requires or base.requires
            extra = dict(base.extra)  # keep what the directory's mission.md carries (profile, ...)
    if body_file is not None:
        body = read_body(body_file)
    if not title:
        raise InvalidInput("a mission needs a title (--title TEXT)")
    prio = m.parse_priority(priority) if priority is not None else m.DEFAULT_PRIORITY
    requires = tuple(dict.fromkeys(requires))  # each once, in the order given
    _check_new_id(store, mission_id, requires, reuse_archived)
    actor = claims.actor_for(store, as_text)
    return claims.create(store, actor, mission_id, title, priority=prio, body=body, requires=requires,
                         files=files or None, extra=extra)


def _check_new_id(store: Store, mission_id: str, requires: tuple[str, ...], reuse_archived: bool) -> None:
    """Refuse an id an archived mission has (a `requires:` naming it would change meaning), requirements that
    name no mission (the mission could never become ready) and requirement cycles. One fetch brings the live
    missions and the archive together."""
    if mission_id in requires:
        raise InvalidInput(f"mission {mission_id} cannot require itself (--requires {mission_id})")
    from gitclaim.missions import archive

    store.sync(archive.sync_specs(store))
    archived = archive.snapshot(store).index
    if mission_id in archived and not reuse_archived:
        old = archived[mission_id]
        raise Conflict(f"mission {mission_id} exists in the archive ({old.status}: {old.title}); a mission "
                       f"that requires {mission_id} would mean the new one: choose another id, or pass "
                       "--reuse-archived-id if that is what you want")
    check_requirements(store, mission_id, requires, archived)


def check_requirements(store: Store, mission_id: str, requires: tuple[str, ...],
                       archived: dict | None = None) -> None:
    """Requirements must name live or archived missions (NotFound) and close no cycle through the existing
    missions (InvalidInput), for `new` and `edit` alike. A mission requiring itself is its caller's refusal."""
    requires = tuple(r for r in requires if r != mission_id)
    if not requires:
        return
    if archived is None:
        from gitclaim.missions import archive

        store.sync(archive.sync_specs(store))
        archived = archive.snapshot(store).index
    states, _ = store.all()
    graph = {s.mission_id: s.mission.requires for s in states}
    unknown = [r for r in requires if r not in graph and r not in archived]
    if unknown:
        raise NotFound(f"mission {mission_id}: --requires names no mission on remote {store.repo.remote!r}: "
                       f"{', '.join(unknown)} (create it first)")
    cycle = _cycle_through(mission_id, requires, graph)
    if cycle:
        raise InvalidInput(f"mission {mission_id}: its requirements form a cycle: {' -> '.join(cycle)}")


def _cycle_through(mission_id: str, requires: tuple[str, ...], graph: dict[str, tuple[str, ...]]
                   ) -> list[str] | None:
    """A path mission_id -> ... -> mission_id through the requirements, if there is one (depth first)."""
    seen: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(r, [mission_id, r]) for r in reversed(requires)]
    while stack:
        node, path = stack.pop()
        if node == mission_id:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in reversed(graph.get(node, ())))
    return None


def read_body(path: Path) -> str:
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read body file {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"body file {path} is not UTF-8 text") from None
