import pytest

from gitclaim.core import mission as m
from gitclaim.errors import CorruptMission


def test_render_then_parse_round_trips() -> None:
    orig = m.Mission("abc", "Title: with colon", status=m.ACTIVE, priority=1, requires=("x", "y"),
                     claimed_by='quote " and \u00e9', claim_epoch=3, body="# Body\n\ntext\n",
                     extra={"custom": {"k": [1, 2]}})
    assert m.parse(m.render(orig), "abc") == orig


def test_rendered_frontmatter_is_valid_yaml() -> None:
    import frontmatter

    post = frontmatter.loads(m.render(m.Mission("abc", "T", claimed_by="a: b # c")).decode())
    assert post.metadata["claimed_by"] == "a: b # c"
    assert post.metadata[m.FORMAT_KEY] == m.FORMAT_VERSION


def test_hand_written_seed_file_parses_without_format() -> None:
    text = (b"---\nmission_id: 2025-12-22-thaifa-migration-critical\nstatus: QUEUED\nassigned_to: Claude Code\n"
            b"created: 2025-12-22\ntitle: Thaifa\n---\n# Mission\n")
    mis = m.parse(text, "2025-12-22-thaifa-migration-critical", require_format=False)
    assert mis.status == m.QUEUED and mis.created == "2025-12-22T00:00:00Z" and mis.assigned_to == "Claude Code"


@pytest.mark.parametrize("data,needle", [
    (b"---\ntitle: [unclosed\n---\n", "not valid YAML"),
    (b"no frontmatter\n", "no YAML frontmatter"),
    (b"---\n" + m.FORMAT_KEY.encode() + b": 99\nmission_id: x\ntitle: t\n---\n", "format version 99"),
    (b"---\nmission_id: x\ntitle: t\n---\n", "no gitclaim_format"),
    (b"---\n" + m.FORMAT_KEY.encode() + b": 1\nmission_id: x\ntitle: t\nstatus: WEIRD\n---\n", "'status'"),
    (b"---\n" + m.FORMAT_KEY.encode() + b": 1\nmission_id: x\ntitle: t\npriority: [1]\n---\n", "priority"),
    (b"---\n" + m.FORMAT_KEY.encode() + b": 1\nmission_id: y\ntitle: t\n---\n", "names mission_id 'y'"),
    (b"---\n" + m.FORMAT_KEY.encode() + b": 1\nmission_id: x\n---\n", "'title'"),
    (b"\x00\x01binary", "binary"),
    (b"---\n- a list\n---\n", "not a mapping"),
])
def test_parse_refuses_with_the_mission_named(data: bytes, needle: str) -> None:
    with pytest.raises(CorruptMission) as err:
        m.parse(data, "x")
    assert str(err.value).startswith("mission x: ")
    assert needle in str(err.value)


@pytest.mark.parametrize("value,expected", [(0, 0), ("P0", 0), ("p3", 3), ("high", 1), ("critical", 0),
                                            ("7", 7)])
def test_priority_forms(value, expected) -> None:
    assert m.parse_priority(value) == expected


def test_one_field_list_gives_the_json_the_file_and_the_mcp_schema() -> None:
    fields = m.FIELDS
    model = set(m.Mission._fields) - {"body", "extra"}
    assert [f.name for f in fields] == [name for name in m.Mission._fields if name in model]
    mis = m.Mission("m1", "T", requires=("r1",), claim_user="u", claim_epoch=2)
    assert list(mis.to_json()) == [f.json for f in fields]
    assert (mis.to_json()["requires"], mis.to_json()["user"], mis.to_json()["epoch"]) == (["r1"], "u", 2)
    head = m.render(mis).decode().split("---\n")[1]
    # A sparse field (added after missions were written) is in the file only when set.
    assert [ln.split(":")[0] for ln in head.splitlines()] == [m.FORMAT_KEY, *(f.name for f in fields
                                                                              if not f.sparse)]
    signed = m.render(mis.evolve(claim_principal="alice")).decode()
    assert 'claim_principal: "alice"' in signed
    assert m.parse(signed.encode(), "m1").claim_principal == "alice"
    assert mis.to_json()["principal"] is None
    schemas = pytest.importorskip("gitclaim.mcp.schemas")
    # beside the fields, the signature state of the claim (derived from the commits, not a field of mission.md)
    assert list(schemas.MissionInfo.model_fields) == [*(f.json for f in fields), "signature"]
    required = schemas.MissionInfo.model_json_schema()["required"]
    assert required == [f.json for f in fields if f.required] == ["mission_id", "title", "status", "priority"]
