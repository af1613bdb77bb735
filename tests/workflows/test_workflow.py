"""workflow.md parsing, the mission rules, the profile templates, and reading a mission directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitclaim.errors import InvalidInput
from gitclaim.workflows import missiondir
from gitclaim.workflows.missiondir import read_mission_dir
from gitclaim.workflows.model import PROFILES, RULES, AgentRef, Output
from gitclaim.workflows.parse import parse_workflow
from gitclaim.workflows.profiles import render_profile
from gitclaim.workflows.rules import scopes_overlap, validate_mission_files

WRITER_AGENT = "---\nname: implementer\ndescription: writes code\ntools: Read, Write, Edit, Bash\n---\nBody.\n"
READER_AGENT = "---\nname: scout\ndescription: reads code\ntools: Read, Grep, Glob\n---\nBody.\n"
BARE_AGENT = "# Notes\n\nNo frontmatter, so no tools listed.\n"
MCP_TOOLS = ("start_task", "complete_task", "log_decision", "log_milestone", "log_issue", "get_context",
             "complete_mission")


def phase(phase_id: str, number: Any = 1, **fields: Any) -> dict[str, Any]:
    """A phase that breaks no rule, with `fields` overriding (a value of DROP removes the key)."""
    raw: dict[str, Any] = {"id": phase_id, "number": number, "completion": "all agents return success"}
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not DROP}


DROP = object()


def agent(agent_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": agent_type, **fields}


def mission(*phases: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, bytes]:
    document = yaml.safe_dump({"name": "test", "phases": list(phases)}, sort_keys=False)
    files = {
        "mission.md": b"---\nmission_id: m1\n---\n# M1\n",
        "workflow.md": f"---\n{document}---\n\n# Notes\n".encode(),
        "agents/implementer.md": WRITER_AGENT.encode(),
        "agents/scout.md": READER_AGENT.encode(),
        "agents/bare.md": BARE_AGENT.encode(),
    }
    files.update({path: text.encode() for path, text in (extra or {}).items()})
    return files


def found(files: dict[str, bytes], **kwargs: Any) -> list[tuple[str, str | None]]:
    return [(violation.rule, violation.phase) for violation in validate_mission_files(files, **kwargs)]


GP = "general-purpose"

# ---------------------------------------------------------------------------------------------------- the rules

FAILING: list[tuple[str, dict[str, bytes], list[tuple[str, str | None]]]] = [
    ("start.md without workflow.md", {"mission.md": b"# M\n", "start.md": b"# Start\n"}, [("workflow-exists", None)]),
    ("number missing", mission(phase("a", DROP)), [("phase-number", "a")]),
    ("number is text", mission(phase("a", "two")), [("phase-number", "a")]),
    ("number is a bool", mission(phase("a", True)), [("phase-number", "a")]),
    ("number is zero", mission(phase("a", 0)), [("phase-number", "a")]),
    ("number repeated", mission(phase("a", 1), phase("b", 1)), [("phase-number", "b")]),
    ("requires a missing number", mission(phase("a", 1), phase("b", 2, requires=9)), [("requires-exists", "b")]),
    ("requires a missing id", mission(phase("a", 1), phase("b", 2, requires=["a", "nope"])),
     [("requires-exists", "b")]),
    ("two-phase cycle", mission(phase("a", 1, requires=2), phase("b", 2, requires=1)), [("no-cycles", "a")]),
    ("phase requires itself", mission(phase("a", 1, requires="a")), [("no-cycles", "a")]),
    ("three-phase cycle by id",
     mission(phase("a", 1), phase("b", 2, requires="d"), phase("c", 3, requires="b"), phase("d", 4, requires="c")),
     [("no-cycles", "b")]),
    ("completion missing", mission(phase("a", completion=DROP)), [("completion", "a")]),
    ("completion empty", mission(phase("a", completion="  ")), [("completion", "a")]),
    ("completion empty list", mission(phase("a", completion=[])), [("completion", "a")]),
    ("agent file missing", mission(phase("a", agents=[agent("ghost", subagent_type=GP)])), [("agent-exists", "a")]),
    ("subagent_type unknown", mission(phase("a", agents=[agent("scout", subagent_type="Explorer")])),
     [("agent-exists", "a")]),
    ("writer tools in agent file, Explore", mission(phase("a", agents=[agent("implementer", subagent_type="Explore")])),
     [("subagent-type", "a")]),
    ("writes: true, Explore", mission(phase("a", agents=[agent("scout", subagent_type="Explore", writes=True)])),
     [("subagent-type", "a")]),
    ("writes: true, no subagent_type", mission(phase("a", agents=[agent("scout", writes=True)])),
     [("subagent-type", "a")]),
    ("Edit in the ref's tools, built-in Explore",
     mission(phase("a", agents=[agent("Explore", tools=["Read", "Edit"])])), [("subagent-type", "a")]),
    ("restricted Bash still writes", mission(phase("a", agents=[agent("scout", subagent_type="Plan",
                                                                         tools="Read, Bash(git log:*)")])),
     [("subagent-type", "a")]),
    ("phase outputs a file, Explore", mission(phase("a", agents=[agent("scout", subagent_type="Explore")],
                                                   outputs=[{"log_decision": "x"}, {"file": "report.md"}])),
     [("subagent-type", "a")]),
    ("parallel, same scope", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope="src/"), agent("bare", subagent_type=GP, scope="./src")])),
     [("scope-overlap", "a")]),
    ("parallel, nested scopes", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope="src/"), agent("bare", subagent_type=GP, scope="src/api/")])),
     [("scope-overlap", "a")]),
    ("parallel, glob matches", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope=["lib/", "*.md"]),
        agent("bare", subagent_type=GP, scope="docs/")])),
     [("scope-overlap", "a")]),
    ("parallel, same free text", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope="Frontend components"),
        agent("bare", subagent_type=GP, scope="frontend  components")])),
     [("scope-overlap", "a")]),
    ("parallel, an agent without scope", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope="src/"), agent("bare", subagent_type=GP)])),
     [("scope-overlap", "a")]),
]

PASSING: list[tuple[str, dict[str, bytes]]] = [
    ("mission.md alone (simple mission)", {"mission.md": b"# M\n"}),
    ("start.md with workflow.md", mission(phase("a"), extra={"start.md": "# Start\n"})),
    ("numbers need not be contiguous", mission(phase("a", 10), phase("b", 20, requires=10))),
    ("requires by number and id", mission(phase("a", 1), phase("b", 2), phase("c", 3, requires=[1, "b"]))),
    ("a diamond is no cycle", mission(phase("a", 1), phase("b", 2, requires=1), phase("c", 3, requires=1),
                                      phase("d", 4, requires=["b", "c"]))),
    ("completion as a list", mission(phase("a", completion=["tests pass", "committed"]))),
    ("checkpoint-only phase without agents", mission(phase("a", 1), phase("b", 2, requires=1, checkpoint="human"))),
    ("built-in types need no file", mission(phase("a", agents=[agent("Explore"), agent("general-purpose"),
                                                               agent("Plan")]))),
    ("writer as general-purpose", mission(phase("a", agents=[agent("implementer", subagent_type=GP)]))),
    ("subagent_type from the agent file", mission(phase("a", agents=[agent("writer2")]), extra={
        "agents/writer2.md": "---\nname: writer2\ntools: [Read, Write]\nsubagent_type: general-purpose\n---\n"})),
    ("read-only agent as Explore", mission(phase("a", agents=[agent("scout", subagent_type="Explore")]))),
    ("agent file without tools is no writer", mission(phase("a", agents=[agent("bare", subagent_type="Explore")]))),
    ("writes: false opts out of phase file outputs", mission(phase("a", outputs=[{"file": "r.md"}], agents=[
        agent("scout", subagent_type="Explore", writes=False), agent("implementer", subagent_type=GP)]))),
    ("parallel, disjoint scopes", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope=["src/api/", "tests/api/"]),
        agent("bare", subagent_type=GP, scope=["src/web", "tests/web"]),
        agent("scout", subagent_type="Explore", scope="docs/*.md")]))),
    ("parallel, different free text", mission(phase("a", parallel=True, agents=[
        agent("implementer", subagent_type=GP, scope="backend services"),
        agent("bare", subagent_type=GP, scope="frontend components")]))),
    ("not parallel, same scope", mission(phase("a", agents=[
        agent("implementer", subagent_type=GP, scope="src/"), agent("bare", subagent_type=GP, scope="src/")]))),
    ("parallel, one agent without scope", mission(phase("a", parallel=True, agents=[agent("implementer",
                                                                                         subagent_type=GP)]))),
]


@pytest.mark.parametrize(("files", "expected"), [case[1:] for case in FAILING], ids=[case[0] for case in FAILING])
def test_validate_reports_rule_and_phase(files: dict[str, bytes], expected: list[tuple[str, str | None]]) -> None:
    assert found(files) == expected


@pytest.mark.parametrize("files", [case[1] for case in PASSING], ids=[case[0] for case in PASSING])
def test_validate_passes(files: dict[str, bytes]) -> None:
    assert validate_mission_files(files) == []


def test_every_rule_has_a_failing_case() -> None:
    assert {rule for _, _, expected in FAILING for rule, _ in expected} == set(RULES)


def test_validate_collects_every_violation_in_rule_order() -> None:
    files = mission(phase("a", 1, completion=DROP, agents=[agent("ghost")]), phase("b", 1, requires=7))
    assert found(files) == [("phase-number", "b"), ("requires-exists", "b"), ("completion", "a"),
                            ("agent-exists", "a")]


def test_validate_messages_name_the_cycle_and_the_evidence() -> None:
    cycle = validate_mission_files(mission(phase("a", 1, requires=2), phase("b", 2, requires="a")))
    assert cycle[0].message == "circular requires: a -> b -> a"
    writer = validate_mission_files(mission(phase("a", agents=[agent("implementer", subagent_type="Explore")])))
    assert "tool Write in agents/implementer.md" in writer[0].message
    assert str(writer[0]).startswith("subagent-type [a]: ")


def test_validate_accepts_agents_known_outside_the_mission() -> None:
    files = mission(phase("a", agents=[agent("code-reviewer", subagent_type="code-reviewer")]))
    assert found(files) == [("agent-exists", "a"), ("agent-exists", "a")]
    assert found(files, known_agents={"code-reviewer"}) == []


def test_validate_raises_for_an_unreadable_workflow() -> None:
    with pytest.raises(InvalidInput, match=r"^workflow\.md:4: invalid YAML"):
        validate_mission_files({"workflow.md": b"---\nphases:\n  - id: a\n   number: 1\n---\n"})


def test_validate_raises_for_an_unreadable_agent_file() -> None:
    files = mission(phase("a"), extra={"agents/broken.md": "---\nname: broken\ntools: [Read\n---\n"})
    with pytest.raises(InvalidInput, match=r"^agents/broken\.md:\d+: invalid YAML"):
        validate_mission_files(files)


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("src/", "src", True),
        ("src/", "src/api/", True),
        ("./src/api", "src/api/", True),
        ("src", "srcs", False),
        ("src/api/", "src/web/", False),
        ("src/", "tests/", False),
        ("*.md", "README.md", True),
        ("*.md", "docs/", True),  # fnmatch's * crosses /: docs/guide.md is a *.md
        ("src/api/*", "src/web/*", False),
        ("src/*.py", "src/api", True),
        ("docs/*.md", "docs/*.rst", True),  # conservative: globs in one directory count as overlapping
        (".", "anything at all", True),
        ("**", "src/", True),
        ("frontend components", "Frontend Components", True),
        ("frontend components", "backend services", False),
        ("frontend components", "frontend/", False),
    ],
)
def test_scopes_overlap(first: str, second: str, overlap: bool) -> None:
    assert scopes_overlap(first, second) is overlap
    assert scopes_overlap(second, first) is overlap


# ---------------------------------------------------------------------------------------------------- parsing

YAML_BODY = """name: wf
phases:
  - id: analysis
    number: 1
    agents:
      - type: scout
        subagent_type: Explore
        scope: src/
    completion: done
  - id: build
    number: 2
    requires: analysis
    checkpoint: human
"""


@pytest.mark.parametrize(
    "text",
    [
        f"---\n{YAML_BODY}---\n\n# Body\n\n```yaml\nphases: []\n```\n",
        f"# Workflow\n\nProse first.\n\n```yaml\n{YAML_BODY}```\n\n```yaml\nname: second\n```\n",
        YAML_BODY,
        f"---\n{YAML_BODY}",  # a YAML document start marker, never closed: not frontmatter
    ],
    ids=["frontmatter", "fenced", "whole", "document-marker"],
)
def test_parse_workflow_forms(text: str) -> None:
    parsed = parse_workflow(text.encode())
    assert parsed.name == "wf"
    assert [(p.id, p.number, p.requires, p.checkpoint) for p in parsed.phases] == [
        ("analysis", 1, [], None), ("build", 2, [1], "human")]
    assert parsed.phases[0].agents == [AgentRef(type="scout", subagent_type="Explore", scope=["src/"])]
    assert parsed.phases[1].completion is None and parsed.phases[1].parallel is False


@pytest.mark.parametrize(
    ("requires", "numbers", "unknown"),
    [
        (1, [1], []),
        ([1, 2], [1, 2], []),
        ("first", [1], []),
        (["first", 2, "second", 1], [1, 2], []),
        (["first", "missing"], [1], ["missing"]),
        (7, [7], []),
        ([], [], []),
    ],
)
def test_parse_workflow_normalises_requires(requires: Any, numbers: list[int], unknown: list[str]) -> None:
    text = yaml.safe_dump({"phases": [phase("first", 1), phase("second", 2), phase("third", 3, requires=requires)]})
    third = parse_workflow(text).phases[2]
    assert (third.requires, third.unknown_requires) == (numbers, unknown)


def test_parse_workflow_reads_every_field() -> None:
    text = """phases:
  - id: p
    number: 3
    name: Build it
    parallel: true
    checkpoint: true
    completion: [tests pass, committed]
    agents:
      - implementer
      - type: scout
        subagent_type: Explore
        scope: [src/a, src/b]
        writes: false
        tools: Read, Grep
    outputs:
      - log_decision: key choices
      - files: [a.md, b.md]
      - a plain note
"""
    parsed = parse_workflow(text).phases[0]
    assert (parsed.name, parsed.parallel, parsed.checkpoint, parsed.completion) == (
        "Build it", True, "human", "tests pass; committed")
    assert parsed.agents == [
        AgentRef(type="implementer"),
        AgentRef(type="scout", subagent_type="Explore", scope=["src/a", "src/b"], writes_files=False,
                 tools=["Read", "Grep"]),
    ]
    assert parsed.outputs == [Output("log_decision", "key choices"), Output("file", "a.md"), Output("file", "b.md"),
                              Output("text", "a plain note")]
    assert parsed.line == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nname: x\nphases:\n  - id: a\n   number: 1\n---\n", r"^workflow\.md:5: invalid YAML"),
        ("---\nname: x\nphases: [1, 2\nnext: 3\n---\n", r"^workflow\.md:4: invalid YAML"),
        ("# W\n\n```yaml\nphases:\n  - id: a\n   number: 1\n```\n", r"^workflow\.md:6: invalid YAML"),
        ("phases:\n  - id: a\n   number: 1\n", r"^workflow\.md:3: invalid YAML: .* the whole file was read as YAML"),
        ("# W\n\n```yaml\nphases: []\n", r"^workflow\.md:3: the ```yaml block opened here is never closed"),
        ("just prose", r"^workflow\.md: expected a mapping with a `phases` list, found str \(no `---` frontmatter"),
        ("", r"^workflow\.md: expected a mapping"),
        ("name: x\n", r"^workflow\.md:1: `phases` must be a non-empty list"),
        ("phases: []\n", r"`phases` must be a non-empty list"),
        ("phases: [just-a-string]\n", r"^workflow\.md: phase 1 must be a mapping"),
        ("phases:\n  - number: 1\n", r"^workflow\.md:2: phase 1 has no `id`"),
        ("phases:\n  - id: a\n  - id: a\n", r"^workflow\.md:3: two phases have the id 'a'"),
        ("phases:\n  - id: a\n    agents: implementer\n", r"^workflow\.md:2: phase 'a': `agents` must be a list"),
        ("phases:\n  - id: a\n    agents:\n      - scope: src/\n", r"^workflow\.md:4: phase 'a': agent has no `type`"),
        ("phases:\n  - id: a\n    parallel: sometimes\n", r"^workflow\.md:2: `parallel` must be true or false"),
        ("phases:\n  - id: a\n    agents: [{type: x, writes: maybe}]\n", r"`writes` must be true or false"),
        ("phases:\n  - id: a\n    agents: [{type: x, tools: 5}]\n", r"`tools` must be a string or a list"),
        ("phases:\n  - id: a\n    requires: 1.5\n", r"`requires` takes phase numbers or ids, not 1\.5"),
        ("phases:\n  - id: a\n    outputs: {file: x}\n", r"`outputs` must be a list"),
        ("phases:\n  - id: a\n    outputs: [{file: [1]}]\n", r"file outputs must be paths"),
    ],
)
def test_parse_workflow_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_workflow(text.encode())


def test_parse_workflow_rejects_non_utf8_with_the_source_name() -> None:
    with pytest.raises(InvalidInput, match=r"^missions/x/workflow\.md: not UTF-8"):
        parse_workflow(b"phases: \xff\n", source="missions/x/workflow.md")


# ---------------------------------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("profile", PROFILES)
def test_render_profile_validates_clean(profile: str) -> None:
    files = render_profile(profile, "2025-01-02-fix-login", "Fix: login {braces} \"quoted\" # not a comment")
    assert {"mission.md", "workflow.md", "start.md"} <= set(files)
    assert validate_mission_files(files) == []
    for path, data in files.items():
        assert b"{mission_id}" not in data and b"{title}" not in data, path
    front = yaml.safe_load(files["mission.md"].decode().split("---\n")[1])
    assert front == {"mission_id": "2025-01-02-fix-login", "title": 'Fix: login {braces} "quoted" # not a comment',
                     "profile": profile}
    start = files["start.md"].decode()
    assert "2025-01-02-fix-login" in start
    assert [tool for tool in MCP_TOOLS if tool not in start] == []


@pytest.mark.parametrize("profile", PROFILES)
def test_render_profile_agents_have_full_frontmatter(profile: str) -> None:
    files = render_profile(profile, "m", "t")
    agent_files = {path: data for path, data in files.items() if path.startswith("agents/")}
    assert agent_files
    for path, data in agent_files.items():
        front = yaml.safe_load(data.decode().split("---\n")[1])
        assert set(front) == {"name", "description", "tools", "subagent_type"}, path
        assert front["name"] == Path(path).stem


def test_profiles_have_their_shapes() -> None:
    simple, standard, complex_ = (parse_workflow(render_profile(p, "m", "t")["workflow.md"]).phases for p in PROFILES)
    assert 1 <= len(simple) <= 2 and len({a.type for p in simple for a in p.agents}) == 1
    assert [p.id for p in standard] == ["analysis", "implementation", "review"]
    assert [p.checkpoint for p in standard] == [None, "human", None]
    assert len(complex_) >= 5
    parallel = [p for p in complex_ if p.parallel]
    assert len(parallel) == 1 and len(parallel[0].agents) >= 2 and parallel[0].checkpoint == "human"


def test_profiles_share_identical_agent_files() -> None:
    # Each profile is a self-contained mission directory; an agent used by several must not drift apart.
    seen: dict[str, bytes] = {}
    for profile in PROFILES:
        for path, data in render_profile(profile, "m", "t").items():
            if path.startswith("agents/"):
                assert seen.setdefault(path, data) == data, f"{profile}/{path} differs"


def test_render_profile_leaves_placeholder_text_in_values_alone() -> None:
    files = render_profile("simple", "m-1", "Document {mission_id} and {title}")
    assert "# Document {mission_id} and {title}\n" in files["mission.md"].decode()


def test_render_profile_rejects_unknown_profile() -> None:
    with pytest.raises(InvalidInput, match=r"unknown profile 'huge'; valid profiles: simple, standard, complex"):
        render_profile("huge", "m", "t")


@pytest.mark.parametrize("title", ["", "  ", "two\nlines", "nul\x00"])
def test_render_profile_rejects_unusable_titles(title: str) -> None:
    with pytest.raises(InvalidInput, match="one non-empty line of printable text"):
        render_profile("simple", "m", title)


@pytest.mark.parametrize("mission_id", ["", "Upper", "-dash", "a/b", "x\ny"])
def test_render_profile_rejects_invalid_mission_ids(mission_id: str) -> None:
    with pytest.raises(InvalidInput, match="invalid mission id"):
        render_profile("simple", mission_id, "t")


# ---------------------------------------------------------------------------------------------------- directories


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_read_mission_dir_round_trips_a_rendered_profile(tmp_path: Path) -> None:
    files = render_profile("complex", "m-2", "Round trip")
    write_tree(tmp_path, files)
    assert read_mission_dir(tmp_path) == files
    assert validate_mission_files(read_mission_dir(tmp_path)) == []


def test_read_mission_dir_skips_dotfiles_and_follows_inner_links(tmp_path: Path) -> None:
    write_tree(tmp_path, {"mission.md": b"m", "agents/a.md": b"a", ".git/HEAD": b"ref", "agents/.a.md.swp": b"x",
                          ".hidden/x.md": b"x"})
    (tmp_path / "agents" / "b.md").symlink_to("a.md")
    (tmp_path / "linked-agents").symlink_to("agents", target_is_directory=True)
    os.mkfifo(tmp_path / "pipe")
    assert read_mission_dir(tmp_path) == {"agents/a.md": b"a", "agents/b.md": b"a", "mission.md": b"m"}


def test_read_mission_dir_refuses_links_out(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    mission_dir = tmp_path / "mission"
    write_tree(mission_dir, {"mission.md": b"m"})
    (mission_dir / "agents").mkdir()
    (mission_dir / "agents" / "x.md").symlink_to(outside)
    with pytest.raises(InvalidInput, match="symlink leads outside the mission directory"):
        read_mission_dir(mission_dir)


def test_read_mission_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "mission.md").write_text("m")
    with pytest.raises(InvalidInput, match="not a directory"):
        read_mission_dir(tmp_path / "mission.md")


def test_read_mission_dir_caps_count_and_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {f"f{i}.md": b"x" * 10 for i in range(4)})
    monkeypatch.setattr(missiondir, "MAX_FILES", 3)
    with pytest.raises(InvalidInput, match="more than 3 files"):
        read_mission_dir(tmp_path)
    monkeypatch.setattr(missiondir, "MAX_FILES", 10)
    monkeypatch.setattr(missiondir, "MAX_FILE_BYTES", 9)
    with pytest.raises(InvalidInput, match="larger than 9 bytes"):
        read_mission_dir(tmp_path)
    monkeypatch.setattr(missiondir, "MAX_FILE_BYTES", 10)
    monkeypatch.setattr(missiondir, "MAX_TOTAL_BYTES", 35)
    with pytest.raises(InvalidInput, match="more than 35 bytes in all"):
        read_mission_dir(tmp_path)
