"""The mission model and its file, mission.md: YAML frontmatter plus a markdown body.

gitclaim writes the frontmatter as one `key: <JSON value>` line per field. JSON scalars and flow lists are valid
YAML, so any YAML reader (and a person) reads the file, while gitclaim reads its own files with a JSON fast path:
listing ten thousand missions must not mean ten thousand YAML parses. Files written by hand or imported fall back
to a real YAML parse (python-frontmatter).
"""

from __future__ import annotations

import json
import reprlib
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from gitclaim.core import timeutil
from gitclaim.core.refs import id_problem
from gitclaim.errors import CorruptMission, InvalidInput

FORMAT_VERSION = 1
FORMAT_KEY = "gitclaim_format"
FILENAME = "mission.md"
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64  # nesting of lists and mappings in a field: deeper would not render again (json.dumps recurses)

QUEUED, ACTIVE, BLOCKED, DONE, FAILED, CANCELLED = "QUEUED", "ACTIVE", "BLOCKED", "DONE", "FAILED", "CANCELLED"
STATUSES = (QUEUED, ACTIVE, BLOCKED, DONE, FAILED, CANCELLED)
HELD = (ACTIVE, BLOCKED)  # statuses in which a mission has a holder
COMPLETED = (DONE, FAILED)  # how a holder finishes the work (done / fail)
FINISHED = (DONE, FAILED, CANCELLED)  # out of the queue: never claimed again unless reopened; archivable
DEFAULT_PRIORITY = 2  # P0 is the most urgent; lower numbers come first


class MissionField(NamedTuple):
    """One field of a mission, defined once: mission.md's frontmatter (`render`, `parse`), the --json output
    (`Mission.to_json`, docs/json.md) and the MCP tools' output schema (gitclaim/mcp/schemas.py) all derive
    from FIELDS."""

    name: str  # the Mission attribute and the frontmatter key
    json: str  # the key in --json output and the MCP schema
    type: Any  # the JSON value's type, for the MCP schema
    required: bool = False  # in the MCP schema; everything else has the default below
    default: Any = None
    sparse: bool = False  # written to mission.md only when set (a field added after missions were written)


FIELDS: tuple[MissionField, ...] = (
    MissionField("mission_id", "mission_id", str, required=True),
    MissionField("title", "title", str, required=True),
    MissionField("status", "status", str, required=True),
    MissionField("priority", "priority", int, required=True),
    MissionField("requires", "requires", list[str], default=()),
    MissionField("assigned_to", "assigned_to", str | None),
    MissionField("created", "created", str | None),
    MissionField("claimed_at", "claimed_at", str | None),
    MissionField("claimed_by", "claimed_by", str | None),
    MissionField("claim_user", "user", str | None),
    MissionField("claim_instance", "instance", str | None),
    MissionField("claim_epoch", "epoch", int, default=0),
    # The trust-list principal of the key that signed the claim (docs/signing.md); None for unsigned claims.
    MissionField("claim_principal", "principal", str | None, sparse=True),
    MissionField("last_activity", "last_activity", str | None),
    MissionField("blocked_reason", "blocked_reason", str | None),
    MissionField("summary", "summary", str | None),
    MissionField("finished_at", "finished_at", str | None),
)
# Field order in the file; anything else a person put there is kept, after these.
_FILE_KEYS = (FORMAT_KEY, *(f.name for f in FIELDS))
_JSON_KEYS = tuple(f.json for f in FIELDS)
_KNOWN = frozenset(_FILE_KEYS)
_VALUES = attrgetter(*(f.name for f in FIELDS))  # one call reads every field, in FIELDS order
_REQUIRES = next(i for i, f in enumerate(FIELDS) if f.name == "requires")
_SPARSE = frozenset(f.name for f in FIELDS if f.sparse)


def _values(mis: Mission) -> list[Any]:
    values = list(_VALUES(mis))
    values[_REQUIRES] = list(values[_REQUIRES])  # a tuple in the model, a list in JSON
    return values


class Mission(NamedTuple):
    mission_id: str
    title: str
    status: str = QUEUED
    priority: int = DEFAULT_PRIORITY
    requires: tuple[str, ...] = ()
    assigned_to: str | None = None
    created: str | None = None
    claimed_at: str | None = None
    claimed_by: str | None = None
    claim_user: str | None = None
    claim_instance: str | None = None
    claim_epoch: int = 0
    claim_principal: str | None = None
    last_activity: str | None = None
    blocked_reason: str | None = None
    summary: str | None = None
    finished_at: str | None = None
    body: str = ""
    # One empty dict shared by every mission made without extra keys (a NamedTuple has no default factory): it is
    # only ever read; a change is a new dict (`evolve`).
    extra: dict[str, Any] = {}  # noqa: RUF012

    @property
    def held(self) -> bool:
        return self.status in HELD and bool(self.claim_instance)

    def holder_text(self) -> str:
        """How a holder is named in messages: session description, git user and instance."""
        who = self.claimed_by or self.claim_user or "someone"
        parts = [p for p in (self.claim_user, f"instance {self.claim_instance}" if self.claim_instance else None)
                 if p and p != who]
        return f'"{who}"' + (f" ({', '.join(parts)})" if parts else "")

    def holder_json(self) -> dict[str, Any] | None:
        """The holder as `--json` errors name it (docs/json.md); None when nobody holds the mission."""
        if not self.held:
            return None
        return {"session": self.claimed_by, "user": self.claim_user, "instance": self.claim_instance,
                "epoch": self.claim_epoch, "claimed_at": self.claimed_at, "last_activity": self.last_activity}

    def last_activity_at(self) -> datetime | None:
        return timeutil.parse_ts(self.last_activity) or timeutil.parse_ts(self.claimed_at)

    def evolve(self, **changes: Any) -> Mission:
        return self._replace(**changes)

    def to_json(self) -> dict[str, Any]:
        """The stable snake_case fields of --json output (docs/json.md), from FIELDS."""
        return dict(zip(_JSON_KEYS, _values(self), strict=True))


def render(m: Mission) -> bytes:
    """mission.md bytes for `m`: frontmatter as `key: <JSON>` lines, then the body."""
    values = dict(zip(_FILE_KEYS, [FORMAT_VERSION, *_values(m)], strict=True))
    lines = ["---"]
    for key, value in [*values.items(), *m.extra.items()]:
        if value is None and key in _SPARSE:
            continue
        lines.append(f"{key}: {json.dumps(_jsonable(value), ensure_ascii=False)}")
    lines.append("---")
    body = m.body if m.body.endswith("\n") or not m.body else m.body + "\n"
    return ("\n".join(lines) + "\n" + body).encode("utf-8")


def parse(data: bytes, mission_id: str, *, require_format: bool = True) -> Mission:
    """Read mission.md bytes of mission `mission_id`; CorruptMission naming the mission when unreadable.

    `require_format=False` is for importing files a team wrote by hand, which carry no format version.
    """
    meta, body = _split(data, mission_id)
    version = meta.get(FORMAT_KEY)
    if require_format and version is None:
        raise CorruptMission(f"mission {mission_id}: mission.md has no {FORMAT_KEY} field")
    if version is not None and (type(version) is not int or version != FORMAT_VERSION):  # not True, not 1.0
        raise CorruptMission(
            f"mission {mission_id}: mission.md has format version {version!r}, this gitclaim reads "
            f"{FORMAT_VERSION}: upgrade gitclaim"
        )
    return _from_meta(meta, body, mission_id)


def _split(data: bytes, mission_id: str) -> tuple[dict[str, Any], str]:
    if len(data) > MAX_FILE_BYTES:
        raise CorruptMission(f"mission {mission_id}: mission.md is larger than {MAX_FILE_BYTES} bytes")
    if b"\0" in data:
        raise CorruptMission(f"mission {mission_id}: mission.md is binary, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptMission(f"mission {mission_id}: mission.md is not UTF-8 text") from None
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        raise CorruptMission(f"mission {mission_id}: mission.md has no YAML frontmatter")
    meta, body = _fast_split(text) or _yaml_split(text, mission_id)
    nested = any(isinstance(v, (list, dict)) and v for v in meta.values())  # most fields are scalars
    if nested and _depth(meta) > MAX_DEPTH:
        raise CorruptMission(f"mission {mission_id}: mission.md frontmatter is nested more than {MAX_DEPTH} deep")
    return meta, body


def _depth(value: Any) -> int:
    """How deeply lists and mappings nest in `value`, counted without recursion (and only up to MAX_DEPTH+1)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        if level <= MAX_DEPTH and isinstance(item, (list, tuple, set, dict)):
            todo += [(v, level + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _fast_split(text: str) -> tuple[dict[str, Any], str] | None:
    """Parse frontmatter written by gitclaim itself (`key: <JSON>` lines); None means 'use YAML'."""
    head, sep, body = text[4:].partition("\n---\n") if text.startswith("---\n") else ("", "", "")
    if not sep:
        return None
    members = []
    for line in head.split("\n"):
        key, colon, raw = line.partition(": ")
        if not colon or not key.isidentifier():
            return None
        members.append(f'"{key}":{raw}')
    # One JSON document for the whole frontmatter: one decoder call per mission, not one per field.
    try:
        meta = json.loads("{" + ",".join(members) + "}")
    except (ValueError, RecursionError):  # not gitclaim's own format after all: let the YAML path judge it
        return None
    return (meta, body) if isinstance(meta, dict) and len(meta) == len(members) else None


def _yaml_split(text: str, mission_id: str) -> tuple[dict[str, Any], str]:
    from gitclaim.core import safeyaml  # only for files not written by gitclaim: YAML costs start-up time

    try:
        metadata, content = safeyaml.load_frontmatter(text)
    except safeyaml.YamlProblem as err:
        if err.kind == "syntax":
            where = f" at line {err.line}" if err.line is not None else ""
            raise CorruptMission(f"mission {mission_id}: mission.md frontmatter is not valid YAML{where}") from None
        if err.kind == "nested":
            raise CorruptMission(f"mission {mission_id}: mission.md frontmatter is nested too deeply") from None
        raise CorruptMission(f"mission {mission_id}: mission.md frontmatter is unreadable ({err.problem})") from None
    if not isinstance(metadata, dict) or not metadata:
        raise CorruptMission(f"mission {mission_id}: mission.md frontmatter is empty or not a mapping")
    return dict(metadata), content + ("\n" if content else "")


def _from_meta(meta: dict[str, Any], body: str, mission_id: str) -> Mission:
    def bad(key: str, want: str) -> CorruptMission:
        got = reprlib.repr(meta.get(key))  # bounded: a value may be huge
        return CorruptMission(f"mission {mission_id}: field {key!r} must be {want}, got {got}")

    declared = meta.get("mission_id", mission_id)
    if not isinstance(declared, str) or declared != mission_id:
        raise CorruptMission(f"mission {mission_id}: mission.md names mission_id {reprlib.repr(declared)}")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad("title", "a non-empty string")
    status = meta.get("status", QUEUED)
    if not isinstance(status, str) or status.upper() not in STATUSES:
        raise bad("status", "one of " + ", ".join(STATUSES))
    priority = parse_priority(meta.get("priority", DEFAULT_PRIORITY), mission_id)
    requires = meta.get("requires") or []
    if isinstance(requires, str):
        requires = [requires]
    if not isinstance(requires, list) or any(not isinstance(r, str) or id_problem(r) for r in requires):
        raise bad("requires", "a list of mission ids")
    epoch = meta.get("claim_epoch", 0) or 0
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise bad("claim_epoch", "a non-negative integer")
    extra = {k: v for k, v in meta.items() if k not in _KNOWN}
    return Mission(
        mission_id=mission_id, title=title.strip(), status=status.upper(), priority=priority,
        requires=tuple(requires), assigned_to=_opt_str(meta.get("assigned_to")),
        created=_opt_ts(meta.get("created")), claimed_at=_opt_ts(meta.get("claimed_at")),
        claimed_by=_opt_str(meta.get("claimed_by")), claim_user=_opt_str(meta.get("claim_user")),
        claim_instance=_opt_str(meta.get("claim_instance")), claim_epoch=epoch,
        claim_principal=_opt_str(meta.get("claim_principal")),
        last_activity=_opt_ts(meta.get("last_activity")), blocked_reason=_opt_str(meta.get("blocked_reason")),
        summary=_opt_str(meta.get("summary")), finished_at=_opt_ts(meta.get("finished_at")),
        body=body, extra=extra,
    )


_NAMED_PRIORITIES = {"critical": 0, "urgent": 0, "high": 1, "medium": 2, "normal": 2, "low": 3}


def parse_priority(value: Any, mission_id: str = "") -> int:
    """0 is the most urgent. Accepts integers, 'P0'..'P9' and critical/high/medium/low."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) and 0 <= value <= 1000:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _NAMED_PRIORITIES:
            return _NAMED_PRIORITIES[text]
        digits = text[1:] if text.startswith("p") else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 4 and int(digits) <= 1000:
            return int(digits)
    where = f"mission {mission_id}: " if mission_id else ""
    raise (CorruptMission if mission_id else InvalidInput)(
        f"{where}priority must be 0-1000, P0-P9 or critical/high/medium/low, got {reprlib.repr(value)}"
    )


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _opt_ts(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 20 and value[10] == "T" and value[19] == "Z" \
            and value[:4].isdigit():
        return value  # already gitclaim's canonical form: no need to parse and print it again
    parsed = timeutil.parse_ts(value)
    if parsed is not None:
        return timeutil.format_ts(parsed)
    return _opt_str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return timeutil.format_ts(value)
    if isinstance(value, tuple):
        return list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
