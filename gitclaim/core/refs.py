"""Mission ids: checked before any git call, so no user text can reach git as an option or a path trick."""

from __future__ import annotations

import re

from gitclaim.errors import InvalidInput

MAX_ID_LENGTH = 100
_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
RULE = (
    "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most "
    f"{MAX_ID_LENGTH} characters, no '..', not ending in '.lock' or '.'"
)


def id_problem(mission_id: str) -> str | None:
    """Why `mission_id` is not a valid id, or None when it is."""
    if not mission_id:
        return "is empty"
    if len(mission_id) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters"
    if not _ID_RE.fullmatch(mission_id):
        return "has a character that is not allowed or does not start with a letter or digit"
    if ".." in mission_id:
        return "contains '..'"
    if mission_id.endswith(".lock") or mission_id.endswith("."):
        return "ends in '.lock' or '.'"
    return None


def check_id(mission_id: str) -> str:
    """Return the id unchanged, or raise InvalidInput (exit 2) with one line saying what is wrong."""
    problem = id_problem(mission_id)
    if problem:
        raise InvalidInput(f"invalid mission id {mission_id!r}: it {problem} (allowed: {RULE})")
    return mission_id


def mission_ref(mission_id: str) -> str:
    return f"refs/missions/{check_id(mission_id)}"
