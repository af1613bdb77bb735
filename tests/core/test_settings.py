"""The one reader of `.gitclaim.yaml` (core/settings.py): every setting, every refusal naming the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gitclaim.core import settings
from gitclaim.core.settings import Settings
from gitclaim.errors import InvalidInput
from gitclaim.missions.workspace import open_store
from gitclaim.policy import PolicyConfig
from tests.helpers import git


def test_parse_defaults_without_text() -> None:
    assert settings.parse(None) == settings.parse("") == settings.parse("# nothing\n") == Settings()
    assert Settings().lease_ttl == timedelta(hours=24)


def test_parse_reads_every_setting() -> None:
    value = settings.parse("lease_ttl: 30m\nheartbeat_interval: 0\npolicy:\n  extra_types: [deps]\n"
                           "guard:\n  branches: true\n")
    assert value.lease_ttl == timedelta(minutes=30)
    assert value.heartbeat_interval == timedelta(0)
    assert value.policy.types[-1] == "deps"
    assert value.guard_branches is True


@pytest.mark.parametrize(("text", "error"), [
    ("lease_ttl: 0\n", ".gitclaim.yaml: lease_ttl must be a positive duration, got 0"),
    ("lease_ttl: 0s\n", ".gitclaim.yaml: lease_ttl must be a positive duration, got 0s"),
    ("lease_ttl: soon\n", ".gitclaim.yaml: lease_ttl: invalid duration 'soon': use a number with a unit, e.g. "
                          "30m, 24h, 7d"),
    ("heartbeat_interval: often\n", ".gitclaim.yaml: heartbeat_interval: invalid duration 'often': use a number "
                                    "with a unit, e.g. 30m, 24h, 7d"),
    ("guard: [branches]\n", ".gitclaim.yaml: guard: expected a mapping"),
    ("guard:\n  branches: maybe\n", ".gitclaim.yaml: guard.branches: expected true or false"),
    ("policy: [feat]\n", ".gitclaim.yaml: policy: expected a mapping"),
    ("policy:\n  typos: [feat]\n", ".gitclaim.yaml: policy.typos: unknown key"),
    ("- a\n", ".gitclaim.yaml: expected a mapping at the top level"),
    ("lease_ttl: [unclosed\n", ".gitclaim.yaml: not valid YAML (line 2)"),
    ("lease_ttl: !!timestamp x\n", ".gitclaim.yaml: unreadable YAML (AttributeError)"),
])
def test_parse_refuses_bad_settings_naming_the_file(text: str, error: str) -> None:
    with pytest.raises(InvalidInput) as err:
        settings.parse(text)
    assert str(err.value) == error


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    path = tmp_path / "clone"
    git(tmp_path, "init", "-q", str(path))
    git(path, "commit", "-q", "--allow-empty", "-m", "chore: start")
    return path


def test_the_store_uses_the_committed_lease_unless_the_clone_overrides_it(
        clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITCLAIM_TTL", raising=False)
    (clone / ".gitclaim.yaml").write_text("lease_ttl: 2h\n")
    assert open_store(clone).ttl == timedelta(hours=2)
    git(clone, "config", "gitclaim.ttl", "5m")
    assert open_store(clone).ttl == timedelta(minutes=5)
    monkeypatch.setenv("GITCLAIM_TTL", "10s")
    assert open_store(clone).ttl == timedelta(seconds=10)


def test_load_reads_head_only_where_the_working_tree_leaves_the_file_out(clone: Path) -> None:
    (clone / ".gitclaim.yaml").write_text("lease_ttl: 3h\n")
    (clone / "src.txt").write_text("code\n")
    git(clone, "add", ".gitclaim.yaml", "src.txt")
    git(clone, "commit", "-q", "-m", "chore: configure")
    git(clone, "sparse-checkout", "set", "--no-cone", "/src.txt")
    assert settings.load_at(clone).lease_ttl == timedelta(hours=3)
    git(clone, "sparse-checkout", "disable")
    (clone / ".gitclaim.yaml").unlink()  # a full checkout without the file: what the user sees, no git process
    assert settings.load_at(clone).lease_ttl == timedelta(hours=24)


def test_load_at_outside_a_repository_is_the_defaults(tmp_path: Path) -> None:
    assert settings.load_at(tmp_path) == Settings()
    assert settings.load_at(tmp_path).policy == PolicyConfig()
