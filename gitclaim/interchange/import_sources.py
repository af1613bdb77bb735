"""Reading the files to import (docs/import-export.md): the sources named on the command line, scanned trees,
seed 1 files and seed 2 mission directories, each turned into a `Candidate` (a mission ready to publish) or an
`Item` (what happened to a source that will not be published). Nothing here touches the remote.

Two layouts are read:
- seed 1: one markdown file per mission with YAML frontmatter (mission_id, status, assigned_to, created,
  claimed_at, claimed_by, ...), usually under `missions/queue|active|done/`;
- seed 2: one directory per mission, `.../missions/<name>/mission.md` with workflow.md, start.md and agents/
  beside it; the whole directory is published as the mission's tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitclaim.core import mission as m
from gitclaim.core.refs import id_problem
from gitclaim.errors import GitclaimError, InvalidInput

CREATED, WOULD_CREATE, UNCHANGED = "created", "would-create", "unchanged"
CONFLICT, INVALID, SKIPPED, ERROR = "conflict", "invalid", "skipped", "error"

# The seed's folders are its state ("filesystem = state"); failed/ is accepted too.
FOLDER_STATUS = {"queue": m.QUEUED, "active": m.ACTIVE, "done": m.DONE, "failed": m.FAILED}
MAX_SCANNED_FILES = 10_000

_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_LOG_HEADING = re.compile(r"^##[ \t]+Execution Log[ \t]*$", re.MULTILINE | re.IGNORECASE)
OLD_LOG_HEADING = "## Execution Log (before import)"


@dataclass(frozen=True)
class Item:
    """What happened to one source: a file, a mission directory, or something skipped in a scanned tree."""

    source: str
    mission_id: str | None
    result: str
    detail: str = ""
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "mission_id": self.mission_id, "result": self.result,
                "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Candidate:
    """A mission read from disk, ready to be published."""

    source: str
    mission: m.Mission
    files: dict[str, bytes] = field(default_factory=dict)  # beside mission.md (mission directories only)
    note: str = ""  # how the file's state was translated, for the result and the commit message

    @property
    def mission_id(self) -> str:
        return self.mission.mission_id


# ---- reading the files ----------------------------------------------------------------------------------------

def collect(paths: Sequence[Path], now: str) -> tuple[list[Candidate], list[Item]]:
    """Read every mission under `paths` (files, mission directories, trees to scan); no git involved."""
    candidates: list[Candidate] = []
    items: list[Item] = []
    seen: set[Path] = set()
    for path in paths:
        for kind, source, scanned in _sources(Path(path), items):
            real = source.resolve()
            if real in seen:
                continue
            seen.add(real)
            got = _read_source(kind, source, scanned, now)
            if isinstance(got, Candidate):
                candidates.append(got)
            else:
                items.append(got)
    return _unique_ids(candidates, items), items


def _sources(path: Path, items: list[Item]) -> Iterator[tuple[str, Path, bool]]:
    """("file" | "dir", path, found by scanning) for each mission source under `path`."""
    if path.is_file():
        if path.name == m.FILENAME:
            yield "dir", path.parent, False
        elif path.suffix.lower() == ".md":
            yield "file", path, False
        else:
            items.append(Item(str(path), None, INVALID, "not a markdown (.md) file"))
    elif path.is_dir():
        if (path / m.FILENAME).is_file():
            yield "dir", path, False
        else:
            yield from _scan(path, items)
    else:
        items.append(Item(str(path), None, INVALID, "no such file or directory"))


def _scan(root: Path, items: list[Item]) -> Iterator[tuple[str, Path, bool]]:
    """Depth-first in name order; dot entries and symlinked directories are skipped (no loops, no .git)."""
    pending = [root]
    count = 0
    while pending:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as err:
            items.append(Item(str(directory), None, INVALID, f"cannot list: {err.strerror}"))
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            full = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                is_mission = (full / m.FILENAME).is_file()
                if is_mission:
                    yield "dir", full, True
                else:
                    subdirs.append(full)
            elif entry.is_file() and entry.name.lower().endswith(".md"):
                count += 1
                if count > MAX_SCANNED_FILES:
                    raise InvalidInput(f"{root}: more than {MAX_SCANNED_FILES} markdown files; is this the "
                                       "missions directory?")
                yield "file", full, True
        pending.extend(reversed(subdirs))


def _read_source(kind: str, source: Path, scanned: bool, now: str) -> Candidate | Item:
    try:
        if kind == "dir":
            from gitclaim.workflows.missiondir import read_mission_dir

            files = read_mission_dir(source)
            data = files.pop(m.FILENAME)
            _check_paths(files)
            return _candidate(str(source), data, source.name, source.parent.name, now, files)
        data = _read_file(source)
        if scanned and not _has_frontmatter(data):
            # A README or notes file next to the missions: not a mission, and not an error either.
            return Item(str(source), None, SKIPPED, "no YAML frontmatter: not a mission file")
        return _candidate(str(source), data, source.stem, source.parent.name, now, {})
    except GitclaimError as err:
        return Item(str(source), None, INVALID, _reason(err))


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(m.MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InvalidInput(f"cannot read: {err.strerror}") from None
    if len(data) > m.MAX_FILE_BYTES:
        raise InvalidInput(f"larger than {m.MAX_FILE_BYTES} bytes")
    return data


def _has_frontmatter(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf").startswith(b"---")


def _check_paths(files: dict[str, bytes]) -> None:
    for name in files:
        if "\n" in name or "\\" in name:
            raise InvalidInput(f"file name {name!r} cannot be stored in a mission tree")


def _reason(err: GitclaimError) -> str:
    # mission.parse names the mission in front of its reason; the source path already says which file it is.
    text = str(err)
    return text.split(": ", 1)[1] if text.startswith("mission ") and ": " in text else text


def _candidate(source: str, data: bytes, name: str, folder: str, now: str, files: dict[str, bytes]
               ) -> Candidate:
    meta, body = _frontmatter(data)
    mission_id = _mission_id(meta, name)
    meta = {**meta, "mission_id": mission_id, "title": _title(meta, body, mission_id)}
    status, note = _status(meta, folder)
    meta["status"] = status
    parsed = m.parse(_redump(meta, body), mission_id, require_format=False)
    mission, translated = _translate(parsed, now)
    return Candidate(source, mission, files, "; ".join(t for t in (note, translated) if t))


def _frontmatter(data: bytes) -> tuple[dict[str, Any], str]:
    """The file's YAML frontmatter and body; InvalidInput when there is none or it is unreadable."""
    from gitclaim.core import safeyaml  # only imports pay for the YAML front-matter parser

    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        raise InvalidInput("not UTF-8 text") from None
    if not text.startswith("---"):
        raise InvalidInput("no YAML frontmatter (a mission file starts with a '---' block)")
    try:
        metadata, content = safeyaml.load_frontmatter(text)
    except safeyaml.YamlProblem as err:
        if err.kind == "syntax":
            raise InvalidInput("frontmatter is not valid YAML" + (f" at line {err.line}" if err.line else "")) \
                from None
        raise InvalidInput(f"frontmatter is unreadable ({err.problem})") from None
    if not isinstance(metadata, dict):
        raise InvalidInput("frontmatter is not a mapping")
    if not metadata and content.lstrip().startswith("---"):
        raise InvalidInput("frontmatter is not closed by a '---' line")
    # gitclaim renders the execution log from the history under "## Execution Log": a log the file already has
    # keeps its entries under another heading, so `show` and export do not print two logs of the same name.
    body = _LOG_HEADING.sub(OLD_LOG_HEADING, content.strip())
    return dict(metadata), body + "\n" if body else ""


def _mission_id(meta: dict[str, Any], name: str) -> str:
    """mission_id from the frontmatter, else the file's stem (or the directory's name)."""
    declared = meta.get("mission_id")
    mission_id = str(declared).strip() if declared not in (None, "") else name
    problem = id_problem(mission_id)
    if problem:
        origin = "its mission_id" if declared not in (None, "") else "its file name"
        raise InvalidInput(f"mission id {mission_id!r} (from {origin}) {problem}; set a valid mission_id in the "
                           "frontmatter (lowercase letters, digits, '.', '_', '-')")
    return mission_id


def _title(meta: dict[str, Any], body: str, mission_id: str) -> str:
    """The frontmatter's title, else the first '# Heading' of the body (the seed's files have no title field)."""
    title = meta.get("title")
    if isinstance(title, str) and title.strip():
        return " ".join(title.split())
    heading = _H1.search(body)
    return " ".join(heading.group(1).split()) if heading else mission_id


def _status(meta: dict[str, Any], folder: str) -> tuple[str, str]:
    """The seed's folder wins (it was the seed's state); the frontmatter's status otherwise."""
    declared = str(meta.get("status") or "").strip().upper()
    from_folder = FOLDER_STATUS.get(folder.lower())
    if from_folder is None:
        return declared or m.QUEUED, ""
    if declared and declared != from_folder:
        return from_folder, f"status {declared} in the file, {from_folder} by its folder {folder}/: used {from_folder}"
    return from_folder, ""


def _redump(meta: dict[str, Any], body: str) -> bytes:
    """The normalized file, for mission.parse to validate exactly as it validates everything else."""
    from gitclaim.core import safeyaml

    try:
        head = safeyaml.dump(meta)
    except safeyaml.YamlProblem as err:
        raise InvalidInput(f"frontmatter cannot be stored ({err.problem})") from None
    return f"---\n{head}---\n{body}".encode()


def _translate(parsed: m.Mission, now: str) -> tuple[m.Mission, str]:
    """The mission as gitclaim stores it: claims are never carried over (no instance, no epoch, no lease).

    ACTIVE and BLOCKED arrive QUEUED, the former claim kept as imported_* fields; DONE and FAILED arrive as
    they are, with a finished_at so `archive --older-than` can age them."""
    base = parsed.evolve(created=parsed.created or now, last_activity=now, claim_instance=None, claim_epoch=0,
                         claim_user=None, claim_principal=None)
    if parsed.status in m.HELD:
        former = {"imported_status": parsed.status, "imported_claimed_at": parsed.claimed_at,
                  "imported_claimed_by": parsed.claimed_by, "imported_blocked_reason": parsed.blocked_reason}
        extra = {**parsed.extra, **{k: v for k, v in former.items() if v}}
        new = base.evolve(status=m.QUEUED, claimed_at=None, claimed_by=None, blocked_reason=None, extra=extra)
        return new, f"was {parsed.status}: imported as QUEUED (claims are not carried over; the former claim " \
                    "is kept in the imported_* fields)"
    if parsed.status in m.FINISHED:
        finished = parsed.finished_at or parsed.last_activity or parsed.claimed_at or parsed.created or now
        return base.evolve(finished_at=finished), ""
    return base.evolve(claimed_at=None, claimed_by=None, blocked_reason=None), ""


def _unique_ids(candidates: list[Candidate], items: list[Item]) -> list[Candidate]:
    first: dict[str, Candidate] = {}
    for cand in candidates:
        if cand.mission_id in first:
            items.append(Item(cand.source, cand.mission_id, INVALID,
                              f"same mission id as {first[cand.mission_id].source}"))
        else:
            first[cand.mission_id] = cand
    return list(first.values())
