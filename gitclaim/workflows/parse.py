"""Parsing a mission's workflow.md into typed phases and its agents/<type>.md files into agent definitions.

A file that cannot be read as the schema's shape (bad YAML, a phase that is not a mapping, no `phases` list)
raises InvalidInput naming the file and line: nothing further can be said about it. The schema is documented in
docs/workflows.md.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from gitclaim.core import safeyaml
from gitclaim.errors import InvalidInput
from gitclaim.workflows.markdown_yaml import (
    Snippet,
    decode,
    extract_yaml,
    frontmatter_end,
    load_yaml,
    read_checkpoint,
    read_completion,
    read_flag,
    read_number,
    read_outputs,
    read_text,
    read_text_list,
)
from gitclaim.workflows.model import AGENTS_DIR, WORKFLOW_FILE, AgentDef, AgentRef, Phase, Workflow

# --------------------------------------------------------------------------------------------------------------
# workflow.md


def parse_workflow(data: bytes | str, source: str = WORKFLOW_FILE) -> Workflow:
    """Parse a workflow.md; InvalidInput naming `source` (and the line where known) if it lacks the schema's shape."""
    snippet = extract_yaml(decode(data, source), source)
    document = load_yaml(snippet)
    if not isinstance(document, dict):
        found = type(document).__name__
        raise InvalidInput(f"{source}: expected a mapping with a `phases` list, found {found}{snippet.hint}")
    raw_phases = document.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise snippet.fail(document, "`phases` must be a non-empty list")
    parsed = [_parse_phase(snippet, raw, index) for index, raw in enumerate(raw_phases, start=1)]
    _check_unique_ids(snippet, parsed)
    phases = _resolve_requires(parsed)
    return Workflow(name=read_text(snippet, document, "name"), phases=phases)


def _parse_phase(snippet: Snippet, raw: object, position: int) -> tuple[Phase, list[int | str], object]:
    """The phase (requires still empty), its raw `requires` references, and the raw mapping for messages."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"{snippet.source}: phase {position} must be a mapping, not {raw!r}")
    phase_id = read_text(snippet, raw, "id")
    if phase_id is None:
        raise snippet.fail(raw, f"phase {position} has no `id`")
    agents = raw.get("agents")
    if agents is not None and not isinstance(agents, list):
        raise snippet.fail(raw, f"phase {phase_id!r}: `agents` must be a list")
    phase = Phase(
        id=phase_id,
        number=read_number(raw.get("number")),
        name=read_text(snippet, raw, "name") or phase_id,
        agents=[_parse_agent_ref(snippet, raw, item, phase_id) for item in agents or []],
        parallel=bool(read_flag(snippet, raw, "parallel")),
        checkpoint=read_checkpoint(snippet, raw),
        completion=read_completion(snippet, raw),
        outputs=read_outputs(snippet, raw),
        line=snippet.first_line + raw.line if isinstance(raw, safeyaml.LineDict) else None,
    )
    return phase, _requires_refs(snippet, raw, phase_id), raw


def _parse_agent_ref(snippet: Snippet, phase_raw: dict[str, Any], item: object, phase_id: str) -> AgentRef:
    if isinstance(item, str) and item.strip():  # `- implementer` is shorthand for `- type: implementer`
        return AgentRef(type=item.strip())
    if not isinstance(item, dict):
        raise snippet.fail(phase_raw, f"phase {phase_id!r}: an agent must be a mapping with a `type`, not {item!r}")
    agent_type = read_text(snippet, item, "type")
    if agent_type is None:
        raise snippet.fail(item, f"phase {phase_id!r}: agent has no `type`")
    return AgentRef(
        type=agent_type,
        subagent_type=read_text(snippet, item, "subagent_type"),
        scope=read_text_list(snippet, item, "scope"),
        writes_files=read_flag(snippet, item, "writes", "writes_files"),
        tools=read_text_list(snippet, item, "tools", comma_separated=True),
    )


def _requires_refs(snippet: Snippet, raw: dict[str, Any], phase_id: str) -> list[int | str]:
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


def _check_unique_ids(snippet: Snippet, parsed: list[tuple[Phase, list[int | str], object]]) -> None:
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
    text = decode(data, path)
    lines = text.splitlines(keepends=True)
    end = frontmatter_end(lines)
    agent_type = Path(path).stem
    if end is None:
        return AgentDef(type=agent_type, path=path)
    snippet = Snippet(path, "".join(lines[1:end]), 2)
    meta = load_yaml(snippet)
    if meta is None:
        return AgentDef(type=agent_type, path=path)
    if not isinstance(meta, dict):
        raise InvalidInput(f"{path}:2: the frontmatter must be a mapping")
    has_tools = meta.get("tools") is not None
    return AgentDef(
        type=agent_type,
        path=path,
        name=read_text(snippet, meta, "name"),
        description=read_text(snippet, meta, "description"),
        tools=read_text_list(snippet, meta, "tools", comma_separated=True) if has_tools else None,
        subagent_type=read_text(snippet, meta, "subagent_type"),
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
