"""State changes of one mission: create, claim (with takeover), release, done/fail, log, heartbeat, unblock.

Each is a decision on the current state (see store.transact) and so a compare-and-swap commit on the mission's
ref. The holder is the (instance, epoch) pair recorded by the claim: the epoch grows with every claim and
takeover, and every later write by a holder is checked against the tip it lands on (fencing), so a former
holder's write can never land on top of a newer claim.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from types import ModuleType
from typing import NamedTuple

from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.core.logentry import LOG_KINDS as LOG_KINDS
from gitclaim.core.logentry import SEVERITIES as SEVERITIES
from gitclaim.core.logentry import LogEntry as LogEntry
from gitclaim.core.message import MissionMessage
from gitclaim.core.store import Change, Outcome, State, Store
from gitclaim.core.usertext import user_text as user_text
from gitclaim.errors import Conflict, InvalidInput, NotFound, SigningError

# An extra check on the current mission, run inside a decision so it sees the very tip the push replaces.
Guard = Callable[[m.Mission], None]


class Actor(NamedTuple):
    """Who is acting: this clone's instance id, the git user, the session description and, when the clone signs
    with a key in the repository's trust list, that key's principal (docs/signing.md)."""

    instance: str
    user: str
    session: str
    now: datetime
    principal: str | None = None

    @property
    def stamp(self) -> str:
        return timeutil.format_ts(self.now)


def actor_for(store: Store, as_text: str | None = None, now: datetime | None = None) -> Actor:
    from gitclaim.core.repo import NOTICES

    repo = store.repo
    actor = Actor(repo.instance(), repo.user(), repo.session(as_text), now or timeutil.now(),
                  _signatures().signing_principal(store) if store.repo.signer is not None else None)
    while NOTICES:  # a copied clone's new instance id: a warning of this command, for every front end to show
        store.warn(NOTICES.pop(0))
    return actor


# ---- create ------------------------------------------------------------------------------------------------

def create(store: Store, actor: Actor, mission_id: str, title: str, *, priority: int = m.DEFAULT_PRIORITY,
           body: str = "", requires: tuple[str, ...] = (), files: dict[str, bytes] | None = None,
           extra: dict | None = None, action: str = "create") -> Outcome:
    title = " ".join(user_text(title, "the title").split())
    if not title:
        raise InvalidInput("a mission needs a title (--title TEXT)")
    new = m.Mission(
        mission_id=mission_id, title=title, priority=priority, requires=requires, created=actor.stamp,
        last_activity=actor.stamp, body=user_text(body, "the body") + "\n" if body.strip() else "",
        extra=dict(extra or {}),
    )

    def decide(state: State | None) -> Change:
        if state is not None:
            raise Conflict(f"mission {mission_id} already exists ({state.mission.status}: {state.mission.title})")
        msg = MissionMessage(action, mission_id, action, trailers={"Instance": actor.instance})
        return Change(new, msg, files)

    return store.transact(mission_id, decide, creates=True)  # its push alone checks the id is free


# ---- claim and takeover ------------------------------------------------------------------------------------

def is_stale(mission: m.Mission, now: datetime, ttl: timedelta) -> bool:
    last = mission.last_activity_at()
    return mission.held and (last is None or now - last > ttl)


def claim(store: Store, actor: Actor, mission_id: str, *, steal: bool = False, force: bool = False,
          reason: str | None = None) -> Outcome:
    """QUEUED -> ACTIVE with a new epoch. Already yours: no new commit. Held by another: Conflict naming them,
    unless `steal` and the claim is stale on the very tip the push replaces, or `force` with a reason."""
    reason = user_text(reason, "the reason")
    if force and not reason:
        raise InvalidInput("--force takes over a live claim and needs --reason TEXT for the history")
    ttl = store.ttl
    if store.settings.signing_required and actor.principal is None:
        raise SigningError(_signatures().unsigned_actor(store, f"claim mission {mission_id}"))

    def decide(state: State | None) -> Change | None:
        if state is None:
            raise NotFound(f"no mission {mission_id!r} on remote {store.repo.remote!r}")
        cur = state.mission
        if cur.status in m.FINISHED:
            raise Conflict(f"mission {mission_id} is {cur.status}; it cannot be claimed")
        takeover = void = None
        if cur.held:
            if cur.claim_instance == actor.instance:
                return None
            if actor.principal and cur.claim_principal == actor.principal \
                    and _signatures().own_claim(store, state, actor.principal):
                return _resume(cur, actor)
            stale = is_stale(cur, actor.now, ttl)
            void = _signatures().void_claim(store, state) if store.settings.signing_required and not stale else None
            if not (force or (steal and (stale or void))):
                raise Conflict(held_message(cur, actor.now, ttl, steal=steal, void=void), holder=cur.holder_json())
            takeover = "steal" if steal and (stale or void) else "force"
        new = _claimed(cur, actor, cur.claim_epoch + 1)
        trailers = _claim_trailers(actor, new)
        if takeover:
            trailers.update({"Takeover": takeover, "Previous-Instance": cur.claim_instance or "",
                             "Previous-Epoch": str(cur.claim_epoch)})
            if takeover == "steal" and void:
                trailers["Void-Claim"] = void  # an unsigned, untrusted or bad claim, void in this repository
            return Change(new, MissionMessage("take over", mission_id, "takeover", reason or "", trailers))
        return Change(new, MissionMessage("claim", mission_id, "claim", "", trailers))

    return store.transact(mission_id, decide)


def claim_action(out: Outcome) -> str | None:
    """What `claim` wrote, as the decision above chose it: `claim` (nobody held the mission), `resume` (the same
    principal held it from another clone), `takeover`; None when nothing was written (already yours)."""
    prev = out.previous.mission if out.previous is not None else None
    if not out.changed:
        return None
    if prev is None or not prev.held:
        return "claim"
    principal = out.state.mission.claim_principal
    return "resume" if principal and prev.claim_principal == principal else "takeover"


def replaced_claim(out: Outcome) -> dict[str, object] | None:
    """The claim a takeover or resume replaced, as `claim --json` and the MCP claim tool report it."""
    prev = out.previous.mission if out.previous is not None else None
    if prev is None or claim_action(out) not in ("takeover", "resume"):
        return None
    return {"instance": prev.claim_instance, "epoch": prev.claim_epoch}


def _signatures() -> ModuleType:
    """core/claimsigs.py, loaded only where signatures matter (a clone that signs, a repository that requires
    signed claims): a claim of a clone that signs nothing does not pay for importing it."""
    from gitclaim.core import claimsigs

    return claimsigs


def _claimed(cur: m.Mission, actor: Actor, epoch: int) -> m.Mission:
    return cur.evolve(status=m.ACTIVE, claimed_at=actor.stamp, claimed_by=actor.session, claim_user=actor.user,
                      claim_instance=actor.instance, claim_epoch=epoch, claim_principal=actor.principal,
                      last_activity=actor.stamp, blocked_reason=None)


def _claim_trailers(actor: Actor, new: m.Mission) -> dict[str, str]:
    trailers = {"Instance": actor.instance, "Epoch": str(new.claim_epoch)}
    if actor.principal:
        trailers["Principal"] = actor.principal
    return trailers


def _resume(cur: m.Mission, actor: Actor) -> Change:
    """The same agent (the same principal) in a new clone takes its claim back: a new epoch, no takeover."""
    new = _claimed(cur, actor, cur.claim_epoch + 1).evolve(status=cur.status, blocked_reason=cur.blocked_reason)
    trailers = {**_claim_trailers(actor, new), "Previous-Instance": cur.claim_instance or "",
                "Previous-Epoch": str(cur.claim_epoch)}
    return Change(new, MissionMessage("resume", cur.mission_id, "resume", "", trailers))


def held_message(cur: m.Mission, now: datetime, ttl: timedelta, *, steal: bool = False,
                 void: str | None = None) -> str:
    """The refusal of a claim on a held mission. It names the holder and, for a live claim, points at other
    work, never at the override: an agent runs the next command it is shown, and `--force` on a colleague's
    live claim must be a deliberate choice (it is in --help and docs/lifecycle.md). A stale claim is
    different: taking it over is the intended way on, so its hint stays."""
    last = cur.last_activity_at()
    idle = f", last activity {timeutil.format_duration(idle_time(now, last))} ago" if last else ""
    if void:
        hint = (f"; its claim is {_VOID_TEXT.get(void, void)}, and this repository requires signed claims, so "
                f"it is void: take it over with gitclaim claim {cur.mission_id} --steal")
    elif is_stale(cur, now, ttl):
        hint = (f"; the claim is stale (idle for more than {timeutil.format_duration(ttl)}): take it over with "
                f"gitclaim claim {cur.mission_id} --steal")
    elif steal:
        left = (last + ttl - now) if last else timedelta(0)
        hint = (f"; the claim is live, not stale (stale after {timeutil.format_duration(ttl)} idle, in "
                f"{timeutil.format_duration(left)}): leave it to its holder and take other work: gitclaim next")
    else:
        hint = "; take other work: gitclaim next"
    return (f"mission {cur.mission_id} is held by {cur.holder_text()} since {cur.claimed_at} "
            f"(epoch {cur.claim_epoch}{idle}){hint}")


_VOID_TEXT = {"none": "unsigned", "untrusted": "signed by a key not in the trust list",
              "bad": "signed with a signature that does not verify"}


def idle_time(now: datetime, last: datetime) -> timedelta:
    """Time since the last activity, never negative: the reader's clock may lag the writer's by a second."""
    return max(now - last, timedelta(0))


# ---- writes by the holder ----------------------------------------------------------------------------------

def require_holder(state: State | None, actor: Actor, mission_id: str, doing: str,
                   epoch: int | None = None, store: Store | None = None) -> m.Mission:
    """Fencing: only the current holder may write, and only within its own claim (epoch when given).
    With `store`, a refusal reads the mission's history to tell a former holder from someone who never held
    it (only the refusal pays for that walk)."""
    if state is None:
        raise NotFound(f"no mission {mission_id!r}")
    cur = state.mission
    if cur.held and cur.claim_instance != actor.instance:
        raise Conflict(_not_yours(state, actor, doing, epoch, store), holder=cur.holder_json())
    if cur.status in m.FINISHED:
        raise Conflict(f"cannot {doing} mission {mission_id}: it is {cur.status} since {cur.finished_at}")
    if not cur.held:
        raise Conflict(f"cannot {doing} mission {mission_id}: it is {cur.status} and not held by you "
                       f"(claim it first: gitclaim claim {mission_id})")
    if epoch is not None and epoch != cur.claim_epoch:
        raise Conflict(f"cannot {doing} mission {mission_id}: your claim was epoch {epoch}, it is now epoch "
                       f"{cur.claim_epoch} (claimed at {cur.claimed_at}); you no longer hold that claim",
                       holder=cur.holder_json())
    if store is not None and store.settings.signing_required and cur.claim_principal != actor.principal:
        # Fencing by principal: the instance id is only a name in git config, the key is the proof.
        raise Conflict(f"cannot {doing} mission {mission_id}: its claim was made by "
                       f"{_principal_text(cur.claim_principal)} and this clone signs as "
                       f"{_principal_text(actor.principal)}; only the claim's principal may write to it",
                       holder=cur.holder_json())
    return cur


def _principal_text(principal: str | None) -> str:
    return f"principal {principal}" if principal else "no key in the trust list"


def _not_yours(state: State, actor: Actor, doing: str, epoch: int | None, store: Store | None) -> str:
    cur = state.mission
    took_over, held_before = _claim_history(state, actor.instance, store)
    how = f"who took it over at {cur.claimed_at}" if took_over else f"since {cur.claimed_at}"
    head = f"cannot {doing} mission {cur.mission_id}: it is held by {cur.holder_text()}, {how} (epoch " \
           f"{cur.claim_epoch})"
    if held_before or epoch is not None:
        return f"{head}; you no longer hold it"
    return f"{head}; you do not hold it (take other work: gitclaim next)"


def _claim_history(state: State, instance: str, store: Store | None) -> tuple[bool, bool]:
    """(the current claim is a takeover, `instance` claimed this mission before), from its commit chain."""
    if store is None:
        return state.mission.claim_epoch > 1, False
    from gitclaim.core import message

    current: str | None = None
    held_before = False
    for commit, _ in store.walk(state.commit, state.mission_id):
        _, _, trailers = message.parse(commit.message)
        action = trailers.get("action")
        if action not in ("claim", "takeover"):
            continue
        current = current or action
        if trailers.get("instance") == instance:
            held_before = True
            break
    return current == "takeover", held_before


# ---- BLOCKED ------------------------------------------------------------------------------------------------
# An issue that needs a person (`log --kind issue --needs-human`, MCP log_issue with requiresHumanReview) stops
# the mission until someone runs `unblock`: nothing that reports progress or completion may be written. What
# reports a problem or stops the work stays allowed: notes, issues, heartbeats, release and fail. The CLI, the
# MCP tools and the task commands all go through this one rule.
STOPPED_WHILE_BLOCKED = ("milestone", "decision")


def blocked_message(mis: m.Mission) -> str:
    reason = mis.blocked_reason or "no reason recorded"
    return f"mission {mis.mission_id} is BLOCKED: {reason} (gitclaim unblock {mis.mission_id})"


def refuse_blocked(mis: m.Mission) -> None:
    if mis.status == m.BLOCKED:
        raise Conflict(blocked_message(mis))


def _holder_trailers(actor: Actor, cur: m.Mission) -> dict[str, str]:
    return {"Instance": actor.instance, "Epoch": str(cur.claim_epoch)}


def release(store: Store, actor: Actor, mission_id: str, *, note: str | None = None,
            epoch: int | None = None) -> Outcome:
    note = user_text(note, "the note")

    def decide(state: State | None) -> Change:
        cur = require_holder(state, actor, mission_id, "release", epoch, store)
        new = cur.evolve(status=m.QUEUED, claimed_at=None, claimed_by=None, claim_user=None,
                         claim_instance=None, claim_principal=None, last_activity=actor.stamp, blocked_reason=None)
        return Change(new, MissionMessage("release", mission_id, "release", note, _holder_trailers(actor, cur)))

    return store.transact(mission_id, decide)


def finish(store: Store, actor: Actor, mission_id: str, *, status: str = m.DONE, summary: str | None = None,
           epoch: int | None = None, guard: Guard | None = None) -> Outcome:
    """ACTIVE or BLOCKED -> DONE or FAILED, by the holder. Finishing twice is a no-op, unless it brings a new
    summary: that is recorded (action `summary`) instead of dropped. `guard` may refuse (raise) on the holder's
    current mission, inside the compare-and-swap loop (gitclaim/workflows/decisions.py)."""
    if status not in m.COMPLETED:
        raise InvalidInput(f"a mission finishes as DONE or FAILED, not {status}")
    summary = user_text(summary, "the summary")
    verb = "complete" if status == m.DONE else "fail"

    def decide(state: State | None) -> Change | None:
        if state is not None and state.mission.status == status \
                and state.mission.claim_instance == actor.instance:
            return _new_summary(state.mission, actor, summary, epoch)
        cur = require_holder(state, actor, mission_id, "finish" if status == m.DONE else "fail", epoch, store)
        if status == m.DONE:
            refuse_blocked(cur)  # FAILED stays allowed: it is how a blocked mission is abandoned
        if guard is not None:
            guard(cur)
        new = cur.evolve(status=status, summary=summary or cur.summary, finished_at=actor.stamp,
                         last_activity=actor.stamp, blocked_reason=None)
        return Change(new, MissionMessage(verb, mission_id, verb, summary, _holder_trailers(actor, cur)))

    return store.transact(mission_id, decide)


def heartbeat(store: Store, actor: Actor, mission_id: str, *, epoch: int | None = None) -> Outcome:
    def decide(state: State | None) -> Change:
        cur = require_holder(state, actor, mission_id, "heartbeat", epoch, store)
        new = cur.evolve(last_activity=actor.stamp)
        return Change(new, MissionMessage("heartbeat", mission_id, "heartbeat", "", _holder_trailers(actor, cur)))

    return store.transact(mission_id, decide)


def log(store: Store, actor: Actor, mission_id: str, entry: LogEntry, *, epoch: int | None = None,
        guard: Guard | None = None) -> Outcome:
    """One execution-log entry as one commit; an issue needing a human moves the mission to BLOCKED.
    `guard` may refuse (raise) on the holder's current mission, inside the compare-and-swap loop."""
    entry.check()

    def decide(state: State | None) -> Change:
        cur = require_holder(state, actor, mission_id, "log on", epoch, store)
        if entry.kind in STOPPED_WHILE_BLOCKED:
            refuse_blocked(cur)
        if guard is not None:
            guard(cur)
        changes: dict = {"last_activity": actor.stamp}
        if entry.kind == "issue" and entry.needs_human:
            changes.update(status=m.BLOCKED, blocked_reason=entry.message.strip()[:500])
        trailers = {**_holder_trailers(actor, cur), **entry.trailers()}
        msg = MissionMessage(f"log {entry.kind} on", mission_id, "log", entry.message, trailers)
        return Change(cur.evolve(**changes), msg)

    return store.transact(mission_id, decide)


def unblock(store: Store, actor: Actor, mission_id: str, *, note: str | None = None) -> Outcome:
    """BLOCKED -> ACTIVE: a person's decision, so anyone may; the holder and epoch stay."""
    note = user_text(note, "the note")

    def decide(state: State | None) -> Change:
        if state is None:
            raise NotFound(f"no mission {mission_id!r}")
        cur = state.mission
        if cur.status != m.BLOCKED:
            raise Conflict(f"mission {mission_id} is {cur.status}, not BLOCKED")
        status = m.ACTIVE if cur.held else m.QUEUED
        new = cur.evolve(status=status, blocked_reason=None, last_activity=actor.stamp)
        trailers = {"Instance": actor.instance, "Epoch": str(cur.claim_epoch)}
        return Change(new, MissionMessage("unblock", mission_id, "unblock", note, trailers))

    return store.transact(mission_id, decide)


# ---- a new summary after done ---------------------------------------------------------------------------

def _new_summary(cur: m.Mission, actor: Actor, summary: str, epoch: int | None) -> Change | None:
    """`done --summary TEXT` on a mission this clone already finished: record the new text, or nothing."""
    if not summary or summary == cur.summary:
        return None
    if epoch is not None and epoch != cur.claim_epoch:
        raise Conflict(f"cannot change the summary of mission {cur.mission_id}: it was finished at epoch "
                       f"{cur.claim_epoch}, not {epoch}")
    new = cur.evolve(summary=summary)
    return Change(new, MissionMessage("summarize", cur.mission_id, "summary", summary,
                                      _holder_trailers(actor, cur)))

