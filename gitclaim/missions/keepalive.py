"""Leases kept alive by the work: the heartbeat the post-commit hook and agent hooks send (docs/lifecycle.md).

Every commit (and, with the Claude Code hooks, every tool call) asks for a heartbeat of each mission this clone
holds. Most of those asks must cost nothing, so each mission is refreshed at most once per heartbeat interval
(`heartbeat_interval` in .gitclaim.yaml, `gitclaim.heartbeatInterval`, `GITCLAIM_HEARTBEAT_INTERVAL`; 5 minutes by
default). A mission is due when both its recorded `last_activity` (any write of the holder counts) and its stamp
file in the git directory (the last attempt, so an unreachable remote is not hammered on every commit) are older
than the interval.

Which missions this clone holds is read from the local mirror, without a fetch. A mission another clone has
taken over since then is caught by the write itself: the heartbeat is an ordinary fenced write (holder and epoch
checked against the tip the push replaces), so a clone that lost its claim writes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from gitclaim.core import timeutil
from gitclaim.core import transitions as claims
from gitclaim.core.repo import Repo
from gitclaim.core.store import Store
from gitclaim.errors import Conflict, GitclaimError, NotFound

STAMPS = ("gitclaim", "heartbeat")  # <git dir>/gitclaim/heartbeat/<mission id>
CLOCK_GRAIN = timedelta(seconds=1)
RUN_STAMP = ".last-run"  # when a heartbeat run last started in this clone (the agent hook's early exit)
# The earliest time a held mission can be due again, as the file's mtime (and as Unix seconds inside, for people):
# the post-commit hook compares it with a file it has just truncated (".now"), in the shell alone, and starts no
# process at all before then, so most commits pay for no more than the hook's shell.
NEXT_DUE = ".next-due"
LOG_NAME = ".last-run.log"  # what the last background run did, for a person wondering (overwritten each run)

Result = Literal["heartbeat", "not-due", "lost", "failed"]


@dataclass(frozen=True)
class Beat:
    """What happened to one held mission."""

    mission_id: str
    result: Result
    detail: str = ""

    def line(self) -> str:
        return f"{self.mission_id}: {self.result}" + (f" ({self.detail})" if self.detail else "")


def stamp_dir(repo: Repo) -> Path:
    """Per worktree (each linked worktree is its own instance), inside the git directory: never in the work."""
    return repo.paths.git_dir.joinpath(*STAMPS)


def _age(path: Path, now: datetime) -> timedelta | None:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return timedelta(seconds=now.timestamp() - mtime)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path)  # an existing stamp gets the current time too


def ran_recently(store: Store, now: datetime | None = None) -> bool:
    """True when a heartbeat run started in this clone less than one interval ago: nothing can be due yet that
    was not due then, so the caller need not start another."""
    age = _age(stamp_dir(store.repo) / RUN_STAMP, now or timeutil.now())
    # gitclaim's clock has whole seconds and a file's mtime does not: a stamp made within the current second looks
    # up to a second old in the future. Only a stamp further ahead than that is distrusted (a clock set back).
    return age is not None and -CLOCK_GRAIN <= age < store.heartbeat_interval


def mark_run(repo: Repo) -> None:
    _touch(stamp_dir(repo) / RUN_STAMP)


def write_log(repo: Repo, lines: list[str]) -> None:
    """Record the last run's outcome where `gitclaim doctor` or a person can read it; never fails the run."""
    try:
        path = stamp_dir(repo) / LOG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{text}\n" for text in lines), encoding="utf-8")
    except OSError:
        pass


def _due(store: Store, mission_id: str, last_activity: str | None, now: datetime) -> bool:
    repo, every = store.repo, store.heartbeat_interval
    recorded = timeutil.parse_ts(last_activity)
    if recorded is not None and timedelta(0) <= now - recorded < every:
        return False
    age = _age(stamp_dir(repo) / mission_id, now)
    return age is None or not timedelta(0) <= age < every


def beat_held(store: Store, actor: claims.Actor) -> list[Beat]:
    """Refresh the lease of every mission this clone holds that is due; one Beat per held mission. Records when
    the next one can be due (NEXT_DUE) for the post-commit hook."""
    from gitclaim.missions import agents

    beats = []
    next_due = actor.now + store.heartbeat_interval  # a write of this clone resets every lease it touches
    for mis in agents.held(store):
        mid = mis.mission_id
        if not _due(store, mid, mis.last_activity, actor.now):
            beats.append(Beat(mid, "not-due", f"last activity {mis.last_activity}"))
            next_due = min(next_due, _due_at(store, mid, mis.last_activity))
            continue
        _touch(stamp_dir(store.repo) / mid)  # before the push: a failing remote is retried once per interval
        beats.append(_beat(store, actor, mid, mis.claim_epoch))
    _write_next_due(store.repo, next_due)
    return beats


def _due_at(store: Store, mission_id: str, last_activity: str | None) -> datetime:
    """When a mission that is not due now becomes due: one interval after the later of its two times."""
    times = [t for t in (timeutil.parse_ts(last_activity), _mtime(stamp_dir(store.repo) / mission_id))
             if t is not None]
    return max(times) + store.heartbeat_interval if times else timeutil.now()


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _write_next_due(repo: Repo, when: datetime) -> None:
    try:
        path = stamp_dir(repo) / NEXT_DUE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{int(when.timestamp())}\n", encoding="ascii")
        os.utime(path, (when.timestamp(), when.timestamp()))
    except OSError:
        pass  # without it the hook just starts the next run anyway


def _beat(store: Store, actor: claims.Actor, mission_id: str, epoch: int) -> Beat:
    try:
        out = claims.heartbeat(store, actor, mission_id, epoch=epoch)
    except (Conflict, NotFound) as err:
        return Beat(mission_id, "lost", str(err))
    except GitclaimError as err:
        return Beat(mission_id, "failed", str(err))
    return Beat(mission_id, "heartbeat", f"epoch {out.state.mission.claim_epoch}, commit {out.state.commit[:12]}")
