"""Mission ids: checked before any git call, so no user text can reach git as an option or a path trick."""

from __future__ import annotations

import re

from gitclaim.errors import CorruptMission, InvalidInput

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


# ---- the mission namespace (docs/protocol.md "Namespace") -------------------------------------------------------
# Locally every clone mirrors its missions at refs/missions/* and its archive at refs/gitclaim/archive, whatever
# the remote namespace: `git log refs/missions/<id>` reads the same everywhere. Only the names sent to the remote
# (fetch refspecs, push destinations and leases) follow the namespace, and they are all made here.

DEFAULT_NAMESPACE = "refs/missions"
LOCAL_PREFIX = "refs/missions/"
LOCAL_ARCHIVE = "refs/gitclaim/archive"
_COMPONENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def classify(refs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[CorruptMission]]:
    """The (mission id, oid) of for-each-ref's (refname, oid) under LOCAL_PREFIX, and an error for each ref whose
    name is no valid id (written by hand or by another tool: gitclaim cannot address it, but must not hide it)."""
    valid, invalid = [], []
    for ref, oid in refs:
        mission_id = ref[len(LOCAL_PREFIX):]
        problem = id_problem(mission_id)
        if problem:
            invalid.append(CorruptMission(f"ref {ref}: its name is not a valid mission id (it {problem}); "
                                          "gitclaim ignores it: rename or delete it on the remote"))
        else:
            valid.append((mission_id, oid))
    return valid, invalid


def namespace_problem(name: str) -> str | None:
    """Why `name` cannot be a mission namespace, or None when it can."""
    parts = name.split("/")
    if len(parts) < 2 or parts[0] != "refs":
        return "does not start with refs/ (for example refs/missions or refs/heads/claude/missions)"
    for part in parts[1:]:
        if not _COMPONENT_RE.fullmatch(part) or ".." in part or part.endswith((".lock", ".")):
            return f"has a part {part!r} that is not a plain name (letters, digits, '.', '_', '-'; no '..')"
    if name.startswith(("refs/tags/", "refs/remotes/", LOCAL_PREFIX)) or name in ("refs/heads", "refs/gitclaim"):
        return "is a place git or gitclaim already uses for something else"
    return None


def check_namespace(name: str, where: str) -> str:
    problem = namespace_problem(name)
    if problem:
        raise InvalidInput(f"invalid mission namespace {name!r} in {where}: it {problem}")
    return name


class Namespace:
    """Where the missions live on the remote: `<name>/<id>`, the archive and the migration lock beside it."""

    def __init__(self, name: str = DEFAULT_NAMESPACE) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Namespace) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Namespace({self.name!r})"

    @property
    def prefix(self) -> str:
        return self.name + "/"

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_NAMESPACE

    @property
    def is_branch(self) -> bool:
        """Mission refs are branches: kept out of the user's fetch and CI (docs/config.md)."""
        return self.name.startswith("refs/heads/")

    def side_ref(self, what: str) -> str:
        """A ref beside the missions: refs/gitclaim/<what> for the default namespace (where the archive has
        always been), `<namespace>-<what>` for any other, so it passes the same server rules as the missions."""
        return f"refs/gitclaim/{what}" if self.is_default else f"{self.name}-{what}"

    @property
    def archive(self) -> str:
        return self.side_ref("archive")

    @property
    def lock(self) -> str:
        """The migration lock (`gitclaim migrate`): created by compare-and-swap, so one migration runs at once."""
        return self.side_ref("migration")

    @property
    def refspec(self) -> str:
        """The fetch refspec of the local mirror."""
        return f"+{self.prefix}*:{LOCAL_PREFIX}*"

    @property
    def archive_fetch(self) -> str:
        # A glob, not the exact ref: fetching an exact ref the remote does not have (no archive yet) is an
        # error, while a glob that matches nothing is not.
        return f"+{self.archive}*:{LOCAL_ARCHIVE}*"

    @property
    def negative_refspecs(self) -> list[str]:
        """Keep mission branches, the archive and the migration lock out of the ordinary `git fetch` and
        `git branch -r`."""
        return [f"^{self.prefix}*", f"^{self.name}-*"]

    def remote_ref(self, local: str) -> str:
        """The remote name of a local mirror ref; other refs are pushed under their own name."""
        if local.startswith(LOCAL_PREFIX):
            return self.prefix + local[len(LOCAL_PREFIX):]
        if local == LOCAL_ARCHIVE:
            return self.archive
        return local

    def remote_mission(self, mission_id: str) -> str:
        return self.prefix + check_id(mission_id)
