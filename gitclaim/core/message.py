"""Commit messages of mission commits: a Conventional Commits header, an optional body of user text, and
machine-readable `Gitclaim-*` trailers.

User text (log messages, summaries, reasons) goes into the body and is checked against the repository's commit
policy before anything is written; session descriptions are never put into messages (they live in mission.md),
so an agent may call its session whatever it likes. See docs/protocol.md.
"""

from __future__ import annotations

import os
from typing import NamedTuple

TRAILER_PREFIX = "Gitclaim-"


class MissionMessage(NamedTuple):
    verb: str  # "claim", "release", "log note on", ...
    mission_id: str
    action: str  # machine name, the Gitclaim-Action trailer
    body: str = ""
    # One empty dict shared by every message made without trailers (a NamedTuple has no default factory): it is
    # only ever read.
    trailers: dict[str, str] = {}  # noqa: RUF012

    def render(self) -> str:
        lines = [f"chore(mission): {self.verb} {self.mission_id}".rstrip()]
        body = self.body.strip("\n")
        if body:
            lines += ["", body]
        trailer_lines = [f"{TRAILER_PREFIX}Action: {self.action}"]
        for key, value in self.trailers.items():
            if value is not None and value != "":
                trailer_lines.append(f"{TRAILER_PREFIX}{key}: {one_line(str(value))}")
        # os.urandom is what secrets.token_hex reads; importing secrets (hmac, base64) costs every write.
        trailer_lines.append(f"{TRAILER_PREFIX}Nonce: {os.urandom(8).hex()}")
        return "\n".join([*lines, "", *trailer_lines]) + "\n"


def one_line(text: str) -> str:
    return " ".join(text.split())


def parse(message: str) -> tuple[str, str, dict[str, str]]:
    """(subject, body, Gitclaim trailers) of a mission commit message."""
    paragraphs = message.strip("\n").split("\n\n")
    subject = paragraphs[0].split("\n", 1)[0] if paragraphs else ""
    trailers: dict[str, str] = {}
    rest = paragraphs[1:]
    if rest:
        last = rest[-1].split("\n")
        if all(ln.startswith(TRAILER_PREFIX) and ": " in ln for ln in last):
            for ln in last:
                key, _, value = ln[len(TRAILER_PREFIX):].partition(": ")
                trailers[key.lower()] = value
            rest = rest[:-1]
    return subject, "\n\n".join(rest), trailers
