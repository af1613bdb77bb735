"""The commit-message checker: a pure function from (message, policy) to every violation found.

Nothing here prints, exits or runs git, so the same rules serve the commit-msg hook, `check-msg --range` in
CI and a server-side guard. Rules and their ids are documented in docs/commit-policy.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Literal, NamedTuple

from gitclaim.policy import tools
from gitclaim.policy.config import PolicyConfig
from gitclaim.policy.patterns import AFTER, BEFORE, PATTERNS

# Rule ids: stable strings, shown to users and asserted on by tests.
MESSAGE_EMPTY = "message-empty"
HEADER_FORMAT = "header-format"
TYPE_UNKNOWN = "type-unknown"
SCOPE_EMPTY = "scope-empty"
DESCRIPTION_EMPTY = "description-empty"
BODY_LEADING_BLANK = "body-leading-blank"
BREAKING_CHANGE_FOOTER = "breaking-change-footer"
FORBIDDEN_TERM = "forbidden-term"
FORBIDDEN_PATTERN = "forbidden-pattern"
ATTRIBUTION_TRAILER = "attribution-trailer"
ATTRIBUTION_SIGNATURE = "attribution-signature"
ATTRIBUTION_AUTHOR = "attribution-author"
ATTRIBUTION_COMMITTER = "attribution-committer"
RULES = (
    MESSAGE_EMPTY, HEADER_FORMAT, TYPE_UNKNOWN, SCOPE_EMPTY, DESCRIPTION_EMPTY, BODY_LEADING_BLANK,
    BREAKING_CHANGE_FOOTER, FORBIDDEN_TERM, FORBIDDEN_PATTERN, ATTRIBUTION_TRAILER, ATTRIBUTION_SIGNATURE,
    ATTRIBUTION_AUTHOR, ATTRIBUTION_COMMITTER,
)


class Finding(NamedTuple):
    """One broken rule of the commit policy (a violation; not `workflows.rules.Violation`, a workflow's broken
    rule, nor `errors.PolicyViolation`, the error a front end reports). `line` is 1-based in the message as
    given; 0 when it is not about the text."""

    line: int
    text: str
    rule: str
    hint: str


class _Line(NamedTuple):
    number: int
    text: str




def check_message(message: str, config: PolicyConfig, *, verbatim: bool = False) -> list[Finding]:
    """Every violation of `config` in `message`, in line order.

    `verbatim=True` is for messages already committed: git's cleanup has run, so no line is a comment and
    nothing is cut at the scissors line. A message bound for a commit (the hook's file) is not cleaned yet.
    """
    if not config.enabled:
        return []
    comment_char = None if verbatim else config.comment_char
    content, comments = _split(message, comment_char)
    found = [*_structure(content, config), *_attributions(content, comments, config)]
    return sorted(_unique(found), key=lambda v: v.line)


def check_identity(role: Literal["author", "committer"], name: str, email: str,
                   config: PolicyConfig) -> list[Finding]:
    """Violations in a commit's author or committer (`role`): tools that sign commits as themselves."""
    if not config.enabled:
        return []
    who = f"{name} <{email}>"
    rule = ATTRIBUTION_AUTHOR if role == "author" else ATTRIBUTION_COMMITTER
    hint = f"rewrite the commit with a person as {role} (git commit --amend --reset-author, or rebase)"
    tool = (
        PATTERNS.aider_name.search(name)  # aider appends " (aider)" to the user's name by default
        or PATTERNS.model.search(_masked(name, config))
        or any(sig.search(email) or sig.search(name) for sig in PATTERNS.signatures)
    )
    return [Finding(0, who, rule, hint)] if tool else []


def format_violations(violations: Iterable[Finding], source: str) -> str:
    """One line per violation: `<source>:<line>: <rule>: "<text>" — <hint>` (no line part when line is 0)."""
    lines = []
    for v in violations:
        where = f"{source}:{v.line}" if v.line else source
        lines.append(f'{where}: {v.rule}: "{v.text}" \N{EM DASH} {v.hint}')
    return "\n".join(lines)


# --- splitting ---------------------------------------------------------------------------------------------


def _split(message: str, comment_char: str | None) -> tuple[list[_Line], list[_Line]]:
    """(content lines, comment lines with the comment char removed), both cut at git's scissors line."""
    content: list[_Line] = []
    comments: list[_Line] = []
    # split("\n"), not splitlines(): git counts lines by LF only, and so must the line numbers we report.
    for number, raw in enumerate(message.split("\n"), start=1):
        text = raw.rstrip("\r")
        if comment_char and text.startswith(comment_char):
            rest = text[len(comment_char):]
            if PATTERNS.scissors.fullmatch(rest):
                break  # git drops the scissors line and everything below it (the diff of `commit -v`)
            comments.append(_Line(number, rest))
        else:
            content.append(_Line(number, text))
    return content, comments


def _paragraph_lines(content: list[_Line]) -> list[_Line]:
    """Content without the leading and trailing blank lines git's cleanup removes."""
    start = 0
    while start < len(content) and not content[start].text.strip():
        start += 1
    end = len(content)
    while end > start and not content[end - 1].text.strip():
        end -= 1
    return content[start:end]


# --- Conventional Commits structure --------------------------------------------------------------------------


def _structure(content: list[_Line], config: PolicyConfig) -> Iterator[Finding]:
    lines = _paragraph_lines(content)
    if not lines:
        yield Finding(1, "", MESSAGE_EMPTY, "write a header such as 'fix(cli): handle an empty id'")
        return
    header = lines[0]
    subject, autosquash = _strip_autosquash(header.text)
    if PATTERNS.merge_subject(subject):
        return  # git and the forges write these headers themselves; only the attribution checks apply
    if not PATTERNS.revert_subject(subject):
        yield from _header(header, subject, config)
    body = lines[1:]
    if body and body[0].text.strip():
        yield Finding(body[0].number, body[0].text, BODY_LEADING_BLANK,
                        "leave one blank line between the header and the body")
    if "amend" in autosquash:
        yield from _amended_header(body, config)
    yield from _breaking_footers(body)


def _strip_autosquash(header: str) -> tuple[str, set[str]]:
    """The header without `fixup! `/`squash! `/`amend! ` prefixes, and which prefixes there were."""
    match = PATTERNS.autosquash_prefix(header)
    if not match:
        return header, set()
    kinds = set(re.findall(r"(fixup|squash|amend)! ", match.group(0)))
    return header[match.end():], kinds


def _amended_header(body: list[_Line], config: PolicyConfig) -> Iterator[Finding]:
    """`amend!` commits carry the replacement message in their body: its first line becomes a header."""
    new_message = _paragraph_lines(body)
    if new_message:
        first = new_message[0]
        yield from _header(first, first.text, config)


def _header(line: _Line, subject: str, config: PolicyConfig) -> Iterator[Finding]:
    match = PATTERNS.header.fullmatch(subject)
    if not match:
        yield Finding(line.number, line.text, HEADER_FORMAT,
                        "write the header as 'type(scope): description', e.g. 'fix(cli): handle an empty id'")
        return
    kind, scope, rest = match.group("type"), match.group("scope"), match.group("rest")
    if kind.lower() not in {t.lower() for t in config.types}:
        yield Finding(line.number, kind, TYPE_UNKNOWN, f"use one of: {', '.join(config.types)}")
    if scope is not None and not scope.strip():
        yield Finding(line.number, line.text, SCOPE_EMPTY,
                        "name the scope inside the parentheses, or drop the parentheses")
    if not rest.strip():
        yield Finding(line.number, line.text, DESCRIPTION_EMPTY,
                        "say what the commit does after the colon and a space")
    elif not rest.startswith(" "):
        yield Finding(line.number, line.text, HEADER_FORMAT, "put one space after the colon")


def _breaking_footers(body: list[_Line]) -> Iterator[Finding]:
    for line in body:
        match = PATTERNS.breaking_footer(line.text)
        if not match:
            continue
        if match.group("token") not in ("BREAKING CHANGE", "BREAKING-CHANGE") or match.group("space"):
            yield Finding(line.number, line.text, BREAKING_CHANGE_FOOTER,
                            "write the footer as 'BREAKING CHANGE: <what breaks>', in capitals")
        elif not match.group("rest").strip():
            yield Finding(line.number, line.text, BREAKING_CHANGE_FOOTER,
                            "say what breaks after 'BREAKING CHANGE: '")


# --- attribution ---------------------------------------------------------------------------------------------


def _attributions(content: list[_Line], comments: list[_Line], config: PolicyConfig) -> Iterator[Finding]:
    # Terms and the repository's own patterns skip comment lines: git's editor template lists file names
    # there ("generated.py"). Tool signatures and co-author trailers are checked in comments too, because
    # `git commit -m '# Co-authored-by: ...'` keeps that line in the commit.
    merge_header = _git_merge_header(content)
    for line in content:
        if line != merge_header:  # the branch names in git's own merge header are not the author's prose
            yield from _terms(line, config)
        yield from _patterns(line, config)
    for line in sorted([*content, *comments]):
        yield from _signatures(line)
        yield from _trailer(line, config)


def _git_merge_header(content: list[_Line]) -> _Line | None:
    """The header line when it is exactly a merge subject as git or a forge writes it, else None."""
    lines = _paragraph_lines(content)
    if not lines:
        return None
    subject, _ = _strip_autosquash(lines[0].text)
    return lines[0] if PATTERNS.git_merge_subject(subject) else None


def _terms(line: _Line, config: PolicyConfig) -> Iterator[Finding]:
    regex = _terms_regex(config.forbidden_terms)
    if regex is None:
        return
    for match in regex.finditer(_masked(_not_prose(line.text, regex), config)):
        text = line.text[match.start():match.end()]
        yield Finding(line.number, text, FORBIDDEN_TERM,
                        f"remove '{text}': the commit policy forbids mentioning it")


def _not_prose(text: str, terms: re.Pattern[str]) -> str:
    """`text` with what is not the author's words blanked out (same length): one-token code spans
    (`ai_score`), URLs, and the paths gitclaim tells users to commit (CLAUDE.md, .claude/..., generated/).
    A code span holding nothing but a forbidden term (`AI`) is still a mention of it."""
    def blank(match: re.Match[str]) -> str:
        span = match.group(0)
        if span.startswith("`") and terms.fullmatch(span[1:-1]):
            return span
        return " " * len(span)

    return PATTERNS.not_prose.sub(blank, text)


def _patterns(line: _Line, config: PolicyConfig) -> Iterator[Finding]:
    for pattern in _compiled_patterns(config.forbidden_patterns):
        for match in pattern.finditer(line.text):
            yield Finding(line.number, match.group(0), FORBIDDEN_PATTERN,
                            f"remove it: the commit policy forbids text matching /{pattern.pattern}/")


def _signatures(line: _Line) -> Iterator[Finding]:
    for signature in PATTERNS.signatures:
        match = signature.search(line.text)
        if match:
            yield Finding(line.number, match.group(0), ATTRIBUTION_SIGNATURE,
                            "delete this tool signature: commits are not attributed to tools or models")


def _trailer(line: _Line, config: PolicyConfig) -> Iterator[Finding]:
    match = PATTERNS.by_trailer(line.text)
    if not match:
        return
    value = match.group("value")
    name = value.split("<", 1)[0]
    known_address = any(address in value.casefold() for address in tools.addresses())
    if PATTERNS.model.search(_masked(name, config)) or PATTERNS.aider_name.search(name.strip()) or known_address:
        yield Finding(line.number, line.text.strip(), ATTRIBUTION_TRAILER,
                        f"delete this {match.group('key')} trailer: tools and models are not credited")


def _unique(violations: Iterable[Finding]) -> Iterator[Finding]:
    """One violation per line, rule and offending text: a URL naming a model twice is reported once."""
    seen: set[tuple[int, str, str]] = set()
    for v in violations:
        key = (v.line, v.rule, v.text.casefold().replace(".", ""))
        if key not in seen:
            seen.add(key)
            yield v


# --- compiled, cached per configuration ----------------------------------------------------------------------


def _masked(text: str, config: PolicyConfig) -> str:
    """`text` with allowed phrases blanked out (same length, so offsets still point into the original)."""
    regex = _allowed_regex(config.allowed_terms)
    if regex is None:
        return text
    return regex.sub(lambda m: " " * len(m.group(0)), text)


@lru_cache(maxsize=32)
def _terms_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    # Longest first, so "Claude Code" is reported as itself rather than as "Claude".
    alternatives = [_term_alternative(t) for t in sorted(terms, key=len, reverse=True)]
    return re.compile(rf"{BEFORE}(?:{'|'.join(alternatives)}){AFTER}", re.IGNORECASE)


def _term_alternative(term: str) -> str:
    words = r"\s+".join(re.escape(word) for word in term.split())
    if term.isalpha() and term.isupper() and len(term) <= 4:
        # An acronym is also written with dots: A.I., A.I
        dotted = r"\.".join(re.escape(letter) for letter in term) + r"\.?"
        return f"{words}|{dotted}"
    return words


@lru_cache(maxsize=32)
def _allowed_regex(allowed: tuple[str, ...]) -> re.Pattern[str] | None:
    if not allowed:
        return None
    alternatives = [r"\s+".join(re.escape(w) for w in a.split()) for a in sorted(allowed, key=len, reverse=True)]
    return re.compile(rf"{BEFORE}(?:{'|'.join(alternatives)}){AFTER}", re.IGNORECASE)


@lru_cache(maxsize=32)
def _compiled_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)
