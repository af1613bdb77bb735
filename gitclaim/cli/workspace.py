"""The CLI's way into the library: the store opened as every front end opens it (gitclaim/missions/workspace.py),
with the warnings of the command (an agents file that could not be updated, ...) printed on stderr as they
happen. The library reports warnings; only the front ends print them."""

from __future__ import annotations

from pathlib import Path

from gitclaim.cli.output import warn
from gitclaim.core.store import Store
from gitclaim.missions import workspace


def open_store(cwd: Path | str | None = None, *, check_namespace: bool = True) -> Store:
    return workspace.open_store(cwd, on_warning=warn, check_namespace=check_namespace)
