"""The hot commands load no heavy library: importing the CLI, the workflows' modules and running claim, list,
show and log in one process leaves YAML, python-frontmatter, GitPython, the MCP SDK and jinja2 unloaded; a
command that reads a workflow loads YAML (so the check can see a load when there is one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import new_mission

HEAVY = ("yaml", "frontmatter", "git", "mcp", "jinja2")

SCRIPT = """
import contextlib, io, json, sys
from gitclaim.cli.app import run_app
import gitclaim.workflows.decisions, gitclaim.workflows.replay, gitclaim.workflows.startmission
import gitclaim.workflows.taskstate
codes = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            run_app(argv)
            codes.append(0)
        except SystemExit as exit:
            codes.append(exit.code or 0)
print(json.dumps({"codes": codes, "loaded": sorted(m for m in HEAVY if m in sys.modules)}))
""".replace(
    "HEAVY", repr(HEAVY))


def run_in_one_process(clone: Path, *commands: list[str]) -> dict[str, list]:
    res = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(commands)], cwd=clone, text=True,
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_mission_commands_load_no_heavy_library(make_clone) -> None:
    a = make_clone("a")
    new_mission(a, "m1")
    got = run_in_one_process(a, ["claim", "m1"], ["list"], ["show", "m1"], ["log", "m1", "a note"])
    assert got == {"codes": [0, 0, 0, 0], "loaded": []}


def test_reading_a_workflow_loads_yaml(make_clone, tmp_path: Path) -> None:
    a = make_clone("a")
    mission = tmp_path / "m"
    mission.mkdir()
    (mission / "mission.md").write_text("---\ntitle: M\n---\nBody.\n")
    (mission / "workflow.md").write_text("---\nphases:\n  - {id: a, number: 1, completion: done}\n---\n")
    got = run_in_one_process(a, ["validate", str(mission)])
    assert got == {"codes": [0], "loaded": ["yaml"]}
