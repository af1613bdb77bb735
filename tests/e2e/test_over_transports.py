"""The race, the lifecycle and the takeover over every transport: file, ssh, smart HTTP and git://."""

from __future__ import annotations

import json
import time

from tests.helpers import git, race, remote_mission, remote_refs, run_gitclaim


def ok(clone, *args: str, env=None):
    res = run_gitclaim(clone, *args, env=env)
    assert res.returncode == 0, (args, res.stderr)
    return res


def test_claim_race_has_one_winner(transport, make_transport_clone, tmp_path) -> None:
    clones = [make_transport_clone(f"c{i}", init=True) for i in range(8)]
    for round_no in range(2):
        mission_id = f"race-{round_no}"
        ok(clones[0], "new", mission_id, "--title", "contested")
        results = race(clones, lambda i: ["claim", mission_id, "--as", f"agent-{i}"], tmp_path)
        winners = [i for i, r in enumerate(results) if r.returncode == 0]
        assert len(winners) == 1, [(r.returncode, r.stderr) for r in results]
        assert all(r.returncode == 3 and f'held by "agent-{winners[0]}"' in r.stderr
                   for i, r in enumerate(results) if i != winners[0])
        assert f'claimed_by: "agent-{winners[0]}"' in remote_mission(transport.bare_path, mission_id)


def test_lifecycle(transport, make_transport_clone) -> None:
    a, b = make_transport_clone("a", init=True), make_transport_clone("b", init=True)
    ok(a, "new", "m1", "--title", "Over the wire")
    ok(a, "claim", "m1", "--as", "alpha")
    ok(a, "log", "m1", "step", "--kind", "milestone", "--progress", "50")
    res = run_gitclaim(b, "claim", "m1")
    assert res.returncode == 3 and 'held by "alpha"' in res.stderr
    ok(a, "release", "m1")
    ok(b, "claim", "m1", "--as", "beta")
    ok(b, "done", "m1", "--summary", "finished")
    data = json.loads(ok(a, "show", "m1", "--json").stdout)
    assert data["status"] == "DONE" and [e["action"] for e in data["history"]] == [
        "create", "claim", "log", "release", "claim", "complete"]
    subjects = git(transport.bare_path, "log", "--format=%s", "refs/missions/m1").stdout.splitlines()
    assert subjects[0] == "chore(mission): complete m1" and len(subjects) == 6


def test_takeover_and_fencing(transport, make_transport_clone, tmp_path) -> None:
    owner = make_transport_clone("owner", init=True)
    stealers = [make_transport_clone(f"s{i}", init=True) for i in range(2)]
    ok(owner, "new", "m1", "--title", "stale work")
    ok(owner, "claim", "m1", "--as", "crashed")
    time.sleep(3.2)  # timestamps have whole seconds: idle must exceed the 2s TTL for sure
    results = race(stealers, lambda i: ["claim", "m1", "--steal", "--as", f"stealer-{i}"], tmp_path,
                   env={"GITCLAIM_TTL": "2s"})
    assert sorted(r.returncode for r in results) == [0, 3], [r.stderr for r in results]
    winner = next(i for i, r in enumerate(results) if r.returncode == 0)
    before = remote_refs(transport.bare_path)
    res = run_gitclaim(owner, "done", "m1")
    assert res.returncode == 3 and f'held by "stealer-{winner}"' in res.stderr
    assert remote_refs(transport.bare_path) == before
