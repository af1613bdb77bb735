"""The MCP tool `verify_missions`: `gitclaim verify` as one tool call (docs/signing.md, docs/mcp.md).

Commits that are not good are the answer, not a failure: the tool returns the report with `ok: false`, so an
agent reads which mission and commit, as a CI job reads `gitclaim verify --json`.
"""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from gitclaim.core.store import Store
from gitclaim.mcp.calling import RepoPath, call
from gitclaim.mcp.schemas import VerifyReport
from gitclaim.missions import verify


def verify_missions(
    ids: Annotated[list[str] | None, Field(description="Missions to check (default: all).")] = None,
    archived: Annotated[bool, Field(description="Archived missions too (their histories as archived).")] = False,
    repo_path: RepoPath = None,
) -> Annotated[CallToolResult, VerifyReport]:
    """Check the signature of every commit of the missions' histories against the trust list of the default
    branch (fetched first), and fencing by principal; ok is false when any commit is not signed good."""
    def op(store: Store) -> VerifyReport:
        return VerifyReport(**verify.verify(store, ids or [], archived=archived).to_json())

    return call(repo_path, op)


TOOLS = (verify_missions,)
