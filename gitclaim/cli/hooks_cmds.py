"""`gitclaim hooks ...`: install and remove gitclaim's hooks, and the commands those hooks run.

install/uninstall are thin wrappers over gitclaim.hooks.install (git hooks) and gitclaim.missions.claude_code
(Claude Code's project settings). `heartbeat` and `session-start` are what the hooks call: they never fail the
work that triggered them, so problems are reported and the exit code stays 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from gitclaim.cli.app import app
from gitclaim.cli.output import emit_json, line
from gitclaim.core.git import Git
from gitclaim.errors import GitclaimError, InvalidInput
from gitclaim.hooks import install as hooks_install

CLAUDE_CODE = "claude-code"
HOOK_CHOICES = (*hooks_install.CLIENT_HOOKS, CLAUDE_CODE)

hooks_app = typer.Typer(help="Install or remove gitclaim's hooks: commit-msg (the commit policy), post-commit "
                             "(heartbeats while you commit), and Claude Code's session hooks.",
                        no_args_is_help=True)
app.add_typer(hooks_app, name="hooks")

HOOK_OPTION = typer.Option(
    "--hook", help="Only this hook (repeatable): commit-msg, post-commit, or claude-code (the project's "
    ".claude/settings.json). Default: commit-msg and post-commit.", show_default=False)


def _chosen(hooks: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(hooks or hooks_install.CLIENT_HOOKS))
    unknown = [h for h in chosen if h not in HOOK_CHOICES]
    if unknown:
        raise InvalidInput(f"unknown hook {unknown[0]!r}: choose from {', '.join(HOOK_CHOICES)}")
    return chosen


def _worktree(git: Git) -> Path:
    from gitclaim.core.git import discover

    root = discover(git).worktree
    if root is None:
        raise InvalidInput("--hook claude-code needs a working tree: this repository is bare")
    return root


JSON_OPTION = typer.Option("--json", help="Print JSON (fields in docs/json.md).")


@hooks_app.command("install")
def hooks_install_cmd(
    hooks: Annotated[list[str] | None, HOOK_OPTION] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing <hook>.legacy with the current foreign hook.")] = False,
    json_out: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Install gitclaim's hooks in this clone (honours core.hooksPath; keeps a foreign hook, which runs first)."""
    _print(_each(hooks, lambda git, name: hooks_install.install_client_hook(git, name, force=force), "install"),
           json_out)


def _each(hooks: list[str] | None, client: Callable[[Git, str], Any], verb: str) -> list[Any]:
    """Install or uninstall each chosen hook: the clone's git hooks, or Claude Code's settings file."""
    git = Git(Path.cwd())
    results = []
    for name in _chosen(hooks):
        if name == CLAUDE_CODE:
            from gitclaim.missions import claude_code

            results.append(_row(getattr(claude_code, verb)(_worktree(git))))
        else:
            results.append(_row(client(git, name)))
    return results


@hooks_app.command("uninstall")
def hooks_uninstall_cmd(
    hooks: Annotated[list[str] | None, HOOK_OPTION] = None,
    json_out: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Remove gitclaim's hooks and restore the hooks they replaced."""
    results = _each(hooks, hooks_install.uninstall_client_hook, "uninstall")
    _print(results, json_out)


def _row(result: Any) -> dict[str, Any]:
    """One hook's result: what the line says, and the JSON fields of docs/json.md."""
    legacy = getattr(result, "legacy", None)
    return {"action": result.action, "hook": str(getattr(result, "hook", None) or result.path),
            "legacy": str(legacy) if legacy else None, "line": result.describe()}


def _print(results: list[dict[str, Any]], json_out: bool) -> None:
    if json_out:
        emit_json({"hooks": [{k: v for k, v in r.items() if k != "line"} for r in results]})
    else:
        for r in results:
            line(r["line"])


@hooks_app.command("heartbeat")
def heartbeat_cmd(
    detach: Annotated[bool, typer.Option(
        "--detach", help="Return at once and heartbeat in a background process (for agent hooks).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing (the result is still logged).")] = False,
    json_out: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Refresh the lease of the missions this clone holds, each at most once per heartbeat interval. What the
    post-commit hook and the Claude Code PostToolUse hook run; it always exits 0."""
    _drain_stdin()
    try:
        _heartbeat(detach, quiet, json_out)
    except GitclaimError as err:
        if json_out:
            emit_json({"skipped": str(err), "missions": []})
        elif not quiet:
            sys.stderr.write(f"gitclaim: heartbeat skipped: {err}\n")


def _heartbeat(detach: bool, quiet: bool, json_out: bool = False) -> None:
    from gitclaim.core import timeutil
    from gitclaim.core import transitions as claims
    from gitclaim.missions import keepalive
    from gitclaim.missions.workspace import open_store

    store = open_store()
    repo = store.repo
    if detach:
        started = not keepalive.ran_recently(store)
        if started:
            keepalive.mark_run(repo)
            _spawn_detached(["hooks", "heartbeat", "--quiet"], Path.cwd())
        if json_out:
            emit_json({"detached": started, "missions": []})
        return
    keepalive.mark_run(repo)
    beats = keepalive.beat_held(store, claims.actor_for(store))
    lines = [b.line() for b in beats] or ["no mission held by this clone"]
    keepalive.write_log(repo, [f"{timeutil.format_ts(timeutil.now())} heartbeat run", *lines])
    if json_out:
        emit_json({"missions": [{"mission_id": b.mission_id, "result": b.result, "detail": b.detail}
                                for b in beats]})
    elif not quiet:
        for text in lines:
            line(text)


def _spawn_detached(args: list[str], cwd: Path) -> None:
    # Its own session and no inherited pipes: the agent's hook runner returns at once and never waits for it.
    subprocess.Popen([sys.executable, "-m", "gitclaim", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                     env={k: v for k, v in os.environ.items() if k != "GIT_INDEX_FILE"})


def _drain_stdin() -> None:
    """Agent hook runners write their event JSON on stdin; read it so the writer never blocks on a full pipe."""
    if not sys.stdin.isatty():
        try:
            sys.stdin.buffer.read()
        except (OSError, ValueError):
            pass


@hooks_app.command("session-start")
def session_start_cmd() -> None:
    """Print `gitclaim start`'s report for an agent's session-start hook (Claude Code adds it to the agent's
    context). Reads the hook's JSON on stdin when there is one (its `cwd`); always exits 0."""
    cwd = _hook_cwd()
    from gitclaim.core import transitions as claims
    from gitclaim.missions import session
    from gitclaim.missions.workspace import open_store

    try:
        store = open_store(cwd)
        report = session.start(store, claims.actor_for(store))
    except GitclaimError as err:
        # Said where the agent reads it, with the command that shows the same report by hand.
        line(f"gitclaim start could not run here: {err}. Run `gitclaim start` yourself before claiming work.")
        return
    sys.stdout.write(session.render(report))


def _hook_cwd() -> Path:
    data: object = None
    if not sys.stdin.isatty():
        try:
            text = sys.stdin.buffer.read().decode("utf-8", "replace")
            data = json.loads(text) if text.strip() else None
        except (OSError, ValueError):
            data = None
    cwd = data.get("cwd") if isinstance(data, dict) else None
    if isinstance(cwd, str) and cwd and Path(cwd).is_dir():
        return Path(cwd)
    return Path.cwd()
