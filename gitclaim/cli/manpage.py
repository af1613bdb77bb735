"""The man pages, gitclaim(1) and git-claim(1), generated from the commands' own help at build time (setup.py).

`git claim --help` is `git help claim`, which opens the man page git-claim(1): without one, git prints "No
manual entry for git-claim". The pages are rendered from the same click commands `--help` prints, so they cannot
drift from the CLI. Plain roff (the man(7) macros), no dependency beyond the CLI's own.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path

import click

PAGES = ("gitclaim", "git-claim")

EXIT_STATUS = (
    ("0", "ok"), ("1", "error"), ("2", "usage or invalid input"), ("3", "conflict: held by another, lost a race, "
     "finished"), ("4", "not found"), ("5", "nothing ready to claim"), ("6", "remote unreachable or push refused"),
    ("7", "commit policy violation"), ("8", "watch --timeout: the condition did not hold in time"),
)


def _esc(text: str) -> str:
    """Text safe in roff: backslashes and hyphens escaped, no line starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + ln if ln.startswith((".", "'")) else ln for ln in text.split("\n"))


def _commands() -> list[tuple[str, click.Command, click.Context]]:
    import typer.main

    from gitclaim.cli.app import add_examples, app

    importlib.import_module("gitclaim.cli.commands")
    add_examples()
    root = typer.main.get_command(app)
    found: list[tuple[str, click.Command, click.Context]] = []

    def walk(cmd: click.Command, path: list[str], parent: click.Context | None) -> None:
        ctx = click.Context(cmd, info_name=path[-1], parent=parent)
        if isinstance(cmd, click.Group):
            for name in sorted(cmd.commands):
                walk(cmd.commands[name], [*path, name], ctx)
        else:
            found.append((" ".join(path[1:]), cmd, ctx))

    walk(root, ["gitclaim"], None)
    return found


def _section(name: str, cmd: click.Command, ctx: click.Context) -> list[str]:
    out = [".SS " + _esc(f"gitclaim {name}"), ".nf", _esc(cmd.get_usage(ctx).removeprefix("Usage: ")), ".fi",
           _esc(" ".join((cmd.help or "").split()))]
    for param in cmd.params:
        if isinstance(param, click.Argument):
            help_text = getattr(param, "help", None) or ""
            out += [".TP", f"\\fB{_esc(param.human_readable_name)}\\fR", _esc(" ".join(help_text.split()))]
        elif isinstance(param, click.Option) and not param.hidden:
            record = param.get_help_record(ctx)
            if record:
                out += [".TP", f"\\fB{_esc(record[0])}\\fR", _esc(" ".join(record[1].split()))]
    if cmd.epilog:
        out += [".PP", _esc(cmd.epilog)]
    return out


def render(page: str = "gitclaim") -> str:
    """The whole man page `page`(1) as roff text."""
    from gitclaim import __version__

    date = datetime.now(UTC).strftime("%Y-%m-%d")
    title = page.upper()
    lines = [
        f'.TH {title} 1 "{date}" "gitclaim {__version__}" "gitclaim manual"',
        ".SH NAME", f"{_esc(page)} \\- claim missions atomically through a shared git remote",
        ".SH SYNOPSIS", f"\\fB{_esc(page.replace('-', ' '))}\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
        ".SH DESCRIPTION",
        _esc("Several coding agents and people, each on their own clone of one repository, share a queue of "
             "missions without ever taking the same one twice. A mission is the ref refs/missions/<id> on the "
             "shared remote; every state change is one commit pushed as a compare-and-swap."),
        ".PP", _esc("gitclaim and git claim are the same program. Every command takes -h/--help, and most take "
                    "--json for machine-readable output."),
        ".SH COMMANDS",
    ]
    for name, cmd, ctx in _commands():
        lines += _section(name, cmd, ctx)
    lines += [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f"\\fB{code}\\fR", _esc(meaning)]
    lines += [".SH SEE ALSO", "\\fBgit\\fR(1), \\fBgitglossary\\fR(7); the documentation in the docs/ folder "
              "of the gitclaim source"]
    return "\n".join(lines) + "\n"


def write_pages(directory: Path | str) -> list[Path]:
    """Write gitclaim.1 and git-claim.1 into `directory` (the build step); returns their paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in PAGES:
        path = target / f"{page}.1"
        path.write_text(render(page), encoding="utf-8")
        paths.append(path)
    return paths
