"""The files of a new mission rendered from a profile's template (gitclaim/workflows/templates/<profile>/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable

from gitclaim.core.refs import check_id
from gitclaim.errors import InvalidInput
from gitclaim.workflows.markdown_yaml import frontmatter_end
from gitclaim.workflows.model import PROFILES

# --------------------------------------------------------------------------------------------------------------
# Profile templates


def render_profile(profile: str, mission_id: str, title: str) -> dict[str, bytes]:
    """The files of a new mission from the profile's template, with `{mission_id}` and `{title}` filled in."""
    if profile not in PROFILES:
        raise InvalidInput(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    values = {
        "{mission_id}": check_id(mission_id),
        "{title}": _title_value(title),
    }
    template = resources.files("gitclaim.workflows") / "templates" / profile
    return {rel: _render(data.decode("utf-8"), values).encode("utf-8") for rel, data in _template_files(template, "")}


def _title_value(title: str) -> str:
    # One line of printable text: the title also heads the markdown body, where a newline would end the heading.
    if not title.strip() or not title.isprintable():
        raise InvalidInput(f"the title must be one non-empty line of printable text, not {title!r}")
    return title.strip()


def _template_files(directory: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in sorted(directory.iterdir(), key=lambda item: item.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _template_files(entry, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry.read_bytes()


def _render(text: str, values: dict[str, str]) -> str:
    """Fill placeholders literally (never str.format: markdown is full of braces); YAML-quoted in frontmatter."""
    lines = text.splitlines(keepends=True)
    end = frontmatter_end(lines)
    split = 0 if end is None else end + 1
    front, body = "".join(lines[:split]), "".join(lines[split:])
    # JSON strings are YAML double-quoted scalars: an id like 2025-01-02 stays text, a title may hold `: #`.
    quoted = {placeholder: json.dumps(value, ensure_ascii=False) for placeholder, value in values.items()}
    return _replace_all(front, quoted) + _replace_all(body, values)


def _replace_all(text: str, values: dict[str, str]) -> str:
    # One pass, so a title that itself contains `{mission_id}` is left as the user wrote it.
    pattern = re.compile("|".join(re.escape(placeholder) for placeholder in values))
    return pattern.sub(lambda match: values[match.group(0)], text)
