"""The mission system's vocabulary: file names, rule ids, profiles, limits, and the typed shapes a workflow
is read into (phases, agent references, agent files, rule violations). No parsing and no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WORKFLOW_FILE = "workflow.md"
START_FILE = "start.md"
AGENTS_DIR = "agents"

GENERAL_PURPOSE = "general-purpose"
# Sub-agent types Claude Code provides without an agents/<type>.md file.
BUILTIN_AGENT_TYPES = frozenset({GENERAL_PURPOSE, "Explore", "Plan"})
# Tools that let an agent change files (Bash can do anything), compared case-insensitively.
WRITE_TOOLS = frozenset({"write", "edit", "multiedit", "notebookedit", "bash"})
# Keys of a phase `outputs` entry that name files the phase writes; every other key is logged state.
FILE_OUTPUT_KINDS = frozenset({"file", "files"})

# Rule ids, in the order violations are reported.
RULES = (
    "workflow-exists",
    "phase-number",
    "requires-exists",
    "no-cycles",
    "completion",
    "agent-exists",
    "subagent-type",
    "scope-overlap",
)

PROFILES = ("simple", "standard", "complex")

# A mission directory holds a handful of markdown files; anything far beyond that is a wrong path, not a mission.
MAX_FILES = 200
MAX_FILE_BYTES = 1 << 20
MAX_TOTAL_BYTES = 4 << 20


# --------------------------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True)
class Output:
    """One `outputs` entry: `{log_decision: key choices}` is Output("log_decision", "key choices")."""

    kind: str
    value: str

    @property
    def writes_file(self) -> bool:
        return self.kind in FILE_OUTPUT_KINDS


@dataclass(frozen=True)
class AgentRef:
    """One entry of a phase's `agents`: which agent runs, as which sub-agent type, on what."""

    type: str
    subagent_type: str | None = None
    scope: list[str] = field(default_factory=list)
    writes_files: bool | None = None  # `writes:` as declared; None when the ref does not say
    tools: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Phase:
    id: str
    number: int | None  # None when missing or not a positive integer (rule phase-number)
    name: str
    agents: list[AgentRef] = field(default_factory=list)
    parallel: bool = False
    requires: list[int] = field(default_factory=list)  # phase numbers, ids already resolved
    checkpoint: str | None = None
    completion: str | None = None
    outputs: list[Output] = field(default_factory=list)
    unknown_requires: list[str] = field(default_factory=list)  # required ids that name no phase
    line: int | None = None  # where the phase starts in its file, for messages


@dataclass(frozen=True)
class Workflow:
    name: str | None
    phases: list[Phase]


@dataclass(frozen=True)
class AgentDef:
    """An agents/<type>.md file: its frontmatter, as far as the rules need it."""

    type: str  # the file's stem: what a workflow's `type:` names
    path: str
    name: str | None = None
    description: str | None = None
    tools: list[str] | None = None  # None when the frontmatter lists none
    subagent_type: str | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    phase: str | None  # the phase id; None for a mission-level rule
    message: str

    def __str__(self) -> str:
        where = f" [{self.phase}]" if self.phase else ""
        return f"{self.rule}{where}: {self.message}"
