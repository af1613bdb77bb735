"""The mission commands: init, new, list, show, claim, release, done, fail, log, heartbeat, unblock, sync.

Each is a thin wrapper: open the store, call one library function, print the result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gitclaim.cli import hot, listing
from gitclaim.cli.app import app
from gitclaim.cli.options import AS, EPOCH, JSON, MISSION, OFFLINE, PRIORITY_HELP
from gitclaim.cli.output import emit_json, line, warn
from gitclaim.cli.workspace import open_store
from gitclaim.core import execlog
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import check_id
from gitclaim.errors import InvalidInput
from gitclaim.missions import create, setup, views

if TYPE_CHECKING:
    from gitclaim.missions.signkeys import KeyRequest


@app.command()
def init(
    remote: str = typer.Option("origin", "--remote", help="The shared remote that holds the missions."),
    hooks: bool = typer.Option(False, "--hooks", help="Also install the commit-msg policy hook."),
    agents: str | None = typer.Option(
        None, "--agents", help="Keep an 'Active Mission' section in this file (CLAUDE.md or AGENTS.md) and "
        "install a Claude Code start command."),
    signing_key: str | None = typer.Option(
        None, "--signing-key", metavar="FILE", help="Sign mission commits with this ssh key (a private key file, "
        "or a .pub file whose key is in ssh-agent): checked, then recorded as git config gitclaim.signingKey; "
        "prints its line for the trust list (docs/signing.md)."),
    new_signing_key: str | None = typer.Option(
        None, "--new-signing-key", metavar="FILE", help="Create a new ed25519 key without a passphrase at FILE "
        "(never overwrites), then use it as --signing-key does."),
    principal: str | None = typer.Option(
        None, "--principal", help="The key's name in the trust list (default: git config gitclaim.user, else "
        "user.email)."),
    json_out: bool = JSON,
) -> None:
    """Configure this clone: the mission namespace of .gitclaim.yaml and its fetch refspec (mirrored at
    refs/missions/*), instance id, first fetch, and optionally a signing key. Safe to run twice."""
    signing = _key_request(signing_key, new_signing_key, principal)
    store = open_store(check_namespace=False)
    key_data = None
    if signing is None:
        report = setup.init_clone(store, remote, hooks=hooks, agents_file=agents)
    else:
        from gitclaim.missions import signkeys

        report, key_data = signkeys.init_with_key(store, remote, signing, hooks=hooks, agents_file=agents)
    if json_out:
        repo = store.repo
        emit_json({"remote": remote, "namespace": repo.namespace.name, "instance": repo.instance(create=False),
                   "missions": len(store.ids()),
                   "agents_file": repo.get("gitclaim.agentsfile"), "signing": key_data, "steps": report})
        return
    for text in report:
        line(text)


def _key_request(key: str | None, new_key: str | None, principal: str | None) -> KeyRequest | None:
    from gitclaim.missions.signkeys import KeyRequest

    if key is not None and new_key is not None:
        raise InvalidInput("--signing-key and --new-signing-key exclude each other: use an existing key, or "
                           "create one")
    if principal is not None and key is None and new_key is None:
        raise InvalidInput("--principal names a signing key's owner: give it with --signing-key FILE or "
                           "--new-signing-key FILE")
    for option, value in (("--signing-key", key), ("--new-signing-key", new_key)):
        if value is not None and not value.strip():
            raise InvalidInput(f"{option} needs a file name")
    if key is None and new_key is None:
        return None
    return KeyRequest(key or new_key or "", new_key is not None, principal)


@app.command()
def new(
    mission_id: str = typer.Argument(..., help="Mission id: lowercase letters, digits, '.', '_', '-'."),
    title: str | None = typer.Option(None, "--title", help="One-line title."),
    priority: str | None = typer.Option(None, "--priority", help=PRIORITY_HELP),
    body_file: Path | None = typer.Option(None, "--body-file", help="Markdown body ('-' for stdin)."),
    requires: list[str] = typer.Option([], "--requires", help="A mission id that must be DONE first."),
    from_dir: Path | None = typer.Option(None, "--from", help="Publish a mission directory "
                                            "(mission.md, workflow.md, start.md, agents/)."),
    profile: str | None = typer.Option(None, "--profile", help="Start from a template: simple, standard, "
                                          "complex."),
    reuse_archived: bool = typer.Option(False, "--reuse-archived-id", help="Accept an id that an archived "
                                        "mission has (a `requires:` naming it then means the new mission)."),
    json_out: bool = JSON,
) -> None:
    """Publish a new QUEUED mission (exit 3 if the id exists)."""
    check_id(mission_id)
    store = open_store()
    files = None
    if from_dir is not None or profile is not None:
        from gitclaim.workflows.missiondir import mission_files

        files = mission_files(mission_id, title, from_dir, profile)
    out = create.new_mission(
        store, mission_id, title=title, priority=priority, body_file=body_file, requires=tuple(requires),
        files=files, reuse_archived=reuse_archived,
    )
    if json_out:
        emit_json({**out.state.mission.to_json(), "changed": out.changed, "commit": out.state.commit})
    else:
        line(f"created {mission_id}: {out.state.mission.title}")


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="Only missions with this status."),
    stale: bool = typer.Option(False, "--stale", help="Only claims idle for longer than the lease TTL."),
    archived: bool = typer.Option(False, "--archived", help="List archived missions instead."),
    offline: bool = OFFLINE,
    json_out: bool = JSON,
) -> None:
    """List missions (one fetch, then one for-each-ref; only missions that changed since the last run are read)."""
    listing.list_missions(status=status, stale=stale, archived=archived, offline=offline, json_out=json_out)


@app.command()
def show(
    mission_id: str = MISSION,
    file: str | None = typer.Option(None, "--file", help="Print one file of the mission's tree instead."),
    offline: bool = OFFLINE,
    json_out: bool = JSON,
) -> None:
    """Show a mission: its fields, its body and its execution log (read from its history)."""
    check_id(mission_id)
    store = open_store()
    if offline:
        warn(views.offline_note(store))
    if file is not None:
        sys.stdout.write(views.read_file(store, mission_id, file, fetch=not offline).decode("utf-8", "replace"))
        return
    view = views.show_mission(store, mission_id, fetch=not offline)
    if json_out:
        emit_json(view.to_json())
        return
    mis = view.state.mission
    line(f"{mis.mission_id}: {mis.title}")
    line(f"status: {mis.status}   priority: P{mis.priority}" + (f"   requires: {', '.join(mis.requires)}"
                                                               if mis.requires else ""))
    if mis.status in m.HELD:
        line(f"held by: {mis.holder_text()} since {mis.claimed_at} (epoch {mis.claim_epoch})")
    if view.signature is not None:
        line(f"signature: {view.signature.text()}")
    if mis.blocked_reason:
        line(f"blocked: {mis.blocked_reason}")
    if mis.summary:
        line(f"summary: {mis.summary}")
    if view.archived:
        line("archived: yes")
    if mis.body.strip():
        line()
        line(mis.body.rstrip())
    line()
    line(execlog.render(view.events).rstrip())


def _claim_json(out, mission_id: str) -> dict:
    return hot.claim_json(out, mission_id)


@app.command()
def claim(
    mission_id: str = MISSION,
    as_text: str | None = AS,
    steal: bool = typer.Option(False, "--steal", help="Take over a claim idle past the lease TTL."),
    force: bool = typer.Option(False, "--force", help="Take over a live claim (needs --reason)."),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the history (with --force)."),
    json_out: bool = JSON,
) -> None:
    """Claim a mission: exit 0 when claimed or already yours, 3 when another holds it."""
    hot.claim(mission_id, as_text, steal=steal, force=force, reason=reason, json_out=json_out)


@app.command()
def release(
    mission_id: str = MISSION,
    note: str | None = typer.Option(None, "--note", help="Why, for the history."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Give a mission back to the queue (QUEUED). Only its holder may."""
    _holder_write(lambda s, a: claims.release(s, a, mission_id, note=note, epoch=epoch), mission_id,
                  "released", json_out)


@app.command()
def done(
    mission_id: str = MISSION,
    summary: str | None = typer.Option(None, "--summary", help="What was achieved."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Mark a mission DONE. Only its holder may."""
    _holder_write(lambda s, a: claims.finish(s, a, mission_id, summary=summary, epoch=epoch), mission_id,
                  "done", json_out)


@app.command()
def fail(
    mission_id: str = MISSION,
    summary: str | None = typer.Option(None, "--summary", help="What went wrong."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Mark a mission FAILED. Only its holder may."""
    _holder_write(lambda s, a: claims.finish(s, a, mission_id, status=m.FAILED, summary=summary, epoch=epoch),
                  mission_id, "failed", json_out)


@app.command()
def heartbeat(mission_id: str = MISSION, epoch: int | None = EPOCH, json_out: bool = JSON) -> None:
    """Refresh your claim's lease during long silent work."""
    _holder_write(lambda s, a: claims.heartbeat(s, a, mission_id, epoch=epoch), mission_id, "heartbeat",
                  json_out)


@app.command()
def log(
    mission_id: str = MISSION,
    message: str = typer.Argument("", help="The entry's text."),
    kind: str = typer.Option("note", "--kind", help="note, milestone, decision or issue."),
    progress: int | None = typer.Option(None, "--progress", help="Percent done (milestone)."),
    question: str | None = typer.Option(None, "--question", help="What was decided (decision)."),
    chosen: str | None = typer.Option(None, "--chosen", help="The option chosen (decision)."),
    severity: str | None = typer.Option(None, "--severity", help="low, medium, high, critical (issue)."),
    needs_human: bool = typer.Option(False, "--needs-human", help="Block the mission until `gitclaim "
                                     "unblock` (issue)."),
    task: str | None = typer.Option(None, "--task", help="The task this entry belongs to: its id as `task "
                                    "start` prints it (m3/t1) or short (t1); it must exist on the mission."),
    epoch: int | None = EPOCH,
    json_out: bool = JSON,
) -> None:
    """Add an entry to the mission's execution log (one commit). Only its holder may."""
    hot.log(mission_id, message, kind=kind, progress=progress, question=question, chosen=chosen, severity=severity,
            needs_human=needs_human, task=task, epoch=epoch, json_out=json_out)


@app.command()
def unblock(
    mission_id: str = MISSION,
    note: str | None = typer.Option(None, "--note", help="The decision taken, for the history."),
    json_out: bool = JSON,
) -> None:
    """Move a BLOCKED mission back to ACTIVE (a person's decision: anyone may)."""
    _holder_write(lambda s, a: claims.unblock(s, a, mission_id, note=note), mission_id, "unblocked", json_out)


def _holder_write(op, mission_id: str, verb: str, json_out: bool) -> None:
    hot.holder_write(op, mission_id, verb, json_out)


@app.command()
def sync(json_out: bool = JSON) -> None:
    """Fetch every mission ref from the remote (one fetch)."""
    store = open_store()
    count = setup.sync_mirror(store)
    if json_out:
        emit_json({"missions": count, "remote": store.repo.remote})
    else:
        line(f"{count} missions from {store.repo.remote}")

