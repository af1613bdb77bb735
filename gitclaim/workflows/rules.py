"""The rules of the mission system (docs/workflows.md): a readable workflow that breaks one comes back as
`Violation`s, all of them at once, so an author fixes every problem in one pass.
"""

from __future__ import annotations

from collections.abc import Collection

from gitclaim.workflows.model import (
    BUILTIN_AGENT_TYPES,
    GENERAL_PURPOSE,
    START_FILE,
    WORKFLOW_FILE,
    WRITE_TOOLS,
    AgentDef,
    AgentRef,
    Phase,
    Violation,
    Workflow,
)
from gitclaim.workflows.parse import load_agents, parse_workflow


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
    """Edges by phase index: i -> j when phase i requires phase j (every phase j, if numbers repeat). A phase
    that shares its number with the phase it requires gets no edge to itself: that is the duplicate number
    (reported by phase-number), not a cycle."""
    by_number: dict[int, list[int]] = {}
    for index, phase in enumerate(workflow.phases):
        if phase.number is not None:
            by_number.setdefault(phase.number, []).append(index)
    return [sorted({j for n in phase.requires for j in by_number.get(n, []) if j != i or len(by_number[n]) == 1})
            for i, phase in enumerate(workflow.phases)]


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
