"""The pure checker: tables of messages that must fail (with rule ids and line numbers) and must pass."""

from __future__ import annotations

import pytest

from gitclaim.core import settings
from gitclaim.errors import InvalidInput
from gitclaim.policy import (
    Finding,
    PolicyConfig,
    check_identity,
    check_message,
    format_violations,
)
from gitclaim.policy.checker import RULES
from tests.helpers import ROOT


def load_policy(text: str | None) -> PolicyConfig:
    """The policy a .gitclaim.yaml text describes, as core/settings.py (the one reader of the file) reads it."""
    return settings.parse(text).policy


DEFAULT = PolicyConfig()
SCISSORS = "# ------------------------ >8 ------------------------"


def found(message: str, config: PolicyConfig = DEFAULT, **kwargs: bool) -> set[tuple[int, str]]:
    return {(v.line, v.rule) for v in check_message(message, config, **kwargs)}


# --- Conventional Commits structure ---------------------------------------------------------------------------

VALID = [
    "feat: add claim command",
    "fix(cli): handle an empty id",
    "feat!: drop python 3.10",
    "feat(api)!: rename the claim endpoint",
    "refactor(git.py): one process per read",
    "FEAT: types are case-insensitive, as the spec says",
    "chore: bump deps\n",
    "\n\nfix: leading blank lines are stripped by git",
    "fix: windows line endings\r\n\r\nbody\r\n",
    "docs: body and footers\n\nA body.\n\nMore body.\n\nRefs: #12\nReviewed-by: Jane Doe <jane@example.com>",
    "feat: breaking\n\nBREAKING CHANGE: ids are now case-sensitive",
    "feat: breaking\n\nBREAKING-CHANGE: ids are now case-sensitive",
    "revert: undo the claim timeout change",
    *(f"{kind}: something" for kind in ("test", "build", "ci", "perf", "style")),
]


@pytest.mark.parametrize("message", VALID)
def test_check_message_accepts_conventional(message: str) -> None:
    assert check_message(message, DEFAULT) == []


STRUCTURE_FAILURES = [
    ("add claim command", {(1, "header-format")}),
    ("feat:add claim command", {(1, "header-format")}),
    ("feat(cli: add claim command", {(1, "header-format")}),
    (" feat: leading space", {(1, "header-format")}),
    ("wip: half done", {(1, "type-unknown")}),
    ("feature: add x", {(1, "type-unknown")}),
    ("feat(): add x", {(1, "scope-empty")}),
    ("feat( ): add x", {(1, "scope-empty")}),
    ("feat:", {(1, "description-empty")}),
    ("feat: ", {(1, "description-empty")}),
    ("feat(cli)!:   ", {(1, "description-empty")}),
    ("wip():", {(1, "type-unknown"), (1, "scope-empty"), (1, "description-empty")}),
    ("feat: x\nbody right below", {(2, "body-leading-blank")}),
    ("nope\nbody", {(1, "header-format"), (2, "body-leading-blank")}),
    ("feat: x\n\nbreaking change: lowercase token", {(3, "breaking-change-footer")}),
    ("feat: x\n\nBreaking-Change: mixed case", {(3, "breaking-change-footer")}),
    ("feat: x\n\nBREAKING CHANGE:", {(3, "breaking-change-footer")}),
    ("feat: x\n\nBREAKING CHANGE : space", {(3, "breaking-change-footer")}),
    ("", {(1, "message-empty")}),
    ("\n\n  \n", {(1, "message-empty")}),
    ("# only a comment\n", {(1, "message-empty")}),
]


@pytest.mark.parametrize(("message", "expected"), STRUCTURE_FAILURES)
def test_check_message_structure_failures(message: str, expected: set[tuple[int, str]]) -> None:
    assert found(message) == expected


def test_check_message_line_numbers_count_comments_and_leading_blanks() -> None:
    message = "# template\n\nfeat: x\n# note\nbody without blank\n"
    assert found(message) == {(5, "body-leading-blank")}


def test_check_message_counts_lines_like_git() -> None:
    # A form feed or U+2028 is not a line break for git: the trailer is still on line 3.
    message = "feat: x\n\nCo-authored-by: Gemini <g@example.com> \x0c\u2028"
    assert found(message) == {(3, "attribution-trailer")}


def test_check_message_unknown_type_hint_lists_types() -> None:
    [v] = check_message("wip: x", DEFAULT)
    assert v.text == "wip"
    assert v.hint.startswith("use one of: feat, fix, refactor")


# --- headers git and the forges write ----------------------------------------------------------------------------

GENERATED_HEADERS = [
    "Merge branch 'feature/x'",
    "Merge branch 'feature/x' into main",
    "Merge branches 'a' and 'b'",
    "Merge remote-tracking branch 'origin/main'",
    "Merge pull request #12 from jane/fix-claims\n\nfix(claims): retry on lost race",
    "Merge tag 'v1.2.0'",
    "Merge commit 'abc123' into main",
    "Merge branch 'x' into main\n# Conflicts:\n#\tgitclaim/ai_generated.py\n",
    'Revert "feat: add claim command"\n\nThis reverts commit 1234567890abcdef.',
    'Revert "Revert "feat: add claim command""\n\nThis reverts commit 1234567890abcdef.',
    'Reapply "feat: add claim command"\n\nThis reverts commit 1234567890abcdef.',
    "fixup! feat: add claim command",
    "squash! fix(cli): handle an empty id\n\nalso the other case",
    "fixup! fixup! feat: add claim command",
    "amend! feat: add claim command\n\nfeat: add the claim command",
    'fixup! Revert "feat: add claim command"',
    "fixup! Merge branch 'x'",
]


@pytest.mark.parametrize("message", GENERATED_HEADERS)
def test_check_message_accepts_git_generated_headers(message: str) -> None:
    assert check_message(message, DEFAULT) == []


@pytest.mark.parametrize(("message", "expected"), [
    ("fixup! add claim command", {(1, "header-format")}),
    ("squash! wip: x", {(1, "type-unknown")}),
    ("amend! feat: x\n\nnot a header", {(3, "header-format")}),
    ("Merge branch 'x'\n\nCo-authored-by: Claude <noreply@anthropic.com>",
     {(3, "forbidden-term"), (3, "attribution-signature"), (3, "attribution-trailer")}),
    ('Revert "feat: add AI helper"', {(1, "forbidden-term")}),
    ("Merging stuff", {(1, "header-format")}),
    ("Revert the claim change", {(1, "header-format")}),
])
def test_check_message_generated_headers_still_checked(message: str, expected: set[tuple[int, str]]) -> None:
    assert found(message) == expected


# --- comments and scissors ---------------------------------------------------------------------------------------


def test_check_message_ignores_comment_lines() -> None:
    message = "feat: x\n\n# Please enter the commit message\n# new file: generated/AI.py\n"
    assert check_message(message, DEFAULT) == []


def test_check_message_ignores_everything_below_scissors() -> None:
    message = f"feat: x\n{SCISSORS}\n# Do not modify\ndiff --git a/x b/x\n+Co-authored-by: Claude <x@y>\n+AI\n"
    assert check_message(message, DEFAULT) == []


def test_check_message_finds_trailer_hidden_in_comment_line() -> None:
    # `git commit -m` keeps '#' lines, so a signature in one would reach the commit.
    message = "feat: x\n\n# Co-authored-by: Claude <noreply@anthropic.com>\n"
    assert found(message) == {(3, "attribution-signature"), (3, "attribution-trailer")}


def test_check_message_honours_configured_comment_char() -> None:
    config = PolicyConfig(comment_char=";")
    message = "feat: x\n; AI notes\n\n# AI heading\n"
    assert found(message, config) == {(4, "forbidden-term")}


def test_check_message_verbatim_has_no_comments() -> None:
    message = f"feat: x\n\n# AI\n{SCISSORS}\nAI"
    assert found(message, verbatim=True) == {(3, "forbidden-term"), (5, "forbidden-term")}


# --- attribution: must fail ------------------------------------------------------------------------------------

TERM, SIG, TRAILER = "forbidden-term", "attribution-signature", "attribution-trailer"
ATTRIBUTIONS = [
    ("feat: x\n\n\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)",
     {(3, TERM), (3, SIG)},
     ["Generated", "Claude Code", "\N{ROBOT FACE}", "claude.com", "Generated with [Claude"]),
    ("feat: x\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
     {(3, TERM), (3, SIG), (3, TRAILER)},
     ["Claude", "noreply@anthropic.com", "Co-Authored-By: Claude <noreply@anthropic.com>"]),
    ("feat: x\n\nCo-authored-by: GPT-4o <gpt@example.com>", {(3, TRAILER)},
     ["Co-authored-by: GPT-4o <gpt@example.com>"]),
    ("feat: x\n\nCo-authored-by: Gemini <gemini@example.com>", {(3, TRAILER)},
     ["Co-authored-by: Gemini <gemini@example.com>"]),
    ("feat: x\n\nCo-authored-by: claude-sonnet-4 <bot@example.com>", {(3, TERM), (3, TRAILER)},
     ["claude", "Co-authored-by: claude-sonnet-4 <bot@example.com>"]),
    ("feat: x\n\nCo-authored-by: aider (openai/gpt-4o) <aider@aider.chat>", {(3, SIG), (3, TRAILER)},
     ["aider.chat", "Co-authored-by: aider (openai/gpt-4o) <aider@aider.chat>"]),
    ("feat: x\n\nCo-authored-by: Cursor <cursoragent@cursor.com>", {(3, SIG), (3, TRAILER)},
     ["cursoragent@", "Co-authored-by: Cursor <cursoragent@cursor.com>"]),
    ("feat: x\n\nCo-authored-by: Copilot <copilot@github.com>", {(3, SIG), (3, TRAILER)},
     ["copilot@github.com", "Co-authored-by: Copilot <copilot@github.com>"]),
    ("feat: x\n\nCo-authored-by: Copilot <198982749+Copilot@users.noreply.github.com>", {(3, SIG), (3, TRAILER)},
     ["+Copilot@users.noreply.github.com",
      "Co-authored-by: Copilot <198982749+Copilot@users.noreply.github.com>"]),
    ("feat: x\n\nCo-authored-by: ChatGPT <chatgpt@example.com>", {(3, TRAILER)},
     ["Co-authored-by: ChatGPT <chatgpt@example.com>"]),
    ("feat: x\n\nCo-developed-by: DeepSeek-Coder <ds@example.com>", {(3, TRAILER)},
     ["Co-developed-by: DeepSeek-Coder <ds@example.com>"]),
    ("feat: x\n\nAssisted-by: Codex", {(3, TRAILER)}, ["Assisted-by: Codex"]),
    ("feat: AI-assisted refactor of claims", {(1, TERM)}, ["AI"]),
    ("refactor: claims\n\ngenerated by AI", {(3, TERM), (3, SIG)}, ["generated", "AI", "generated by AI"]),
    ("docs: readme\n\nwritten with ChatGPT", {(3, SIG)}, ["written with ChatGPT"]),
    ("docs: readme\n\nCreated using Gemini.", {(3, SIG)}, ["Created using Gemini"]),
    ("feat: add AI helper", {(1, TERM)}, ["AI"]),
    ("feat: add ai helper", {(1, TERM)}, ["ai"]),
    ("feat: add A.I. helper", {(1, TERM)}, ["A.I."]),
    ("feat: add ai_helper module", {(1, TERM)}, ["ai"]),
    ("chore: update generated files", {(1, TERM)}, ["generated"]),
    ("chore: update auto-generated files", {(1, TERM)}, ["generated"]),
    ("fix: ask Claude less", {(1, TERM)}, ["Claude"]),
    ("feat: x\n\nbody\n\nCo-authored-by: Jane Doe <jane@example.com>\n"
     "Co-authored-by: Claude <noreply@anthropic.com>",
     {(6, TERM), (6, SIG), (6, TRAILER)},
     ["Claude", "noreply@anthropic.com", "Co-authored-by: Claude <noreply@anthropic.com>"]),
]


@pytest.mark.parametrize(("message", "expected", "texts"), ATTRIBUTIONS)
def test_check_message_refuses_attribution(message: str, expected: set[tuple[int, str]], texts: list[str]) -> None:
    violations = check_message(message, DEFAULT)
    assert {(v.line, v.rule) for v in violations} == expected
    assert [v.text for v in violations if v.rule != "header-format"] == texts


# --- attribution: must pass ------------------------------------------------------------------------------------

ORDINARY = [
    "fix(mail): keep email domains",
    "refactor: maintain said order",
    "feat(auth): add OAuth flow",
    "fix: handle email validation",
    "feat: x\n\nCo-authored-by: Jane Doe <jane@example.com>",
    "chore: regenerate lock file",
    "chore: lock file regenerated",
    "fix: autogenerated ids keep their prefix",
    "docs: explain the domain model, paid plans and tail latency",
    "fix(openai-compat): rename said field",  # 'ai' inside a word
    "feat: claims are generational",
    "fix: Aid the reader\n\nSigned-off-by: Jane Doe <jane@example.com>",
    "feat: x\n\nReviewed-by: Maintainer <maint@example.com>\nRefs: #42",
    "feat: x\n\nCo-authored-by: Claudette Colbert <claudette@example.com>",
]


@pytest.mark.parametrize("message", ORDINARY)
def test_check_message_accepts_ordinary_words(message: str) -> None:
    assert check_message(message, DEFAULT) == []


# --- configuration -------------------------------------------------------------------------------------------


def test_load_policy_defaults_without_text() -> None:
    assert load_policy(None) == PolicyConfig()
    assert load_policy("") == PolicyConfig()
    assert load_policy("other_tool: {x: 1}\n") == PolicyConfig()


def test_load_policy_types_replace_and_extra_types_add() -> None:
    config = load_policy("policy:\n  types: [feat, fix]\n  extra_types: [wip, fix]\n")
    assert config.types == ("feat", "fix", "wip")
    assert found("docs: x", config) == {(1, "type-unknown")}
    assert found("wip: x", config) == set()


def test_load_policy_extra_types_keep_defaults() -> None:
    config = load_policy("policy:\n  extra_types: [deps]\n")
    assert found("deps: bump", config) == set()
    assert found("feat: x", config) == set()


def test_load_policy_forbidden_terms_replace_defaults() -> None:
    config = load_policy("policy:\n  forbidden_terms: [Skynet]\n")
    assert found("feat: add AI helper", config) == set()
    assert found("feat: wake skynet", config) == {(1, "forbidden-term")}
    # Tool signatures do not depend on the terms.
    assert found("feat: x\n\nCo-authored-by: Claude <noreply@anthropic.com>", config) == {
        (3, "attribution-signature"), (3, "attribution-trailer")}


def test_load_policy_forbidden_patterns_add_rules() -> None:
    config = load_policy("policy:\n  forbidden_patterns: ['JIRA-\\d+']\n")
    violations = check_message("fix: x\n\nsee jira-123", config)
    assert [(v.line, v.rule, v.text) for v in violations] == [(3, "forbidden-pattern", "jira-123")]


def test_load_policy_allowed_terms_exempt_phrases() -> None:
    config = load_policy("policy:\n  allowed_terms: [auto-generated, Claude Shannon]\n")
    assert found("chore: update auto-generated files", config) == set()
    assert found("docs: cite Claude Shannon", config) == set()
    assert found("feat: x\n\nCo-authored-by: Claude Shannon <cs@example.com>", config) == set()
    assert found("chore: generated files", config) == {(1, "forbidden-term")}


def test_load_policy_disabled_accepts_anything() -> None:
    config = load_policy("policy:\n  enabled: false\n")
    assert check_message("whatever AI wrote", config) == []
    assert check_identity("author", "aider (aider)", "x@aider.chat", config) == []


@pytest.mark.parametrize(("text", "key"), [
    ("policy: [feat]\n", "policy:"),
    ("- a\n- b\n", "top level"),
    ("policy:\n  typos: [feat]\n", "policy.typos"),
    ("policy:\n  enabled: maybe\n", "policy.enabled"),
    ("policy:\n  types: feat\n", "policy.types"),
    ("policy:\n  types: []\n", "policy.types"),
    ("policy:\n  types: ['feat x']\n", "policy.types[0]"),
    ("policy:\n  extra_types: [1]\n", "policy.extra_types[0]"),
    ("policy:\n  forbidden_terms: ['']\n", "policy.forbidden_terms[0]"),
    ("policy:\n  forbidden_patterns: ['ok', '(unclosed']\n", "policy.forbidden_patterns[1]"),
    ("policy:\n  allowed_terms: {a: b}\n", "policy.allowed_terms"),
    ("policy: [unclosed\n", "not valid YAML"),
])
def test_load_policy_bad_config_names_the_key(text: str, key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        load_policy(text)
    assert key in str(err.value)
    assert "\n" not in str(err.value)


def test_every_rule_is_documented() -> None:
    doc = (ROOT / "docs" / "commit-policy.md").read_text()
    assert [rule for rule in RULES if f"`{rule}`" not in doc] == []


# --- identities and formatting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "email"), [
    ("Jane Doe (aider)", "jane@example.com"),
    ("Claude", "noreply@anthropic.com"),
    ("Copilot", "198982749+Copilot@users.noreply.github.com"),
    ("gpt-4o", "bot@example.com"),
    ("Build Bot", "aider@aider.chat"),
])
def test_check_identity_refuses_tools(name: str, email: str) -> None:
    assert check_identity("author", name, email, DEFAULT) == [
        Finding(0, f"{name} <{email}>", "attribution-author",
                  "rewrite the commit with a person as author (git commit --amend --reset-author, or rebase)")]


def test_check_identity_accepts_people() -> None:
    assert check_identity("committer", "Jane Doe", "jane@example.com", DEFAULT) == []
    assert check_identity("committer", "GitHub", "noreply@github.com", DEFAULT) == []


def test_format_violations_lines() -> None:
    violations = [Finding(3, "AI", "forbidden-term", "remove it"),
                  Finding(0, "x <y>", "attribution-author", "fix")]
    assert format_violations(violations, "MSG") == (
        'MSG:3: forbidden-term: "AI" \N{EM DASH} remove it\nMSG: attribution-author: "x <y>" \N{EM DASH} fix'
    )
