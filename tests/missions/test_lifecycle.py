"""Execution log, leases, takeover, fencing, ready work and session start, with real processes and remotes."""

from __future__ import annotations

import json
import time

from tests.helpers import git, race, remote_mission, remote_refs, run_gitclaim

SHORT_TTL = {"GITCLAIM_TTL": "2s"}


def new(clone, mission_id: str, *extra: str) -> None:
    res = run_gitclaim(clone, "new", mission_id, "--title", f"Mission {mission_id}", *extra)
    assert res.returncode == 0, res.stderr


def ok(clone, *args: str, env=None):
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, (args, res.stderr)
    return res


def test_log_entries_render_as_the_seed_execution_log(make_clone) -> None:
    a = make_clone("a")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "Thaifa P0 migration")
    ok(a, "log", "m1", "Starting objective 1: Migrate admin/ folder")
    ok(a, "log", "m1", "admin/ migrated", "--kind", "milestone", "--progress", "40")
    ok(a, "log", "m1", "keeps the old API", "--kind", "decision", "--question", "Which API?", "--chosen", "v1")
    ok(a, "log", "m1", "disk is full", "--kind", "issue", "--severity", "high")
    out = ok(a, "show", "m1").stdout
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"## Execution Log\n\n### {day}\n\n- " in out
    lines = [ln.split(" - ", 1)[1] for ln in out.splitlines() if ln.startswith("- ")]
    assert lines == [
        "**CREATED**",
        '**CLAIMED** by session "Thaifa P0 migration" (epoch 1)',
        "Starting objective 1: Migrate admin/ folder",
        "**MILESTONE** (40%): admin/ migrated",
        "**DECISION**: Which API? -> v1 (keeps the old API)",
        "**ISSUE** [high]: disk is full",
    ]


def test_issue_needing_a_human_blocks_until_unblock(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1")
    ok(a, "log", "m1", "need credentials", "--kind", "issue", "--needs-human")
    data = json.loads(ok(b, "show", "m1", "--json").stdout)
    assert data["status"] == "BLOCKED" and data["blocked_reason"] == "need credentials"
    ok(b, "unblock", "m1", "--note", "credentials added")
    data = json.loads(ok(a, "show", "m1", "--json").stdout)
    assert data["status"] == "ACTIVE" and data["instance"] == json.loads(ok(a, "show", "m1", "--json").stdout)[
        "instance"]
    res = run_gitclaim(a, "unblock", "m1")
    assert res.returncode == 3 and "not BLOCKED" in res.stderr


def test_bad_log_options_are_refused_before_git(make_clone, bare_remote) -> None:
    a = make_clone("a")
    new(a, "m1")
    ok(a, "claim", "m1")
    before = remote_refs(bare_remote)
    for args in (["--kind", "gossip"], ["--progress", "150", "--kind", "milestone"], ["--progress", "5"],
                 ["--kind", "issue", "--severity", "apocalyptic"], ["--chosen", "x"]):
        res = run_gitclaim(a, "log", "m1", "text", *args)
        assert res.returncode == 2, (args, res.stderr)
        assert len(res.stderr.splitlines()) == 1
    assert remote_refs(bare_remote) == before


def test_stale_claims_listed_and_steal_refused_while_live(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "sleepy")
    res = run_gitclaim(b, "claim", "m1", "--steal", env=SHORT_TTL)
    assert res.returncode == 3 and "not stale" in res.stderr and "--force" not in res.stderr
    time.sleep(3.2)  # timestamps have whole seconds: idle must exceed the 2s TTL for sure
    rows = json.loads(ok(b, "list", "--stale", "--json", env=SHORT_TTL).stdout)
    assert [(r["mission_id"], r["claimed_by"], r["stale"]) for r in rows] == [("m1", "sleepy", True)]
    assert json.loads(ok(b, "list", "--stale", "--json").stdout) == []  # default TTL is 24h


def test_heartbeat_keeps_a_claim_live(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1")
    time.sleep(3)
    ok(a, "heartbeat", "m1")
    res = run_gitclaim(b, "claim", "m1", "--steal", env={"GITCLAIM_TTL": "3s"})
    assert res.returncode == 3, res.stderr  # without the heartbeat it would have been stale by now


def test_two_stealers_race_for_a_stale_mission_exactly_one_wins(make_clone, bare_remote, tmp_path) -> None:
    owner = make_clone("owner")
    stealers = [make_clone(f"s{i}") for i in range(4)]
    new(owner, "m1")
    ok(owner, "claim", "m1", "--as", "crashed agent")
    time.sleep(3.2)  # timestamps have whole seconds: idle must exceed the 2s TTL for sure
    results = race(stealers, lambda i: ["claim", "m1", "--steal", "--as", f"stealer-{i}"], tmp_path,
                   env=SHORT_TTL)
    winners = [i for i, r in enumerate(results) if r.returncode == 0]
    assert len(winners) == 1, [(r.returncode, r.stderr) for r in results]
    assert all(r.returncode == 3 and f'"stealer-{winners[0]}"' in r.stderr
               for i, r in enumerate(results) if i != winners[0])
    text = remote_mission(bare_remote, "m1")
    assert f'claimed_by: "stealer-{winners[0]}"' in text and "claim_epoch: 2" in text


def test_takeover_keeps_the_log_and_fences_the_former_holder(make_clone, bare_remote) -> None:
    a, b = make_clone("a"), make_clone("b")
    new(a, "m1")
    ok(a, "claim", "m1", "--as", "first")
    ok(a, "log", "m1", "work in progress")
    res = run_gitclaim(b, "claim", "m1", "--force")
    assert res.returncode == 2 and "--reason" in res.stderr
    ok(b, "claim", "m1", "--force", "--reason", "first agent is stuck", "--as", "second")
    before = remote_refs(bare_remote)
    for cmd in (["log", "m1", "late write"], ["heartbeat", "m1"], ["release", "m1"], ["done", "m1"]):
        res = run_gitclaim(a, *cmd)
        assert res.returncode == 3, (cmd, res.stderr)
        assert 'held by "second"' in res.stderr and "took it over at" in res.stderr
    assert remote_refs(bare_remote) == before
    log = git(bare_remote, "log", "--format=%s%n%b", "refs/missions/m1").stdout
    assert "work in progress" in log and "first agent is stuck" in log
    out = ok(b, "show", "m1").stdout
    assert "work in progress" in out and "**TAKEN OVER**" in out


def test_epoch_fence_refuses_a_stale_holder_of_the_same_instance(make_clone) -> None:
    a = make_clone("a")
    new(a, "m1")
    ok(a, "claim", "m1")
    ok(a, "release", "m1")
    ok(a, "claim", "m1")  # epoch 2 now
    res = run_gitclaim(a, "log", "m1", "from the old claim", "--epoch", "1")
    assert res.returncode == 3 and "epoch 1" in res.stderr and "now epoch 2" in res.stderr


def test_next_claims_by_priority_and_respects_requires(make_clone) -> None:
    a = make_clone("a")
    new(a, "low", "--priority", "3")
    new(a, "base", "--priority", "1")  # first: a requirement must name an existing mission
    new(a, "urgent-later", "--priority", "0", "--requires", "base")
    first = json.loads(ok(a, "next", "--json").stdout)
    assert first["mission_id"] == "base"
    ok(a, "done", "base")
    assert json.loads(ok(a, "next", "--json").stdout)["mission_id"] == "urgent-later"
    assert json.loads(ok(a, "next", "--json").stdout)["mission_id"] == "low"
    res = run_gitclaim(a, "next")
    assert res.returncode == 5 and res.stderr.startswith("gitclaim: nothing ready to claim")


NEXT_LOOP = """
import json, subprocess, sys
won, lost = [], 0
while True:
    res = subprocess.run([sys.executable, "-m", "gitclaim", "next", "--json", "--as", sys.argv[1]],
                         capture_output=True, text=True)
    if res.returncode == 5:
        break
    if res.returncode != 0:
        print(json.dumps({"error": res.stderr})); sys.exit(1)
    data = json.loads(res.stdout)
    won.append(data["mission_id"]); lost += data["lost_races"]
print(json.dumps({"won": won, "lost": lost}))
"""


def test_eight_agents_calling_next_claim_every_mission_exactly_once(make_clone, bare_remote) -> None:
    import subprocess
    import sys

    clones = [make_clone(f"agent{i}") for i in range(8)]
    for i in range(40):
        new(clones[0], f"task-{i:02d}")
    procs = [subprocess.Popen([sys.executable, "-c", NEXT_LOOP, f"agent-{i}"], cwd=c, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i, c in enumerate(clones)]
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, out + err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    won = [m for r in reports for m in r["won"]]
    assert sorted(won) == [f"task-{i:02d}" for i in range(40)]  # every mission exactly once
    lost = sum(r["lost"] for r in reports)
    print(f"8 agents, 40 missions: {lost} lost races reported")
    for i in range(40):
        log = git(bare_remote, "log", "--format=%(trailers:key=Gitclaim-Action,valueonly)",
                  f"refs/missions/task-{i:02d}").stdout.split()
        assert log.count("claim") == 1


def test_start_shows_mine_then_others_then_ready(make_clone) -> None:
    a, b = make_clone("a"), make_clone("b")
    for mid in ("mine", "theirs", "queued"):
        new(a, mid)
    ok(a, "claim", "mine", "--as", "me")
    ok(a, "log", "mine", "step one done")
    ok(b, "claim", "theirs", "--as", "them")
    out = ok(a, "start").stdout
    assert out.index("== Your missions (1) ==") < out.index("== Other active missions (1) ==") < \
        out.index("== Ready queue (1) ==")
    assert "step one done" in out and 'held by "them"' in out and "1. queued" in out
    data = json.loads(ok(a, "start", "--claim", "--json").stdout)
    assert data["claimed"] is None and "resume what you hold" in data["note"]
    data = json.loads(ok(b, "start", "--json").stdout)
    assert [r["mission_id"] for r in data["mine"]] == ["theirs"]


def test_crash_edge_case_end_to_end(make_clone, bare_remote) -> None:
    """Seed 1: an agent claims and logs, dies; another sees it stale in start, steals it, reads the log,
    continues; the first agent's late write is refused."""
    first, second = make_clone("first"), make_clone("second")
    new(first, "migration")
    ok(first, "claim", "migration", "--as", "agent one")
    ok(first, "log", "migration", "migrated admin/, next: api/", "--kind", "milestone", "--progress", "50")
    time.sleep(3.2)  # the first agent is gone; its lease (2s, whole-second timestamps) runs out
    out = ok(second, "start", env=SHORT_TTL).stdout
    assert "STALE: gitclaim claim migration --steal" in out
    ok(second, "claim", "migration", "--steal", "--as", "agent two", env=SHORT_TTL)
    shown = ok(second, "show", "migration").stdout
    assert "migrated admin/, next: api/" in shown and "**STOLEN (stale)**" in shown
    ok(second, "log", "migration", "api/ migrated", "--kind", "milestone", "--progress", "100")
    res = run_gitclaim(first, "log", "migration", "I am back")
    assert res.returncode == 3 and 'held by "agent two"' in res.stderr
    ok(second, "done", "migration", "--summary", "all migrated")
    assert 'status: "DONE"' in remote_mission(bare_remote, "migration")
