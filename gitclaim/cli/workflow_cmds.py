"""The mission-system commands: approve, context, validate, task start|complete, and mcp (the MCP server).

Thin wrappers over gitclaim/workflows/ (decisions, replay, taskstate); `mcp` imports the MCP SDK only when it runs.
"""

from __future__ import annotations

from typing import Any

import typer

from gitclaim.cli.app import app
from gitclaim.cli.options import EPOCH, JSON, MISSION
from gitclaim.cli.output import emit_json, line
from gitclaim.cli.workspace import open_store
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.errors import InvalidInput
from gitclaim.workflows import decisions, replay, taskstate

task_app = typer.Typer(help="Start and complete tasks of a mission's workflow phases (what the MCP tools do).",
                       no_args_is_help=True)
app.add_typer(task_app, name="task")

MCP_MISSING = "the MCP server needs: pip install 'gitclaim[mcp]'"


@app.command()
def approve(
    mission_id: str = MISSION,
    phase: int = typer.Option(..., "--phase", help="The `checkpoint: human` phase to approve."),
    note: str | None = typer.Option(None, "--note", help="What was approved, for the history."),
    json_out: bool = JSON,
) -> None:
    """Approve a checkpoint phase so its tasks may start (a person's decision: anyone may)."""
    check_id(mission_id)
    store = open_store()
    out = decisions.approve(store, claims.actor_for(store), mission_id, phase, note=note)
    if json_out:
        emit_json({"mission_id": mission_id, "phase": phase, "changed": out.changed, "commit": out.state.commit})
    else:
        line(f"approved phase {phase} of {mission_id}" + ("" if out.changed else " (already approved)"))


@app.command()
def context(
    mission_id: str = MISSION,
    include: list[str] = typer.Option([], "--include", help="phases, tasks, decisions, milestones, blockers "
                                      "(repeat or comma-separate; default: all)."),
    phase: int | None = typer.Option(None, "--phase", help="Only this phase's tasks and log entries."),
    json_out: bool = JSON,
) -> None:
    """What a mission holds so far (tasks, decisions, milestones, blockers), read from its history."""
    check_id(mission_id)
    data = replay.get_context(open_store(), mission_id, include, phase)
    if json_out:
        emit_json(data)
        return
    for text in _context_lines(data):
        line(text)


def _context_lines(data: dict[str, Any]) -> list[str]:
    lines = [f"{data['mission_id']}: {data['title']} ({data['status']})"]
    if data.get("blocked_reason"):
        lines.append(f"blocked: {data['blocked_reason']} (gitclaim unblock {data['mission_id']})")
    for p in data.get("phases", []):
        marks = [w for w, on in (("complete", p["complete"]), ("approved", p["approved"])) if on]
        gate = f" checkpoint: {p['checkpoint']}" if p["checkpoint"] else ""
        lines.append(f"phase {p['number']} {p['id']}{gate}" + (f" [{', '.join(marks)}]" if marks else ""))
    for t in data.get("tasks", []):
        took = f" {t['duration_seconds']}s" if t.get("duration_seconds") is not None else ""
        lines.append(f"task {t['task_id']} phase {t['phase']} {t['status']}{took}: {t['name']}")
    for d in data.get("decisions", []):
        asked = f"{d['question']} -> " if d.get("question") else ""
        lines.append(f"decision [{d['task_id'] or '-'}] {asked}{d['chosen']}")
    for ms in data.get("milestones", []):
        pct = f" {ms['progress']}%" if ms.get("progress") is not None else ""
        lines.append(f"milestone [{ms['task_id'] or '-'}]{pct} {ms['message']}")
    for b in data.get("blockers", []):
        state = " BLOCKING" if b["blocking"] else (" (needs a human)" if b["requires_human_review"] else "")
        lines.append(f"issue [{b['task_id'] or '-'}] {b['severity'] or '-'}: {b['description']}{state}")
    return lines


@app.command()
def validate(target: str = typer.Argument(..., help="A mission directory, or the id of a published mission."),
             json_out: bool = JSON) -> None:
    """Check a mission's workflow against the mission system's rules: one line per violation, exit 1 if any."""
    source, problems = taskstate.validate_target(open_store, target)
    rows = [{"phase": p.phase, "rule": p.rule, "message": p.message} for p in problems]
    if not json_out:
        for p in problems:
            line(f"phase {p.phase or '-'}: {p.rule}: {p.message}")
    if problems:
        raise taskstate.WorkflowInvalid(f"{source}: {len(problems)} workflow rule violations", source=source,
                                        problems=rows)
    if json_out:
        emit_json({"source": source, "valid": True, "problems": []})
    else:
        line(f"{source}: workflow valid")


@task_app.command("start")
def task_start(
    mission_id: str = MISSION,
    phase: int = typer.Option(..., "--phase", help="The workflow phase this task works on."),
    name: str = typer.Option(..., "--name", help="The task's name."),
    goal: str = typer.Option("", "--goal", help="What the task must achieve."),
    caller_type: str = typer.Option("orchestrator", "--caller", help="orchestrator, or the agent type."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Start a task (holder only; waits for required phases and approvals; refused while BLOCKED)."""
    check_id(mission_id)
    store = open_store()
    got = decisions.start_task(store, claims.actor_for(store), mission_id, phase, caller_type, name, goal, epoch=epoch)
    if json_out:
        emit_json({"task_id": got.ref.full, "mission_id": mission_id, "phase": phase,
                   "commit": got.outcome.state.commit})
    else:
        line(got.ref.full)


@task_app.command("complete")
def task_complete(
    task_id: str = typer.Argument(..., help="The id `task start` printed (<mission>/t<n>)."),
    status: str = typer.Option("success", "--status", help="success, partial or failed."),
    outcome: str = typer.Option("", "--outcome", help="What came out of the task."),
    phase_complete: bool = typer.Option(False, "--phase-complete", help="This task completes its phase."),
    files: list[str] = typer.Option([], "--file", help="A file the task changed (repeat)."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Complete a task: records its duration, the files it changed and, with --phase-complete, its phase."""
    store = open_store()
    done = decisions.complete_task(store, claims.actor_for(store), task_id, status, outcome,
                               phase_complete=phase_complete, files=files, epoch=epoch)
    if json_out:
        emit_json({"task_id": done.ref.full, "status": done.status, "duration_seconds": done.duration_seconds,
                   "files": done.files, "phase_complete": done.phase_complete})
    else:
        whole = ", phase complete" if done.phase_complete else ""
        line(f"{done.status} {done.ref.full} after {done.duration_seconds}s{whole}")


@app.command()
def mcp(
    repo: str | None = typer.Option(
        None, "--repo", envvar="GITCLAIM_REPO", show_default=False,
        help="The clone the tools act on when a call gives no repo_path (default: the working directory). "
             "Also $GITCLAIM_REPO. For clients that start servers in /."),
) -> None:
    """Run the MCP server on stdio (register it: claude mcp add gitclaim -- gitclaim mcp --repo PATH)."""
    from gitclaim.missions.workspace import check_clone

    # Checked before the SDK loads: a client that starts the server in the wrong place gets one line at once.
    root = check_clone(repo) if repo else None
    try:
        from gitclaim.mcp import server as mcp_server
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types", "pydantic", "anyio"):
            raise
        raise InvalidInput(MCP_MISSING) from None
    mcp_server.serve(root)
