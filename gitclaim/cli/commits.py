"""`gitclaim check-msg`: the command about commit messages, a thin wrapper over gitclaim.policy (the hooks
that run it are installed by `gitclaim hooks install`, cli/hooks_cmds.py). Violations are listed on stderr here;
the exit code comes from PolicyViolation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gitclaim.cli.app import app
from gitclaim.cli.output import emit_json
from gitclaim.core import settings
from gitclaim.core.git import Git, read_commits, var_ident
from gitclaim.errors import InvalidInput, PolicyViolation
from gitclaim.policy import (
    Finding,
    PolicyConfig,
    check_commits,
    check_identity,
    check_message,
    format_violations,
)


@app.command("check-msg")
def check_msg(
    file: Annotated[str | None, typer.Argument(
        help="Commit message file, as a commit-msg hook receives it ('-' for stdin).", show_default=False)] = None,
    message: Annotated[str | None, typer.Option(
        "--message", "-m", help="Check this text instead of a file.", show_default=False)] = None,
    rev_range: Annotated[str | None, typer.Option(
        "--range", help="Check every commit in a range, e.g. origin/main..HEAD.", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (fields in docs/json.md).")] = False,
) -> None:
    """Check commit messages against the repository's commit policy (exit 7 on violations)."""
    if sum(x is not None for x in (file, message, rev_range)) != 1:
        raise InvalidInput("check-msg: give exactly one of FILE, --message or --range")
    git = Git(Path.cwd())
    config = settings.load_at(git.cwd).policy
    if rev_range is not None:
        _check_range(git, rev_range, config, json_out)
        return
    if message is not None:
        source, text = "message", message
    else:
        source, text = str(file), _read_message(str(file))
    violations = [*check_message(text, config), *_identities(git, config)]
    _report(violations, source, "commit message breaks the policy", json_out)
    if json_out:
        emit_json({"ok": True, "source": source, "violations": []})


def _identities(git: Git, config: PolicyConfig) -> list[Finding]:
    """The author and committer git is about to record: in the commit-msg hook, git has exported the
    GIT_AUTHOR_* of `--author` and the user's identity, so this is what `--range` and the guard will see."""
    found = []
    for role, which in (("author", "GIT_AUTHOR_IDENT"), ("committer", "GIT_COMMITTER_IDENT")):
        ident = var_ident(git, which)
        if ident is not None:
            found += [v._replace(hint=f"commit with a person as {role} (check --author, GIT_{role.upper()}_NAME "
                                      "and git config user.name)")
                      for v in check_identity(role, ident[0], ident[1], config)]
    return found


def _check_range(git: Git, rev_range: str, config: PolicyConfig, json_out: bool) -> None:
    reports = check_commits(read_commits(git, rev_range), config)
    bad = [r for r in reports if r.violations]
    if not json_out:  # under --json the violations are in the JSON error instead
        for report in bad:
            sys.stderr.write(format_violations(report.violations, report.commit.oid[:12]) + "\n")
    if bad:
        count = sum(len(r.violations) for r in bad)
        verb = "breaks" if len(bad) == 1 else "break"
        raise PolicyViolation(f"{rev_range}: {len(bad)} of {_plural(len(reports), 'commit')} {verb} the policy "
                              f"({_plural(count, 'violation')})", checked=len(reports),
                              commits=[{"commit": r.commit.oid, "violations": _violations_json(r.violations)}
                                       for r in bad])
    if json_out:
        emit_json({"ok": True, "range": rev_range, "checked": len(reports), "commits": []})
    else:
        typer.echo(f"ok: {_plural(len(reports), 'commit')} checked")


def _report(violations: list[Finding], source: str, summary: str, json_out: bool) -> None:
    if violations:
        if not json_out:
            sys.stderr.write(format_violations(violations, source) + "\n")
        raise PolicyViolation(f"{summary} ({_plural(len(violations), 'violation')})", source=source,
                              violations=_violations_json(violations))


def _violations_json(violations: list[Finding]) -> list[dict]:
    return [{"line": v.line or None, "rule": v.rule, "text": v.text, "hint": v.hint} for v in violations]


def _read_message(file: str) -> str:
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from exc
    return data.decode("utf-8", "replace")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
