"""Real processes released together at a file barrier: exactly one of them wins each compare-and-swap."""

from __future__ import annotations

from tests.helpers import git, new_mission, race, remote_mission


def test_eight_processes_race_for_one_mission_exactly_one_wins(make_clone, bare_remote, tmp_path) -> None:
    clones = [make_clone(f"c{i}") for i in range(8)]
    for round_no in range(6):
        mission_id = f"race-{round_no}"
        new_mission(clones[0], mission_id)
        results = race(clones, lambda i: ["claim", mission_id, "--as", f"agent-{i}"], tmp_path)
        winners = [i for i, r in enumerate(results) if r.returncode == 0]
        assert len(winners) == 1, [(r.returncode, r.stderr) for r in results]
        holder = f"agent-{winners[0]}"
        for i, r in enumerate(results):
            if i != winners[0]:
                assert r.returncode == 3, r.stderr
                assert f'held by "{holder}"' in r.stderr
        assert f'claimed_by: "{holder}"' in remote_mission(bare_remote, mission_id)
        log = git(bare_remote, "log", "--format=%s", f"refs/missions/{mission_id}").stdout.splitlines()
        assert log == [f"chore(mission): claim {mission_id}", f"chore(mission): create {mission_id}"]


def test_racing_creation_of_one_id_creates_it_once(make_clone, bare_remote, tmp_path) -> None:
    clones = [make_clone(f"c{i}") for i in range(8)]
    results = race(clones, lambda i: ["new", "same-id", "--title", f"from {i}"], tmp_path)
    assert sorted(r.returncode for r in results) == [0] + [3] * 7
    winner = next(i for i, r in enumerate(results) if r.returncode == 0)
    assert f'title: "from {winner}"' in remote_mission(bare_remote, "same-id")
    assert all("already exists" in r.stderr for r in results if r.returncode == 3)
    assert len(git(bare_remote, "rev-list", "refs/missions/same-id").stdout.split()) == 1
