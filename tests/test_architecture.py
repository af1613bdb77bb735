"""The house rules of docs/architecture.md, checked on the code itself: arrows point down, one module starts git,
rooms stay small. A new module or import that breaks them fails here, not in a reviewer's head."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "gitclaim"

# Lower numbers sit lower in the house. A module may import its own folder and any folder with a lower number.
# Folders on one floor (missions and server; ops and web; cli and mcp) do not import each other.
FLOORS = {
    "errors": 0, "policy": 1, "core": 2, "hooks": 3, "missions": 4, "server": 4, "workflows": 5,
    "interchange": 6, "ops": 7, "web": 7, "cli": 8, "mcp": 8,
}
# Arrows that run sideways on purpose, each with its reason in docs/architecture.md.
SIDEWAYS = {
    ("cli", "mcp"),  # `gitclaim mcp` starts the MCP front end (imported only when that command runs)
}
# Modules that start processes other than git, each for a reason of its own.
OTHER_PROCESSES = {
    "core/git/process.py": "the git boundary: `Git.run`",
    "core/ssh.py": "asks ssh itself about its own configuration and stops a shared connection",
    "cli/hooks_cmds.py": "detaches gitclaim's own heartbeat from the hook that started it",
    "ops/demo.py": "starts gitclaim agent processes that race",
    "core/signing.py": "signs mission commits with ssh-keygen, as git itself does for gpg.format=ssh",
}
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "templates" not in p.parts)


def floor_of(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py")


def gitclaim_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gitclaim."):
            found.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.module == "gitclaim":
            found += [f"gitclaim.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("gitclaim.")]
    return found


def upward_imports() -> list[str]:
    wrong = []
    for path in modules():
        rel = path.relative_to(PACKAGE)
        here = floor_of(rel)
        if here not in FLOORS:
            continue
        for target in gitclaim_imports(path):
            there = target.split(".")[1]
            if there == here or there not in FLOORS or (here, there) in SIDEWAYS:
                continue
            if FLOORS[there] >= FLOORS[here]:
                wrong.append(f"{rel} imports {target}")
    return wrong


def test_every_folder_has_a_floor() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - set(FLOORS) == set()


def test_arrows_point_down() -> None:
    assert upward_imports() == []


def test_only_the_git_boundary_starts_git() -> None:
    starters = {str(p.relative_to(PACKAGE)) for p in modules()
                if "import subprocess" in p.read_text(encoding="utf-8")}
    assert starters == set(OTHER_PROCESSES)
    for rel in set(OTHER_PROCESSES) - {"core/git/process.py"}:
        text = (PACKAGE / rel).read_text(encoding="utf-8")
        assert '["git"' not in text and "['git'" not in text, rel


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_rooms_stay_small(path: Path) -> None:
    rel = str(path.relative_to(PACKAGE))
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES, rel
