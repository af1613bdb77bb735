"""`gitclaim check-msg` in a real process, against real repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitclaim.core import settings
from gitclaim.core.git import Git, read_commits
from gitclaim.errors import InvalidInput
from gitclaim.policy import CommitReport, PolicyConfig, check_commits
from tests.helpers import git, run_gitclaim

DASH = "\N{EM DASH}"
AI_HINT = f"{DASH} remove 'AI': the commit policy forbids mentioning it"


def commit(repo: Path, message: str, *args: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message, *args)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def test_check_msg_file_clean_prints_nothing(repo: Path) -> None:
    (repo / "MSG").write_text("feat(cli): add check-msg\n\nBody.\n")
    res = run_gitclaim(repo, "check-msg", "MSG")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")


def test_check_msg_file_lists_every_violation(repo: Path) -> None:
    (repo / "MSG").write_text("add AI helper\nCo-authored-by: GPT-4o <gpt@example.com>\n")
    res = run_gitclaim(repo, "check-msg", "MSG")
    assert res.returncode == 7
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        "MSG:1: header-format: \"add AI helper\" "
        f"{DASH} write the header as 'type(scope): description', e.g. 'fix(cli): handle an empty id'",
        f'MSG:1: forbidden-term: "AI" {AI_HINT}',
        f"MSG:2: body-leading-blank: \"Co-authored-by: GPT-4o <gpt@example.com>\" "
        f"{DASH} leave one blank line between the header and the body",
        f"MSG:2: attribution-trailer: \"Co-authored-by: GPT-4o <gpt@example.com>\" "
        f"{DASH} delete this Co-authored-by trailer: tools and models are not credited",
        "gitclaim: commit message breaks the policy (4 violations)",
    ]


def test_check_msg_message_option(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "--message", "feat: add AI helper")
    assert res.returncode == 7
    assert res.stderr.splitlines() == [
        f'message:1: forbidden-term: "AI" {AI_HINT}',
        "gitclaim: commit message breaks the policy (1 violation)",
    ]


def test_check_msg_reads_stdin(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "-", input="feat: add AI helper\n")
    assert res.returncode == 7
    assert res.stderr.splitlines()[0] == f'-:1: forbidden-term: "AI" {AI_HINT}'


def test_check_msg_needs_exactly_one_source(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "MSG", "-m", "fix: x")
    assert res.returncode == 2
    assert res.stderr == "gitclaim: check-msg: give exactly one of FILE, --message or --range\n"


def test_check_msg_missing_file_is_usage_error(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "nope.txt")
    assert res.returncode == 2
    assert res.stderr == "gitclaim: cannot read nope.txt: No such file or directory\n"


# --- configuration from the repository ---------------------------------------------------------------------------


def test_check_msg_bad_config_is_usage_error(repo: Path) -> None:
    (repo / ".gitclaim.yaml").write_text("policy:\n  forbiden_terms: [x]\n")
    res = run_gitclaim(repo, "check-msg", "-m", "fix: x")
    assert (res.returncode, res.stderr) == (2, "gitclaim: .gitclaim.yaml: policy.forbiden_terms: unknown key\n")


def test_settings_policy_reads_working_tree_file(repo: Path) -> None:
    (repo / ".gitclaim.yaml").write_text("policy:\n  extra_types: [wip]\n")
    assert "wip" in settings.load_at(repo).policy.types


def test_settings_policy_falls_back_to_head_in_a_sparse_checkout(repo: Path) -> None:
    (repo / ".gitclaim.yaml").write_text("policy:\n  extra_types: [wip]\n")
    (repo / "src.txt").write_text("code\n")
    git(repo, "add", ".gitclaim.yaml", "src.txt")
    commit(repo, "chore: add config")
    git(repo, "sparse-checkout", "set", "--no-cone", "/src.txt")
    assert not (repo / ".gitclaim.yaml").exists()
    assert "wip" in settings.load_at(repo).policy.types


def test_settings_policy_reads_head_in_bare_repository(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitclaim.yaml").write_text("policy:\n  enabled: false\n")
    git(repo, "add", ".gitclaim.yaml")
    commit(repo, "chore: add config")
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(tmp_path / "bare.git"))
    assert settings.load_at(tmp_path / "bare.git").policy.enabled is False


def test_settings_policy_defaults(repo: Path, tmp_path: Path) -> None:
    assert settings.load_at(repo).policy == PolicyConfig()
    assert settings.load_at(tmp_path).policy == PolicyConfig()  # not a repository at all


def test_settings_policy_honours_core_comment_char(repo: Path) -> None:
    git(repo, "config", "core.commentChar", ";")
    assert settings.load_at(repo).policy.comment_char == ";"
    git(repo, "config", "core.commentChar", "auto")
    assert settings.load_at(repo).policy.comment_char == "#"


# --- ranges ----------------------------------------------------------------------------------------------------


def check_range(git_: Git, rev_range: str, config: PolicyConfig) -> list[CommitReport[Any]]:
    """What `check-msg --range` does: core/git/ reads the commits, the pure checker judges them."""
    return check_commits(read_commits(git_, rev_range), config)



def test_check_msg_range_clean(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    commit(repo, "feat: one")
    commit(repo, "fix(cli): two\n\nCo-authored-by: Jane Doe <jane@example.com>")
    res = run_gitclaim(repo, "check-msg", "--range", f"{base}..HEAD")
    assert (res.returncode, res.stdout, res.stderr) == (0, "ok: 2 commits checked\n", "")


# The attributions real tools write, each committed as is, all checked by one `check-msg --range`.
RANGE_ATTRIBUTIONS = [
    ("\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)",
     {"forbidden-term", "attribution-signature"}),
    ("Co-Authored-By: Claude <noreply@anthropic.com>",
     {"forbidden-term", "attribution-signature", "attribution-trailer"}),
    ("Co-authored-by: GPT-4o <gpt@example.com>", {"attribution-trailer"}),
    ("Co-authored-by: Gemini <gemini@example.com>", {"attribution-trailer"}),
    ("Co-authored-by: claude-sonnet-4 <bot@example.com>", {"forbidden-term", "attribution-trailer"}),
    ("Co-authored-by: aider (openai/gpt-4o) <aider@aider.chat>", {"attribution-signature", "attribution-trailer"}),
    ("Co-authored-by: Cursor <cursoragent@cursor.com>", {"attribution-signature", "attribution-trailer"}),
    ("Co-authored-by: Copilot <copilot@github.com>", {"attribution-signature", "attribution-trailer"}),
    ("AI-assisted", {"forbidden-term"}),
    ("generated by AI", {"forbidden-term", "attribution-signature"}),
    ("written with ChatGPT", {"attribution-signature"}),
]


def test_check_msg_range_refuses_every_attribution(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    commit(repo, "feat: clean one")
    expected = {commit(repo, f"feat: x\n\n{line}")[:12]: rules for line, rules in RANGE_ATTRIBUTIONS}
    expected[commit(repo, "feat: add AI helper")[:12]] = {"forbidden-term"}
    aider_author = commit(repo, "feat: y", "--author", "Jane Doe (aider) <jane@example.com>")
    expected[aider_author[:12]] = {"attribution-author"}
    commit(repo, "fix(mail): keep email domains")
    res = run_gitclaim(repo, "check-msg", "--range", f"{base}..HEAD")
    assert res.returncode == 7
    *lines, summary = res.stderr.splitlines()
    cursor = next(sha for sha, (line, _) in zip(expected, RANGE_ATTRIBUTIONS, strict=False) if "Cursor" in line)
    assert [line for line in lines if line.startswith(cursor)] == [
        f'{cursor}:3: attribution-signature: "cursoragent@" '
        f"{DASH} delete this tool signature: commits are not attributed to tools or models",
        f'{cursor}:3: attribution-trailer: "Co-authored-by: Cursor <cursoragent@cursor.com>" '
        f"{DASH} delete this Co-authored-by trailer: tools and models are not credited",
    ]
    reported: dict[str, set[str]] = {}
    for line in lines:
        sha, rule = line.split(": ")[0].split(":")[0], line.split(": ")[1]
        reported.setdefault(sha, set()).add(rule)
    assert reported == expected
    assert summary == f"gitclaim: {base}..HEAD: 13 of 15 commits break the policy ({len(lines)} violations)"


def test_check_range_author_violation_has_no_line(repo: Path) -> None:
    commit(repo, "feat: one", "--author", "Jane Doe (aider) <jane@example.com>")
    [report] = check_range(Git(repo), "HEAD~1..HEAD", PolicyConfig())
    assert [(v.line, v.rule, v.text) for v in report.violations] == [
        (0, "attribution-author", "Jane Doe (aider) <jane@example.com>")]


def test_check_range_checks_committer(repo: Path) -> None:
    git(repo, "-c", "user.name=Claude", "-c", "user.email=noreply@anthropic.com",
        "commit", "-q", "--allow-empty", "-m", "fix: x", "--author", "Jane Doe <jane@example.com>")
    [report] = check_range(Git(repo), "HEAD~1..HEAD", PolicyConfig())
    assert [(v.line, v.rule, v.text) for v in report.violations] == [
        (0, "attribution-committer", "Claude <noreply@anthropic.com>")]


def test_check_range_reads_committed_comment_lines(repo: Path) -> None:
    # `-m` keeps '#' lines in the commit; in a range they are ordinary text.
    commit(repo, "fix: x\n\n# generated")
    [report] = check_range(Git(repo), "HEAD~1..HEAD", PolicyConfig())
    assert [(v.line, v.rule) for v in report.violations] == [(3, "forbidden-term")]


def test_check_range_accepts_merge_commits_oldest_first(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "feat: on topic")
    git(repo, "checkout", "-q", "main")
    commit(repo, "fix: on main")
    git(repo, "merge", "-q", "--no-edit", "topic")
    reports = check_range(Git(repo), f"{base}..HEAD", PolicyConfig())
    assert [r.commit.message.splitlines()[0] for r in reports][-1] == "Merge branch 'topic'"
    assert [r.violations for r in reports] == [[], [], []]


def test_check_range_empty(repo: Path) -> None:
    assert check_range(Git(repo), "HEAD..HEAD", PolicyConfig()) == []


def test_read_commits_fields(repo: Path) -> None:
    sha = commit(repo, "fix: x\n\nbody", "--author", "Jane Doe <jane@example.com>")
    [info] = read_commits(Git(repo), "HEAD~1..HEAD")
    assert (info.oid, info.author_name, info.author_email, info.committer_name, info.committer_email,
            info.message) == (sha, "Jane Doe", "jane@example.com", "Test User", "test@example.invalid",
                              "fix: x\n\nbody\n")
    assert info.parents == (git(repo, "rev-parse", "HEAD~1").stdout.strip(),)


def test_check_msg_range_invalid_is_usage_error(repo: Path) -> None:
    res = run_gitclaim(repo, "check-msg", "--range", "nope..HEAD")
    assert res.returncode == 2
    # What follows is git's own wording, which changes between versions: only its presence is checked.
    assert res.stderr.startswith("gitclaim: invalid range 'nope..HEAD': fatal: ")
    assert res.stderr.count("\n") == 1


@pytest.mark.parametrize("rev_range", ["--all", "", "HEAD..nope"])
def test_read_commits_refuses_bad_ranges(repo: Path, rev_range: str) -> None:
    with pytest.raises(InvalidInput) as err:
        read_commits(Git(repo), rev_range)
    assert str(err.value).startswith(f"invalid range {rev_range!r}")
