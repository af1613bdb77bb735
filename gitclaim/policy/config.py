"""The commit policy's settings: defaults, and the `policy:` section of a repository's `.gitclaim.yaml`.

Pure: the file is found and read by core/settings.py, which hands the parsed section to
`policy_from_section`.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from gitclaim.errors import InvalidInput

DEFAULT_TYPES: tuple[str, ...] = (
    "feat", "fix", "refactor", "chore", "docs", "test", "build", "ci", "perf", "style", "revert",
)
DEFAULT_FORBIDDEN_TERMS: tuple[str, ...] = ("Claude Code", "Claude", "AI", "generated")

_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_KNOWN_KEYS = frozenset(
    {"enabled", "types", "extra_types", "forbidden_terms", "forbidden_patterns", "allowed_terms"}
)


class PolicyConfig(NamedTuple):
    """What the checker enforces. Frozen and made of tuples so compiled regexes can be cached per config."""

    enabled: bool = True
    types: tuple[str, ...] = DEFAULT_TYPES
    forbidden_terms: tuple[str, ...] = DEFAULT_FORBIDDEN_TERMS
    # Extra regexes from the repository; the built-in tool signatures are always checked on top of these.
    forbidden_patterns: tuple[str, ...] = ()
    # Phrases exempt from the term and model-name checks (e.g. "auto-generated", a colleague called Claude).
    allowed_terms: tuple[str, ...] = ()
    # git's core.commentChar; None means the message is final (already committed) and has no comments.
    comment_char: str | None = "#"


def policy_from_section(section: dict[Any, Any]) -> PolicyConfig:
    """The policy of the `policy:` section of `.gitclaim.yaml`, already read by core/settings.py (the one
    reader of that file). InvalidInput names the key; the reader adds the file's name."""
    unknown = sorted(str(key) for key in section if key not in _KNOWN_KEYS)
    if unknown:
        raise InvalidInput(f"policy.{unknown[0]}: unknown key")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput("policy.enabled: expected true or false")
    types = _types(section, "types", default=DEFAULT_TYPES)
    extra = _types(section, "extra_types", default=())
    return PolicyConfig(
        enabled=enabled,
        types=tuple(dict.fromkeys(types + extra)),  # keeps order, drops duplicates
        forbidden_terms=_strings(section, "forbidden_terms", default=DEFAULT_FORBIDDEN_TERMS),
        forbidden_patterns=_patterns(section),
        allowed_terms=_strings(section, "allowed_terms", default=()),
    )


def _strings(section: dict[Any, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A list of non-empty strings, or the default when the key is absent."""
    if key not in section:
        return default
    value = section[key]
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"policy.{key}: expected a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"policy.{key}[{index}]: expected a non-empty string")
    return tuple(item.strip() for item in value)


def _types(section: dict[Any, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    types = _strings(section, key, default)
    for index, name in enumerate(types):
        if not _TYPE_NAME.fullmatch(name):
            raise InvalidInput(f"policy.{key}[{index}]: {name!r} is not a valid commit type")
    if key == "types" and not types:
        raise InvalidInput("policy.types: must list at least one type")
    return types


def _patterns(section: dict[Any, Any]) -> tuple[str, ...]:
    patterns = _strings(section, "forbidden_patterns", default=())
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                f"policy.forbidden_patterns[{index}]: invalid regex: {exc}"
            ) from exc
    return patterns
