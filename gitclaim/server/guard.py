"""The server-side guard: what a pre-receive hook on the shared remote refuses (docs/server-guard.md).

Among gitclaim clients, compare-and-swap pushes and fencing keep the missions consistent. A plain `git push`
is under no such discipline: it can delete a mission, rewrite its history, claim over a live holder or put a
message on record that breaks the commit policy. On servers that run hooks, this module judges every pushed
ref update against the protocol gitclaim itself follows, so what a well-behaved client never writes does not
land either.

Reading a push costs one `git config --list`, one `rev-list` per judged ref update and one `cat-file --batch`
process for every object. The decisions (`judge_*`) are pure functions of what was read, so the rules are
tested without a server. Nothing here prints or exits: `gitclaim guard pre-receive` turns refusals into lines.

Identities are not authenticated by git: an instance id is written in mission.md for everyone to read, so a
determined pusher can impersonate a holder. The guard stops mistakes and tools that ignore the protocol; where
the server knows who pushes (gitolite's GL_USER), `gitclaim.guardRequireUser` binds claims to that user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.core.message import one_line
from gitclaim.core.message import parse as parse_message
from gitclaim.core.refs import id_problem
from gitclaim.core.repo import ARCHIVE_REF, DEFAULT_TTL
from gitclaim.errors import CorruptMission, GitclaimError, InvalidInput
from gitclaim.policy import CommitInfo, PolicyConfig, Violation, check_commit, load_policy

PREFIX = "gitclaim-guard"
# Stable words in every policy refusal, for a client that wants to tell them apart from protocol refusals.
POLICY_REFUSAL = "it breaks the commit policy"
MISSIONS_PREFIX = "refs/missions/"
DOCTOR_PROBE_PREFIX = "gitclaim-doctor-probe-"  # gitclaim/ops/doctor.py PROBE_PREFIX
BRANCHES_PREFIX = "refs/heads/"
CONFIG_FILE = ".gitclaim.yaml"
DEFAULT_USER_ENV = "GL_USER"  # gitolite's name for the authenticated pusher
# A mission's whole history is read when its ref is created; past this many commits the push is refused
# rather than read (someone pushed a project branch to refs/missions/, most likely).
MAX_COMMITS = 20_000
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

# Same-epoch changes the holder may make, from each held status (see the table in docs/server-guard.md).
# BLOCKED -> ACTIVE is missing on purpose: it is an unblock, which anyone may write.
HOLDER_MOVES: dict[str, tuple[str, ...]] = {
    m.ACTIVE: (m.ACTIVE, m.BLOCKED, m.QUEUED, m.DONE, m.FAILED, m.CANCELLED),
    m.BLOCKED: (m.BLOCKED, m.QUEUED, m.DONE, m.FAILED, m.CANCELLED),
}


# ---- what is pushed ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefUpdate:
    """One line of a pre-receive hook's input; None stands for git's all-zero id (created / deleted)."""

    ref: str
    old: str | None
    new: str | None

    @classmethod
    def of(cls, old: str, new: str, ref: str) -> RefUpdate:
        return cls(ref, _oid_or_none(old), _oid_or_none(new))


def parse_updates(text: str) -> list[RefUpdate]:
    """The `<old> <new> <ref>` lines git feeds a pre-receive hook; InvalidInput for anything else."""
    updates = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(" ")
        if len(fields) != 3 or not all(_OID.fullmatch(f) for f in fields[:2]) or not fields[2]:
            raise InvalidInput(f"pre-receive input line {number} is not '<old> <new> <ref>': {line[:200]!r}")
        updates.append(RefUpdate.of(*fields))
    return updates


def _oid_or_none(oid: str) -> str | None:
    return None if set(oid) == {"0"} else oid


@dataclass(frozen=True)
class PushedCommit:
    """A commit as the guard needs it: its links, identities, time, message and (mission refs) mission.md."""

    oid: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    committer_time: int
    message: str
    mission_md: bytes | None = None  # None: its tree holds no mission.md file

    @property
    def short(self) -> str:
        return self.oid[:12]

    def info(self) -> CommitInfo:
        return CommitInfo(self.oid, self.author_name, self.author_email, self.committer_name,
                          self.committer_email, self.message)


@dataclass(frozen=True)
class Refusal:
    """Why one ref update is refused. `line()` is what the pusher reads (git prefixes it with 'remote: ')."""

    ref: str | None
    reason: str

    def line(self) -> str:
        where = f"{self.ref}: " if self.ref else ""
        return f"{PREFIX}: {where}refused: {one_line(self.reason)}"


# ---- what the server says ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """The guard's settings: HEAD's .gitclaim.yaml (policy, lease_ttl, guard.branches) and the server's git
    config (gitclaim.guardBranches, gitclaim.guardRequireUser, gitclaim.guardUserEnv), which wins."""

    policy: PolicyConfig = field(default_factory=PolicyConfig)
    ttl: timedelta = DEFAULT_TTL
    branches: bool = False
    require_user: bool = False
    user_env: str = DEFAULT_USER_ENV
    # Set when the settings cannot be read: every mission update is refused with it (failing open would let
    # anything through while the file is broken), while branch pushes stay possible, so the fix can land.
    problem: str | None = None


def rules_from(git_config: Mapping[str, list[str]], yaml_text: str | None) -> Rules:
    """Rules from the server's git config (keys lower-cased, as `git config --list` gives them) and the text
    of HEAD:.gitclaim.yaml (None when there is none)."""
    problems: list[str] = []
    policy, ttl, branches = PolicyConfig(), DEFAULT_TTL, False
    try:
        policy = load_policy(yaml_text)
        ttl, branches = _yaml_settings(yaml_text)
    except InvalidInput as err:
        problems.append(f"the server's HEAD:{CONFIG_FILE} cannot be used ({err}); fix it on the default branch")

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

    branches = flag("gitclaim.guardBranches", branches)
    require_user = flag("gitclaim.guardRequireUser", False)
    user_env = (git_config.get("gitclaim.guarduserenv") or [""])[-1].strip() or DEFAULT_USER_ENV
    return Rules(policy, ttl, branches, require_user, user_env, "; ".join(problems) or None)


def _yaml_settings(yaml_text: str | None) -> tuple[timedelta, bool]:
    from gitclaim.core import settings

    data = settings.parse(yaml_text)
    ttl = DEFAULT_TTL
    raw_ttl = data.get("lease_ttl")
    if raw_ttl is not None:
        ttl = timeutil.parse_duration(str(raw_ttl))
        if ttl <= timedelta(0):
            raise InvalidInput("lease_ttl must be positive")
    section: Any = data.get("guard") or {}
    if not isinstance(section, dict):
        raise InvalidInput("guard: expected a mapping")
    branches = section.get("branches", False)
    if not isinstance(branches, bool):
        raise InvalidInput("guard.branches: expected true or false")
    return ttl, branches


# ---- judging one commit of a mission ------------------------------------------------------------------------

WriteKind = Literal["create", "import", "claim", "takeover", "holder", "unblock", "edit", "reopen", "cancel",
                    "refused"]


@dataclass(frozen=True)
class Step:
    """What kind of write a commit is, and why it is refused (None: allowed)."""

    kind: WriteKind
    problem: str | None = None


def _refused(problem: str) -> Step:
    return Step("refused", problem)


def judge_step(prev: m.Mission | None, new: m.Mission, trailers: Mapping[str, str], body: str,
               when: datetime, ttl: timedelta) -> Step:
    """One mission commit: `prev` is the mission before it (None: the commit creates it), `new` the mission
    it holds, `trailers` its Gitclaim-* trailers (keys lower-case, without the prefix), `body` its message
    body and `when` the time it claims to be written at, no later than the server's clock."""
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
        return _claim(prev, new, trailers, body, when, ttl)
    if prev.status == m.BLOCKED and action == "unblock":
        return _unblock(prev, new)
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
           ttl: timedelta) -> Step:
    epochs = f"epoch {prev.claim_epoch} -> {new.claim_epoch}"
    if new.status != m.ACTIVE:
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
    if action != "takeover":
        return _refused(f"it claims a mission held by {holder}: only a takeover replaces a holder "
                        "(gitclaim claim --steal for a stale claim, --force --reason for a live one)")
    for key, expected in (("previous-instance", prev.claim_instance), ("previous-epoch", str(prev.claim_epoch))):
        said = trailers.get(key)
        if said is not None and said != expected:
            return _refused(f"its Gitclaim-{key.title()} trailer says {said}, but the claim it replaces is "
                            f"{expected}")
    how = trailers.get("takeover")
    if how == "steal":
        last = prev.last_activity_at()
        idle = when - last if last else None
        if idle is not None and idle <= ttl:
            return _refused(f"it steals the live claim of {holder}: last active {timeutil.format_duration(idle)} "
                            f"before this commit, and the lease is {timeutil.format_duration(ttl)}; a steal "
                            "needs a stale claim (take over a live one with gitclaim claim --force --reason)")
        return Step("takeover")
    if how == "force":
        if not body.strip():
            return _refused(f"it forces a takeover of {holder} without a reason: a forced takeover states why "
                            "in its message body (gitclaim claim --force --reason TEXT)")
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
                        "(gitclaim claim --steal / --force)")
    if new.status not in HOLDER_MOVES[prev.status]:
        hint = " (that is an unblock: Gitclaim-Action: unblock)" if new.status == m.ACTIVE else ""
        return _refused(f"{prev.status} -> {new.status} is not a change the holder can make{hint}")
    if new.status != m.QUEUED and _claim_fields(new) != _claim_fields(prev):
        return _refused("it changes the claim (claim_instance, claimed_at, claimed_by or claim_user) without a "
                        "new epoch: only a claim or a takeover changes the holder")
    return Step("holder")


def _claim_fields(mis: m.Mission) -> tuple[str | None, ...]:
    return (mis.claim_instance, mis.claimed_at, mis.claimed_by, mis.claim_user)


def judge_pusher(step: Step, prev: m.Mission | None, new: m.Mission, pusher: str | None,
                 user_env: str) -> str | None:
    """With gitclaim.guardRequireUser: a claim is recorded under the pushing user's name (claim_user), and
    only that user pushes the holder's later writes. Creating, editing a queued mission and unblocking stay
    open to every user the server lets push."""
    if step.kind not in ("claim", "takeover", "holder"):
        return None
    if not pusher:
        return f"this server binds claims to the pushing user (gitclaim.guardRequireUser) but ${user_env} is " \
               "not set, so it cannot tell who pushes"
    if step.kind in ("claim", "takeover"):
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


# ---- judging ref updates ------------------------------------------------------------------------------------

def judge_mission(update: RefUpdate, commits: Sequence[PushedCommit], current_md: bytes | None, rules: Rules,
                  *, archived: frozenset[str] = frozenset(), pusher: str | None = None,
                  now: datetime | None = None) -> Refusal | None:
    """A `refs/missions/<id>` update. `commits` are the pushed commits along the first-parent chain, oldest
    first (old..new, or the whole chain for a new ref); `current_md` is mission.md at the old tip; `archived`
    holds the parents of the archive commits pushed alongside (a deletion is an archive only if they hold the
    tip)."""
    ref = update.ref
    now = now or timeutil.now()

    def refuse(reason: str) -> Refusal:
        return Refusal(ref, reason)

    mission_id = ref[len(MISSIONS_PREFIX):]
    problem = id_problem(mission_id)
    if problem:
        if update.new is None:
            return None  # not a mission gitclaim can read (made before the guard): removing it is a clean-up
        return refuse(f"{mission_id!r} is not a valid mission id: it {problem}")
    if update.new is None:
        if _doctor_probe(mission_id, current_md):
            return None  # `gitclaim doctor` removing its probe: a finished mission that nobody ever claimed
        if update.old is None or update.old not in archived:
            return refuse(f"deleting a mission is refused: missions leave {MISSIONS_PREFIX} only through "
                          f"`gitclaim archive`, whose push records the tip in {ARCHIVE_REF} in the same atomic push")
        return _archivable(mission_id, current_md)
    if rules.problem:
        return refuse(rules.problem)
    if len(commits) > MAX_COMMITS:
        return refuse(f"the pushed history is longer than {MAX_COMMITS} commits: this is not a mission's history")
    if not commits:
        return refuse(_rewrite(update))
    prev: m.Mission | None = None
    if update.old is not None:
        try:
            if current_md is None:
                raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
            prev = m.parse(current_md, mission_id)
        except CorruptMission as err:
            return refuse(f"the current tip {update.old[:12]} cannot be read ({err}), so no change to it can be "
                          "judged; repair the ref on the server")
    expected = update.old
    for commit in commits:
        if len(commit.parents) > 1:
            return refuse(f"commit {commit.short} is a merge: a mission's history is one chain of commits, one "
                          "per state change")
        if (commit.parents[0] if commit.parents else None) != expected:
            return refuse(_rewrite(update))
        expected = commit.oid
        if commit.mission_md is None:
            return refuse(f"commit {commit.short} holds no {m.FILENAME}")
        try:
            new = m.parse(commit.mission_md, mission_id)
        except CorruptMission as err:
            return refuse(f"commit {commit.short}: {err}")
        violations = check_commit(commit.info(), rules.policy)
        if violations:
            return refuse(_policy_reason(commit, violations))
        _, body, trailers = parse_message(commit.message)
        when = min(datetime.fromtimestamp(commit.committer_time, UTC), now)
        step = judge_step(prev, new, trailers, body, when, rules.ttl)
        if step.problem:
            return refuse(f"commit {commit.short}: {step.problem}")
        if rules.require_user:
            problem = judge_pusher(step, prev, new, pusher, rules.user_env)
            if problem:
                return refuse(f"commit {commit.short}: {problem}")
        prev = new
    return None


def _doctor_probe(mission_id: str, current_md: bytes | None) -> bool:
    """The probe `gitclaim doctor` pushes (gitclaim/ops/doctor.py): DONE or FAILED at epoch 0 with no holder, so
    deleting it loses no claim and no work."""
    if not mission_id.startswith(DOCTOR_PROBE_PREFIX) or current_md is None:
        return False
    try:
        mission = m.parse(current_md, mission_id)
    except CorruptMission:
        return False
    return mission.status in m.FINISHED and mission.claim_epoch == 0 and not mission.claim_instance


def _archivable(mission_id: str, current_md: bytes | None) -> Refusal | None:
    """Only finished missions are archived (as `gitclaim archive` chooses them): archiving a live claim with
    plain git would take a mission away from its holder."""
    try:
        if current_md is None:
            raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
        status = m.parse(current_md, mission_id).status
    except CorruptMission as err:
        return Refusal(f"{MISSIONS_PREFIX}{mission_id}", f"archiving a mission whose tip cannot be read is "
                                                         f"refused ({err})")
    if status not in m.FINISHED:
        return Refusal(f"{MISSIONS_PREFIX}{mission_id}", f"the mission is {status}: only DONE, FAILED and "
                                                         "CANCELLED missions are archived")
    return None


def _rewrite(update: RefUpdate) -> str:
    return f"non-fast-forward: {str(update.new)[:12]} does not extend the current tip {str(update.old)[:12]}; " \
           "a mission's history only grows, one commit per state change, and is never rewritten"


def _policy_reason(commit: PushedCommit, violations: Iterable[Violation]) -> str:
    found = "; ".join((f"line {v.line}: " if v.line else "") + f'{v.rule}: "{v.text}" \N{EM DASH} {v.hint}'
                      for v in violations)
    return f"commit {commit.short}: {POLICY_REFUSAL} (docs/commit-policy.md): {found}"


def judge_messages(update: RefUpdate, commits: Sequence[PushedCommit], rules: Rules) -> Refusal | None:
    """Branch (when branch checking is on) and archive updates: the first new commit that breaks the policy."""
    for commit in commits:
        violations = check_commit(commit.info(), rules.policy)
        if violations:
            return Refusal(update.ref, _policy_reason(commit, violations))
    return None


def judge_archive(update: RefUpdate, commits: Sequence[PushedCommit], rules: Rules) -> Refusal | None:
    """The archive only grows: never deleted, its new commits descend from its current tip, and their
    messages follow the commit policy. `commits` are the pushed commits no other ref reaches yet."""
    if update.new is None:
        return Refusal(update.ref, "the archive only grows: deleting it would lose the archived missions")
    if update.old is not None and update.old != update.new \
            and not any(update.old in c.parents for c in commits):
        return Refusal(update.ref, f"non-fast-forward: the archive only grows; {update.new[:12]} does not extend "
                                   f"its current tip {update.old[:12]}")
    return judge_messages(update, commits, rules)


# ---- reading a push and judging it --------------------------------------------------------------------------

def check_updates(git: g.Git, updates: Sequence[RefUpdate | tuple[str, str, str]], env: Mapping[str, str],
                  *, now: datetime | None = None) -> list[Refusal]:
    """Every refusal for a push, at most one per ref update. `git` runs in the receiving repository with the
    environment git gives hooks (the quarantine variables make the pushed objects readable); `env` is the
    hook's environment, where the pusher's name is found."""
    todo = [u if isinstance(u, RefUpdate) else RefUpdate.of(*u) for u in updates]
    now = now or timeutil.now()
    git_config = g.config_list(git)
    refusals: list[Refusal] = []
    with g.CatFile(git) as cat:
        reader = _Reader(git, cat)
        rules = rules_from(git_config, reader.text(f"HEAD:{CONFIG_FILE}"))
        pusher = (env.get(rules.user_env) or "").strip() or None
        archived: frozenset[str] = frozenset()
        for update in todo:
            if update.ref == ARCHIVE_REF:
                commits = reader.new_commits(update.new) if update.new else []
                refusal = judge_archive(update, commits, rules)
                if refusal:
                    refusals.append(refusal)
                else:
                    archived = frozenset(p for c in commits for p in c.parents)
        for update in todo:
            refusal = None
            if update.ref.startswith(MISSIONS_PREFIX):
                refusal = _check_mission(reader, update, rules, archived, pusher, now)
            elif update.ref.startswith(BRANCHES_PREFIX) and rules.branches and update.new:
                refusal = judge_messages(update, reader.new_commits(update.new), rules)
            if refusal:
                refusals.append(refusal)
    return refusals


def _check_mission(reader: _Reader, update: RefUpdate, rules: Rules, archived: frozenset[str],
                   pusher: str | None, now: datetime) -> Refusal | None:
    commits: list[PushedCommit] = []
    current = None
    if not id_problem(update.ref[len(MISSIONS_PREFIX):]):
        current = reader.blob(f"{update.old}:{m.FILENAME}") if update.old else None
        if update.new is not None and not rules.problem:
            kind = reader.type_of(update.new)
            if kind != "commit":
                return Refusal(update.ref, f"{update.new[:12]} is a {kind or 'missing object'}, not a commit")
            commits = reader.chain(update.new, update.old)
    return judge_mission(update, commits, current, rules, archived=archived, pusher=pusher, now=now)


class _Reader:
    """Reads for one push: rev-list per ref update, every object through the one cat-file process."""

    def __init__(self, git: g.Git, cat: g.CatFile) -> None:
        self.git = git
        self.cat = cat

    def text(self, spec: str) -> str | None:
        data = self.blob(spec)
        return data.decode("utf-8", "replace") if data is not None else None

    def blob(self, spec: str) -> bytes | None:
        obj = self.cat.get(spec)
        return obj.data if obj is not None and obj.type == "blob" else None

    def type_of(self, oid: str) -> str | None:
        obj = self.cat.get(oid)
        return obj.type if obj is not None else None

    def chain(self, new: str, old: str | None) -> list[PushedCommit]:
        """The first-parent chain from `new` back to `old` (exclusive; to the root when old is None), oldest
        first, each commit with its mission.md. Merges show up in it, so they can be refused by name."""
        args = ["rev-list", "--first-parent", "--reverse", f"--max-count={MAX_COMMITS + 1}", new]
        if old is not None:
            args.append(f"^{old}")
        oids = self.git.run(args).text().split()
        return [self.commit(oid, with_mission=True) for oid in oids]

    def new_commits(self, new: str) -> list[PushedCommit]:
        """Commits reachable from `new` that no ref of the repository reaches yet, oldest first."""
        res = self.git.run(["rev-list", "--reverse", new, "--not", "--all"], check=False)
        if not res.ok:  # not a commit: receive-pack itself refuses that for branches, after this hook
            return []
        return [self.commit(oid) for oid in res.text().split()]

    def commit(self, oid: str, *, with_mission: bool = False) -> PushedCommit:
        obj = self.cat.get(oid)
        if obj is None or obj.type != "commit":
            raise GitclaimError(f"cannot read pushed commit {oid}")
        mission_md = self.blob(f"{oid}:{m.FILENAME}") if with_mission else None
        return parse_commit(oid, obj.data, mission_md)


def parse_commit(oid: str, data: bytes, mission_md: bytes | None = None) -> PushedCommit:
    """A raw commit object (as cat-file gives it) as a PushedCommit."""
    head, _, message = data.partition(b"\n\n")
    parents: list[str] = []
    author, committer = ("", "", 0), ("", "", 0)
    for line in head.split(b"\n"):
        key, _, value = line.decode("utf-8", "replace").partition(" ")
        if key == "parent":
            parents.append(value)
        elif key == "author":
            author = _ident(value)
        elif key == "committer":
            committer = _ident(value)
    return PushedCommit(oid, tuple(parents), author[0], author[1], committer[0], committer[1], committer[2],
                        message.decode("utf-8", "replace"), mission_md)


def _ident(value: str) -> tuple[str, str, int]:
    """'Name <mail> 1700000000 +0000' -> ('Name', 'mail', 1700000000)."""
    who, _, when = value.rpartition("> ")
    name, _, email = who.rpartition("<")
    stamp = when.split(" ")[0]
    return name.strip(), email, int(stamp) if stamp.isdigit() else 0


# ---- installing the hook ------------------------------------------------------------------------------------

HOOK_NAME = "pre-receive"
HOOK_ID = "# gitclaim-hook: pre-receive"
# Gitea and Forgejo own hooks/pre-receive and run every executable in hooks/pre-receive.d/ with the same
# input; a file there survives their "resynchronize hooks" and needs no chaining.
DELEGATE_DIR = "pre-receive.d"
DELEGATE_NAME = "gitclaim-guard"


@dataclass(frozen=True)
class Installed:
    action: Literal["installed", "updated", "unchanged"]
    hook: Path
    legacy: Path | None = None

    def describe(self) -> str:
        if self.action == "unchanged":
            return f"the gitclaim guard is already installed at {self.hook}"
        if self.action == "updated":
            return f"updated the gitclaim guard at {self.hook}"
        kept = f" (the existing hook was kept as {self.legacy.name} and runs first)" if self.legacy else ""
        return f"installed the gitclaim guard at {self.hook}{kept}"


def hook_script() -> str:
    """The hook as shipped in the package (gitclaim/hooks/pre-receive)."""
    return resources.files("gitclaim.hooks").joinpath("scripts", HOOK_NAME).read_text(encoding="utf-8")


def install_hook(repo: Path, *, force: bool = False) -> Installed:
    """Install (or update) the guard in the repository at `repo`, normally a bare one. An existing foreign
    pre-receive hook moves to pre-receive.legacy and keeps running first; `force` lets it replace an older
    .legacy. Installing twice changes nothing."""
    git = g.Git(repo)
    g.discover(git)  # NotARepository, with the path, when it is not one
    res = git.run(["rev-parse", "--git-path", "hooks"])
    hooks = (repo / res.text().strip()).resolve()  # honours core.hooksPath
    hooks.mkdir(parents=True, exist_ok=True)
    delegate = hooks / DELEGATE_DIR
    hook = delegate / DELEGATE_NAME if delegate.is_dir() else hooks / HOOK_NAME
    from gitclaim.hooks.install import place_hook

    # The temporary file goes in the hooks directory itself: Gitea's runner executes everything in
    # pre-receive.d/ and must never see a half-written file there.
    action, legacy = place_hook(hook, hook_script(), HOOK_ID, force=force, scratch=hooks)
    return Installed(action, hook, legacy)


