"""The guard's rules: its settings (the committed `.gitclaim.yaml` and the server's git config) and the
protocol's state machine as a pure judgement of one mission commit (docs/server-guard.md has the table).

Nothing here reads git: the push is read by server/push.py and judged ref by ref in server/guard.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.core.refs import Namespace
from gitclaim.core.settings import FILENAME, Settings
from gitclaim.errors import InvalidInput
from gitclaim.policy import PolicyConfig
from gitclaim.server.signed import Proof, resume_problem, void_problem

DEFAULT_USER_ENV = "GL_USER"  # gitolite's name for the authenticated pusher

# Same-epoch changes the holder may make, from each held status (see the table in docs/server-guard.md).
# BLOCKED -> ACTIVE is missing on purpose: it is an unblock, which anyone may write.
HOLDER_MOVES: dict[str, tuple[str, ...]] = {
    m.ACTIVE: (m.ACTIVE, m.BLOCKED, m.QUEUED, m.DONE, m.FAILED, m.CANCELLED),
    m.BLOCKED: (m.BLOCKED, m.QUEUED, m.DONE, m.FAILED, m.CANCELLED),
}


# ---- what the server says ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """The guard's settings: HEAD's .gitclaim.yaml (policy, lease_ttl, guard.branches, read by
    core/settings.py as for every client) and the server's git config (gitclaim.guardBranches,
    gitclaim.guardRequireUser, gitclaim.guardUserEnv), which wins."""

    settings: Settings = field(default_factory=Settings)
    branches: bool = False
    require_user: bool = False
    user_env: str = DEFAULT_USER_ENV
    # Set when the settings cannot be read: every mission update is refused with it (failing open would let
    # anything through while the file is broken), while branch pushes stay possible, so the fix can land.
    problem: str | None = None

    @property
    def policy(self) -> PolicyConfig:
        return self.settings.policy

    @property
    def namespace(self) -> Namespace:
        """HEAD's .gitclaim.yaml `namespace`: the refs the guard judges as missions and archive."""
        return Namespace(self.settings.namespace)

    @property
    def ttl(self) -> timedelta:
        return self.settings.lease_ttl


def rules_from(git_config: Mapping[str, list[str]], load_settings: Callable[[], Settings]) -> Rules:
    """Rules from the server's git config (keys lower-cased, as `git config --list` gives them) and the
    committed settings `load_settings` reads (HEAD:.gitclaim.yaml)."""
    problems: list[str] = []
    settings = Settings()
    try:
        settings = load_settings()
    except InvalidInput as err:
        problems.append(f"the server's HEAD:{FILENAME} cannot be used ({err}); fix it on the default branch")

    def flag(key: str, default: bool) -> bool:
        values = git_config.get(key.lower())
        if not values:
            return default
        value = values[-1].strip().lower()
        if value in ("", "true", "yes", "on", "1"):  # a key without '=' means true, as for git itself
            return True
        if value in ("false", "no", "off", "0"):
            return False
        problems.append(f"the server's git config {key} is {values[-1]!r}, not true or false")
        return default

    branches = flag("gitclaim.guardBranches", settings.guard_branches)
    require_user = flag("gitclaim.guardRequireUser", False)
    user_env = (git_config.get("gitclaim.guarduserenv") or [""])[-1].strip() or DEFAULT_USER_ENV
    return Rules(settings, branches, require_user, user_env, "; ".join(problems) or None)


# ---- judging one commit of a mission ------------------------------------------------------------------------

WriteKind = Literal["create", "import", "claim", "takeover", "resume", "holder", "unblock", "approve", "edit", "reopen",
                    "cancel", "refused"]


@dataclass(frozen=True)
class Step:
    """What kind of write a commit is, and why it is refused (None: allowed)."""

    kind: WriteKind
    problem: str | None = None


def _refused(problem: str) -> Step:
    return Step("refused", problem)


def judge_step(prev: m.Mission | None, new: m.Mission, trailers: Mapping[str, str], body: str,
               when: datetime, ttl: timedelta, proof: Proof | None = None) -> Step:
    """One mission commit: `prev` is the mission before it (None: the commit creates it), `new` the mission
    it holds, `trailers` its Gitclaim-* trailers (keys lower-case, without the prefix), `body` its message
    body and `when` the time it claims to be written at, no later than the server's clock. `proof` holds the
    signatures a resume and a takeover of a void claim are judged by (server/signed.py)."""
    action, instance = trailers.get("action"), trailers.get("instance")
    if not action or not instance:
        return _refused("it has no Gitclaim-Action and Gitclaim-Instance trailers: mission commits are written "
                        "by gitclaim, one commit per state change (docs/protocol.md)")
    shape = _shape_problem(new)
    if shape:
        return _refused(shape)
    said = trailers.get("epoch")
    if said is not None and said != str(new.claim_epoch):
        return _refused(f"its Gitclaim-Epoch trailer says {said} but mission.md says epoch {new.claim_epoch}")
    if prev is None:
        return _creation(new, action)
    if prev.status in m.FINISHED:
        return _finished(prev, new, action, instance)
    epoch, new_epoch = prev.claim_epoch, new.claim_epoch
    if new_epoch < epoch:
        return _refused(f"the epoch goes back from {epoch} to {new_epoch}: epochs never decrease")
    if new_epoch > epoch + 1:
        return _refused(f"the epoch jumps from {epoch} to {new_epoch}: a claim adds exactly 1")
    if new_epoch == epoch + 1:
        return _claim(prev, new, trailers, body, when, ttl, proof)
    if prev.status == m.BLOCKED and action == "unblock":
        return _unblock(prev, new)
    if action == "approve":
        return _approve(prev, new)
    if prev.held:
        return _holder_write(prev, new, instance)
    if new.status == m.CANCELLED and action == "cancel":
        return Step("cancel")  # withdrawing an unclaimed mission: anyone may, like an edit
    if new.status != m.QUEUED:
        return _refused(f"{prev.status} -> {new.status} without a claim is not a move the state machine allows: "
                        f"a mission is claimed (ACTIVE, epoch {epoch + 1}) before it is worked on or finished")
    return Step("edit")


def _finished(prev: m.Mission, new: m.Mission, action: str, instance: str) -> Step:
    """A finished mission takes two writes: a reopen (back to QUEUED, no holder, same epoch; anyone) and a new
    summary by the instance that finished it (`done --summary` again). Anything else is refused."""
    final = f"the mission is {prev.status}: a finished mission takes no more commits except a reopen " \
            "(gitclaim reopen) or a new summary by its holder"
    if new.claim_epoch != prev.claim_epoch:
        return _refused(f"{final}; this one changes the epoch from {prev.claim_epoch} to {new.claim_epoch}")
    if action == "reopen" and new.status == m.QUEUED:
        return Step("reopen")
    if action == "summary" and new.status == prev.status and instance == prev.claim_instance \
            and _claim_fields(new) == _claim_fields(prev):
        return Step("holder")
    return _refused(final)


def _shape_problem(new: m.Mission) -> str | None:
    if new.status in m.HELD and not new.claim_instance:
        return f"mission.md says {new.status} but names no claim_instance: a {new.status} mission has a holder"
    if new.status == m.QUEUED and new.claim_instance:
        return f"mission.md says QUEUED but still names claim_instance {new.claim_instance}: a queued " \
               "mission has no holder"
    return None


def _creation(new: m.Mission, action: str) -> Step:
    if new.claim_epoch != 0 or new.claim_instance:
        return _refused(f"a new mission starts at epoch 0 with no holder; this one says epoch {new.claim_epoch}"
                        + (f", instance {new.claim_instance}" if new.claim_instance else ""))
    if new.status == m.QUEUED:
        return Step("create")
    if new.status in m.FINISHED and action == "import":
        return Step("import")  # finished work brought in from files: history, never a live claim
    return _refused(f"a new mission starts QUEUED (gitclaim new), not {new.status}")


def _claim(prev: m.Mission, new: m.Mission, trailers: Mapping[str, str], body: str, when: datetime,
           ttl: timedelta, proof: Proof | None = None) -> Step:
    epochs = f"epoch {prev.claim_epoch} -> {new.claim_epoch}"
    resume = trailers.get("action") == "resume" and prev.held
    if resume and new.status != prev.status:
        return _refused(f"a resume ({epochs}) keeps the mission {prev.status}, not {new.status}")
    if not resume and new.status != m.ACTIVE:
        return _refused(f"a claim ({epochs}) makes the mission ACTIVE, not {new.status}")
    if trailers.get("instance") != new.claim_instance:
        return _refused(f"its Gitclaim-Instance trailer ({trailers.get('instance')}) is not the new holder "
                        f"named in mission.md ({new.claim_instance})")
    action = trailers.get("action")
    if not prev.held:
        if action not in ("claim", "takeover"):
            return _refused(f"a claim ({epochs}) says Gitclaim-Action: claim, not {action}")
        return Step("claim")
    holder = f"{prev.holder_text()} (epoch {prev.claim_epoch})"
    if action not in ("takeover", "resume"):
        return _refused(f"it claims a mission held by {holder}: only a takeover replaces a holder "
                        "(gitclaim claim --steal for a stale claim; a live one stays with its holder: gitclaim next)")
    for key, expected in (("previous-instance", prev.claim_instance), ("previous-epoch", str(prev.claim_epoch))):
        said = trailers.get(key)
        if said is not None and said != expected:
            return _refused(f"its Gitclaim-{key.title()} trailer says {said}, but the claim it replaces is "
                            f"{expected}")
    last = prev.last_activity_at()
    idle = when - last if last else None
    live = idle is not None and idle <= ttl
    lease = (f"last active {timeutil.format_duration(idle or timedelta(0))} before this commit, and the lease is "
             f"{timeutil.format_duration(ttl)}")
    if resume:
        # The same principal in a new clone takes its own claim back; anything less is a takeover, which a
        # live claim (neither stale nor void) does not allow.
        unproven = resume_problem(prev, new, proof)
        if unproven is None:
            return Step("resume")
        if not live or void_problem("resume", proof) is None:
            return Step("takeover")
        return _refused(f"it resumes the live claim of {holder}: {lease}, but {unproven}: a resume needs the "
                        "claim and the resume signed good by one principal of the trust list, anything else is a "
                        "takeover (leave the claim to its holder and take other work: gitclaim next)")
    how = trailers.get("takeover")
    if how == "steal":
        void = trailers.get("void-claim")
        if live and void and void_problem(void, proof) is None:
            return Step("takeover")  # the claim it replaces is not good where signing is required: it is void
        if live:
            why = f"; {void_problem(void, proof)}" if void else ""
            return _refused(f"it steals the live claim of {holder}: {lease}{why}; a steal needs a stale claim "
                            "(the claim is live: leave it to its holder and take other work: gitclaim next)")
        return Step("takeover")
    if how == "force":
        if not body.strip():
            return _refused(f"it forces a takeover of {holder} without a reason: a forced takeover states why "
                            "in its message body (--reason TEXT)")
        return Step("takeover")
    return _refused("a takeover says how in its Gitclaim-Takeover trailer: steal or force")


def _unblock(prev: m.Mission, new: m.Mission) -> Step:
    target = m.ACTIVE if prev.held else m.QUEUED
    if new.status != target:
        return _refused(f"an unblock moves BLOCKED to {target}" + (" (keeping the holder)" if prev.held else "")
                        + f", not to {new.status}")
    if prev.held and _claim_fields(new) != _claim_fields(prev):
        return _refused(f"an unblock keeps the holder {prev.holder_text()} (epoch {prev.claim_epoch}); this one "
                        "changes the claim")
    return Step("unblock")


def _holder_write(prev: m.Mission, new: m.Mission, instance: str) -> Step:
    if instance != prev.claim_instance:
        return _refused(f"it is written by instance {instance}, but the mission is held by {prev.holder_text()} "
                        f"(epoch {prev.claim_epoch}): only the holder writes; anyone else takes it over first "
                        "when the claim is stale (gitclaim claim --steal)")
    if new.status not in HOLDER_MOVES[prev.status]:
        hint = " (that is an unblock: Gitclaim-Action: unblock)" if new.status == m.ACTIVE else ""
        return _refused(f"{prev.status} -> {new.status} is not a change the holder can make{hint}")
    if new.status != m.QUEUED and _claim_fields(new) != _claim_fields(prev):
        return _refused("it changes the claim (claim_instance, claimed_at, claimed_by or claim_user) without a "
                        "new epoch: only a claim or a takeover changes the holder")
    return Step("holder")


def _approve(prev: m.Mission, new: m.Mission) -> Step:
    """Approving a human checkpoint is a person's decision, made from any clone (docs/tasks.md), so like an
    unblock anyone may write it; in exchange it may only add approved phases (and touch last_activity)."""
    before, after = _approved(prev), _approved(new)
    if not before < after:
        return _refused("an approval adds phases to approved_phases; this one adds none or removes some")
    same = {**new.extra, "approved_phases": prev.extra.get("approved_phases")}
    if "approved_phases" not in prev.extra:
        del same["approved_phases"]
    if new.evolve(last_activity=prev.last_activity, extra=same) != prev:
        return _refused("an approval changes approved_phases (and last_activity) only; this one changes more")
    return Step("approve")


def _approved(mis: m.Mission) -> set[object]:
    value = mis.extra.get("approved_phases") or []
    return set(value) if isinstance(value, list) else set()


def _claim_fields(mis: m.Mission) -> tuple[str | None, ...]:
    return (mis.claim_instance, mis.claimed_at, mis.claimed_by, mis.claim_user)


def judge_pusher(step: Step, prev: m.Mission | None, new: m.Mission, pusher: str | None,
                 user_env: str) -> str | None:
    """With gitclaim.guardRequireUser: a claim is recorded under the pushing user's name (claim_user), and
    only that user pushes the holder's later writes. Creating, editing a queued mission and unblocking stay
    open to every user the server lets push."""
    if step.kind not in ("claim", "takeover", "resume", "holder"):
        return None
    if not pusher:
        return f"this server binds claims to the pushing user (gitclaim.guardRequireUser) but ${user_env} is " \
               "not set, so it cannot tell who pushes"
    if step.kind in ("claim", "takeover", "resume"):
        if not _same_user(new.claim_user, pusher):
            return f"the claim is recorded for claim_user {new.claim_user!r}, but {pusher!r} pushes it: this " \
                   f"server requires claims in the pushing user's name (set the git user name to {pusher!r})"
        return None
    assert prev is not None
    if not _same_user(prev.claim_user, pusher):
        return f"{pusher!r} pushes a write to the claim of {prev.claim_user!r} (epoch {prev.claim_epoch}): on " \
               "this server only the user who claimed a mission writes to its claim"
    return None


def _same_user(recorded: str | None, pusher: str) -> bool:
    return recorded is not None and recorded.strip().casefold() == pusher.strip().casefold()
