"""Mission workflows: parse workflow.md into typed phases, validate a mission's files, render profile templates.

A mission is a small tree of files (mission.md, workflow.md, start.md, agents/*.md), read either from a directory
(`read_mission_dir`) or from the tree of a mission's tip commit. Everything here works on that tree as a
`dict[str, bytes]` of posix paths, so both sources are validated by the same code.

Two kinds of failure, kept apart on purpose:
- a file that cannot be read as the schema's shape (bad YAML, a phase that is not a mapping, no `phases` list)
  raises InvalidInput naming the file and line: nothing further can be said about it;
- a readable workflow that breaks a rule of the mission system comes back as `Violation`s, all of them at once,
  so an author fixes every problem in one pass.

The schema, the rules and the profiles are documented in docs/workflows.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from gitclaim.core import safeyaml
from gitclaim.core.refs import check_id
from gitclaim.errors import InvalidInput

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


# --------------------------------------------------------------------------------------------------------------
# Reading YAML out of markdown, with line numbers


# Mappings come back as LineDicts (core/safeyaml.py), which remember the line they start on.

_FENCE_OPEN = re.compile(r"^(`{3,})\s*(ya?ml)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class _Snippet:
    """YAML text cut out of a file, and the 1-based file line its first line sits on."""

    source: str
    text: str
    first_line: int
    hint: str = ""  # appended to YAML errors: how the snippet was found, when that may surprise

    def at(self, obj: object) -> str:
        """`source:line` for a mapping from this snippet, else just `source`."""
        if isinstance(obj, safeyaml.LineDict):
            return f"{self.source}:{self.first_line + obj.line}"
        return self.source

    def fail(self, obj: object, message: str) -> InvalidInput:
        return InvalidInput(f"{self.at(obj)}: {message}")


def _decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput(f"{source}: not UTF-8 text (byte {err.start})") from None


def _frontmatter_end(lines: list[str]) -> int | None:
    """Index of the line closing a frontmatter block opened by the first line, or None if there is none."""
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return index
    return None  # an unclosed `---` is a YAML document start marker, not frontmatter


def _fenced_yaml(lines: list[str], source: str) -> _Snippet | None:
    for start, line in enumerate(lines):
        opened = _FENCE_OPEN.match(line.rstrip("\r\n"))
        if not opened:
            continue
        fence = opened.group(1)
        for end in range(start + 1, len(lines)):
            if lines[end].strip().startswith(fence) and not lines[end].strip().strip("`"):
                return _Snippet(source, "".join(lines[start + 1 : end]), start + 2)
        raise InvalidInput(f"{source}:{start + 1}: the ```yaml block opened here is never closed")
    return None


def _extract_yaml(text: str, source: str) -> _Snippet:
    """Frontmatter between `---` lines, else the first ```yaml fenced block, else the whole text."""
    lines = text.splitlines(keepends=True)
    end = _frontmatter_end(lines)
    if end is not None:
        return _Snippet(source, "".join(lines[1:end]), 2)
    whole = " (no `---` frontmatter and no ```yaml block, so the whole file was read as YAML)"
    return _fenced_yaml(lines, source) or _Snippet(source, text, 1, whole)


def _load_yaml(snippet: _Snippet) -> Any:
    try:
        return safeyaml.load(snippet.text, lines=True)
    except safeyaml.YamlProblem as err:
        if err.kind != "syntax":
            raise InvalidInput(f"{snippet.source}: unreadable YAML ({err.problem})") from None
        where = f"{snippet.source}:{snippet.first_line + err.line - 1}" if err.line else snippet.source
        raise InvalidInput(f"{where}: invalid YAML: {err.problem}{snippet.hint}") from None


# --------------------------------------------------------------------------------------------------------------
# Field readers: each accepts the spellings the schema allows and rejects the rest with a located message


def _text(snippet: _Snippet, owner: object, key: str) -> str | None:
    value = owner.get(key) if isinstance(owner, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise snippet.fail(owner, f"`{key}` must be text")
    return str(value).strip() or None


def _text_list(snippet: _Snippet, owner: dict[str, Any], key: str, *, comma_separated: bool = False) -> list[str]:
    """A string or a list of strings; `tools: Read, Write` is a comma-separated string in agent files."""
    value = owner.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split(",") if comma_separated else [value]
        return [part.strip() for part in parts if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise snippet.fail(owner, f"`{key}` must be a string or a list of strings")


def _flag(snippet: _Snippet, owner: dict[str, Any], *keys: str) -> bool | None:
    for key in keys:
        value = owner.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise snippet.fail(owner, f"`{key}` must be true or false")
        return value
    return None


def _number(value: object) -> int | None:
    # bool is an int in Python, and `number: true` is not an explicit phase number.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _completion(snippet: _Snippet, raw: dict[str, Any]) -> str | None:
    value = raw.get("completion")
    if isinstance(value, list):
        criteria = [str(item).strip() for item in value if item is not None and str(item).strip()]
        return "; ".join(criteria) or None
    return _text(snippet, raw, "completion")


def _checkpoint(snippet: _Snippet, raw: dict[str, Any]) -> str | None:
    value = raw.get("checkpoint")
    if value is True:  # `checkpoint: true` reads as the only checkpoint kind there is
        return "human"
    if value is False:
        return None
    return _text(snippet, raw, "checkpoint")


def _outputs(snippet: _Snippet, raw: dict[str, Any]) -> list[Output]:
    value = raw.get("outputs")
    if value is None:
        return []
    if not isinstance(value, list):
        raise snippet.fail(raw, "`outputs` must be a list")
    outputs: list[Output] = []
    for item in value:
        if isinstance(item, str):
            outputs.append(Output("text", item))
        elif isinstance(item, dict):
            outputs.extend(_output_entries(snippet, item))
        else:
            raise snippet.fail(raw, f"`outputs` entries must be text or `kind: value` mappings, not {item!r}")
    return outputs


def _output_entries(snippet: _Snippet, item: dict[str, Any]) -> list[Output]:
    entries: list[Output] = []
    for kind, value in item.items():
        kind = "file" if str(kind) in FILE_OUTPUT_KINDS else str(kind)
        values = value if isinstance(value, list) else [value]
        for one in values:
            if kind == "file" and not isinstance(one, str):
                raise snippet.fail(item, f"file outputs must be paths, not {one!r}")
            entries.append(Output(kind, "" if one is None else str(one)))
    return entries


# --------------------------------------------------------------------------------------------------------------
# workflow.md


def parse_workflow(data: bytes | str, source: str = WORKFLOW_FILE) -> Workflow:
    """Parse a workflow.md; InvalidInput naming `source` (and the line where known) if it lacks the schema's shape."""
    snippet = _extract_yaml(_decode(data, source), source)
    document = _load_yaml(snippet)
    if not isinstance(document, dict):
        found = type(document).__name__
        raise InvalidInput(f"{source}: expected a mapping with a `phases` list, found {found}{snippet.hint}")
    raw_phases = document.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise snippet.fail(document, "`phases` must be a non-empty list")
    parsed = [_parse_phase(snippet, raw, index) for index, raw in enumerate(raw_phases, start=1)]
    _check_unique_ids(snippet, parsed)
    phases = _resolve_requires(parsed)
    return Workflow(name=_text(snippet, document, "name"), phases=phases)


def _parse_phase(snippet: _Snippet, raw: object, position: int) -> tuple[Phase, list[int | str], object]:
    """The phase (requires still empty), its raw `requires` references, and the raw mapping for messages."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"{snippet.source}: phase {position} must be a mapping, not {raw!r}")
    phase_id = _text(snippet, raw, "id")
    if phase_id is None:
        raise snippet.fail(raw, f"phase {position} has no `id`")
    agents = raw.get("agents")
    if agents is not None and not isinstance(agents, list):
        raise snippet.fail(raw, f"phase {phase_id!r}: `agents` must be a list")
    phase = Phase(
        id=phase_id,
        number=_number(raw.get("number")),
        name=_text(snippet, raw, "name") or phase_id,
        agents=[_parse_agent_ref(snippet, raw, item, phase_id) for item in agents or []],
        parallel=bool(_flag(snippet, raw, "parallel")),
        checkpoint=_checkpoint(snippet, raw),
        completion=_completion(snippet, raw),
        outputs=_outputs(snippet, raw),
        line=snippet.first_line + raw.line if isinstance(raw, safeyaml.LineDict) else None,
    )
    return phase, _requires_refs(snippet, raw, phase_id), raw


def _parse_agent_ref(snippet: _Snippet, phase_raw: dict[str, Any], item: object, phase_id: str) -> AgentRef:
    if isinstance(item, str) and item.strip():  # `- implementer` is shorthand for `- type: implementer`
        return AgentRef(type=item.strip())
    if not isinstance(item, dict):
        raise snippet.fail(phase_raw, f"phase {phase_id!r}: an agent must be a mapping with a `type`, not {item!r}")
    agent_type = _text(snippet, item, "type")
    if agent_type is None:
        raise snippet.fail(item, f"phase {phase_id!r}: agent has no `type`")
    return AgentRef(
        type=agent_type,
        subagent_type=_text(snippet, item, "subagent_type"),
        scope=_text_list(snippet, item, "scope"),
        writes_files=_flag(snippet, item, "writes", "writes_files"),
        tools=_text_list(snippet, item, "tools", comma_separated=True),
    )


def _requires_refs(snippet: _Snippet, raw: dict[str, Any], phase_id: str) -> list[int | str]:
    value = raw.get("requires")
    values = [] if value is None else value if isinstance(value, list) else [value]
    refs: list[int | str] = []
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool):
            refs.append(item)
        elif isinstance(item, str) and item.strip():
            refs.append(item.strip())
        else:
            raise snippet.fail(raw, f"phase {phase_id!r}: `requires` takes phase numbers or ids, not {item!r}")
    return refs


def _check_unique_ids(snippet: _Snippet, parsed: list[tuple[Phase, list[int | str], object]]) -> None:
    # Ids are how `requires` and every message name a phase: two phases with one id cannot be told apart.
    seen: set[str] = set()
    for phase, _, raw in parsed:
        if phase.id in seen:
            raise snippet.fail(raw, f"two phases have the id {phase.id!r}")
        seen.add(phase.id)


def _resolve_requires(parsed: list[tuple[Phase, list[int | str], object]]) -> list[Phase]:
    """Turn `requires` ids into phase numbers; ids naming no phase go to `unknown_requires`."""
    numbers_by_id = {phase.id: phase.number for phase, _, _ in parsed}
    phases: list[Phase] = []
    for phase, refs, _ in parsed:
        requires: list[int] = []
        unknown: list[str] = []
        for ref in refs:
            number = ref if isinstance(ref, int) else numbers_by_id.get(ref)
            if isinstance(ref, str) and ref not in numbers_by_id:
                unknown.append(ref)
            elif number is not None and number not in requires:
                # An id naming a phase without a number is dropped: that phase's phase-number violation says why.
                requires.append(number)
        phases.append(replace(phase, requires=requires, unknown_requires=unknown))
    return phases


# --------------------------------------------------------------------------------------------------------------
# agents/<type>.md


def parse_agent(path: str, data: bytes | str) -> AgentDef:
    """Read an agent file's frontmatter (name, description, tools, subagent_type); a file without one still exists."""
    text = _decode(data, path)
    lines = text.splitlines(keepends=True)
    end = _frontmatter_end(lines)
    agent_type = Path(path).stem
    if end is None:
        return AgentDef(type=agent_type, path=path)
    snippet = _Snippet(path, "".join(lines[1:end]), 2)
    meta = _load_yaml(snippet)
    if meta is None:
        return AgentDef(type=agent_type, path=path)
    if not isinstance(meta, dict):
        raise InvalidInput(f"{path}:2: the frontmatter must be a mapping")
    has_tools = meta.get("tools") is not None
    return AgentDef(
        type=agent_type,
        path=path,
        name=_text(snippet, meta, "name"),
        description=_text(snippet, meta, "description"),
        tools=_text_list(snippet, meta, "tools", comma_separated=True) if has_tools else None,
        subagent_type=_text(snippet, meta, "subagent_type"),
    )


def load_agents(files: dict[str, bytes]) -> dict[str, AgentDef]:
    """The mission's agents/<type>.md files (one level deep), keyed by type."""
    agents: dict[str, AgentDef] = {}
    for path in sorted(files):
        parts = path.split("/")
        if len(parts) == 2 and parts[0] == AGENTS_DIR and parts[1].endswith(".md") and len(parts[1]) > 3:
            agent = parse_agent(path, files[path])
            agents[agent.type] = agent
    return agents


def _tool_base(tool: str) -> str:
    # `Bash(git status:*)` grants Bash, restricted; it still runs commands that can change files.
    return tool.split("(", 1)[0].strip().lower()


def file_writing_reasons(ref: AgentRef, phase: Phase, agent: AgentDef | None) -> list[str]:
    """Why this agent counts as file-writing; empty when nothing says it writes files."""
    reasons: list[str] = []
    if ref.writes_files:
        reasons.append("`writes: true` in workflow.md")
    listed = [(tool, WORKFLOW_FILE) for tool in ref.tools]
    if agent is not None and agent.tools:
        listed += [(tool, agent.path) for tool in agent.tools]
    for tool, where in listed:
        if _tool_base(tool) in WRITE_TOOLS:
            reasons.append(f"tool {tool} in {where}")
    # Phase outputs are phase-wide; an agent that declares `writes: false` is the one that does not write them.
    if ref.writes_files is None and any(output.writes_file for output in phase.outputs):
        reasons.append("the phase's outputs name files")
    return reasons


def effective_subagent_type(ref: AgentRef, agent: AgentDef | None) -> str | None:
    """The sub-agent type the orchestrator launches: the ref's, else the agent file's, else a built-in's own name."""
    if ref.subagent_type:
        return ref.subagent_type
    if agent is not None and agent.subagent_type:
        return agent.subagent_type
    return ref.type if ref.type in BUILTIN_AGENT_TYPES else None


# --------------------------------------------------------------------------------------------------------------
# Scopes


def _normalise_scope(scope: str) -> str:
    text = " ".join(scope.split())
    while text.startswith("./"):
        text = text[2:]
    text = text.strip("/")
    return "" if text in (".", "") else text


def _is_path_like(scope: str) -> bool:
    # Free text ("frontend components") has spaces; a path or glob ("src/api/", "*.md", "docs") has none.
    return " " not in scope


def _is_whole_tree(scope: str) -> bool:
    return scope == "" or set(scope) <= {"*", "/"}


def _fixed_dir(scope: str) -> str:
    """What no wildcard can change: `src/api/*.py` -> `src/api`, `*.md` -> `` (the root); a plain path itself."""
    cut = min((scope.find(ch) for ch in "*?[" if ch in scope), default=-1)
    if cut < 0:
        return scope
    head = scope[:cut]
    return head.rsplit("/", 1)[0] if "/" in head else ""


def _nested(outer: str, inner: str) -> bool:
    return outer == "" or inner == outer or inner.startswith(outer + "/")


def scopes_overlap(first: str, second: str) -> bool:
    """Whether two agents with these scopes may touch the same files (see docs/workflows.md, scope-overlap)."""
    a, b = _normalise_scope(first), _normalise_scope(second)
    if _is_whole_tree(a) or _is_whole_tree(b):
        return True
    if not (_is_path_like(a) and _is_path_like(b)):
        return a.casefold() == b.casefold()  # free text can only be compared as text
    # Whatever a glob matches lies below its fixed directory, so scopes whose fixed directories do not nest share
    # no file. Nesting ones count as overlapping: conservative for globs (docs/*.md vs docs/*.rst overlaps).
    fixed_a, fixed_b = _fixed_dir(a), _fixed_dir(b)
    return _nested(fixed_a, fixed_b) or _nested(fixed_b, fixed_a)


# --------------------------------------------------------------------------------------------------------------
# Validation


def validate_mission_files(files: dict[str, bytes], *, known_agents: Collection[str] = ()) -> list[Violation]:
    """Every rule violation of a mission's files (tree path -> contents); [] for a mission without workflow.md.

    `known_agents` names agent types that exist outside the mission (the project's or the user's .claude/agents).
    Raises InvalidInput when workflow.md or an agent file cannot be read as the schema's shape.
    """
    if WORKFLOW_FILE not in files:
        return _check_workflow_exists(files)
    workflow = parse_workflow(files[WORKFLOW_FILE], WORKFLOW_FILE)
    agents = load_agents(files)
    return validate_workflow(workflow, agents, known_agents=known_agents)


def validate_workflow(
    workflow: Workflow, agents: dict[str, AgentDef], *, known_agents: Collection[str] = ()
) -> list[Violation]:
    """Every rule violation of a parsed workflow, given the mission's agent files."""
    available = set(agents) | BUILTIN_AGENT_TYPES | set(known_agents)
    return [
        *_check_phase_numbers(workflow),
        *_check_requires_exist(workflow),
        *_check_cycles(workflow),
        *_check_completion(workflow),
        *_check_agents_exist(workflow, agents, available),
        *_check_subagent_types(workflow, agents),
        *_check_scopes(workflow),
    ]


def _check_workflow_exists(files: dict[str, bytes]) -> list[Violation]:
    # A simple mission is mission.md alone; a start.md, though, is a prompt that runs workflow.md's phases.
    if START_FILE in files:
        return [Violation("workflow-exists", None, "start.md runs the phases of workflow.md, which is missing")]
    return []


def _check_phase_numbers(workflow: Workflow) -> list[Violation]:
    violations: list[Violation] = []
    first_with: dict[int, Phase] = {}
    for phase in workflow.phases:
        if phase.number is None:
            message = f"phase {phase.id!r} needs an explicit positive integer `number:`"
            violations.append(Violation("phase-number", phase.id, message))
        elif phase.number in first_with:
            message = f"phase {phase.id!r} has number {phase.number}, like phase {first_with[phase.number].id!r}"
            violations.append(Violation("phase-number", phase.id, message))
        else:
            first_with[phase.number] = phase
    return violations


def _check_requires_exist(workflow: Workflow) -> list[Violation]:
    numbers = {phase.number for phase in workflow.phases if phase.number is not None}
    violations: list[Violation] = []
    for phase in workflow.phases:
        for number in phase.requires:
            if number not in numbers:
                message = f"phase {phase.id!r} requires phase {number}, and no phase has that number"
                violations.append(Violation("requires-exists", phase.id, message))
        for ref in phase.unknown_requires:
            message = f"phase {phase.id!r} requires {ref!r}, and no phase has that id"
            violations.append(Violation("requires-exists", phase.id, message))
    return violations


def _requires_graph(workflow: Workflow) -> list[list[int]]:
    """Edges by phase index: i -> j when phase i requires phase j (every phase j, if numbers repeat)."""
    by_number: dict[int, list[int]] = {}
    for index, phase in enumerate(workflow.phases):
        if phase.number is not None:
            by_number.setdefault(phase.number, []).append(index)
    return [sorted({j for n in phase.requires for j in by_number.get(n, [])}) for phase in workflow.phases]


def _find_cycles(edges: list[list[int]]) -> list[list[int]]:
    """Each distinct cycle once, rotated to start at its lowest index; iterative, so no depth limit applies."""
    state = [0] * len(edges)  # 0 unvisited, 1 on the current path, 2 finished
    seen: set[tuple[int, ...]] = set()
    cycles: list[list[int]] = []
    for root in range(len(edges)):
        if state[root]:
            continue
        path, stack = [root], [iter(edges[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state[nxt] == 1:
                cycle = path[path.index(nxt) :]
                start = cycle.index(min(cycle))
                key = tuple(cycle[start:] + cycle[:start])
                if key not in seen:
                    seen.add(key)
                    cycles.append(list(key))
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges[nxt]))
    return cycles


def _check_cycles(workflow: Workflow) -> list[Violation]:
    violations: list[Violation] = []
    for cycle in _find_cycles(_requires_graph(workflow)):
        names = [workflow.phases[index].id for index in cycle + cycle[:1]]
        message = "circular requires: " + " -> ".join(names)
        violations.append(Violation("no-cycles", names[0], message))
    return violations


def _check_completion(workflow: Workflow) -> list[Violation]:
    return [
        Violation("completion", phase.id, f"phase {phase.id!r} has no `completion` criteria")
        for phase in workflow.phases
        if phase.completion is None
    ]


def _check_agents_exist(workflow: Workflow, agents: dict[str, AgentDef], available: set[str]) -> list[Violation]:
    builtins = ", ".join(sorted(BUILTIN_AGENT_TYPES))
    violations: list[Violation] = []
    for phase in workflow.phases:
        for ref in phase.agents:
            if ref.type not in available:
                message = (
                    f"phase {phase.id!r} uses agent {ref.type!r}: there is no agents/{ref.type}.md "
                    f"and it is not a built-in type ({builtins})"
                )
                violations.append(Violation("agent-exists", phase.id, message))
            launched = effective_subagent_type(ref, agents.get(ref.type))
            if launched is not None and launched not in available:
                message = f"phase {phase.id!r}: agent {ref.type!r} has subagent_type {launched!r}, which does not exist"
                violations.append(Violation("agent-exists", phase.id, message))
    return violations


def _check_subagent_types(workflow: Workflow, agents: dict[str, AgentDef]) -> list[Violation]:
    violations: list[Violation] = []
    for phase in workflow.phases:
        for ref in phase.agents:
            agent = agents.get(ref.type)
            reasons = file_writing_reasons(ref, phase, agent)
            launched = effective_subagent_type(ref, agent)
            if reasons and launched != GENERAL_PURPOSE:
                message = (
                    f"phase {phase.id!r}: agent {ref.type!r} writes files ({'; '.join(reasons)}) "
                    f"so it must use subagent_type {GENERAL_PURPOSE!r}, not {launched or 'none'!r}"
                )
                violations.append(Violation("subagent-type", phase.id, message))
    return violations


def _check_scopes(workflow: Workflow) -> list[Violation]:
    violations: list[Violation] = []
    for phase in workflow.phases:
        if phase.parallel and len(phase.agents) > 1:
            violations += _phase_scope_violations(phase)
    return violations


def _phase_scope_violations(phase: Phase) -> list[Violation]:
    violations: list[Violation] = []
    for ref in phase.agents:
        if not ref.scope:
            message = f"phase {phase.id!r} runs agents in parallel, and agent {ref.type!r} has no scope to stay in"
            violations.append(Violation("scope-overlap", phase.id, message))
    for i, first in enumerate(phase.agents):
        for second in phase.agents[i + 1 :]:
            clash = next(((a, b) for a in first.scope for b in second.scope if scopes_overlap(a, b)), None)
            if clash:
                message = (
                    f"phase {phase.id!r} runs in parallel agents {first.type!r} (scope {clash[0]!r}) "
                    f"and {second.type!r} (scope {clash[1]!r}), whose scopes overlap"
                )
                violations.append(Violation("scope-overlap", phase.id, message))
    return violations


# --------------------------------------------------------------------------------------------------------------
# Reading a mission directory


def read_mission_dir(path: Path) -> dict[str, bytes]:
    """The regular files under `path` as tree path -> contents; dotfiles skipped, escaping symlinks refused."""
    root = Path(path)
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory")
    real_root = root.resolve()
    files: dict[str, bytes] = {}
    total = 0
    for rel, full in _mission_dir_files(root, real_root):
        if len(files) >= MAX_FILES:
            raise InvalidInput(f"{root}: more than {MAX_FILES} files; is this a mission directory?")
        files[rel] = _read_capped(full)
        total += len(files[rel])
        if total > MAX_TOTAL_BYTES:
            raise InvalidInput(f"{root}: more than {MAX_TOTAL_BYTES} bytes in all; is this a mission directory?")
    return files


def _mission_dir_files(root: Path, real_root: Path) -> Iterator[tuple[str, Path]]:
    """(posix relative path, path) of each file to read, depth-first in name order."""
    pending: list[tuple[Path, str]] = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        subdirs: list[tuple[Path, str]] = []
        for entry in _sorted_entries(directory):
            if entry.name.startswith("."):  # .git, editor droppings: never part of a mission
                continue
            rel, full = prefix + entry.name, Path(entry.path)
            if entry.is_symlink():
                if _symlinked_file(full, real_root):
                    yield rel, full
            elif entry.is_dir(follow_symlinks=False):
                subdirs.append((full, rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                yield rel, full
        pending.extend(reversed(subdirs))


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as err:
        raise InvalidInput(f"{directory}: cannot list: {err.strerror}") from None


def _symlinked_file(link: Path, real_root: Path) -> bool:
    """Whether to read a symlink: refused if it leads outside the mission, skipped unless it leads to a file."""
    target = link.resolve()
    if not target.is_relative_to(real_root):
        raise InvalidInput(f"{link}: symlink leads outside the mission directory, to {target}")
    # A link to a directory inside the mission would only list files a second time (or loop): skip it.
    return target.is_file()


def _read_capped(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InvalidInput(f"{path}: cannot read: {err.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{path}: larger than {MAX_FILE_BYTES} bytes; is this a mission file?")
    return data


# --------------------------------------------------------------------------------------------------------------
# Profile templates


def render_profile(profile: str, mission_id: str, title: str) -> dict[str, bytes]:
    """The files of a new mission from the profile's template, with `{mission_id}` and `{title}` filled in."""
    if profile not in PROFILES:
        raise InvalidInput(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    values = {
        "{mission_id}": check_id(mission_id),
        "{title}": _title_value(title),
    }
    template = resources.files("gitclaim.workflows") / "templates" / profile
    return {rel: _render(data.decode("utf-8"), values).encode("utf-8") for rel, data in _template_files(template, "")}


def _title_value(title: str) -> str:
    # One line of printable text: the title also heads the markdown body, where a newline would end the heading.
    if not title.strip() or not title.isprintable():
        raise InvalidInput(f"the title must be one non-empty line of printable text, not {title!r}")
    return title.strip()


def _template_files(directory: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in sorted(directory.iterdir(), key=lambda item: item.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _template_files(entry, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry.read_bytes()


def _render(text: str, values: dict[str, str]) -> str:
    """Fill placeholders literally (never str.format: markdown is full of braces); YAML-quoted in frontmatter."""
    lines = text.splitlines(keepends=True)
    end = _frontmatter_end(lines)
    split = 0 if end is None else end + 1
    front, body = "".join(lines[:split]), "".join(lines[split:])
    # JSON strings are YAML double-quoted scalars: an id like 2025-01-02 stays text, a title may hold `: #`.
    quoted = {placeholder: json.dumps(value, ensure_ascii=False) for placeholder, value in values.items()}
    return _replace_all(front, quoted) + _replace_all(body, values)


def _replace_all(text: str, values: dict[str, str]) -> str:
    # One pass, so a title that itself contains `{mission_id}` is left as the user wrote it.
    pattern = re.compile("|".join(re.escape(placeholder) for placeholder in values))
    return pattern.sub(lambda match: values[match.group(0)], text)
