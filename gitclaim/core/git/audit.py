"""An independent reader for audits (GitPython), kept apart from the code paths that write.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# and writes is not also in how its results are checked. Imported lazily: it costs ~100 ms.


class AuditCommit(NamedTuple):
    oid: str
    parents: tuple[str, ...]
    message: str
    committed: int
    mission_md: bytes | None


def audit_refs(repo_path: Path | str, prefix: str = "refs/missions/") -> dict[str, list[AuditCommit]]:
    """Every ref under prefix with its whole history (newest first, all parents followed), read by GitPython."""
    import git as gitpython  # GitPython

    repo = gitpython.Repo(str(repo_path))
    try:
        out: dict[str, list[AuditCommit]] = {}
        for ref in repo.refs:
            if not ref.path.startswith(prefix):
                continue
            chain, seen, todo = [], set(), [ref.commit]
            while todo:
                commit = todo.pop()
                if commit.hexsha in seen:
                    continue
                seen.add(commit.hexsha)
                try:
                    blob = (commit.tree / "mission.md").data_stream.read()
                except KeyError:
                    blob = None
                chain.append(AuditCommit(commit.hexsha, tuple(p.hexsha for p in commit.parents),
                                         str(commit.message), int(commit.committed_date), blob))
                todo.extend(commit.parents)
            out[ref.path] = chain
        return out
    finally:
        repo.close()
