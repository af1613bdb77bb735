"""Reading a mission directory from disk into the `dict[str, bytes]` of tree paths that the rules check, the same
shape as a mission's tip commit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from gitclaim.errors import InvalidInput
from gitclaim.workflows.model import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES

# --------------------------------------------------------------------------------------------------------------
# Reading a mission directory


def read_mission_dir(path: Path) -> dict[str, bytes]:
    """The regular files under `path` as tree path -> contents; dotfiles skipped, escaping symlinks refused."""
    root = Path(path)
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory")
    real_root = root.resolve()
    files: dict[str, bytes] = {}
    total = 0
    for rel, full in _mission_dir_files(root, real_root):
        if len(files) >= MAX_FILES:
            raise InvalidInput(f"{root}: more than {MAX_FILES} files; is this a mission directory?")
        files[rel] = _read_capped(full)
        total += len(files[rel])
        if total > MAX_TOTAL_BYTES:
            raise InvalidInput(f"{root}: more than {MAX_TOTAL_BYTES} bytes in all; is this a mission directory?")
    return files


def _mission_dir_files(root: Path, real_root: Path) -> Iterator[tuple[str, Path]]:
    """(posix relative path, path) of each file to read, depth-first in name order."""
    pending: list[tuple[Path, str]] = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        subdirs: list[tuple[Path, str]] = []
        for entry in _sorted_entries(directory):
            if entry.name.startswith("."):  # .git, editor droppings: never part of a mission
                continue
            rel, full = prefix + entry.name, Path(entry.path)
            if entry.is_symlink():
                if _symlinked_file(full, real_root):
                    yield rel, full
            elif entry.is_dir(follow_symlinks=False):
                subdirs.append((full, rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                yield rel, full
        pending.extend(reversed(subdirs))


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as err:
        raise InvalidInput(f"{directory}: cannot list: {err.strerror}") from None


def _symlinked_file(link: Path, real_root: Path) -> bool:
    """Whether to read a symlink: refused if it leads outside the mission, skipped unless it leads to a file."""
    target = link.resolve()
    if not target.is_relative_to(real_root):
        raise InvalidInput(f"{link}: symlink leads outside the mission directory, to {target}")
    # A link to a directory inside the mission would only list files a second time (or loop): skip it.
    return target.is_file()


def _read_capped(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InvalidInput(f"{path}: cannot read: {err.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{path}: larger than {MAX_FILE_BYTES} bytes; is this a mission file?")
    return data


def mission_files(mission_id: str, title: str | None, from_dir: Path | None, profile: str | None
                   ) -> dict[str, bytes]:
    """The files `new --from DIR` or `new --profile P` publishes, validated against the workflow rules."""
    from gitclaim.workflows.profiles import render_profile
    from gitclaim.workflows.rules import validate_mission_files

    if from_dir is not None and profile is not None:
        raise InvalidInput("use either --from DIR or --profile P, not both")
    if profile is not None:
        files = render_profile(profile, mission_id, title or mission_id)
    else:
        assert from_dir is not None
        files = read_mission_dir(from_dir)
    problems = validate_mission_files(files)
    if problems:
        first = problems[0]
        raise InvalidInput(f"mission {mission_id}: workflow does not validate ({len(problems)} problems; first: "
                           f"phase {first.phase}: {first.rule}: {first.message}); see gitclaim validate")
    return files
