"""The server-side guard: what a pre-receive hook on the shared remote refuses (docs/server-guard.md).

Among gitclaim clients, compare-and-swap pushes and fencing keep the missions consistent. A plain `git push`
is under no such discipline: it can delete a mission, rewrite its history, claim over a live holder or put a
message on record that breaks the commit policy. On servers that run hooks, this module judges every pushed
ref update against the protocol gitclaim itself follows, so what a well-behaved client never writes does not
land either.

Three modules, read in this order: server/push.py reads the push (the hook's input lines, the pushed commits),
server/rules.py holds the rules (the settings, and the state machine as a judgement of one mission commit),
and this one judges each ref update and is the entry point (`check_updates`). Reading a push costs one
`git config --list`, one `rev-list` per judged ref update and one `cat-file --batch` process for every object.
The decisions (`judge_*`) are pure functions of what was read, so the rules are tested without a server.
Nothing here prints or exits: `gitclaim guard pre-receive` turns refusals into lines; `gitclaim guard install`
is gitclaim/hooks/install.py's.

Identities are not authenticated by git: an instance id is written in mission.md for everyone to read, so a
determined pusher can impersonate a holder. The guard stops mistakes and tools that ignore the protocol; where
the server knows who pushes (gitolite's GL_USER), `gitclaim.guardRequireUser` binds claims to that user; where
signed claims are required (.gitclaim.yaml `signing.required`), server/signed.py binds them to the keys of the
trust list committed at HEAD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import settings, timeutil
from gitclaim.core.message import one_line
from gitclaim.core.message import parse as parse_message
from gitclaim.core.refs import id_problem
from gitclaim.errors import CorruptMission
from gitclaim.policy import Finding, check_commit
from gitclaim.server.push import MAX_COMMITS, PushedCommit, PushReader, ReceivedUpdate
from gitclaim.server.rules import Rules, judge_pusher, judge_step, rules_from
from gitclaim.server.signed import (
    ClaimTrack,
    Signed,
    fence_problem,
    needs_signatures,
    read_signatures,
    unsigned_problem,
)

PREFIX = "gitclaim-guard"
# Stable words in every policy refusal, for a client that wants to tell them apart from protocol refusals.
POLICY_REFUSAL = "it breaks the commit policy"
MISSIONS_PREFIX = "refs/missions/"  # the default namespace's; the guard follows `Rules.namespace`
DOCTOR_PROBE_PREFIX = "gitclaim-doctor-probe-"  # gitclaim/ops/doctor.py PROBE_PREFIX
BRANCHES_PREFIX = "refs/heads/"


@dataclass(frozen=True)
class Refusal:
    """Why one ref update is refused. `line()` is what the pusher reads (git prefixes it with 'remote: ')."""

    ref: str | None
    reason: str

    def line(self) -> str:
        where = f"{self.ref}: " if self.ref else ""
        return f"{PREFIX}: {where}refused: {one_line(self.reason)}"


# ---- judging ref updates ------------------------------------------------------------------------------------

def judge_mission(update: ReceivedUpdate, commits: Sequence[PushedCommit], current_md: bytes | None, rules: Rules,
                  *, archived: frozenset[str] = frozenset(), pusher: str | None = None,
                 moved: frozenset[tuple[str, str]] = frozenset(),
                  now: datetime | None = None, signed: Signed | None = None) -> Refusal | None:
    """A `refs/missions/<id>` update. `commits` are the pushed commits along the first-parent chain, oldest
    first (old..new, or the whole chain for a new ref); `current_md` is mission.md at the old tip; `archived`
    holds the parents of the archive commits pushed alongside (a deletion is an archive only if they hold the
    tip); `signed` the signatures read for it (server/signed.py), None when nothing needs them."""
    ref = update.ref
    now = now or timeutil.now()

    def refuse(reason: str) -> Refusal:
        return Refusal(ref, reason)

    mission_id = ref[len(rules.namespace.prefix):]
    problem = id_problem(mission_id)
    if problem:
        if update.new is None:
            return None  # not a mission gitclaim can read (made before the guard): removing it is a clean-up
        return refuse(f"{mission_id!r} is not a valid mission id: it {problem}")
    if update.new is None:
        if _doctor_probe(mission_id, current_md):
            return None  # `gitclaim doctor` removing its probe: a finished mission that nobody ever claimed
        if update.old is not None and (mission_id, update.old) in moved:
            return None  # `gitclaim migrate`: moved to another namespace, history and all, in this same push
        if update.old is None or update.old not in archived:
            return refuse(f"deleting a mission is refused: missions leave {rules.namespace.prefix} only through "
                          f"`gitclaim archive`, whose push records the tip in {rules.namespace.archive} in the same "
                          "atomic push, or `gitclaim migrate`, whose push creates it at the same tip elsewhere")
        return _archivable(ref, mission_id, current_md)
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
    track = ClaimTrack(signed) if signed else None
    for commit, mission_md in commits:
        if len(commit.parents) > 1:
            return refuse(f"commit {commit.short} is a merge: a mission's history is one chain of commits, one "
                          "per state change")
        if (commit.parents[0] if commit.parents else None) != expected:
            return refuse(_rewrite(update))
        expected = commit.oid
        if mission_md is None:
            return refuse(f"commit {commit.short} holds no {m.FILENAME}")
        try:
            new = m.parse(mission_md, mission_id)
        except CorruptMission as err:
            return refuse(f"commit {commit.short}: {err}")
        violations = check_commit(commit, rules.policy)
        if violations:
            return refuse(_policy_reason(commit, violations))
        proof = track.proof(commit.oid, prev) if track else None
        must_sign = signed is not None and signed.required and signed.is_new(commit.oid)
        if signed and proof and must_sign:
            problem = unsigned_problem(commit.short, proof.this, signed.trust_source)
            if problem:
                return refuse(problem)
        _, body, trailers = parse_message(commit.message)
        when = min(datetime.fromtimestamp(commit.committer_time, UTC), now)
        step = judge_step(prev, new, trailers, body, when, rules.ttl, proof)
        if step.problem:
            return refuse(f"commit {commit.short}: {step.problem}")
        if proof and must_sign:
            problem = fence_problem(step.kind, prev, new, proof.this)
            if problem:
                return refuse(f"commit {commit.short}: {problem}")
        if rules.require_user:
            problem = judge_pusher(step, prev, new, pusher, rules.user_env)
            if problem:
                return refuse(f"commit {commit.short}: {problem}")
        if track:
            track.step(commit.oid, new, trailers)
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


def _archivable(ref: str, mission_id: str, current_md: bytes | None) -> Refusal | None:
    """Only finished missions are archived (as `gitclaim archive` chooses them): archiving a live claim with
    plain git would take a mission away from its holder."""
    try:
        if current_md is None:
            raise CorruptMission(f"mission {mission_id}: its tip commit holds no {m.FILENAME}")
        status = m.parse(current_md, mission_id).status
    except CorruptMission as err:
        return Refusal(ref, f"archiving a mission whose tip cannot be read is "
                                                         f"refused ({err})")
    if status not in m.FINISHED:
        return Refusal(ref, f"the mission is {status}: only DONE, FAILED and "
                                                         "CANCELLED missions are archived")
    return None


def _rewrite(update: ReceivedUpdate) -> str:
    return f"non-fast-forward: {str(update.new)[:12]} does not extend the current tip {str(update.old)[:12]}; " \
           "a mission's history only grows, one commit per state change, and is never rewritten"


def _policy_reason(commit: g.Commit, violations: Iterable[Finding]) -> str:
    found = "; ".join((f"line {v.line}: " if v.line else "") + f'{v.rule}: "{v.text}" \N{EM DASH} {v.hint}'
                      for v in violations)
    return f"commit {commit.short}: {POLICY_REFUSAL} (docs/commit-policy.md): {found}"


def judge_messages(update: ReceivedUpdate, commits: Sequence[PushedCommit], rules: Rules) -> Refusal | None:
    """Branch (when branch checking is on) and archive updates: the first new commit that breaks the policy."""
    for commit, _ in commits:
        violations = check_commit(commit, rules.policy)
        if violations:
            return Refusal(update.ref, _policy_reason(commit, violations))
    return None


def judge_archive(update: ReceivedUpdate, commits: Sequence[PushedCommit], rules: Rules,
                  moved: frozenset[tuple[str, str]] = frozenset()) -> Refusal | None:
    """The archive only grows: never deleted, its new commits descend from its current tip, and their
    messages follow the commit policy. `commits` are the pushed commits no other ref reaches yet."""
    if update.new is None:
        if any(oid == update.old for _, oid in moved):
            return None  # `gitclaim migrate` moves it, at the same tip, in this same push
        return Refusal(update.ref, "the archive only grows: deleting it would lose the archived missions")
    if update.old is not None and update.old != update.new \
            and not any(update.old in c.commit.parents for c in commits):
        return Refusal(update.ref, f"non-fast-forward: the archive only grows; {update.new[:12]} does not extend "
                                   f"its current tip {update.old[:12]}")
    return judge_messages(update, commits, rules)


# ---- reading a push and judging it --------------------------------------------------------------------------

def check_updates(git: g.Git, updates: Sequence[ReceivedUpdate | tuple[str, str, str]], env: Mapping[str, str],
                  *, now: datetime | None = None) -> list[Refusal]:
    """Every refusal for a push, at most one per ref update. `git` runs in the receiving repository with the
    environment git gives hooks (the quarantine variables make the pushed objects readable); `env` is the
    hook's environment, where the pusher's name is found."""
    todo = [u if isinstance(u, ReceivedUpdate) else ReceivedUpdate.of(*u) for u in updates]
    now = now or timeutil.now()
    git_config = g.config_list(git)
    refusals: list[Refusal] = []
    with g.CatFile(git) as cat:
        reader = PushReader(git, cat)
        rules = rules_from(git_config, lambda: settings.load_committed(cat))
        pusher = (env.get(rules.user_env) or "").strip() or None
        archived: frozenset[str] = frozenset()
        ns = rules.namespace
        moved = frozenset((u.ref.rpartition("/")[2], u.new) for u in todo
                          if u.old is None and u.new and not u.ref.startswith(ns.prefix) and u.ref != ns.archive)
        for update in todo:
            if update.ref == ns.archive:
                commits = reader.new_commits(update.new) if update.new else []
                refusal = judge_archive(update, commits, rules, moved)
                if refusal:
                    refusals.append(refusal)
                else:
                    archived = frozenset(p for c in commits for p in c.commit.parents)
        reads = {u.ref: _read_mission(reader, u, rules) for u in todo if u.ref.startswith(ns.prefix)}
        signed = _signatures(git, cat, rules, reads)
        for update in todo:
            refusal = None
            if update.ref.startswith(ns.prefix):
                read = reads[update.ref]
                refusal = read if isinstance(read, Refusal) else judge_mission(
                    update, read[0], read[1], rules, archived=archived, pusher=pusher, now=now, moved=moved,
                    signed=signed.get(update.ref))
            elif update.ref.startswith(BRANCHES_PREFIX) and rules.branches and update.new:
                refusal = judge_messages(update, reader.new_commits(update.new), rules)
            if refusal:
                refusals.append(refusal)
    return refusals


# A mission ref update as read: its pushed chain, mission.md at the old tip, the update.
MissionRead = tuple[list[PushedCommit], bytes | None, ReceivedUpdate]


def _read_mission(reader: PushReader, update: ReceivedUpdate, rules: Rules) -> Refusal | MissionRead:
    """The pushed chain of a mission ref update and mission.md at its old tip, or why it cannot be read."""
    commits: list[PushedCommit] = []
    current = None
    if not id_problem(update.ref[len(rules.namespace.prefix):]):
        current = reader.blob(f"{update.old}:{m.FILENAME}") if update.old else None
        if update.new is not None and not rules.problem:
            kind = reader.type_of(update.new)
            if kind != "commit":
                return Refusal(update.ref, f"{update.new[:12]} is a {kind or 'missing object'}, not a commit")
            commits = reader.chain(update.new, update.old)
    return commits, current, update


def _signatures(git: g.Git, cat: g.CatFile, rules: Rules,
                reads: dict[str, Refusal | MissionRead]) -> dict[str, Signed]:
    """The signatures of the push's mission commits, read once for all of them when signing is required or a
    resume needs them; nothing is read otherwise (the guard then works as without signed claims)."""
    chains = {ref: read for ref, read in reads.items() if not isinstance(read, Refusal) and read[0]}
    required = rules.settings.signing_required
    if not needs_signatures(required, ([c.commit for c in read[0]] for read in chains.values())):
        return {}
    updates = {}
    for ref, (commits, current, update) in chains.items():
        try:
            before = m.parse(current, ref[len(rules.namespace.prefix):]) if current is not None else None
        except CorruptMission:
            before = None  # judge_mission refuses the update with the reason
        updates[ref] = (update.old, before, [c.commit for c in commits])
    return read_signatures(git, cat, required, updates)
