"""start_mission: a new mission from a profile template, created already claimed by its caller in one commit.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterator

from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.message import MissionMessage
from gitclaim.core.refs import check_id
from gitclaim.core.store import Change, Outcome, State, Store
from gitclaim.errors import Conflict
from gitclaim.workflows.profiles import render_profile
from gitclaim.workflows.rules import validate_mission_files
from gitclaim.workflows.taskstate import WorkflowInvalid, holder_trailers, one_line

MAX_SLUG = 60


# ---- start_mission -----------------------------------------------------------------------------------------

def slugify(name: str) -> str:
    """A mission id from a name: ASCII lowercase words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:MAX_SLUG].strip("-")
    return slug or "mission"


def _candidate_ids(base: str) -> Iterator[str]:
    yield base
    for n in range(2, 10):
        yield f"{base}-{n}"
    yield f"{base}-{secrets.token_hex(3)}"


def start_mission(store: Store, actor: claims.Actor, name: str, objective: str, profile: str = "standard", *,
                  mission_id: str | None = None, priority: int = m.DEFAULT_PRIORITY) -> Outcome:
    """Create a mission from a profile template, already claimed by the caller (one commit, so no other agent
    can claim it in between). The id comes from the name; a taken id gets a suffix (-2, -3, ...)."""
    title = one_line(name, "the mission name")
    objective = claims.user_text(objective, "the objective")
    if mission_id is not None:
        return _create_started(store, actor, check_id(mission_id), title, objective, profile, priority)
    for candidate in _candidate_ids(check_id(slugify(title))):
        try:
            return _create_started(store, actor, candidate, title, objective, profile, priority)
        except Conflict:
            if store.local(candidate) is None:
                raise  # not a taken id: a real conflict
    raise Conflict(f"every mission id derived from {title!r} is taken; pass mission_id")


def _create_started(store: Store, actor: claims.Actor, mission_id: str, title: str, objective: str,
                    profile: str, priority: int) -> Outcome:
    files = render_profile(profile, mission_id, title)
    require_valid(files, f"profile {profile}")
    base = m.parse(files.pop(m.FILENAME), mission_id, require_format=False)
    new = m.Mission(
        mission_id=mission_id, title=title, status=m.ACTIVE, priority=priority, created=actor.stamp,
        claimed_at=actor.stamp, claimed_by=actor.session, claim_user=actor.user, claim_instance=actor.instance,
        claim_epoch=1, last_activity=actor.stamp, body=_with_objective(base.body, objective),
        extra={**base.extra, "tasks": {}, "phases_complete": [], "approved_phases": []},
    )

    def decide(state: State | None) -> Change:
        if state is not None:
            raise Conflict(f"mission {mission_id} already exists ({state.mission.status}: {state.mission.title})")
        trailers = {**holder_trailers(actor, new), "Profile": profile}
        return Change(new, MissionMessage("start", mission_id, "start", "", trailers), files)

    return store.transact(mission_id, decide, creates=True)


def require_valid(files: dict[str, bytes], source: str) -> None:
    problems = validate_mission_files(files)
    if problems:
        shown = "; ".join(f"phase {p.phase or '-'}: {p.rule}: {p.message}" for p in problems[:3])
        raise WorkflowInvalid(f"{source}: workflow does not validate ({len(problems)} problems: {shown})")


_OBJECTIVE = re.compile(r"^## Objective[ \t]*\n(?:\s*<!--.*?-->[ \t]*\n)?", re.M | re.S)


def _with_objective(body: str, objective: str) -> str:
    """The template's body with its Objective placeholder replaced by the objective."""
    if not objective:
        return body
    match = _OBJECTIVE.search(body)
    if match is None:
        return body.rstrip("\n") + f"\n\n## Objective\n\n{objective}\n"
    return f"{body[:match.start()]}## Objective\n\n{objective}\n{body[match.end():]}"
