"""`gitclaim board`: the terminal board, the JSON, the HTML page in a real headless chromium, and --serve."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import GITCLAIM, git, run_gitclaim
from tests.web import browser

XSS = "<img src=x onerror=alert(1)>"
EVIL_SESSION = "<script>alert(2)</script> agent"

# the columns' keys, in the board's order, and the missions the fixture puts in each
EXPECTED = {
    "ready": ["r1"],
    "waiting": ["w1"],
    "active": ["act1", "act2"],
    "stale": ["st1"],
    "blocked": ["bl1"],
    "done": ["dn1"],
    "failed": ["cn1", "fl1"],  # FAILED and CANCELLED
}


def ok(clone: Path, *args: str, env: dict[str, str] | None = None) -> str:
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, (args, res.stderr)
    return res.stdout


def backdate(clone: Path, mission_id: str, hours: int) -> None:
    """Add a commit to a held mission that moves its claim and last activity `hours` back, pushed with plain
    git: a holder that went silent long ago, which no gitclaim command can write."""
    ok(clone, "sync")
    text = git(clone, "show", f"refs/missions/{mission_id}:mission.md").stdout
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - hours * 3600))
    text = re.sub(r'^(claimed_at|last_activity): ".*"$', lambda m: f'{m.group(1)}: "{old}"', text, flags=re.M)
    blob = git(clone, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(clone, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    tip = git(clone, "rev-parse", f"refs/missions/{mission_id}").stdout.strip()
    msg = f"chore(mission): heartbeat {mission_id}\n\nGitclaim-Action: heartbeat\n"
    commit = git(clone, "commit-tree", tree, "-p", tip, "-m", msg).stdout.strip()
    git(clone, "push", "-q", "origin", f"{commit}:refs/missions/{mission_id}")


@pytest.fixture
def every_state(make_clone: Callable[..., Path]) -> tuple[Path, Path]:
    """Two clones (agents A and B) and a mission in every column, with a takeover and an XSS title."""
    a, b = make_clone("a"), make_clone("b")
    for mid, title, extra in [("r1", XSS, []), ("act1", "Active one", ["--priority", "1"]),
                              ("w1", "Waits on act1", ["--requires", "act1"]), ("act2", "Taken over", []),
                              ("st1", "Gone quiet", []), ("bl1", "Needs a human", []),
                              ("dn1", "Finished", []), ("fl1", "Failed attempt", []),
                              ("cn1", "Not wanted any more", [])]:
        ok(a, "new", mid, "--title", title, *extra)
    ok(a, "claim", "act1", "--as", "agent-a")
    ok(a, "log", "act1", "parser rewritten", "--kind", "milestone", "--progress", "40")
    ok(a, "claim", "act2", "--as", "agent-a")
    ok(b, "claim", "act2", "--as", EVIL_SESSION, "--force", "--reason", "agent-a is stuck")
    ok(a, "claim", "st1", "--as", "agent-a")
    backdate(a, "st1", 48)
    ok(b, "claim", "bl1", "--as", EVIL_SESSION)
    ok(b, "log", "bl1", "which database?", "--kind", "issue", "--needs-human")
    ok(b, "claim", "dn1", "--as", EVIL_SESSION)
    ok(b, "done", "dn1", "--summary", "all green")
    ok(a, "claim", "fl1", "--as", "agent-a")
    ok(a, "fail", "fl1", "--summary", "cannot reproduce")
    ok(b, "cancel", "cn1", "--reason", "a duplicate of act1")
    return a, b


def test_board_on_the_terminal_and_as_json(every_state: tuple[Path, Path]) -> None:
    a, _ = every_state
    out = ok(a, "board")
    assert out.splitlines()[0] == ("9 missions on origin: 1 ready, 1 waiting on requirements, 2 active, 1 stale, "
                                   "1 blocked, 1 done recently, 2 failed or cancelled")
    headings = [ln for ln in out.splitlines() if re.match(r"^[A-Z][A-Z ]+ \(\d+\)$", ln)]
    assert headings == ["READY (1)", "WAITING ON REQUIREMENTS (1)", "ACTIVE (2)", "STALE (1)", "BLOCKED (1)",
                        "DONE RECENTLY (1)", "FAILED OR CANCELLED (2)"]
    blocks = out.split("\n\n")[1:]
    for block, (key, ids) in zip(blocks, EXPECTED.items(), strict=True):
        assert sorted(ln.split()[0] for ln in block.splitlines()[1:]) == ids, key
    assert "act1  P1  Active one  ·  \"agent-a\" (Test User, " in out and "·  40%" in out
    assert "w1  P2  Waits on act1  ·  waits on act1" in out
    assert "blocked: which database?" in out
    assert '  "agent-a" (Test User, instance ' in out
    # the same board as JSON: columns, agents and the timeline's holdings
    data = json.loads(ok(a, "board", "--json"))
    assert {k: sorted(c["mission_id"] for c in v) for k, v in data["columns"].items()} == EXPECTED
    assert data["counts"] == {k: len(v) for k, v in EXPECTED.items()}
    act1 = data["columns"]["active"][0]
    assert act1["progress"] == 40 and act1["milestone"] == "parser rewritten" and act1["lease_left"].startswith("23h")
    assert data["columns"]["waiting"][0]["requirements"] == [{"mission_id": "act1", "status": "ACTIVE"}]
    assert sorted((ag["session"], tuple(ag["holds"])) for ag in data["agents"]) == [
        (EVIL_SESSION, ("act2", "bl1")), ("agent-a", ("act1", "st1"))]
    lanes = {lane["sessions"][0]: lane for lane in data["timeline"]["lanes"]}
    taken = [h for h in lanes["agent-a"]["holdings"] if h["mission_id"] == "act2"]
    assert taken[0]["ended_by"] == "takeover" and taken[0]["end"] is not None
    theirs = [h for h in lanes[EVIL_SESSION]["holdings"] if h["mission_id"] == "act2"]
    assert theirs[0]["takeover"] is True and theirs[0]["end"] is None


def test_board_page_renders_in_chromium_with_columns_holders_and_timeline(
        every_state: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = every_state
    page = tmp_path / "board.html"
    assert ok(a, "board", "--out", str(page)) == f"wrote {page} (9 missions)\n"
    html = page.read_text()
    assert not re.search(r"(https?:)?//[a-z]", html.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    dom = browser.parse(browser.dump_dom(page.as_uri()))
    for key, ids in EXPECTED.items():
        column = dom.find("section", id=f"column-{key}")
        assert sorted(c.attrs["data-id"] for c in column.find_all("article", cls="card")) == ids, key
    act1 = dom.find("article", data_id="act1")
    assert act1.find(cls="holder").text.startswith("agent-a · Test User · ")
    assert act1.find(cls="progress").text.strip() == "40%"
    assert re.search(r"since \S+Z · last activity \d+s ago · lease 23h\d\dm left", " ".join(act1.find(cls="times").text.split()))
    act2 = dom.find("article", data_id="act2")
    assert act2.find(cls="holder").text.startswith(EVIL_SESSION + " · Test User · ")
    assert dom.find("article", data_id="bl1").find(cls="blocker").text == "blocked: which database?"
    # the XSS title and session are text, never elements
    assert dom.find("article", data_id="r1").find(cls="title").text == XSS
    assert not dom.find_all("img") and len(dom.find_all("script")) == 1
    # the timeline: an SVG with one lane per agent, a bar per holding, the takeover marked
    svg = dom.find("svg", id="timeline")
    labels = sorted(t.text for t in svg.find_all("text", cls="lane-label"))
    assert len(labels) == 2 and labels[1].startswith("agent-a (")
    bars = {b.attrs["data-mission"] for b in svg.find_all("g", cls="bar")}
    assert bars == {"act1", "act2", "st1", "bl1", "dn1", "fl1"}
    assert [b.attrs["data-mission"] for b in svg.find_all("g", cls="takeover")] == ["act2"]
    assert dom.find("table", cls="agents").find_all("tr", cls="agent")
    # the log and body open from the card
    log = act1.find("pre", cls="log").text
    assert "**CLAIMED** by session \"agent-a\" (epoch 1)" in log and "**MILESTONE** (40%): parser rewritten" in log
    shot = browser.screenshot(page.as_uri(), tmp_path / "board.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the search box filters cards by id, title and holder
    with browser.Page() as tab:
        tab.goto(page.as_uri())
        _until(lambda: tab.eval("document.querySelectorAll('.card').length") == 9, 20)
        shown = ("(function(q){var s=document.getElementById('search'); s.value=q; s.dispatchEvent(new Event('input'));"
                 "return Array.from(document.querySelectorAll('.card')).filter(c=>!c.hidden).map(c=>c.dataset.id);})")
        assert tab.eval(f"{shown}('agent-a')") == ["act1", "st1"]
        assert tab.eval(f"{shown}('WAITS ON')") == ["w1"]
        assert tab.eval(f"{shown}('act2')") == ["act2"]
        assert len(tab.eval(f"{shown}('')")) == 9


def _until(check: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not true within {seconds}s")


def test_board_serve_reflects_a_claim_in_another_clone(every_state: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = every_state
    proc = subprocess.Popen([*GITCLAIM, "board", "--serve", "--port", "0", "--refresh", "2"], cwd=a,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout
        first = proc.stdout.readline()
        url = re.fullmatch(r"serving the board on (http://127\.0\.0\.1:\d+/) \(re-read every 2s; Ctrl-C stops\)\n",
                           first)
        assert url, first
        with urllib.request.urlopen(url.group(1) + "board.json", timeout=30) as res:
            assert json.loads(res.read())["counts"]["ready"] == 1
        with browser.Page() as tab:
            tab.goto(url.group(1))
            in_ready = "document.querySelector('#column-ready [data-id=\"r1\"]') !== null"
            _until(lambda: tab.eval(in_ready), 20)
            ok(b, "claim", "r1", "--as", "agent-b")
            in_active = "(document.querySelector('#column-active [data-id=\"r1\"] .holder')||{}).textContent||''"
            took = _until(lambda: tab.eval(in_active).startswith("agent-b · "), 2 * 2 + 4)
            assert tab.eval(in_ready) is False
            assert took < 2 + 4  # one refresh interval, plus the read and render on a loaded machine
            tab.call("Page.captureScreenshot", session=True)  # the live page still draws
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert out == "stopped\n" and err == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_board_serve_listens_on_loopback_only(make_clone: Callable[..., Path]) -> None:
    a = make_clone("a")
    proc = subprocess.Popen([*GITCLAIM, "board", "--serve", "--port", "0"], cwd=a, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout
        port = int(re.search(r":(\d+)/", proc.stdout.readline()).group(1))  # type: ignore[union-attr]
        listening = Path("/proc/net/tcp").read_text()
        mine = [ln.split()[1] for ln in listening.splitlines()[1:] if ln.split()[1].endswith(f":{port:04X}")]
        assert mine == [f"0100007F:{port:04X}"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=30) as res:
            pytest.fail(f"expected 404, got {res.status}")
    except urllib.error.HTTPError as err:
        assert err.code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        assert proc.returncode == 0


def test_board_refuses_two_outputs_and_bad_settings(make_clone: Callable[..., Path], tmp_path: Path) -> None:
    a = make_clone("a")
    res = run_gitclaim(a, "board", "--serve", "--out", str(tmp_path / "x.html"))
    assert (res.returncode, res.stderr) == (2, "gitclaim: choose one of --out FILE, --serve and --json\n")
    res = run_gitclaim(a, "board", "--serve", "--refresh", "soon")
    assert res.returncode == 2
    assert res.stderr == "gitclaim: invalid duration 'soon': use a number with a unit, e.g. 30m, 24h, 7d\n"
    res = run_gitclaim(a, "board", "--out", str(tmp_path / "missing" / "x.html"))
    assert (res.returncode, res.stderr) == (2, f"gitclaim: cannot write {tmp_path / 'missing' / 'x.html'}: "
                                               "No such file or directory\n")
    assert not (tmp_path / "x.html").exists()


def _git_processes(trace: Path) -> list[str]:
    names = []
    for raw in trace.read_text().splitlines():
        event = json.loads(raw)
        if event.get("event") == "start" and event.get("sid", "").count("/") == 0:
            argv = [x for x in event["argv"][1:] if not x.startswith("-") and "=" not in x]
            names.append(argv[0] if argv else "?")
    return sorted(names)


def test_board_reads_any_number_of_missions_with_the_same_git_processes(
        make_clone: Callable[..., Path], tmp_path: Path) -> None:
    a = make_clone("a")
    counts = []
    for n in (2, 12):
        for i in range(len(counts) * 2, n):
            ok(a, "new", f"m{i}", "--title", f"mission {i}")
            if i % 2:
                ok(a, "claim", f"m{i}")
        trace = tmp_path / f"trace-{n}.json"
        ok(a, "board", "--json", env={"GIT_TRACE2_EVENT": str(trace)})
        counts.append(_git_processes(trace))
    assert counts[0] == counts[1]
    assert counts[1].count("fetch") == 1 and counts[1].count("for-each-ref") == 1
    # the histories: one log, one cat-file; the claims' signatures (core/claimsigs.py): the trust list (one
    # cat-file), the walk to each moved claim (one cat-file) and its signatures (one log)
    assert counts[1].count("log") == 2 and counts[1].count("cat-file") == 3
    # nothing moved: the claims' signatures cost only the trust list's cat-file
    trace = tmp_path / "trace-again.json"
    ok(a, "board", "--json", env={"GIT_TRACE2_EVENT": str(trace)})
    again = _git_processes(trace)
    assert again.count("log") == 1 and again.count("cat-file") == 2



def test_the_terminal_board_and_watch_do_not_load_jinja2(tmp_path: Path) -> None:
    code = ("import sys; import gitclaim.cli; import gitclaim.cli.board_cmds; import gitclaim.missions.watch; "
            "print(sorted(m for m in ('jinja2', 'yaml', 'frontmatter', 'git') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert (res.returncode, res.stdout) == (0, "[]\n"), res.stderr
