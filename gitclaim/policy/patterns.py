"""The commit-message checker's regular expressions (policy/checker.py), each compiled the first time a check
needs it."""

from __future__ import annotations

import re
from functools import cached_property

from gitclaim.policy import tools

# Names of models and coding tools, as they appear in trailers and commit identities. Human first names
# that double as product names (Devin, Jules, Cody) are left out: their tools are caught by their emails.
_MODEL_NAMES = (
    r"claude|anthropic|chat-?gpt|gpt(?:-?\d[\w.]*)?|openai|gemini|copilot|codex|llama[\w.-]*|"
    r"mistral|mixtral|codestral|deepseek|qwen[\w.-]*|grok|cursor|aider|windsurf|codeium|tabnine|"
    r"codewhisperer|amazon\s+q"
)
# "Not a letter or digit" on either side: underscores and hyphens separate words, so `AI-assisted` and
# `ai_helper` hit while `email`, `said` and `regenerate` do not.
BEFORE = r"(?<![^\W_])"
AFTER = r"(?![^\W_])"
# Exactly the merge subjects git (`git merge`, `git pull`) and the forges write: only the quoted names, the
# remote URL and the target branch vary. Anything more is the author's text and is checked as prose.
_QUOTED = r"'[^']*'(?:(?:, | and )'[^']*')*"


class Patterns:
    """The rules' regular expressions, each compiled the first time a check needs it. Every process that writes
    checks its message, and compiling all of them at import cost each one a few milliseconds, though a mission
    commit message, for one, never meets the scissors line, the model names of a `*-by:` trailer or aider's
    name."""

    @cached_property
    def model(self) -> re.Pattern[str]:
        # Names only agents sign with (gitclaim/policy/tools.py): matched in trailer and identity names, not in
        # prose.
        bots = "|".join(r"\s+".join(re.escape(w) for w in n.split()) for n in tools.bot_names())
        return re.compile(rf"{BEFORE}(?:{_MODEL_NAMES}|{bots}){AFTER}", re.IGNORECASE)

    @cached_property
    def signatures(self) -> tuple[re.Pattern[str], ...]:
        """Signatures that tools write on their own: always checked, whatever the configured terms."""
        return tuple(
            re.compile(pattern, re.IGNORECASE)
            for pattern in (
                "\N{ROBOT FACE}",
                r"claude\.(?:ai|com)\b",
                r"aider\.chat",
                *(re.escape(address) for address in tools.addresses()),
                rf"{BEFORE}(?:generated|written|created|authored|produced|assisted|made)\s+(?:with|by|using|via)"
                rf"\s+(?:an?\s+|the\s+)?\[?(?:{_MODEL_NAMES}|ai|llm){AFTER}",
            )
        )

    @cached_property
    def aider_name(self) -> re.Pattern[str]:
        return re.compile(r"\(aider\)\s*$", re.IGNORECASE)

    @cached_property
    def trailer(self) -> re.Pattern[str]:
        return re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z0-9-]*-by)\s*:\s*(?P<value>.*)", re.IGNORECASE)

    @cached_property
    def header(self) -> re.Pattern[str]:
        return re.compile(r"(?P<type>[^\s():!]+)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?:(?P<rest>.*)")

    @cached_property
    def autosquash(self) -> re.Pattern[str]:
        return re.compile(r"(?:(?P<kind>fixup|squash|amend)! )+")

    @cached_property
    def merge(self) -> re.Pattern[str]:
        return re.compile(
            r"Merge (?:branch|branches|remote-tracking branch|remote-tracking branches|remote branch"
            r"|pull request|tag|tags|commit|commits) .+"
        )

    @cached_property
    def git_merge(self) -> re.Pattern[str]:
        return re.compile(
            rf"Merge (?:(?:remote-tracking )?branch(?:es)?|tags?|commits?) {_QUOTED}(?: of \S+)?(?: into \S+)?"
            r"|Merge pull request #\d+ from \S+|Merge \S+ into \S+"
        )

    @cached_property
    def not_prose(self) -> re.Pattern[str]:
        return re.compile(
            r"`[^`\s]+`"  # a code span holding one token: an identifier, a path, an option
            r"|[A-Za-z][A-Za-z0-9+.-]*://\S+"  # a URL
            r"|(?<![\w.-])(?:[\w.-]+/)*(?:CLAUDE\.md|\.claude/[\w./-]*|generated/[\w./-]*)"
        )

    @cached_property
    def git_revert(self) -> re.Pattern[str]:
        return re.compile(r'(?:Revert|Reapply) ".*"')

    @cached_property
    def breaking(self) -> re.Pattern[str]:
        return re.compile(r"(?P<token>breaking[ -]change)(?P<space>\s*):(?P<rest>.*)", re.IGNORECASE)

    @cached_property
    def scissors(self) -> re.Pattern[str]:
        return re.compile(r" -+ >8 -+\s*")


    # What the checker matches, each pattern behind a plain test that any match of it implies: a mission commit's
    # message never starts with `Merge ` or `fixup! `, and compiling the patterns it cannot match cost every
    # process that writes about 3 ms (docs/performance.md). Keep each test beside its pattern's text above.

    def merge_subject(self, subject: str) -> bool:
        return subject.startswith("Merge ") and self.merge.fullmatch(subject) is not None

    def git_merge_subject(self, subject: str) -> bool:
        return subject.startswith("Merge ") and self.git_merge.fullmatch(subject) is not None

    def revert_subject(self, subject: str) -> bool:
        return subject.startswith(('Revert "', 'Reapply "')) and self.git_revert.fullmatch(subject) is not None

    def autosquash_prefix(self, header: str) -> re.Match[str] | None:
        return self.autosquash.match(header) if header.startswith(("fixup! ", "squash! ", "amend! ")) else None

    def breaking_footer(self, line: str) -> re.Match[str] | None:
        return self.breaking.match(line) if line.startswith(("b", "B")) else None  # b has no other case form

    def by_trailer(self, line: str) -> re.Match[str] | None:
        return self.trailer.fullmatch(line) if "-by" in line.lower() else None


PATTERNS = Patterns()
