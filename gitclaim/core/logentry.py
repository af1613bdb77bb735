"""An execution-log entry (`gitclaim log`, the MCP log tools, task commands): what it may hold, checked before
anything is written, and the commit trailers it becomes (docs/protocol.md)."""

from __future__ import annotations

from typing import NamedTuple

from gitclaim.core.usertext import user_text
from gitclaim.errors import InvalidInput

LOG_KINDS = ("note", "milestone", "decision", "issue")
SEVERITIES = ("low", "medium", "high", "critical")


class LogEntry(NamedTuple):
    kind: str = "note"
    message: str = ""
    progress: int | None = None
    question: str | None = None
    chosen: str | None = None
    severity: str | None = None
    needs_human: bool = False
    task: str | None = None
    category: str | None = None

    def check(self) -> LogEntry:
        if self.kind not in LOG_KINDS:
            raise InvalidInput(f"unknown log kind {self.kind!r}: use one of {', '.join(LOG_KINDS)}")
        if not user_text(self.message, "the log message") and not (self.kind == "decision" and self.chosen):
            raise InvalidInput("a log entry needs a message")
        if self.progress is not None and not 0 <= self.progress <= 100:
            raise InvalidInput(f"--progress must be between 0 and 100, got {self.progress}")
        if self.progress is not None and self.kind != "milestone":
            raise InvalidInput("--progress goes with --kind milestone")
        if (self.question or self.chosen) and self.kind != "decision":
            raise InvalidInput("--question and --chosen go with --kind decision")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise InvalidInput(f"unknown severity {self.severity!r}: use one of {', '.join(SEVERITIES)}")
        if (self.severity or self.needs_human) and self.kind != "issue":
            raise InvalidInput("--severity and --needs-human go with --kind issue")
        return self

    def trailers(self) -> dict[str, str]:
        out = {"Kind": self.kind}
        for key, value in (("Progress", self.progress), ("Severity", self.severity), ("Task", self.task),
                           ("Category", self.category), ("Question", self.question), ("Chosen", self.chosen)):
            if value is not None and value != "":
                out[key] = str(value)
        if self.needs_human:
            out["Needs-Human"] = "yes"
        return out
