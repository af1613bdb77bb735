"""Fixtures of the hook tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def interpreter_first_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hooks and agent settings run `gitclaim` (or `python3 -m gitclaim`) from PATH, as git and Claude Code
    # would: make it this interpreter's.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
