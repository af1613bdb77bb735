"""Reading a push, for the guard: the pre-receive hook's input lines and the pushed commits.

Reading costs one `rev-list` per judged ref update (core/git/) and one `cat-file --batch` process for every
object: the commits (parsed by core/git/ `parse_commit`, gitclaim's one commit parser), their mission.md and
HEAD:.gitclaim.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.errors import GitclaimError, InvalidInput

# A mission's whole history is read when its ref is created; past this many commits the push is refused
# rather than read (someone pushed a project branch to refs/missions/, most likely).
MAX_COMMITS = 20_000
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class ReceivedUpdate:
    """One line of a pre-receive hook's input; None stands for git's all-zero id (created / deleted). (A ref
    update gitclaim pushes itself is core/git/'s RefUpdate.)"""

    ref: str
    old: str | None
    new: str | None

    @classmethod
    def of(cls, old: str, new: str, ref: str) -> ReceivedUpdate:
        return cls(ref, _oid_or_none(old), _oid_or_none(new))


def parse_updates(text: str) -> list[ReceivedUpdate]:
    """The `<old> <new> <ref>` lines git feeds a pre-receive hook; InvalidInput for anything else."""
    updates = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(" ")
        if len(fields) != 3 or not all(_OID.fullmatch(f) for f in fields[:2]) or not fields[2]:
            raise InvalidInput(f"pre-receive input line {number} is not '<old> <new> <ref>': {line[:200]!r}")
        updates.append(ReceivedUpdate.of(*fields))
    return updates


def _oid_or_none(oid: str) -> str | None:
    return None if set(oid) == {"0"} else oid


class PushedCommit(NamedTuple):
    """A pushed commit and (on mission refs) the mission.md its tree holds; None: no mission.md file."""

    commit: g.Commit
    mission_md: bytes | None = None


class PushReader:
    """Reads for one push: rev-list per ref update, every object through the one cat-file process."""

    def __init__(self, git: g.Git, cat: g.CatFile) -> None:
        self.git = git
        self.cat = cat

    def text(self, spec: str) -> str | None:
        data = self.blob(spec)
        return data.decode("utf-8", "replace") if data is not None else None

    def blob(self, spec: str) -> bytes | None:
        obj = self.cat.get(spec)
        return obj.data if obj is not None and obj.type == "blob" else None

    def type_of(self, oid: str) -> str | None:
        obj = self.cat.get(oid)
        return obj.type if obj is not None else None

    def chain(self, new: str, old: str | None) -> list[PushedCommit]:
        """The first-parent chain from `new` back to `old` (exclusive; to the root when old is None), oldest
        first, each commit with its mission.md. Merges show up in it, so they can be refused by name."""
        oids = g.first_parent_chain(self.git, new, old, limit=MAX_COMMITS + 1)
        return [self.commit(oid, with_mission=True) for oid in oids]

    def new_commits(self, new: str) -> list[PushedCommit]:
        """Commits reachable from `new` that no ref of the repository reaches yet, oldest first."""
        oids = g.unreachable_commits(self.git, new)
        if oids is None:  # not a commit: receive-pack itself refuses that for branches, after this hook
            return []
        return [self.commit(oid) for oid in oids]

    def commit(self, oid: str, *, with_mission: bool = False) -> PushedCommit:
        obj = self.cat.get(oid)
        if obj is None or obj.type != "commit":
            raise GitclaimError(f"cannot read pushed commit {oid}")
        mission_md = self.blob(f"{oid}:{m.FILENAME}") if with_mission else None
        return PushedCommit(g.parse_commit(oid, obj.data), mission_md)
