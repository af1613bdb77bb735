"""The stores a long-lived process keeps (missions/workspace.py StoreCache): calls that arrive together on worker
threads share one opened repository and one kept `cat-file`, never one each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from gitclaim.core.repo import Repo
from gitclaim.missions.workspace import StoreCache
from tests.helpers import cat_file_pids, run_gitclaim


def test_calls_arriving_together_open_the_repository_once(make_clone: Callable[..., Path]) -> None:
    clone = make_clone("a")
    assert run_gitclaim(clone, "new", "m1", "--title", "T").returncode == 0
    cache = StoreCache()
    start = threading.Barrier(8)
    repos: list[Repo] = []
    states: list[object] = []

    def call() -> None:
        start.wait()
        store = cache.store(clone)
        repos.append(store.repo)
        states.append(store.local("m1"))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(repo) for repo in repos}) == 1
    assert all(state is not None for state in states)
    assert len(cat_file_pids(clone)) == 1
    repos[0].git.close()
    assert cat_file_pids(clone) == []
