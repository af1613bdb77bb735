"""Where one gitclaim command's time goes, measured inside the process.

    BREAKDOWN_OUT=<file> python3 benchmarks/breakdown.py <gitclaim arguments...>   (in a clone; writes JSON)

Phases, in order: import the CLI app (typer), import the command's module, typer's dispatch up to the command's
body (argument parsing and coercion), opening the store (of which: loading settings and the commit policy),
then the rest of the command, with the time spent waiting on git processes summed over all of them. The
interpreter's own start-up is what the caller measures outside minus `total` here.
"""

from __future__ import annotations

import json
import sys
import time

T0 = time.perf_counter()
marks: dict[str, float] = {}
git_time = [0.0, 0]


def main() -> None:
    args = sys.argv[1:]
    import gitclaim.cli.app as app_mod

    marks["import_app"] = time.perf_counter()
    import importlib

    name = next(a for a in args if not a.startswith("-"))
    module = importlib.import_module(f"gitclaim.cli.{app_mod.COMMAND_MODULES[name]}")
    marks["import_command"] = time.perf_counter()

    from gitclaim.core import git as g
    from gitclaim.core import settings
    from gitclaim.missions import workspace as service

    real_run = g.Git.run

    def run(self, *a, **k):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real_run(self, *a, **k)
        finally:
            git_time[0] += time.perf_counter() - t
            git_time[1] += 1

    real_together = g.Git.run_together

    def run_together(self, commands, **k):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real_together(self, commands, **k)
        finally:
            git_time[0] += time.perf_counter() - t
            git_time[1] += len(commands)

    g.Git.run = run  # type: ignore[method-assign]
    g.Git.run_together = run_together  # type: ignore[method-assign]
    real_open = service.open_store
    real_load = settings.load
    settings_time = [0.0]

    def load(repo):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real_load(repo)
        finally:
            settings_time[0] += time.perf_counter() - t

    settings.load = load  # type: ignore[assignment]

    def open_store(*a, **k):  # type: ignore[no-untyped-def]
        marks.setdefault("dispatch", time.perf_counter())
        git_before = git_time[0]
        out = real_open(*a, **k)
        marks.setdefault("open_store", time.perf_counter())
        marks.setdefault("git_in_open_store", git_time[0] - git_before)
        marks.setdefault("git_at_open_store_end", git_time[0])
        return out

    if hasattr(module, "open_store"):
        module.open_store = open_store
    code = app_mod.run_app(args)
    end = time.perf_counter()
    out = {
        "exit": code,
        "total": end - T0,
        "import_app": marks["import_app"] - T0,
        "import_command": marks["import_command"] - marks["import_app"],
        "dispatch": marks.get("dispatch", end) - marks["import_command"],
        "open_store": marks.get("open_store", end) - marks.get("dispatch", end),
        "settings": settings_time[0],
        "rest": end - marks.get("open_store", end),
        "git_in_open_store": marks.get("git_in_open_store", 0.0),
        "git_in_body": git_time[0] - marks.get("git_at_open_store_end", git_time[0]),
        "git_wait": git_time[0],
        "git_runs": git_time[1],
        "pydantic_loaded": "pydantic" in sys.modules,
        "yaml_loaded": "yaml" in sys.modules,
    }
    import os

    with open(os.environ["BREAKDOWN_OUT"], "w") as fh:
        json.dump(out, fh)
    sys.exit(code)


if __name__ == "__main__":
    main()
