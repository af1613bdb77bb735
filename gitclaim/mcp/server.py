"""The MCP server (`gitclaim mcp`): the mission system's tools (gitclaim/mcp/tools.py) over stdio, built on the
MCP Python SDK (2.x).

Between calls the server keeps only each repository it opened (its paths, configuration and settings, read again
when one of their files changes: missions/workspace.py StoreCache), one `cat-file --batch` per repository for its
reads (core/git/process.py KeptReader) and, on an ssh remote, the shared connection's master for its persistence
time (600 s by default, core/ssh.py); what a call fetched is never reused by the next. Every other git process is
short-lived (see gitclaim/core/git/), so a server that runs for a whole working day holds one git child per
repository and does not grow.

Only gitclaim/mcp/ imports the SDK; `gitclaim mcp` imports this module, nothing else does. Reference: docs/mcp.md.
"""

from __future__ import annotations

from pathlib import Path

from mcp.server.mcpserver import MCPServer

from gitclaim import __version__
from gitclaim.mcp import calling, verifying, waiting
from gitclaim.mcp.tools import ANNOTATIONS, TOOLS

INSTRUCTIONS = """gitclaim: missions are claimed atomically through the shared git remote (refs/missions/<id>).
Each state change is one commit on the mission's ref. Orchestrate a mission with start_mission (or claim_mission /
next_mission), then per workflow phase: start_task -> log_decision / log_milestone / log_issue -> complete_task
(phase_complete: true), and finish with complete_mission. get_context reads what was recorded so far.
A log_issue with requiresHumanReview blocks the mission: stop and ask a person (they run `gitclaim unblock`).
A phase with `checkpoint: human` starts only after a person runs `gitclaim approve <id> --phase N`.
wait_for_change waits (up to 300 s a call) for a claim, a release, a requirement DONE or ready work.
Every tool takes an optional repo_path: the clone or worktree to act in (default: the server's --repo, else its
directory)."""


def build_server(repo: Path | None = None) -> MCPServer:
    """The server with every tool and its annotations; `repo` is where calls without repo_path act."""
    calling.DEFAULT_REPO = repo
    server = MCPServer(name="gitclaim", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    for tool in (*TOOLS, *waiting.TOOLS, *verifying.TOOLS):
        server.add_tool(tool, annotations=ANNOTATIONS[tool.__name__])
    return server


def serve(repo: Path | None = None) -> None:
    """Serve on stdin/stdout until the client closes them."""
    build_server(repo).run("stdio")
