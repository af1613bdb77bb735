"""The commit policy's settings: defaults, and the `policy:` section of a repository's `.gitclaim.yaml`.

`load_policy` gets the file's text, never a path: whoever calls it decides where the text comes from (the
working tree, `HEAD:.gitclaim.yaml`, a pushed commit on a server). `policy_from_repo` is that decision for a
clone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gitclaim.core.git import Git
from gitclaim.errors import InvalidInput

CONFIG_FILE = ".gitclaim.yaml"

DEFAULT_TYPES: tuple[str, ...] = (
    "feat", "fix", "refactor", "chore", "docs", "test", "build", "ci", "perf", "style", "revert",
)
DEFAULT_FORBIDDEN_TERMS: tuple[str, ...] = ("Claude Code", "Claude", "AI", "generated")

_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_KNOWN_KEYS = frozenset(
    {"enabled", "types", "extra_types", "forbidden_terms", "forbidden_patterns", "allowed_terms"}
)


@dataclass(frozen=True)
class PolicyConfig:
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


def load_policy(yaml_text: str | None) -> PolicyConfig:
    """The policy described by the text of a `.gitclaim.yaml` file; defaults when there is none."""
    if yaml_text is None or not yaml_text.strip():
        return PolicyConfig()
    document = _parse_yaml(yaml_text)
    if document is None:
        return PolicyConfig()
    if not isinstance(document, dict):
        raise InvalidInput(f"{CONFIG_FILE}: expected a mapping at the top level")
    section = document.get("policy")
    if section is None:
        return PolicyConfig()
    if not isinstance(section, dict):
        raise InvalidInput(f"{CONFIG_FILE}: policy: expected a mapping")
    return _policy_from_section(section)


def policy_from_section(section: dict[str, Any]) -> PolicyConfig:
    """The policy of an already-parsed `policy:` section."""
    return _policy_from_section(section)


def policy_from_repo(git: Git) -> PolicyConfig:
    """The policy of the repository `git` runs in: working-tree file, else HEAD's, else defaults."""
    return replace(load_policy(_read_config_text(git)), comment_char=_comment_char(git))


def _parse_yaml(text: str) -> Any:
    import yaml  # only when a repository has a config file: it costs start-up time

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidInput(f"{CONFIG_FILE}: not valid YAML{where}") from exc
    except Exception as exc:
        raise InvalidInput(f"{CONFIG_FILE}: unreadable YAML ({type(exc).__name__})") from None


def _policy_from_section(section: dict[Any, Any]) -> PolicyConfig:
    unknown = sorted(str(key) for key in section if key not in _KNOWN_KEYS)
    if unknown:
        raise InvalidInput(f"{CONFIG_FILE}: policy.{unknown[0]}: unknown key")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput(f"{CONFIG_FILE}: policy.enabled: expected true or false")
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
        raise InvalidInput(f"{CONFIG_FILE}: policy.{key}: expected a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"{CONFIG_FILE}: policy.{key}[{index}]: expected a non-empty string")
    return tuple(item.strip() for item in value)


def _types(section: dict[Any, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    types = _strings(section, key, default)
    for index, name in enumerate(types):
        if not _TYPE_NAME.fullmatch(name):
            raise InvalidInput(f"{CONFIG_FILE}: policy.{key}[{index}]: {name!r} is not a valid commit type")
    if key == "types" and not types:
        raise InvalidInput(f"{CONFIG_FILE}: policy.types: must list at least one type")
    return types


def _patterns(section: dict[Any, Any]) -> tuple[str, ...]:
    patterns = _strings(section, "forbidden_patterns", default=())
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                f"{CONFIG_FILE}: policy.forbidden_patterns[{index}]: invalid regex: {exc}"
            ) from exc
    return patterns


def _read_config_text(git: Git) -> str | None:
    top = git.run(["rev-parse", "--show-toplevel"], check=False)
    if top.ok and top.text().strip():
        path = Path(top.text().strip()) / CONFIG_FILE
        if path.is_file():
            return _read_file(path)
    # Bare repositories and sparse checkouts have no file on disk; the committed one still rules.
    blob = git.run(["cat-file", "blob", f"HEAD:{CONFIG_FILE}"], check=False)
    if blob.ok:
        return _decode(blob.stdout)
    return None


def _read_file(path: Path) -> str:
    try:
        return _decode(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"{CONFIG_FILE}: cannot read: {exc.strerror}") from exc


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{CONFIG_FILE}: not UTF-8 text") from exc


def _comment_char(git: Git) -> str:
    """git's comment character; "auto" and unset both mean '#', as for a message nobody has edited yet."""
    res = git.run(["config", "--get", "core.commentChar"], check=False)
    value = res.text().strip() if res.ok else ""
    return value if value and value != "auto" else "#"

