"""A read cache of parsed missions, keyed by each mission's tip commit, in the clone's git directory.

A mission's tip commit names its content for good, so a mission parsed once never needs parsing again while its
ref stays there: `list`, `next` and `start` (and any view of every mission) read only the missions whose tip
moved since the last run. The cache holds every field but the body (no listing shows it).

The file is `<common git dir>/gitclaim/cache/missions.json`: one header line (cache format, mission format,
gitclaim version, object format, SHA-256 of the rest) and one JSON document. It is replaced atomically (written
under a unique name, then renamed), so concurrent gitclaim processes each read a whole file, old or new, and the
last writer wins. Anything that does not match its header exactly (a truncated or corrupt file, another
gitclaim's format) is ignored and written again; nothing in it is ever trusted without that check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitclaim import __version__
from gitclaim.core import mission as m
from gitclaim.core.atomicfile import write_atomic
from gitclaim.core.hashing import hasher

CACHE_FORMAT = 1
# Every Mission field but the ones the key or the listing leaves out, in a fixed order (entries are lists).
FIELDS = tuple(f for f in m.Mission._fields if f not in ("mission_id", "body"))
_REQUIRES = FIELDS.index("requires")
if list(m.Mission._fields) != ["mission_id", *FIELDS[:-1], "body", "extra"]:
    raise ImportError("gitclaim.core.cache: Mission's fields are no longer mission_id, ..., body, extra")


def _header(digest: str, algo: str) -> dict[str, Any]:
    return {"cache": CACHE_FORMAT, "mission_format": m.FORMAT_VERSION, "gitclaim": __version__,
            "object_format": algo, "sha256": digest}


class MissionCache:
    """Parsed missions by (mission id, tip commit)."""

    def __init__(self, path: Path, algo: str) -> None:
        self.path = path
        self.algo = algo
        self.entries: dict[str, list[Any]] = {}  # "<id> <oid>" -> field values in FIELDS order
        self.loaded = False  # a valid file was read

    @classmethod
    def open(cls, common_dir: Path, algo: str) -> MissionCache:
        cache = cls(common_dir / "gitclaim" / "cache" / "missions.json", algo)
        cache._load()
        return cache

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return
        head, _, body = raw.partition(b"\n")
        try:
            header = json.loads(head)
            if header != _header(hasher("sha256")(body).hexdigest(), self.algo):
                return
            entries = json.loads(body)
        except ValueError:
            return
        if isinstance(entries, dict) and all(isinstance(v, list) and len(v) == len(FIELDS)
                                             for v in entries.values()):
            self.entries = entries
            self.loaded = True

    def get(self, mission_id: str, oid: str) -> m.Mission | None:
        values = self.entries.get(f"{mission_id} {oid}")
        if values is None:
            return None
        # Positional construction (no per-field keyword dict, no dataclasses.replace): at 10,000 missions this
        # loop is a good part of a cached `list`. The body, left out of the cache, goes between the last field
        # and `extra` (_SPLIT).
        try:
            requires = values[_REQUIRES]
            if not isinstance(requires, list) or not isinstance(values[-1], dict):
                return None
            return m.Mission(mission_id, *values[:_REQUIRES], tuple(requires),  # type: ignore[call-arg]
                             *values[_REQUIRES + 1:-1], "", values[-1])
        except TypeError:
            return None

    def put(self, mission_id: str, oid: str, mission: m.Mission) -> None:
        values = [getattr(mission, name) for name in FIELDS]
        values[FIELDS.index("requires")] = list(mission.requires)
        if mission.extra:  # fields read by YAML may hold values JSON cannot carry exactly: leave those out
            try:
                if json.loads(json.dumps(values)) != values:
                    return
            except (TypeError, ValueError):
                return
        self.entries[f"{mission_id} {oid}"] = values

    def keep_only(self, keys: set[str]) -> bool:
        """Drop entries of tips that are no longer there; True when something was dropped."""
        stale = [k for k in self.entries if k not in keys]
        for key in stale:
            del self.entries[key]
        return bool(stale)

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is only a slower next run."""
        body = json.dumps(self.entries, ensure_ascii=False, separators=(",", ":")).encode()
        head = json.dumps(_header(hasher("sha256")(body).hexdigest(), self.algo)).encode()
        try:
            write_atomic(self.path, head + b"\n" + body)
        except OSError:
            pass


def key(mission_id: str, oid: str) -> str:
    return f"{mission_id} {oid}"
