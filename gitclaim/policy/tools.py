"""Coding agents and tools that sign commits as themselves: the data the attribution rules match.

One row per tool. Add a row (or an address to a row) when a new agent appears; docs/commit-policy.md lists the
table. `addresses` are matched case-insensitively anywhere in a message, an author or a committer (a fragment
such as `cursoragent@` covers every domain); `bot_names` are matched as whole words in the name part of a
`*-by:` trailer and in author and committer names. Human first names that double as product names (Devin,
Jules, Junie, Cody) are never bot names: their tools are recognised by the addresses they sign with.
"""

from __future__ import annotations

from typing import NamedTuple


class Tool(NamedTuple):
    name: str
    addresses: tuple[str, ...] = ()
    bot_names: tuple[str, ...] = ()


TOOLS: tuple[Tool, ...] = (
    Tool("Claude Code", ("noreply@anthropic.com",), ("claude[bot]",)),
    Tool("OpenHands", ("openhands@all-hands.dev",), ("openhands", "openhands-agent", "openhands[bot]")),
    Tool("Junie", ("junie@jetbrains.com",)),
    Tool("GitHub Copilot", ("copilot@github.com", "+copilot@users.noreply.github.com"),
         ("copilot-swe-agent", "copilot-swe-agent[bot]")),
    Tool("Cursor", ("cursoragent@",), ("cursoragent", "cursor agent")),
    Tool("Devin", ("devin-ai-integration",), ("devin-ai-integration[bot]",)),
    Tool("Codex", ("chatgpt-codex-connector",), ("chatgpt-codex-connector[bot]",)),
    Tool("Google Jules", ("google-labs-jules",), ("google-labs-jules[bot]",)),
)


def addresses() -> tuple[str, ...]:
    return tuple(a for tool in TOOLS for a in tool.addresses)


def bot_names() -> tuple[str, ...]:
    return tuple(n for tool in TOOLS for n in tool.bot_names)
