"""The commit-msg hook: installed in real clones, exercised by real `git commit`."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
import yaml

from gitclaim.core.git import Git
from gitclaim.errors import Conflict, NotARepository
from gitclaim.hooks.install import hook_script, install_commit_msg_hook, uninstall_commit_msg_hook
from tests.helpers import ROOT, git, run_gitclaim

FOREIGN = "#!/bin/sh\necho foreign >> \"$(git rev-parse --git-dir)/foreign-ran\"\n"
REFUSED = "gitclaim: commit message breaks the policy"


@pytest.fixture(autouse=True)
def python_first_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # The hook falls back to `python3 -m gitclaim` when no `gitclaim` script is on PATH (as here, where the
    # package is not installed): make that python3 the interpreter running the tests, which has the deps.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD").stdout)


def hooks(repo: Path) -> Path:
    return (repo / ".git" / "hooks").resolve()


def write_hook(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def test_hook_scripts_exist_once_and_the_package_reaches_them() -> None:
    top, packaged = ROOT / "hooks" / "commit-msg", ROOT / "gitclaim" / "hooks" / "scripts" / "commit-msg"
    assert (ROOT / "gitclaim" / "hooks" / "scripts").is_symlink()
    assert packaged.resolve() == top.resolve()
    assert top.read_text() == hook_script()
    assert hook_script().splitlines()[1] == "# gitclaim-hook: commit-msg v1"
    assert packaged.stat().st_mode & stat.S_IXUSR and top.stat().st_mode & stat.S_IXUSR
    post = ROOT / "gitclaim" / "hooks" / "scripts" / "post-commit"
    assert post.resolve() == (ROOT / "hooks" / "post-commit").resolve() and post.stat().st_mode & stat.S_IXUSR
    assert hook_script("post-commit").splitlines()[1] == "# gitclaim-hook: post-commit v1"


def test_hooks_install_cli_fresh_clone(repo: Path) -> None:
    res = run_gitclaim(repo, "hooks", "install")
    hook, post = hooks(repo) / "commit-msg", hooks(repo) / "post-commit"
    assert (res.returncode, res.stdout, res.stderr) == (
        0, f"installed the commit-msg hook at {hook}\ninstalled the post-commit hook at {post}\n", "")
    assert hook.read_text() == hook_script()
    assert post.read_text() == hook_script("post-commit")
    assert os.access(hook, os.X_OK) and os.access(post, os.X_OK)


def test_hooks_install_one_hook_on_its_own(repo: Path) -> None:
    res = run_gitclaim(repo, "hooks", "install", "--hook", "post-commit")
    post = hooks(repo) / "post-commit"
    assert (res.returncode, res.stdout) == (0, f"installed the post-commit hook at {post}\n")
    assert not (hooks(repo) / "commit-msg").exists()
    res = run_gitclaim(repo, "hooks", "uninstall", "--hook", "post-commit")
    assert (res.returncode, res.stdout) == (0, f"removed the post-commit hook from {post}\n")
    assert not post.exists()


def test_hooks_install_refuses_an_unknown_hook(repo: Path) -> None:
    res = run_gitclaim(repo, "hooks", "install", "--hook", "pre-push")
    assert (res.returncode, res.stdout) == (2, "")
    assert res.stderr == "gitclaim: unknown hook 'pre-push': choose from commit-msg, post-commit, claude-code\n"
    assert not (hooks(repo) / "pre-push").exists()


def test_install_twice_is_unchanged(repo: Path) -> None:
    first = install_commit_msg_hook(Git(repo))
    second = install_commit_msg_hook(Git(repo))
    assert (first.action, second.action) == ("installed", "unchanged")
    assert not (hooks(repo) / "commit-msg.legacy").exists()


def test_install_updates_an_older_version_of_ours(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", "#!/bin/sh\n# gitclaim-hook: commit-msg v0\nexit 0\n")
    assert install_commit_msg_hook(Git(repo)).action == "updated"
    assert (hooks(repo) / "commit-msg").read_text() == hook_script()
    assert not (hooks(repo) / "commit-msg.legacy").exists()


def test_hook_accepts_clean_messages_and_git_merges(repo: Path) -> None:
    install_commit_msg_hook(Git(repo))
    git(repo, "checkout", "-q", "-b", "topic")
    git(repo, "commit", "-q", "--allow-empty", "-m", "feat(cli): add check-msg")
    git(repo, "checkout", "-q", "main")
    (repo / "MSG").write_text("fix: keep email domains\n\nCo-authored-by: Jane Doe <jane@example.com>\n")
    git(repo, "commit", "-q", "--allow-empty", "-F", "MSG")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "topic")  # git runs commit-msg for merges too
    assert commits(repo) == 4
    assert git(repo, "log", "-1", "--format=%s").stdout == "Merge branch 'topic'\n"


@pytest.mark.parametrize(("option", "message"), [
    ("-m", "feat: x\n\nCo-Authored-By: Claude <noreply@anthropic.com>"),
    ("-F", "feat: x\n\n\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)\n"),
    ("-m", "feat: x\n\nCo-authored-by: aider (openai/gpt-4o) <aider@aider.chat>"),
    ("-F", "feat: add AI helper\n"),
])
def test_hook_refuses_attribution(repo: Path, option: str, message: str) -> None:
    install_commit_msg_hook(Git(repo))
    if option == "-F":
        (repo / "MSG").write_text(message)
        message = "MSG"
    res = git(repo, "commit", "-q", "--allow-empty", option, message, check=False)
    assert res.returncode != 0
    assert REFUSED in res.stderr
    assert commits(repo) == 1


def test_hook_honours_core_hooks_path(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    (repo / "sub").mkdir()
    result = install_commit_msg_hook(Git(repo / "sub"))  # git answers relative to the subdirectory
    assert result.hook == (repo / ".githooks" / "commit-msg").resolve()
    assert not (hooks(repo) / "commit-msg").exists()
    res = git(repo, "commit", "-q", "--allow-empty", "-m", "wip: x", check=False)
    assert res.returncode != 0 and REFUSED in res.stderr


def test_hook_reads_config_through_git_dir(repo: Path, tmp_path: Path) -> None:
    install_commit_msg_hook(Git(repo))
    (repo / ".gitclaim.yaml").write_text("policy:\n  extra_types: [wip]\n")
    git(tmp_path, f"--git-dir={repo / '.git'}", f"--work-tree={repo}", "commit", "-q", "--allow-empty",
        "-m", "wip: half done")
    assert commits(repo) == 2


def test_install_keeps_foreign_hook_and_runs_it_first(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", FOREIGN)
    result = install_commit_msg_hook(Git(repo))
    assert (result.action, result.legacy) == ("installed", hooks(repo) / "commit-msg.legacy")
    assert (hooks(repo) / "commit-msg.legacy").read_text() == FOREIGN
    git(repo, "commit", "-q", "--allow-empty", "-m", "fix: x")
    assert (repo / ".git" / "foreign-ran").read_text() == "foreign\n"
    assert install_commit_msg_hook(Git(repo)).action == "unchanged"
    assert (hooks(repo) / "commit-msg.legacy").read_text() == FOREIGN


def test_foreign_hook_refusal_stands(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", "#!/bin/sh\necho 'legacy says no' >&2\nexit 3\n")
    install_commit_msg_hook(Git(repo))
    res = git(repo, "commit", "-q", "--allow-empty", "-m", "fix: fine by gitclaim", check=False)
    assert res.returncode != 0
    assert "legacy says no" in res.stderr and REFUSED not in res.stderr


def test_install_refuses_to_lose_an_existing_legacy_hook(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", FOREIGN)
    write_hook(hooks(repo) / "commit-msg.legacy", "#!/bin/sh\nexit 0\n")
    with pytest.raises(Conflict) as err:  # exit code 3
        install_commit_msg_hook(Git(repo))
    assert str(err.value) == (
        f"{hooks(repo) / 'commit-msg'} is not gitclaim's and commit-msg.legacy already exists; merge or remove "
        "one of them, or rerun with --force to replace commit-msg.legacy with the current hook")
    assert (hooks(repo) / "commit-msg").read_text() == FOREIGN
    assert (hooks(repo) / "commit-msg.legacy").read_text() == "#!/bin/sh\nexit 0\n"


def test_install_force_replaces_the_legacy_hook(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", FOREIGN)
    write_hook(hooks(repo) / "commit-msg.legacy", "#!/bin/sh\nexit 0\n")
    assert install_commit_msg_hook(Git(repo), force=True).action == "installed"
    assert (hooks(repo) / "commit-msg.legacy").read_text() == FOREIGN
    assert (hooks(repo) / "commit-msg").read_text() == hook_script()


def test_hooks_uninstall_cli_restores_foreign_hook(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", FOREIGN)
    install_commit_msg_hook(Git(repo))
    res = run_gitclaim(repo, "hooks", "uninstall")
    hook = hooks(repo) / "commit-msg"
    assert (res.returncode, res.stdout) == (
        0, f"removed the commit-msg hook from {hook}; the previous hook is back in place\n"
           f"no gitclaim post-commit hook at {hooks(repo) / 'post-commit'}\n")
    assert hook.read_text() == FOREIGN
    assert os.access(hook, os.X_OK)
    assert not (hooks(repo) / "commit-msg.legacy").exists()


def test_uninstall_without_legacy_removes_the_hook(repo: Path) -> None:
    install_commit_msg_hook(Git(repo))
    result = uninstall_commit_msg_hook(Git(repo))
    assert (result.action, result.legacy) == ("removed", None)
    assert not (hooks(repo) / "commit-msg").exists()


def test_uninstall_leaves_a_foreign_hook_alone(repo: Path) -> None:
    write_hook(hooks(repo) / "commit-msg", FOREIGN)
    assert uninstall_commit_msg_hook(Git(repo)).action == "not-installed"
    assert (hooks(repo) / "commit-msg").read_text() == FOREIGN


def test_install_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(NotARepository):
        install_commit_msg_hook(Git(tmp_path))


def test_hook_fails_closed_without_gitclaim(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_commit_msg_hook(Git(repo))
    # A PATH with git and the shell tools but no usable python: every interpreter the hook tries fails.
    shims = tmp_path / "shims"
    for name in ("python3", "python"):
        write_hook(shims / name, "#!/bin/sh\nexit 1\n")
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    monkeypatch.setenv("PATH", os.pathsep.join([str(shims), str(git_dir), "/usr/bin", "/bin"]))
    res = git(repo, "commit", "-q", "--allow-empty", "-m", "fix: x", check=False)
    assert res.returncode != 0
    assert "pip install gitclaim" in res.stderr
    assert commits(repo) == 1


def test_pre_commit_manifest_runs_check_msg_at_commit_msg_stage() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "gitclaim-check-msg"
    assert (hook["entry"], hook["language"], hook["stages"]) == ("gitclaim check-msg", "python", ["commit-msg"])
    assert hook["pass_filenames"] is True


def test_install_result_reads_as_its_line(repo: Path) -> None:
    result = install_commit_msg_hook(Git(repo))
    assert str(result) == result.message == result.describe() == (
        f"installed the commit-msg hook at {hooks(repo) / 'commit-msg'}")


def test_hooks_install_json_lists_every_hook(repo: Path) -> None:
    res = run_gitclaim(repo, "hooks", "install", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"hooks": [
        {"action": "installed", "hook": str(hooks(repo) / "commit-msg"), "legacy": None},
        {"action": "installed", "hook": str(hooks(repo) / "post-commit"), "legacy": None},
    ]}
    res = run_gitclaim(repo, "hooks", "uninstall", "--hook", "post-commit", "--json")
    assert json.loads(res.stdout) == {"hooks": [
        {"action": "removed", "hook": str(hooks(repo) / "post-commit"), "legacy": None}]}
