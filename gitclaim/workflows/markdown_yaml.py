"""YAML cut out of markdown (frontmatter, a ```yaml block, or the whole file), read with line numbers, and the
field readers that accept the spellings the schema allows and reject the rest with a `file:line` message.

The YAML library is loaded by core/safeyaml.py inside its functions, so importing this module costs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitclaim.core import safeyaml
from gitclaim.errors import InvalidInput
from gitclaim.workflows.model import FILE_OUTPUT_KINDS, Output

# --------------------------------------------------------------------------------------------------------------
# Reading YAML out of markdown, with line numbers


# Mappings come back as LineDicts (core/safeyaml.py), which remember the line they start on.

_FENCE_OPEN = re.compile(r"^(`{3,})\s*(ya?ml)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Snippet:
    """YAML text cut out of a file, and the 1-based file line its first line sits on."""

    source: str
    text: str
    first_line: int
    hint: str = ""  # appended to YAML errors: how the snippet was found, when that may surprise

    def at(self, obj: object) -> str:
        """`source:line` for a mapping from this snippet, else just `source`."""
        if isinstance(obj, safeyaml.LineDict):
            return f"{self.source}:{self.first_line + obj.line}"
        return self.source

    def fail(self, obj: object, message: str) -> InvalidInput:
        return InvalidInput(f"{self.at(obj)}: {message}")


def decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput(f"{source}: not UTF-8 text (byte {err.start})") from None


def frontmatter_end(lines: list[str]) -> int | None:
    """Index of the line closing a frontmatter block opened by the first line, or None if there is none."""
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return index
    return None  # an unclosed `---` is a YAML document start marker, not frontmatter


def _fenced_yaml(lines: list[str], source: str) -> Snippet | None:
    for start, line in enumerate(lines):
        opened = _FENCE_OPEN.match(line.rstrip("\r\n"))
        if not opened:
            continue
        fence = opened.group(1)
        for end in range(start + 1, len(lines)):
            if lines[end].strip().startswith(fence) and not lines[end].strip().strip("`"):
                return Snippet(source, "".join(lines[start + 1 : end]), start + 2)
        raise InvalidInput(f"{source}:{start + 1}: the ```yaml block opened here is never closed")
    return None


def extract_yaml(text: str, source: str) -> Snippet:
    """Frontmatter between `---` lines, else the first ```yaml fenced block, else the whole text."""
    lines = text.splitlines(keepends=True)
    end = frontmatter_end(lines)
    if end is not None:
        return Snippet(source, "".join(lines[1:end]), 2)
    whole = " (no `---` frontmatter and no ```yaml block, so the whole file was read as YAML)"
    return _fenced_yaml(lines, source) or Snippet(source, text, 1, whole)


def load_yaml(snippet: Snippet) -> Any:
    try:
        return safeyaml.load(snippet.text, lines=True)
    except safeyaml.YamlProblem as err:
        if err.kind != "syntax":
            raise InvalidInput(f"{snippet.source}: unreadable YAML ({err.problem})") from None
        where = f"{snippet.source}:{snippet.first_line + err.line - 1}" if err.line else snippet.source
        raise InvalidInput(f"{where}: invalid YAML: {err.problem}{snippet.hint}") from None


# --------------------------------------------------------------------------------------------------------------
# Field readers: each accepts the spellings the schema allows and rejects the rest with a located message


def read_text(snippet: Snippet, owner: object, key: str) -> str | None:
    value = owner.get(key) if isinstance(owner, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise snippet.fail(owner, f"`{key}` must be text")
    return str(value).strip() or None


def read_text_list(snippet: Snippet, owner: dict[str, Any], key: str, *, comma_separated: bool = False) -> list[str]:
    """A string or a list of strings; `tools: Read, Write` is a comma-separated string in agent files."""
    value = owner.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split(",") if comma_separated else [value]
        return [part.strip() for part in parts if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise snippet.fail(owner, f"`{key}` must be a string or a list of strings")


def read_flag(snippet: Snippet, owner: dict[str, Any], *keys: str) -> bool | None:
    for key in keys:
        value = owner.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise snippet.fail(owner, f"`{key}` must be true or false")
        return value
    return None


def read_number(value: object) -> int | None:
    # bool is an int in Python, and `number: true` is not an explicit phase number.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def read_completion(snippet: Snippet, raw: dict[str, Any]) -> str | None:
    value = raw.get("completion")
    if isinstance(value, list):
        criteria = [str(item).strip() for item in value if item is not None and str(item).strip()]
        return "; ".join(criteria) or None
    return read_text(snippet, raw, "completion")


def read_checkpoint(snippet: Snippet, raw: dict[str, Any]) -> str | None:
    value = raw.get("checkpoint")
    if value is True:  # `checkpoint: true` reads as the only checkpoint kind there is
        return "human"
    if value is False:
        return None
    return read_text(snippet, raw, "checkpoint")


def read_outputs(snippet: Snippet, raw: dict[str, Any]) -> list[Output]:
    value = raw.get("outputs")
    if value is None:
        return []
    if not isinstance(value, list):
        raise snippet.fail(raw, "`outputs` must be a list")
    outputs: list[Output] = []
    for item in value:
        if isinstance(item, str):
            outputs.append(Output("text", item))
        elif isinstance(item, dict):
            outputs.extend(_output_entries(snippet, item))
        else:
            raise snippet.fail(raw, f"`outputs` entries must be text or `kind: value` mappings, not {item!r}")
    return outputs


def _output_entries(snippet: Snippet, item: dict[str, Any]) -> list[Output]:
    entries: list[Output] = []
    for kind, value in item.items():
        kind = "file" if str(kind) in FILE_OUTPUT_KINDS else str(kind)
        values = value if isinstance(value, list) else [value]
        for one in values:
            if kind == "file" and not isinstance(one, str):
                raise snippet.fail(item, f"file outputs must be paths, not {one!r}")
            entries.append(Output(kind, "" if one is None else str(one)))
    return entries
