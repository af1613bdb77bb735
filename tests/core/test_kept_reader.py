"""The kept `cat-file --batch` of a long-lived process (core/git/process.py KeptReader): it must answer what the
repository holds at the moment it is asked, whatever other processes wrote since it started, and never mistake a
reader that died for an object that does not exist."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from gitclaim.core import git as g
from gitclaim.errors import GitclaimError
from tests.helpers import cat_file_pids, git


def _commit(repo: Path, text: str) -> str:
    blob = git(repo, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tmission.md\n").stdout.strip()
    return git(repo, "commit-tree", tree, "-m", f"chore: {text}").stdout.strip()


def _kept(repo: Path) -> g.Git:
    reader = g.Git(repo)
    reader.keep_reader()
    return reader


def _oids(reader: g.Git, specs: list[str]) -> list[str | None]:
    return [obj.oid if obj is not None else None for obj in g.cat_file_batch(reader, specs)]


def test_it_sees_refs_that_other_processes_moved_packed_and_deleted(repo: Path) -> None:
    one, two = _commit(repo, "one"), _commit(repo, "two")
    git(repo, "update-ref", "refs/missions/a", one)
    reader = _kept(repo)
    assert _oids(reader, ["refs/missions/a", "refs/missions/b"]) == [one, None]
    git(repo, "update-ref", "refs/missions/a", two)  # a loose ref moved
    git(repo, "update-ref", "refs/missions/b", one)  # a new one
    assert _oids(reader, ["refs/missions/a", "refs/missions/b"]) == [two, one]
    git(repo, "pack-refs", "--all")  # packed-refs rewritten, the loose files gone
    git(repo, "update-ref", "refs/missions/b", two)
    assert _oids(reader, ["refs/missions/a", "refs/missions/b"]) == [two, two]
    git(repo, "update-ref", "-d", "refs/missions/a")  # deleted from packed-refs
    assert _oids(reader, ["refs/missions/a", "refs/missions/b:mission.md"]) == [
        None, git(repo, "rev-parse", f"{two}:mission.md").stdout.strip()]
    assert reader.reader is not None and reader.reader.started == 1
    # Specs with spaces are answered "<spec> missing": never taken for an object's header.
    assert _oids(reader, ["no such", "HEAD:a file"]) == [None, None]
    assert _oids(g.Git(repo), ["no such", "HEAD:a file"]) == [None, None]
    reader.close()


def test_it_reads_objects_written_after_it_started_loose_and_packed(repo: Path, tmp_path: Path) -> None:
    reader = _kept(repo)
    assert _oids(reader, ["HEAD"]) == [git(repo, "rev-parse", "HEAD").stdout.strip()]
    loose = _commit(repo, "loose")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(repo), str(other))
    packed = _commit(other, "packed")
    git(other, "update-ref", "refs/heads/side", packed)
    git(repo, "-c", "fetch.unpackLimit=1", "fetch", "-q", str(other), "refs/heads/side:refs/heads/side")
    assert list((repo / ".git" / "objects" / "pack").glob("*.pack"))  # it came as a pack, not loose objects
    objs = g.cat_file_batch(reader, [loose, packed, f"{packed}:mission.md"])
    assert [(o.oid, o.type) if o else None for o in objs] == [(loose, "commit"), (packed, "commit"),
                                                              (objs[2].oid if objs[2] else "", "blob")]
    assert objs[2] is not None and objs[2].data == b"packed"
    reader.close()


def test_a_killed_reader_is_started_again_and_never_answers_missing_for_it(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    reader = _kept(repo)
    assert _oids(reader, ["HEAD"]) == [head]
    (pid,) = cat_file_pids(repo)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert _oids(reader, ["HEAD", "HEAD^{tree}"]) == [head, git(repo, "rev-parse", "HEAD^{tree}").stdout.strip()]
    assert reader.reader is not None and reader.reader.started == 2
    assert len(cat_file_pids(repo)) == 1
    reader.close()


def test_a_reader_that_cannot_start_again_fails_instead_of_guessing(repo: Path) -> None:
    reader = _kept(repo)
    assert _oids(reader, ["HEAD"]) != [None]
    (pid,) = cat_file_pids(repo)
    reader.env = {**reader.env, "PATH": "/nonexistent"}  # the next start finds no git
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    with pytest.raises(GitclaimError, match=r"^git is not installed or not on PATH$"):
        g.cat_file_batch(reader, ["HEAD"])


def test_a_batch_larger_than_a_pipe_and_calls_from_many_threads(repo: Path) -> None:
    big = git(repo, "hash-object", "-w", "--stdin", input="x" * 20000).stdout.strip()
    reader = _kept(repo)
    specs = [big] * 1500 + ["refs/nothing/here"] * 1500  # 30 MB of answers, 100 KB of questions
    objs = g.cat_file_batch(reader, specs)
    assert [o.oid if o else None for o in objs] == [big] * 1500 + [None] * 1500
    assert all(o is not None and len(o.data) == 20000 for o in objs[:1500])

    commits = [_commit(repo, f"c{i}") for i in range(8)]
    wrong: list[object] = []

    def read_own(i: int) -> None:
        for _ in range(40):
            got = _oids(reader, [commits[i], f"{commits[i]}^{{tree}}"])
            if got[0] != commits[i] or got[1] is None:
                wrong.append((i, got))

    threads = [threading.Thread(target=read_own, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert reader.reader is not None and reader.reader.started == 1


def test_closing_stops_the_process_and_reads_go_on_without_it(repo: Path) -> None:
    reader = _kept(repo)
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert _oids(reader, ["HEAD"]) == [head]
    assert len(cat_file_pids(repo)) == 1
    reader.close()
    assert cat_file_pids(repo) == []
    assert reader.reader is None
    assert _oids(reader, ["HEAD"]) == [head]  # one process for the read, gone after it
    assert cat_file_pids(repo) == []
