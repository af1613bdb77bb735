"""The one safe YAML loader (core/safeyaml.py) and the one atomic file writer (core/atomicfile.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitclaim.core import safeyaml
from gitclaim.core.atomicfile import write_atomic

CRAFTED = [
    "when: !!timestamp x\n",  # PyYAML raises AttributeError on this one, not YAMLError
    "run: !!python/object/apply:os.system [true]\n",
    "n: !!int x\n",
]


@pytest.mark.parametrize("text", CRAFTED)
@pytest.mark.parametrize("lines", [False, True])
def test_load_turns_crafted_tags_into_one_problem(text: str, lines: bool) -> None:
    with pytest.raises(safeyaml.YamlProblem) as err:
        safeyaml.load(text, lines=lines)
    assert err.value.kind in ("syntax", "unreadable")


@pytest.mark.parametrize("text", CRAFTED)
def test_load_frontmatter_turns_crafted_tags_into_one_problem(text: str) -> None:
    with pytest.raises(safeyaml.YamlProblem):
        safeyaml.load_frontmatter(f"---\n{text}---\nbody\n")


def test_load_syntax_error_names_the_line() -> None:
    with pytest.raises(safeyaml.YamlProblem) as err:
        safeyaml.load("a: 1\nb: x: y\nc: 3\n")
    assert (err.value.kind, err.value.line, err.value.problem) == ("syntax", 2, "mapping values are not allowed here")


def test_load_too_deep_is_nested() -> None:
    with pytest.raises(safeyaml.YamlProblem) as err:
        safeyaml.load("[" * 100_000)
    assert err.value.kind in ("nested", "syntax")


def test_load_with_lines_remembers_where_mappings_start() -> None:
    data = safeyaml.load("top: 1\nphases:\n  - id: a\n  - id: b\n", lines=True)
    assert isinstance(data, safeyaml.LineDict) and data.line == 0
    assert [p.line for p in data["phases"]] == [2, 3]


def test_dump_then_load_round_trips_unicode() -> None:
    data = {"title": "Grüße", "tags": ["a", "b"]}
    assert safeyaml.load(safeyaml.dump(data)) == data
    assert "Grüße" in safeyaml.dump(data)


def test_write_atomic_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "AGENTS.md"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["AGENTS.md"]


def test_write_atomic_replaces_a_read_only_file_with_the_mode_asked(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "m.md"
    write_atomic(target, b"one", mode=0o444)
    write_atomic(target, b"two", mode=0o444)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_write_atomic_leaves_nothing_behind_when_the_rename_fails(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a non-empty directory cannot be renamed over
    with pytest.raises(OSError):
        write_atomic(target, b"data")
    assert sorted(os.listdir(tmp_path)) == ["taken"]


def test_write_atomic_uses_the_scratch_directory(tmp_path: Path) -> None:
    scratch, hooks = tmp_path / "hooks", tmp_path / "hooks" / "pre-receive.d"
    hooks.mkdir(parents=True)
    write_atomic(hooks / "guard", b"#!/bin/sh\n", mode=0o755, scratch=scratch)
    assert os.listdir(hooks) == ["guard"]
    assert os.access(hooks / "guard", os.X_OK)
