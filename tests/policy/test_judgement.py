"""The commit policy as a person would judge it: agent co-authors recognised by address and bot name, words
that are not the author's prose (code spans, URLs, committed paths, git's merge headers), and the identity the
commit-msg hook sees. Tables first (the pure checker), then real commits through the installed hook."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from gitclaim.core.git import Git
from gitclaim.hooks.install import install_commit_msg_hook
from gitclaim.policy import PolicyConfig, check_identity, check_message
from gitclaim.policy.tools import TOOLS
from tests.helpers import ROOT, git, run_gitclaim

DEFAULT = PolicyConfig()
TERM, SIG, TRAILER = "forbidden-term", "attribution-signature", "attribution-trailer"


def found(message: str) -> set[tuple[int, str]]:
    return {(v.line, v.rule) for v in check_message(message, DEFAULT)}


# --- 32: agent co-authors, by address and bot name --------------------------------------------------------------

AGENT_COAUTHORS = [
    ("Co-authored-by: openhands <openhands@all-hands.dev>", {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: OpenHands Agent <openhands@all-hands.dev>", {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: openhands <someone@example.com>", {(3, TRAILER)}),
    ("Co-authored-by: Junie <junie@jetbrains.com>", {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: JUNIE <Junie@JetBrains.com>", {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
     {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: devin-ai-integration[bot] <158243242+devin-ai-integration[bot]@users.noreply.github.com>",
     {(3, TERM), (3, SIG), (3, TRAILER)}),
    ("Co-authored-by: claude[bot] <209825114+claude[bot]@users.noreply.github.com>", {(3, TERM), (3, TRAILER)}),
    ("Co-authored-by: google-labs-jules[bot] <161369871+google-labs-jules[bot]@users.noreply.github.com>",
     {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: chatgpt-codex-connector[bot] <x@users.noreply.github.com>", {(3, SIG), (3, TRAILER)}),
    ("Co-authored-by: Cursor Agent <cursoragent@cursor.com>", {(3, SIG), (3, TRAILER)}),
    ("Reported-by: openhands@all-hands.dev", {(3, SIG), (3, TRAILER)}),
    ("see openhands@all-hands.dev", {(3, SIG)}),  # an agent's address is refused wherever it appears
]


@pytest.mark.parametrize(("footer", "expected"), AGENT_COAUTHORS)
def test_agent_coauthors_are_refused(footer: str, expected: set[tuple[int, str]]) -> None:
    assert found(f"feat: search\n\n{footer}") == expected


HUMAN_COAUTHORS = [
    "Co-authored-by: Junie Smith <junie.smith@example.com>",  # a person called Junie
    "Co-authored-by: Jules Verne <jules@example.com>",
    "Co-authored-by: Devin Booker <devin@example.com>",
    "Co-authored-by: Ann Hands <ann@all-hands.example>",
    "Co-authored-by: dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
]


@pytest.mark.parametrize("footer", HUMAN_COAUTHORS)
def test_people_and_plain_bots_pass(footer: str) -> None:
    assert check_message(f"feat: search\n\n{footer}", DEFAULT) == []


def test_tool_table_rows_are_well_formed() -> None:
    # The data table is the one place to extend: every row names its tool and signs in some way.
    for tool in TOOLS:
        assert tool.name and (tool.addresses or tool.bot_names), tool
        assert all(a == a.lower() and " " not in a for a in tool.addresses), tool
    doc = (ROOT / "docs" / "commit-policy.md").read_text()
    assert [t.name for t in TOOLS if f"| {t.name} |" not in doc] == []


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_every_tool_in_the_table_is_refused_as_author(tool: object) -> None:
    row = tool  # type: ignore[assignment]
    email = (row.addresses or ("x@example.com",))[0]  # type: ignore[attr-defined]
    email = email if "@" in email.strip("@")[1:] else f"{email.strip('@')}@example.com"
    name = (row.bot_names or ("Build",))[0]  # type: ignore[attr-defined]
    assert [v.rule for v in check_identity("author", name, email, DEFAULT)] == ["attribution-author"]


# --- 33: what is not prose --------------------------------------------------------------------------------------

NOT_PROSE = [
    "fix(db): backfill `generated_at` column",
    "fix: read `ai_score` before ranking",
    "refactor: rename `claude_client` to `model_client`",
    "docs: link https://github.com/acme/ai-tools",
    "docs: see <https://example.com/generated/index.html>",
    "fix: follow http://ai.example.com/api redirects",
    "docs: update CLAUDE.md",
    "docs: update docs/CLAUDE.md and AGENTS.md",
    "chore: commit .claude/commands/start.md",
    "chore: track .claude/settings.json",
    "chore: refresh generated/ files",
    "build: ignore src/generated/schema.py",
    "docs: active mission\n\nKeeps the section in `CLAUDE.md` in step, see https://example.com/claude-code.",
    "feat(ui): `--ai-mode` flag",
]


@pytest.mark.parametrize("message", NOT_PROSE)
def test_identifiers_urls_and_paths_are_not_prose(message: str) -> None:
    assert check_message(message, DEFAULT) == []


STILL_PROSE = [
    ("feat: add AI helper for `score`", {(1, TERM)}),
    ("feat: `AI` helper", {(1, TERM)}),  # a code span holding just the term is a mention of it
    ("feat: `generated by AI` text", {(1, TERM), (1, SIG)}),  # several words are prose
    ("docs: the generated docs", {(1, TERM)}),
    ("docs: ask Claude about CLAUDE.md", {(1, TERM)}),
    ("docs: claude.md rules", {(1, TERM)}),  # not the file name gitclaim writes
    ("docs: x\n\nsee https://claude.ai/code", {(3, SIG)}),  # a tool's own URL is a signature
    ("feat: x\n\n\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)",
     {(3, TERM), (3, SIG)}),
    ("chore: update generated/ files written by AI", {(1, TERM), (1, SIG)}),
    ("fix: `x` and AI", {(1, TERM)}),
]


@pytest.mark.parametrize(("message", "expected"), STILL_PROSE)
def test_prose_mentions_and_signatures_stay_refused(message: str, expected: set[tuple[int, str]]) -> None:
    assert found(message) == expected


# --- 34: git's own merge subjects -------------------------------------------------------------------------------

GIT_MERGES = [
    "Merge branch 'feature/ai-search' into main",
    "Merge branch 'feature/ai-search'",
    "Merge branch 'claude/fix-login' into main",
    "Merge branch 'claude/fix-login' of https://github.com/acme/app into main",
    "Merge branches 'claude/a' and 'ai/b' into main",
    "Merge branches 'a', 'claude/b' and 'c'",
    "Merge remote-tracking branch 'origin/claude/fix-login'",
    "Merge remote-tracking branch 'origin/ai-search' into main",
    "Merge tag 'ai-v1'",
    "Merge pull request #12 from acme/claude/fix-login",
    "Merge pull request #12 from jane/ai-search\n\nfeat(search): add search",
    "Merge branch 'main' into claude/fix-login",
    "fixup! Merge branch 'claude/x'",
]


@pytest.mark.parametrize("message", GIT_MERGES)
def test_git_merge_subjects_are_not_prose(message: str) -> None:
    assert check_message(message, DEFAULT) == []


AUTHORED_MERGES = [
    ("Merge branch 'x' into main: add AI helper", {(1, TERM)}),
    ("Merge the AI branch", {(1, TERM), (1, "header-format")}),
    ("Merge pull request #12 from jane/ai-search\n\nfeat(search): add AI search", {(3, TERM)}),
    ("Merge branch 'claude/x'\n\nCo-authored-by: Claude <noreply@anthropic.com>", {(3, TERM), (3, SIG), (3, TRAILER)}),
]


@pytest.mark.parametrize(("message", "expected"), AUTHORED_MERGES)
def test_the_authors_words_in_a_merge_are_checked(message: str, expected: set[tuple[int, str]]) -> None:
    assert found(message) == expected


# --- 32-35 through real commits and the installed hook ----------------------------------------------------------

REFUSED = "gitclaim: commit message breaks the policy"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # No gitclaim script on PATH here: the hook runs `python3 -m gitclaim` with the tests' interpreter.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    path = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(path))
    git(path, "commit", "-q", "--allow-empty", "-m", "chore: start")
    install_commit_msg_hook(Git(path))
    return path


def count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD").stdout)


def test_hook_allows_merging_an_agent_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "claude/fix-login")
    git(repo, "commit", "-q", "--allow-empty", "-m", "fix(auth): keep `ai_score` in CLAUDE.md")
    git(repo, "checkout", "-q", "-b", "feature/ai-search", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "feat: search, see https://github.com/acme/ai-tools")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "claude/fix-login")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature/ai-search")
    assert git(repo, "log", "-2", "--format=%s").stdout.splitlines() == [
        "Merge branch 'feature/ai-search'", "Merge branch 'claude/fix-login'"]
    assert count(repo) == 5


@pytest.mark.parametrize("args", [
    ["--author", "Alice (aider) <alice@example.com>"],
    ["--author", "openhands <openhands@all-hands.dev>"],
    ["--author", "Jane <junie@jetbrains.com>"],
])
def test_hook_refuses_an_agent_author(repo: Path, args: list[str]) -> None:
    res = git(repo, "commit", "-q", "--allow-empty", "-m", "feat: search", *args, check=False)
    author = args[1]
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        f'.git/COMMIT_EDITMSG: attribution-author: "{author}" \N{EM DASH} commit with a person as author '
        "(check --author, GIT_AUTHOR_NAME and git config user.name)",
        f"{REFUSED} (1 violation)",
    ]
    assert count(repo) == 1


def test_hook_refuses_aider_identity_from_the_environment(repo: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Alice (aider)", "GIT_COMMITTER_NAME": "Alice (aider)"}
    import subprocess

    res = subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "feat: x"], cwd=repo, env=env,
                         text=True, capture_output=True)
    assert res.returncode == 1
    assert [line.split(": ")[1] for line in res.stderr.splitlines()[:-1]] == [
        "attribution-author", "attribution-committer"]
    assert count(repo) == 1


def test_hook_refuses_agent_committer_from_config(repo: Path) -> None:
    res = git(repo, "-c", "user.name=openhands", "-c", "user.email=openhands@all-hands.dev",
              "commit", "-q", "--allow-empty", "-m", "feat: x", "--author", "Jane Doe <jane@example.com>",
              check=False)
    assert res.returncode == 1
    assert res.stderr.splitlines()[0].startswith(
        '.git/COMMIT_EDITMSG: attribution-committer: "openhands <openhands@all-hands.dev>"')
    assert count(repo) == 1


def test_hook_accepts_a_person(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "feat: x", "--author", "Alice Smith <alice@example.com>")
    assert count(repo) == 2


def test_check_msg_message_checks_the_identity_git_would_record(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "-m", "feat: x", env={"GIT_AUTHOR_NAME": "Bob (aider)",
                                                                "GIT_AUTHOR_EMAIL": "bob@example.com"})
    assert res.returncode == 7
    assert res.stderr.splitlines()[-1] == f"{REFUSED} (1 violation)"
    assert 'attribution-author: "Bob (aider) <bob@example.com>"' in res.stderr


def test_check_msg_outside_a_repository_without_identity(tmp_path: Path) -> None:
    res = run_gitclaim(tmp_path, "check-msg", "-m", "feat: x", env={"GIT_CONFIG_GLOBAL": "/dev/null"})
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
