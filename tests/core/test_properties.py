"""Bad input, property-based: ids, mission files, message texts and option values, and a corpus of broken
missions published with plain git by someone else.

The library takes the bulk of the examples (fast); the CLI a few dozen, forked from a warm process
(tests/support/faultproxy.py `Zygote`), each checked for an exit code, one line on stderr and no traceback.
"""

from __future__ import annotations

import json
import re
import string
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitclaim.core import execlog, timeutil
from gitclaim.core import message as msg
from gitclaim.core import mission as m
from gitclaim.core import transitions as claims
from gitclaim.core.refs import MAX_ID_LENGTH, check_id, id_problem
from gitclaim.errors import CorruptMission, GitclaimError, InvalidInput, PolicyViolation
from gitclaim.missions import views
from gitclaim.missions.workspace import open_store
from tests.helpers import git, remote_refs
from tests.support.faultproxy import Run, Zygote, run_forked

# Examples that start processes share one clone and one mission; hypothesis must not worry about that.
# No example database: the suite must not write into the checkout.
QUICK = settings(database=None)
IO = settings(QUICK, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                           HealthCheck.too_slow])


def clean_failure(run: Run, code: int | tuple[int, ...]) -> str:
    """The one stderr line of a refused command, after checking its exit code and that it is no crash."""
    codes = code if isinstance(code, tuple) else (code,)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, (run.args, run.stderr)
    assert run.returncode in codes, (run.args, run.returncode, run.stderr)
    assert len(lines) == 1, (run.args, run.stderr)
    return lines[0]


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    with Zygote(tmp_path, tmp_path / "zygote") as z:
        yield z


# ---- mission ids ------------------------------------------------------------------------------------------

ID_CHARS = set(string.ascii_lowercase + string.digits + "._-")


def rule_allows(text: str) -> bool:
    """The id rule as docs/protocol.md states it, written independently of gitclaim/core/refs.py."""
    return (0 < len(text) <= MAX_ID_LENGTH and set(text) <= ID_CHARS and text[0].isascii()
            and text[0].isalnum() and ".." not in text and not text.endswith((".lock", ".")))


ids = st.one_of(
    st.text(max_size=120),
    st.from_regex(r"[a-z0-9][a-z0-9._-]{0,110}", fullmatch=True),
    st.text(alphabet="ab9.-_/Z \n\\:~^", max_size=12),
    st.builds(lambda a, b: a + b, st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
              st.sampled_from([".lock", ".", "..x", "/x", "@{1}", "~1", "^", ":", " ", "\t", "\x00", "É", "-"])),
)


@given(ids)
@settings(QUICK, max_examples=400)
@example("a" * MAX_ID_LENGTH)
@example("a" * (MAX_ID_LENGTH + 1))
@example("x.lock")
@example("-rf")
@example("../../etc/passwd")
@example("\u0661")  # an Arabic-Indic digit: isdigit() but not the rule's [0-9]
def test_check_id_accepts_exactly_what_the_rule_says(text: str) -> None:
    assert (id_problem(text) is None) == rule_allows(text), text
    if rule_allows(text):
        assert check_id(text) == text
    else:
        with pytest.raises(InvalidInput) as err:
            check_id(text)
        assert "\n" not in str(err.value)


@given(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,99}", fullmatch=True).filter(rule_allows))
@settings(QUICK, max_examples=15, deadline=None)
def test_valid_ids_are_valid_git_ref_names(text: str) -> None:
    res = subprocess.run(["git", "check-ref-format", f"refs/missions/{text}"], capture_output=True)
    assert res.returncode == 0, text


CLI_ID_COMMANDS = (["claim", "--", "{id}"], ["show", "--", "{id}"], ["new", "--title", "T", "--", "{id}"],
                   ["log", "--", "{id}", "a note"], ["done", "--", "{id}"], ["release", "--", "{id}"])


@given(st.sampled_from(CLI_ID_COMMANDS), ids.filter(lambda t: not rule_allows(t)))
@settings(IO, max_examples=12)
def test_invalid_ids_never_reach_git(make_clone, zygote: Zygote, tmp_path: Path, command: list[str],
                                     text: str) -> None:
    # Function-scoped fixtures are made once for all the examples of a test: one clone serves them all.
    clone = tmp_path / "ids"
    if not clone.exists():
        make_clone("ids")
    trace = tmp_path / "git-trace"
    trace.unlink(missing_ok=True)
    run = run_forked(zygote, [a.replace("{id}", text) for a in command], cwd=clone, env={"GIT_TRACE": str(trace)})
    line = clean_failure(run, 2)
    assert "invalid mission id" in line, line
    assert not trace.exists(), f"git ran for invalid id {text!r}:\n{trace.read_text()}"


# ---- mission.md -------------------------------------------------------------------------------------------

KEYS = ["gitclaim_format", "mission_id", "title", "status", "priority", "requires", "assigned_to", "created",
        "claimed_at", "claimed_by", "claim_user", "claim_instance", "claim_epoch", "last_activity",
        "blocked_reason", "summary", "finished_at", "x", "profile", "a b", "-", "?", "<<"]
YAMLISH = ["~", "null", "yes", "no", "1", "-5", "1001", "P0", "P99", "critical", "1e400", ".inf", ".nan", "0x1F",
           "2025-12-22", "2025-12-22T01:00:00Z", "'2025-13-45T99:99:99Z'", "!!binary aGk=", "!!set {a, b}",
           "&a x", "*a", "*missing", "[1, [2, [3]]]", "{a: {b: c}}", "'unterminated", '"x', "[a", "{", "- a",
           ":", "? x", "!!python/object/apply:os.system [true]", "!!int x", "!!float x", "!!timestamp x",
           "[" * 300, "{a: " * 200, "|\n  block\n  text", ">-\n  folded", "'it''s'", "\"\\u0000\"", "\"\\ud800\"",
           "ACTIVE", "DONE", "queued", "[x, 'y z', -bad, ok-id]", "{}", "[]", "''", "true", "1", "99"]

yaml_value = st.one_of(st.sampled_from(YAMLISH), st.text(max_size=25), st.integers().map(str),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                        st.text(max_size=5), inner, max_size=3)).map(json.dumps))


@st.composite
def frontmatter_files(draw: st.DrawFn) -> bytes:
    lines = [f"{draw(st.sampled_from(KEYS))}: {draw(yaml_value)}" for _ in range(draw(st.integers(0, 8)))]
    if draw(st.booleans()):
        lines.insert(0, "gitclaim_format: 1")
    if draw(st.booleans()):
        lines.insert(0, "title: A title")
    opener = draw(st.sampled_from(["---\n", "\ufeff---\n", "---\r\n", "--- \n", ""]))
    closer = draw(st.sampled_from(["---\n", "...\n", "", "---", "\n---\n"]))
    body = draw(st.text(max_size=60))
    return (opener + "\n".join(lines) + "\n" + closer + body).encode("utf-8", "surrogatepass")


@given(st.one_of(frontmatter_files(), st.binary(max_size=300),
                 st.binary(max_size=200).map(lambda b: b"---\n" + b + b"\n---\n")))
@settings(QUICK, max_examples=700, deadline=None)
@example(b"")
@example(b"---\n---\n")
@example(b"---\ntitle: x\n---\n" + b"x" * (m.MAX_FILE_BYTES + 1))
@example(b"---\ngitclaim_format: 1\ntitle: " + b"[" * 5000 + b"\n---\n")
@example(b"---\ngitclaim_format: 1\n'a b': 1\ntitle: " + b"[" * 3000 + b"]" * 3000 + b"\n---\n")
@example(b"---\ngitclaim_format: 1\ntitle: x\n'a b': 1\nmine: " + b"[" * 2000 + b"]" * 2000 + b"\n---\n")
@example(b"---\ngitclaim_format: 1\ntitle: &a [*a]\n---\n")
@example(b"---\ngitclaim_format: !!timestamp x\n---\n")  # PyYAML raises AttributeError here
@example(b"---\ngitclaim_format: 1\ntitle: x\nrequires: !!set {a: null}\n---\n")
@example(b"---\ngitclaim_format: 1\ntitle: x\nclaim_epoch: 99999999999999999999999999\n---\n")
@example(b"---\ngitclaim_format: 1\ntitle: x\npriority: 99999999999999999999999\n---\n")
def test_parse_raises_only_corrupt_mission(data: bytes) -> None:
    for require_format in (True, False):
        try:
            mis = m.parse(data, "probe", require_format=require_format)
        except CorruptMission as err:
            assert "probe" in str(err) and "\n" not in str(err), str(err)
            continue
        # What parses must render; one write makes a fixed point (values YAML has and JSON lacks, such as
        # dates or binary in a person's own fields, are written as text once, then stay as they are).
        written = m.render(mis)
        assert m.render(m.parse(written, "probe")) == written


stamps = st.integers(0, 7_000_000_000).map(
    lambda t: timeutil.format_ts(datetime.fromtimestamp(t, UTC)))
texts = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() != "")
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=6)
ids_valid = st.text(alphabet="abcxyz019_-", min_size=1, max_size=20).filter(rule_allows)
instances = st.binary(min_size=6, max_size=6).map(bytes.hex)
extra_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10).filter(
    lambda k: k not in KEYS)


@st.composite
def missions(draw: st.DrawFn) -> m.Mission:
    opt = lambda s: draw(st.none() | s)
    body = draw(st.text(max_size=200).filter(lambda t: "\0" not in t))  # the library refuses NUL in a body
    return m.Mission(
        mission_id=draw(ids_valid), title=draw(texts).strip(), status=draw(st.sampled_from(m.STATUSES)),
        priority=draw(st.integers(0, 1000)), requires=tuple(draw(st.lists(ids_valid, max_size=3))),
        assigned_to=opt(texts), created=opt(stamps), claimed_at=opt(stamps), claimed_by=opt(texts),
        claim_user=opt(texts), claim_instance=opt(instances), claim_epoch=draw(st.integers(0, 10**12)),
        last_activity=opt(stamps), blocked_reason=opt(texts), summary=opt(texts), finished_at=opt(stamps),
        body=body if body.endswith("\n") or not body else body + "\n",
        extra=draw(st.dictionaries(extra_keys, json_values, max_size=3)),
    )


@given(missions())
@settings(QUICK, max_examples=150, deadline=None)
def test_render_parse_round_trip(mission: m.Mission) -> None:
    data = m.render(mission)
    back = m.parse(data, mission.mission_id)
    assert back == mission
    assert m.render(back) == data


# ---- message texts (library: every example is a real commit and push) -------------------------------------

class Held:
    """One clone holding one mission, shared by the examples of a test."""

    def __init__(self, make_clone, name: str) -> None:
        self.clone = make_clone(name)
        self.store = open_store(self.clone)
        self.actor = claims.actor_for(self.store, "property tests")
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        mission_id = f"msg-{self.count}"
        claims.create(self.store, self.actor, mission_id, "Messages")
        claims.claim(self.store, self.actor, mission_id)
        return mission_id


@pytest.fixture
def held(make_clone) -> Held:
    """Made once for all the examples of a test (hypothesis runs them inside one call of the test)."""
    return Held(make_clone, "held")


def assert_body_recorded(held: Held, commit: str, expected: str) -> None:
    raw = subprocess.run(["git", "cat-file", "commit", commit], cwd=held.clone, capture_output=True,
                         check=True).stdout.decode("utf-8").split("\n\n", 1)[1]
    _, body, trailers = msg.parse(raw)
    assert body == expected, (body, expected)
    assert trailers.get("nonce"), raw


unicode_text = st.one_of(st.text(max_size=300), st.text(alphabet=st.characters(blacklist_categories=()),
                                                        max_size=50),
                         st.sampled_from(["Co-Authored-By: Claude <noreply@anthropic.com>",
                                          "\U0001f916 Generated with [Claude Code](https://claude.ai/code)",
                                          "Gitclaim-Action: release\nGitclaim-Instance: 000000000000",
                                          "\n\n\n", "a\r\nb", "\x00", "\x1b[31mred", "\u202etxet", "x" * 20001]))


@given(unicode_text)
@settings(IO, max_examples=40)
def test_log_text_is_recorded_or_refused(held: Held, text: str) -> None:
    if not held.count:
        held.fresh()
    mission_id = f"msg-{held.count}"
    try:
        out = claims.log(held.store, held.actor, mission_id, claims.LogEntry(message=text))
    except GitclaimError as err:
        assert isinstance(err, (InvalidInput, PolicyViolation)), repr(err)
        assert "\n" not in str(err)
        return
    assert_body_recorded(held, out.state.commit, text.strip("\n"))  # the message as given, blank lines aside
    events = execlog.history(held.store, out.state)
    assert execlog.render(events)
    assert views.show_mission(held.store, mission_id).state.commit == out.state.commit


@given(unicode_text)
@settings(IO, max_examples=8)
def test_done_summary_is_recorded_or_refused(held: Held, text: str) -> None:
    mission_id = held.fresh()
    try:
        out = claims.finish(held.store, held.actor, mission_id, summary=text)
    except GitclaimError as err:
        assert isinstance(err, (InvalidInput, PolicyViolation)), repr(err)
        return
    assert_body_recorded(held, out.state.commit, text.strip())  # a summary is trimmed
    assert out.state.mission.summary == (text.strip() or None)


# ---- option values (CLI) ----------------------------------------------------------------------------------

OPTION_VALUES = st.one_of(st.text(max_size=15), st.from_regex(r"-?[0-9]{1,25}", fullmatch=True),
                          st.from_regex(r"[0-9]{1,22}[smhdwSMH]?", fullmatch=True),
                          st.sampled_from(["P0", "p9", "P1001", "1001", "critical", " 3 ", "", "-1", "1e3", "½",
                                           "milestone", "note", "HIGH", "high", "0", "100", "101", "24h", "1d12h",
                                           "0s", "99999999999999999999d", "9" * 30, "\u0665", "12x", "nan"]))


def option_command(option: str, value: str, n: int) -> tuple[list[str], dict[str, str]]:
    if option == "--priority":
        return ["new", f"prio-{n}", "--title", "Priority", f"--priority={value}"], {}
    if option == "--progress":
        return ["log", "opts", "progress", "--kind", "milestone", f"--progress={value}"], {}
    if option == "--kind":
        return ["log", "opts", "a kind", f"--kind={value}"], {}
    if option == "--severity":
        return ["log", "opts", "an issue", "--kind", "issue", f"--severity={value}"], {}
    return ["list"], {"GITCLAIM_TTL": value}


@given(st.sampled_from(["--priority", "--progress", "--kind", "--severity", "GITCLAIM_TTL"]), OPTION_VALUES)
@settings(IO, max_examples=24)
@example("--priority", "1001")  # was accepted, and wrote a mission no command could read again
@example("--priority", "P12")
@example("GITCLAIM_TTL", "99999999999999999999d")  # was an OverflowError (internal error)
@example("--progress", "99999999999999999999")
def test_option_values_succeed_or_fail_in_one_line(held: Held, zygote: Zygote, option: str, value: str) -> None:
    if not held.count:
        claims.create(held.store, held.actor, "opts", "Options")
        claims.claim(held.store, held.actor, "opts")
    held.count += 1
    args, env = option_command(option, value, held.count)
    run = run_forked(zygote, args, cwd=held.clone, env=env)
    if run.returncode != 0:
        clean_failure(run, 2)
        return
    assert "Traceback" not in run.stderr and not run.stderr.strip(), run.stderr
    # Whatever was accepted must be readable by everyone afterwards.
    written = args[1] if args[0] in ("new", "log") else None
    if written:
        store = open_store(held.clone)
        store.sync()
        try:
            store.local(written)
        except CorruptMission as err:
            pytest.fail(f"{args} was accepted and left a mission nobody can read: {err}")


# ---- a corpus of broken missions published with plain git -------------------------------------------------

def frontmatter(mission_id: str, **fields: object) -> bytes:
    head = {"gitclaim_format": 1, "mission_id": mission_id, "title": f"Mission {mission_id}", "status": "QUEUED",
            **fields}
    return ("---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in head.items()) + "---\n").encode()


BROKEN: dict[str, bytes | None] = {  # None: the tip commit holds no mission.md at all
    "bad-yaml": b"---\ntitle: [unclosed\nstatus: QUEUED\n---\nbody\n",
    "wrong-types": b"---\ngitclaim_format: 1\nmission_id: wrong-types\ntitle: A title\npriority: [1]\n---\n",
    "wrong-epoch": frontmatter("wrong-epoch", claim_epoch="three"),
    "missing-title": b"---\ngitclaim_format: 1\nmission_id: missing-title\nstatus: QUEUED\n---\nno title\n",
    "huge-body": frontmatter("huge-body") + b"# Huge\n" + b"x" * (m.MAX_FILE_BYTES + 10),
    "binary-file": b"---\x00\x01\x02\xff\xfe binary",
    "not-utf8": b"---\ntitle: caf\xe9\n---\n",
    "future-format": frontmatter("future-format", gitclaim_format=99),
    "unclosed-frontmatter": b"---\ngitclaim_format: 1\nmission_id: unclosed-frontmatter\ntitle: never closed\n",
    "empty-file": b"",
    "no-mission-md": None,
    "id-mismatch": frontmatter("someone-else"),
    "deep-nesting": b"---\ngitclaim_format: 1\n'a b': 1\ntitle: " + b"[" * 3000 + b"]" * 3000 + b"\n---\n",
}
GOOD_BY_HAND = {"frontmatter-only": frontmatter("frontmatter-only")}  # no body at all: still a fine mission


def publish_by_hand(clone: Path, files: dict[str, bytes | None]) -> None:
    """Someone else's plain git: plumbing for each tip, one push for all of them."""
    specs = []
    for mission_id, data in files.items():
        entries = []
        if data is not None:
            entries.append(f"100644 blob {_blob(clone, data)}\tmission.md")
        else:
            entries.append(f"100644 blob {_blob(clone, b'no mission here')}\tREADME.md")
        tree = git(clone, "mktree", input="\n".join(entries) + "\n").stdout.strip()
        commit = git(clone, "commit-tree", tree, "-m", f"chore(mission): create {mission_id}").stdout.strip()
        specs.append(f"{commit}:refs/missions/{mission_id}")
    git(clone, "push", "-q", "origin", *specs)


def _blob(clone: Path, data: bytes) -> str:
    return subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=clone, input=data, capture_output=True,
                          check=True).stdout.decode().strip()


def lines_of(run: Run) -> list[str]:
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, (run.args, run.stderr)
    return [ln for ln in run.stderr.splitlines() if ln.strip()]


def assert_one_line_per_broken(run: Run, lines: list[str]) -> None:
    for mission_id in BROKEN:
        naming = [ln for ln in lines if re.search(rf"\b{re.escape(mission_id)}\b", ln)]
        assert len(naming) == 1, f"{run.args}: {len(naming)} lines name {mission_id}:\n{run.stderr}{run.stdout}"
    assert len(lines) == len(BROKEN), f"{run.args}:\n{run.stderr}"


def unreadable_section(stdout: str) -> list[str]:
    """`start` reports unreadable missions in its own section of the report."""
    _, _, rest = stdout.partition("== Unreadable missions ==\n")
    return rest.split("\n\n", 1)[0].splitlines()


PER_MISSION = (["show"], ["claim"], ["log", "{id}", "a note"], ["done"], ["release"], ["context"], ["validate"])


def test_broken_missions_are_named_and_the_others_keep_working(make_clone, bare_remote: Path,
                                                               zygote: Zygote, tmp_path: Path) -> None:
    someone = make_clone("someone", init=False)
    agent = make_clone("agent")
    store = open_store(agent)
    actor = claims.actor_for(store, "corpus")
    for mission_id in ("good-1", "good-2"):
        claims.create(store, actor, mission_id, f"Good {mission_id}")
    publish_by_hand(someone, {**BROKEN, **GOOD_BY_HAND})
    assert len(remote_refs(bare_remote)) == len(BROKEN) + 3
    good = {"good-1", "good-2", *GOOD_BY_HAND}

    for args in (["list"], ["list", "--json"], ["start"], ["export", "--dir", str(tmp_path / "view")]):
        run = run_forked(zygote, args, cwd=agent)
        assert run.returncode == 0, (args, run.stderr)
        errors = lines_of(run)
        assert_one_line_per_broken(run, unreadable_section(run.stdout) if args == ["start"] else errors)
        if args[0] == "list":
            assert all(g in run.stdout for g in good), run.stdout

    for mission_id in BROKEN:
        for template in PER_MISSION:
            args = [a.format(id=mission_id) for a in template] if len(template) > 1 else [*template, mission_id]
            run = run_forked(zygote, args, cwd=agent)
            line = clean_failure(run, (1, 3, 4))
            assert mission_id in line, (args, line)

    claimed = set()
    for _ in good:
        run = run_forked(zygote, ["next", "--json"], cwd=agent, env={"GITCLAIM_AS": "corpus agent"})
        assert run.returncode == 0, run.stderr
        assert len(lines_of(run)) <= len(BROKEN)
        claimed.add(run.json()["mission_id"])
    assert claimed == good
    run = run_forked(zygote, ["done", "frontmatter-only"], cwd=agent)
    assert run.returncode == 0, run.stderr


def test_broken_mission_files_are_refused_by_import_one_line_each(make_clone, zygote: Zygote,
                                                                  tmp_path: Path) -> None:
    agent = make_clone("agent")
    source = tmp_path / "missions" / "queue"
    source.mkdir(parents=True)
    for mission_id, data in {**BROKEN, **GOOD_BY_HAND}.items():
        if data is not None:
            (source / f"{mission_id}.md").write_bytes(data)
    run = run_forked(zygote, ["import", str(tmp_path / "missions")], cwd=agent)
    lines = lines_of(run)
    assert run.returncode in (0, 1, 2), run.stderr
    assert len(lines) <= 1, run.stderr
    for mission_id, data in BROKEN.items():
        if data is None:
            continue
        naming = [ln for ln in run.stdout.splitlines() if f"{mission_id}.md" in ln]
        assert len(naming) == 1, f"{mission_id}: {naming}\n{run.stdout}"
