"""Repository-wide settings from the committed `.gitclaim.yaml` (lease time-to-live, commit policy).

Per-clone settings (remote name, network timeout, instance id) live in git config instead; see docs/config.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitclaim.core import git as g
from gitclaim.core.repo import Repo
from gitclaim.errors import InvalidInput, PolicyViolation

FILENAME = ".gitclaim.yaml"


@dataclass
class Settings:
    data: dict[str, Any] = field(default_factory=dict)
    policy_check: Callable[[str], None] | None = None

    @classmethod
    def load(cls, repo: Repo) -> Settings:
        data = parse(read_text(repo))
        settings = cls(data)
        settings.policy_check = _policy_checker(data)
        if data.get("lease_ttl") is not None:
            from gitclaim.core import timeutil

            repo.shared_ttl = timeutil.parse_duration(str(data["lease_ttl"]))
        if data.get("heartbeat_interval") is not None:
            from gitclaim.core import timeutil

            repo.shared_heartbeat = timeutil.parse_duration(str(data["heartbeat_interval"]))
        return settings


def read_text(repo: Repo) -> str | None:
    """The working tree's copy when there is one (what the user sees), else the committed one at HEAD."""
    if repo.worktree is not None:
        path = repo.worktree / FILENAME
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {FILENAME}: {exc}") from None
    blob = g.cat_file_batch(repo.git, [f"HEAD:{FILENAME}"])[0]
    return blob.data.decode("utf-8", "replace") if blob else None


def parse(text: str | None) -> dict[str, Any]:
    if not text or not text.strip():
        return {}
    import yaml

    try:
        data = yaml.safe_load(text)
    except Exception:
        raise InvalidInput(f"{FILENAME} is not valid YAML") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{FILENAME} must be a mapping of settings")
    return data


def _policy_checker(data: dict[str, Any]) -> Callable[[str], None]:
    """A function that raises PolicyViolation for a message that breaks the repository's commit policy."""
    from gitclaim.policy import checker, config

    section = data.get("policy")
    if section is not None and not isinstance(section, dict):
        raise InvalidInput(f"{FILENAME}: policy: expected a mapping")
    policy = config.policy_from_section(section) if section else config.PolicyConfig()

    def check(message: str) -> None:
        found = checker.check_message(message, policy, verbatim=True)
        if found:
            first = found[0]
            raise PolicyViolation(
                f"refused before writing anything: the commit message would break this repository's commit "
                f"policy ({first.rule}: {first.text!r}); reword the text you gave"
            )

    return check
