"""The structured output of the MCP tools (docs/mcp.md): pydantic models the SDK turns into each tool's
outputSchema. Only gitclaim/mcp/ imports this module (pydantic comes with the MCP SDK)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, create_model

from gitclaim.core import mission as m


class SignatureInfo(BaseModel):
    """The signature state of a claim, or of one commit (docs/signing.md)."""

    state: str = Field(description="good, untrusted (valid, key not in the trust list), bad or none.")
    principal: str | None = Field(None, description="The trust-list principal of a good signature.")
    key: str | None = Field(None, description="The signing key's fingerprint (SHA256:...), when known.")


def _mission_info() -> type[BaseModel]:
    """A mission's fields as the tools return them: the same fields, names and order as `--json`, from the one
    definition in gitclaim/core/mission.py, and the signature state of the claim it records."""
    fields: dict[str, Any] = {}
    for f in m.FIELDS:
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        fields[f.json] = (f.type, ... if f.required else default)
    fields["signature"] = (SignatureInfo | None, Field(None, description="The signature state of the claim the "
                                                       "mission records (null when it records none)."))
    return create_model("MissionInfo", **fields)


if TYPE_CHECKING:  # a class made at run time: type checkers see its base
    MissionInfo = BaseModel
else:
    MissionInfo = _mission_info()


class MissionChange(MissionInfo):
    changed: bool = Field(description="False when nothing needed writing (e.g. claiming what you hold).")
    commit: str


class ClaimResult(MissionChange):
    action: str | None = Field(default=None, description="claim, takeover or resume (the same principal from "
                                                         "another clone); null when it was already yours.")
    previous: dict[str, Any] | None = Field(default=None, description="The claim a takeover or resume replaced: "
                                                                     "instance and epoch.")


class NextResult(MissionChange):
    lost_races: int = 0


class MissionRow(MissionInfo):
    idle: str | None = None
    stale: bool = False


class MissionList(BaseModel):
    missions: list[MissionRow]
    broken: list[str] = Field(default_factory=list, description="Missions that could not be read, and why.")


class HistoryEvent(BaseModel):
    commit: str
    time: str
    action: str
    kind: str
    text: str
    session: str | None = None
    instance: str | None = None
    epoch: int | None = None
    status: str | None = None
    fields: dict[str, str] = {}


class MissionView(MissionInfo):
    body: str
    commit: str
    archived: bool
    files: list[str]
    history: list[HistoryEvent]
    file_text: str | None = Field(None, description="The text of the file asked for with `file`.")


class StartedMission(BaseModel):
    mission_id: str
    title: str
    profile: str
    status: str
    epoch: int
    commit: str
    files: list[str] = Field(description="Files of the mission's tree (mission.md, workflow.md, start.md, "
                                         "agents/...); read them with show_mission or git show.")


class StartedTask(BaseModel):
    task_id: str
    mission_id: str
    phase: int
    commit: str


class CompletedTask(BaseModel):
    task_id: str
    status: str
    duration_seconds: int
    files: list[str]
    phase_complete: bool
    commit: str


class LoggedDecision(BaseModel):
    decision_id: str = Field(description="The commit that records the decision.")
    mission_id: str
    task_id: str | None = None


class LoggedMilestone(BaseModel):
    milestone_id: str = Field(description="The commit that records the milestone.")
    mission_id: str
    task_id: str | None = None


class LoggedIssue(BaseModel):
    issue_id: str = Field(description="The commit that records the issue.")
    mission_id: str
    task_id: str | None = None
    blocked: bool = Field(description="True: the mission is BLOCKED until a person runs gitclaim unblock.")
    blocked_reason: str | None = None


class Totals(BaseModel):
    mission_id: str
    status: str
    summary: str | None = None
    commit: str
    duration_seconds: int | None = Field(description="From the mission's first commit to its finish.")
    tasks: int
    tasks_by_status: dict[str, int]
    phases_complete: list[int]
    decisions: int
    milestones: int
    issues: int
    files: list[str]
    commits: int


class PhaseInfo(BaseModel):
    number: int | None
    id: str
    name: str
    requires: list[int]
    checkpoint: str | None = None
    completion: str | None = None
    agents: list[str]
    parallel: bool
    complete: bool
    approved: bool


class TaskInfo(BaseModel):
    task_id: str | None
    phase: int | None = None
    name: str | None = None
    goal: str | None = None
    caller_type: str | None = None
    status: str | None = None
    started: str | None = None
    finished: str | None = None
    duration_seconds: int | None = None
    files: list[str] = []
    outcome: str | None = None
    phase_complete: bool = False


class LogBase(BaseModel):
    id: str
    time: str
    task_id: str | None = None
    phase: int | None = None


class DecisionInfo(LogBase):
    category: str | None = None
    question: str | None = None
    chosen: str | None = None
    rationale: str | None = None


class MilestoneInfo(LogBase):
    message: str
    progress: int | None = None


class BlockerInfo(LogBase):
    type: str | None = None
    severity: str | None = None
    description: str
    requires_human_review: bool
    blocking: bool = Field(description="True while this issue holds the mission BLOCKED.")
    resolution: str | None = None


class MissionContext(BaseModel):
    mission_id: str
    title: str
    status: str
    blocked_reason: str | None = None
    holder: str | None = None
    epoch: int
    archived: bool
    phase: int | None = Field(None, description="The phase filter applied, if any.")
    phases_complete: list[int]
    approved_phases: list[int]
    phases: list[PhaseInfo] | None = Field(None, description="None when not included.")
    tasks: list[TaskInfo] | None = None
    decisions: list[DecisionInfo] | None = None
    milestones: list[MilestoneInfo] | None = None
    blockers: list[BlockerInfo] | None = None


class Holder(BaseModel):
    session: str | None = None
    user: str | None = None
    instance: str | None = None


class ChangeEvent(BaseModel):
    """One commit on a watched mission (docs/json.md, `watch --json`)."""

    mission_id: str
    action: str
    status_before: str | None = None
    status_after: str | None = None
    holder: Holder | None = None
    epoch: int | None = None
    commit: str | None = None
    time: str
    signature: SignatureInfo | None = Field(None, description="The signature of the event's commit (null for "
                                                              "a removed mission).")


class WaitResult(BaseModel):
    satisfied: bool = Field(description="The condition held (already at the start, or after the events).")
    timed_out: bool = Field(description="The time ran out first; call again to keep waiting.")
    reason: str | None = Field(None, description="Why the condition holds, e.g. 'm was claimed'.")
    waited_seconds: float
    fetches: int
    events: list[ChangeEvent]


class CommitVerdict(BaseModel):
    """One commit of a mission's history as verify_missions judged it (docs/json.md, `verify --json`)."""

    commit: str
    action: str | None = None
    instance: str | None = None
    state: str = Field(description="good, untrusted, bad or none; bad too for a holder's write signed by another "
                                   "principal than its claim's.")
    signature: SignatureInfo
    claim_principal: str | None = Field(None, description="For a holder's write under a good claim: the "
                                                          "principal that must have signed it.")


class MissionVerdict(BaseModel):
    mission_id: str
    tip: str
    ok: bool
    archived: bool = Field(False, description="Read from the archive (verify_missions with archived).")
    commits: list[CommitVerdict]


class TrustInfo(BaseModel):
    source: str | None = Field(None, description="The ref the trust list was read from.")
    default_branch: str | None = Field(None, description="The remote branch fetched for it.")
    principals: list[str]


class VerifyReport(BaseModel):
    ok: bool = Field(description="Every commit of every history checked is good.")
    commits: int
    not_good: int
    trust: TrustInfo
    missions: list[MissionVerdict]
