"""The compare-and-swap loop (Store.transact for one mission, Store.swap for several refs in one atomic push),
driven directly against real bare remotes and real clones: a lost race, an unknown outcome, a refusal by a
hook, fencing, and the all-or-nothing push of several refs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitclaim.core import git as g
from gitclaim.core import transitions as claims
from gitclaim.core.message import MissionMessage
from gitclaim.core.repo import MISSIONS_REFSPEC, open_repo
from gitclaim.core.store import Change, Decide, State, Store
from gitclaim.errors import Conflict, RemoteError
from tests.helpers import git, remote_refs


def clone(tmp_path: Path, bare_remote: Path, name: str) -> Path:
    """A clone set up for gitclaim with plain git (what `gitclaim init` records), so only the core runs."""
    path = tmp_path / name
    git(tmp_path, "clone", "-q", str(bare_remote), str(path))
    git(path, "config", "--add", "remote.origin.fetch", MISSIONS_REFSPEC)
    git(path, "config", "gitclaim.remote", "origin")
    return path


def store_of(path: Path) -> Store:
    return Store(open_repo(path))  # a fresh store per command, as the CLI opens one


def note(line: str, seen: list[str | None] | None = None) -> Decide:
    """A decision anyone may make: add a line to the mission's body. Records the tip it decided on."""
    def decide(state: State | None) -> Change:
        assert state is not None
        if seen is not None:
            seen.append(state.commit)
        mis = state.mission
        return Change(mis.evolve(body=mis.body + line + "\n"), MissionMessage("note on", mis.mission_id, "note"))

    return decide


def hook(remote: Path, script: str) -> None:
    path = remote / "hooks" / "pre-receive"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.fixture
def two(tmp_path: Path, bare_remote: Path) -> tuple[Path, Path]:
    """Clones a and b of one remote that holds mission m (QUEUED), both mirrors up to date."""
    a, b = clone(tmp_path, bare_remote, "a"), clone(tmp_path, bare_remote, "b")
    store = store_of(a)
    claims.create(store, claims.actor_for(store), "m", "Mission m")
    store_of(b).sync()
    return a, b


# ---- one ref: Store.transact ----------------------------------------------------------------------------------

def test_a_lost_race_is_read_again_and_decided_on_the_winner(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, b = two
    first = remote_refs(bare_remote)["refs/missions/m"]
    seen: list[str | None] = []
    moved: list[str] = []
    mine = note("from a", seen)

    def racing(state: State | None) -> Change:
        if not seen:  # between a's read and a's push, b writes
            moved.append(store_of(b).transact("m", note("from b")).state.commit)
        return mine(state)

    store = store_of(a)
    out = store.transact("m", racing)
    tip = remote_refs(bare_remote)["refs/missions/m"]
    assert seen == [first, moved[0]] and store.pushes == 2
    assert out.changed and out.state.commit == tip and out.previous is not None and out.previous.commit == moved[0]
    assert git(bare_remote, "rev-parse", f"{tip}^").stdout.strip() == moved[0]
    body = git(bare_remote, "show", f"{tip}:mission.md").stdout
    assert body.endswith("from b\nfrom a\n")
    assert git(a, "rev-parse", "refs/missions/m").stdout.strip() == tip  # the push moved the local mirror


def test_a_push_whose_answer_is_lost_is_found_landed(two: tuple[Path, Path], bare_remote: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = two
    real_push = g.push_cas

    def lost_answer(*args: object, **kw: object) -> g.PushOutcome:
        real_push(*args, **kw)  # type: ignore[arg-type]
        raise g.GitTimeout("git push timed out after 1s (the answer was lost)")

    monkeypatch.setattr(g, "push_cas", lost_answer)
    store = store_of(a)
    out = store.transact("m", note("landed"))
    assert out.changed and store.pushes == 1
    assert remote_refs(bare_remote)["refs/missions/m"] == out.state.commit


def test_a_push_without_answer_that_did_not_land_is_an_unknown_outcome(
        two: tuple[Path, Path], bare_remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = two
    before = remote_refs(bare_remote)
    hook(bare_remote, "sleep 30\nexit 1\n")  # a server that never answers in time
    monkeypatch.setenv("GITCLAIM_TIMEOUT", "5")
    store = store_of(a)
    with pytest.raises(RemoteError) as err:
        store.transact("m", note("slow"))
    assert str(err.value) == (
        "mission m: the push to remote 'origin' got no answer (git push timed out after 5s (the limit is "
        "GITCLAIM_TIMEOUT or git config gitclaim.timeout)); it has not landed yet, but its outcome is unknown "
        "and will be read again by the next command")
    assert err.value.exit_code == 6 and store.pushes == 1
    assert remote_refs(bare_remote) == before


def test_a_refusal_by_a_hook_names_the_hook_line(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, _ = two
    before = remote_refs(bare_remote)
    hook(bare_remote, "echo 'frozen: no mission writes today' >&2\nexit 1\n")
    store = store_of(a)
    with pytest.raises(RemoteError) as err:
        store.transact("m", note("refused"))
    assert str(err.value) == "mission m: remote 'origin' refused the push: frozen: no mission writes today"
    assert err.value.exit_code == 6 and store.pushes == 1  # a refusal is not a race: no second push
    assert remote_refs(bare_remote) == before


def test_fencing_a_former_holders_write_is_refused_on_the_new_tip(two: tuple[Path, Path],
                                                                   bare_remote: Path) -> None:
    a, b = two
    sa = store_of(a)
    claims.claim(sa, claims.actor_for(sa), "m")
    sb = store_of(b)
    taken = claims.claim(sb, claims.actor_for(sb), "m", force=True, reason="a went quiet").state.commit
    # a's mirror still shows its own claim: its heartbeat is pushed, loses the lease, and is decided again.
    sa = store_of(a)
    with pytest.raises(Conflict) as err:
        claims.heartbeat(sa, claims.actor_for(sa), "m")
    assert "you no longer hold it" in str(err.value) and err.value.exit_code == 3
    assert sa.pushes == 1 and remote_refs(bare_remote)["refs/missions/m"] == taken


def test_eight_lost_races_in_a_row_give_up_with_a_conflict(two: tuple[Path, Path], bare_remote: Path) -> None:
    a, b = two
    mine = note("from a")

    def always_beaten(state: State | None) -> Change:
        store_of(b).transact("m", note("from b"))
        return mine(state)

    store = store_of(a)
    with pytest.raises(Conflict) as err:
        store.transact("m", always_beaten)
    assert str(err.value) == "mission m: lost the race 8 times in a row; try again"
    assert store.pushes == 8


# ---- several refs: Store.swap, one atomic push ---------------------------------------------------------------

def commit_on(repo: Path, parent: str, text: str) -> str:
    """A commit holding one mission.md, made with plain git in `repo`."""
    blob = git(repo, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    return git(repo, "commit-tree", tree, "-p", parent, "-m", "chore(mission): note on x").stdout.strip()


@pytest.fixture
def pair(tmp_path: Path, bare_remote: Path) -> tuple[Path, Path, dict[str, str]]:
    """Clones a and b; the remote holds missions x and y; returns their tips."""
    a, b = clone(tmp_path, bare_remote, "a"), clone(tmp_path, bare_remote, "b")
    store = store_of(a)
    for mid in ("x", "y"):
        claims.create(store, claims.actor_for(store), mid, f"Mission {mid}")
    store_of(b).sync()
    return a, b, remote_refs(bare_remote)


def move_x_drop_y(a: Path, tips: dict[str, str], calls: list[bool]) -> Callable[[bool], list[g.RefUpdate] | None]:
    """A plan over two refs: x to a new commit, y deleted, each leased on the tip first read. Gives up (None)
    when asked again after a re-read."""
    new_x = commit_on(a, tips["refs/missions/x"], "x moved\n")

    def plan(reread: bool) -> list[g.RefUpdate] | None:
        calls.append(reread)
        if reread:
            return None
        return [g.RefUpdate("refs/missions/x", new_x, tips["refs/missions/x"]),
                g.RefUpdate("refs/missions/y", None, tips["refs/missions/y"])]

    return plan


def test_several_refs_land_together_and_move_the_mirror(pair: tuple[Path, Path, dict[str, str]],
                                                        bare_remote: Path) -> None:
    a, _, tips = pair
    calls: list[bool] = []
    store = store_of(a)
    pushed = store.swap("archive", move_x_drop_y(a, tips, calls))
    assert pushed is not None and calls == [False] and store.pushes == 1
    assert remote_refs(bare_remote) == {"refs/missions/x": pushed[0].new}
    assert dict(store.ids()) == {"x": pushed[0].new}


def test_several_refs_one_stale_lease_changes_none_and_plans_again(pair: tuple[Path, Path, dict[str, str]],
                                                                   bare_remote: Path) -> None:
    a, b, tips = pair
    sb = store_of(b)
    moved_y = sb.transact("y", note("b was here")).state.commit  # y moves after a read it
    calls: list[bool] = []
    store = store_of(a)
    assert store.swap("archive", move_x_drop_y(a, tips, calls)) is None
    assert calls == [False, True] and store.pushes == 1  # lost the race, re-read, decided again
    assert remote_refs(bare_remote) == {"refs/missions/x": tips["refs/missions/x"], "refs/missions/y": moved_y}


def test_several_refs_refused_by_a_hook_change_nothing(pair: tuple[Path, Path, dict[str, str]],
                                                       bare_remote: Path) -> None:
    a, _, tips = pair
    hook(bare_remote, "echo 'no deletions here' >&2\nexit 1\n")
    store = store_of(a)
    with pytest.raises(RemoteError) as err:
        store.swap("archive", move_x_drop_y(a, tips, []))
    assert str(err.value) == "archive: remote 'origin' refused the atomic push: no deletions here"
    assert remote_refs(bare_remote) == tips


def test_several_refs_without_answer_are_an_unknown_outcome(pair: tuple[Path, Path, dict[str, str]],
                                                            bare_remote: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    a, _, tips = pair
    hook(bare_remote, "sleep 30\nexit 1\n")
    monkeypatch.setenv("GITCLAIM_TIMEOUT", "5")
    with pytest.raises(RemoteError) as err:
        store_of(a).swap("archive", move_x_drop_y(a, tips, []))
    assert str(err.value).startswith("archive: the push to remote 'origin' got no answer (git push timed out")
    assert str(err.value).endswith("it has not landed yet, but its outcome is unknown and will be read again by "
                                   "the next command")
    assert remote_refs(bare_remote) == tips


def test_several_refs_landed_with_the_answer_lost(pair: tuple[Path, Path, dict[str, str]], bare_remote: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    a, _, tips = pair
    real_push = g.push_cas
    atomic: list[object] = []

    def lost_answer(*args: object, **kw: object) -> g.PushOutcome:
        atomic.append(kw.get("atomic"))
        real_push(*args, **kw)  # type: ignore[arg-type]
        raise g.GitTimeout("git push timed out after 1s (the answer was lost)")

    monkeypatch.setattr(g, "push_cas", lost_answer)
    calls: list[bool] = []
    pushed = store_of(a).swap("archive", move_x_drop_y(a, tips, calls))
    assert pushed is not None and calls == [False] and atomic == [True]
    assert remote_refs(bare_remote) == {"refs/missions/x": pushed[0].new}
