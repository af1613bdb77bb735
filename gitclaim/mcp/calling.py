"""How an MCP tool calls the library: the arguments every tool shares, the repository a call acts on, and `call`,
the one place a tool's failure becomes a tool error (docs/mcp.md). An expected failure (GitclaimError) comes
back as a tool error (isError) whose text is exactly the one line the CLI prints, plus the CLI's exit code in
`_meta["gitclaim/exit_code"]`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from gitclaim.core.store import Outcome, Store
from gitclaim.errors import GitclaimError, InvalidInput, PolicyViolation
from gitclaim.mcp.schemas import MissionChange
from gitclaim.missions import workspace as service
from gitclaim.workflows import startmission

logger = logging.getLogger("gitclaim.mcp")

EXIT_CODE_META = "gitclaim/exit_code"
WARNINGS_META = "gitclaim/warnings"


# ---- inputs ------------------------------------------------------------------------------------------------

RepoPath = Annotated[str | None, Field(description="Clone or worktree to act in (default: the server's --repo, "
                                                   "$GITCLAIM_REPO, else its working directory; a relative path is "
                                                   "taken from that default).")]
MissionId = Annotated[str, Field(description="Mission id (refs/missions/<id>).")]
TaskId = Annotated[str | None, Field(description="Task id from start_task, like my-mission/t3; leave it out for a "
                                                 "mission-level entry (then give mission_id).")]
Profile = Annotated[Literal["simple", "standard", "complex"], Field(
    description="The workflow template: simple (one implementation phase), standard (analysis, implementation, "
                "review) or complex (adds architecture, tests and integration phases).")]
Session = Annotated[str | None, Field(description="Session description recorded as claimed_by "
                                                  "(default: $GITCLAIM_AS, else user@host).")]


# ---- calling the library -----------------------------------------------------------------------------------

# The repository a call acts on when it names none: `gitclaim mcp --repo PATH` or $GITCLAIM_REPO, set once at
# startup (server.py), because several clients start servers with the working directory `/`.
DEFAULT_REPO: Path | None = None


def _repo_dir(repo_path: str | None) -> Path:
    base = DEFAULT_REPO or Path.cwd()
    if repo_path is None or not repo_path.strip():
        return base
    path = base / Path(repo_path).expanduser()  # an absolute repo_path replaces the base
    if not path.is_dir():
        raise InvalidInput(f"repo_path {repo_path!r} is not a directory")
    return path


# One server opens each repository once and keeps it while its configuration stays the same.
_STORES = service.StoreCache()


def _error(text: str, code: int, warnings: list[str]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True,
                          _meta={EXIT_CODE_META: code, **_warnings_meta(warnings)})


def _warnings_meta(warnings: list[str]) -> dict[str, Any]:
    """Warnings of the call (the agents file could not be updated, ...): on the server's stderr, as the CLI
    prints them, and to the agent in `_meta`."""
    for text in warnings:
        logger.warning("%s", text)
    return {WARNINGS_META: list(warnings)} if warnings else {}


def call(repo_path: str | None, op: Callable[[Store], BaseModel]) -> CallToolResult:
    """Open the store, run one library operation; the one place a tool's failure becomes a tool error."""
    store: Store | None = None
    try:
        store = _STORES.store(_repo_dir(repo_path))
        result = op(store)
    except GitclaimError as err:
        return _error(str(err), err.exit_code, store.warnings if store else [])
    except Exception as exc:  # a bug: the agent still gets one line, the traceback goes to stderr
        logger.exception("gitclaim tool failed")
        return _error(f"internal error: {type(exc).__name__}: {exc} (report it)", 1,
                      store.warnings if store else [])
    data = result.model_dump(mode="json")
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(data, ensure_ascii=False))],
                          structured_content=data, _meta=_warnings_meta(store.warnings) or None)


def changed(store: Store, out: Outcome, model: type[MissionChange] = MissionChange, **more: Any) -> Any:
    """The mission a write left, with the signature state of the claim it records (docs/signing.md) when this
    clone signs or the repository requires signed claims: checking it costs a write two git processes, which a
    clone that signs nothing is not charged (docs/mcp.md; list_missions and show_mission always carry it)."""
    sig = None
    if store.repo.signer is not None or store.settings.signing_required:
        from gitclaim.core.claimsigs import claim_signature

        sig = claim_signature(store, out.state)
    fields = {**out.state.mission.to_json(), "signature": sig.to_json() if sig is not None else None}
    return model(**fields, changed=out.changed, commit=out.state.commit, **more)


def derived_id_refused(name: str, err: PolicyViolation) -> PolicyViolation:
    """The id is the only text of a start commit's message: when the policy refuses it, say which id, where it
    came from, and how to choose another, instead of asking to reword text the caller never wrote."""
    derived = startmission.slugify(" ".join(name.split()))
    reason = str(err).removesuffix("; reword the text you gave")
    return PolicyViolation(f"the mission id {derived!r}, derived from the name {name!r}: {reason}; pass another id "
                           "as mission_id")
