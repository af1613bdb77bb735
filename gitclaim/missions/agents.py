"""Agent integration, opt-in with `gitclaim init --agents CLAUDE.md` (docs/agents.md).

Keeps an "## Active Mission" section (the seed's CLAUDE.md layout) in the working tree's agents file, between
marker comments, listing the missions this clone's instance holds; and installs a Claude Code `/start` command
that runs `gitclaim start`. The section is a convenience for the agent reading the file, never mission state:
it is written from the local refs after this clone's own changes, and nothing outside the markers is touched.

`after_write` is wired into every store where it is opened (gitclaim/missions/workspace.py), so every write that
lands, whichever front end made it, keeps the section in step; a section that cannot be updated is a warning
of that command, never a failure and never silent.
"""

from __future__ import annotations

from pathlib import Path

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core.atomicfile import write_atomic
from gitclaim.core.store import Outcome, State, Store
from gitclaim.errors import GitclaimError, InvalidInput

CONFIG_KEY = "gitclaim.agentsfile"
BEGIN = "<!-- gitclaim:active-mission -->"
END = "<!-- /gitclaim:active-mission -->"
START_COMMAND = ".claude/commands/start.md"

START_TEXT = """\
---
description: Resume the gitclaim mission this clone holds, or claim the next ready one
argument-hint: [--as "session description"]
allowed-tools: Bash(gitclaim:*)
---

Run `gitclaim start $ARGUMENTS` in this repository and act on its output. Missions live on the shared remote
(refs/missions/*), not in files: never edit mission files by hand.

1. **Your missions** lists what this clone already holds: resume the first one. Read it with
   `gitclaim show <id>` (fields, body, execution log). If it has a start.md or workflow.md, read them with
   `gitclaim show <id> --file start.md` and follow start.md.
2. You hold nothing and the **Ready queue** is not empty: claim with `gitclaim next` (exit 0: claimed, exit 5:
   nothing ready), then read the mission as in 1.
3. Nothing ready: say so and stop. Never work on a mission you have not claimed.
4. **Other active missions** belong to other sessions: do not work on them. Take over a STALE one only when
   the user agrees: `gitclaim claim <id> --steal`.

While working, record progress in the mission's execution log:
- `gitclaim log <id> "TEXT" --kind milestone --progress N`, decisions with
  `--kind decision --question "Q" --chosen "C"`, blockers with `--kind issue --needs-human`;
- `gitclaim heartbeat <id>` during long silent work, so the claim does not go stale;
- finish with `gitclaim done <id> --summary "TEXT"` (or `gitclaim fail <id> --summary "TEXT"`).

Exit code 3 from any of these means you no longer hold the mission: stop working on it and run
`gitclaim start` again.
"""


# ---- enabling -------------------------------------------------------------------------------------------------

def check(store: Store, agents_file: str) -> str:
    """Refuse, before anything is written, an agents file gitclaim could not keep: outside the working tree,
    unreadable, or with broken markers. Returns it relative to the working tree's top."""
    root = _worktree(store)
    rel = _relative(root, store.git.cwd, agents_file)
    path = (root / rel).resolve()
    try:
        replace_section(_read(path), "")
    except OSError as exc:
        raise GitclaimError(f"cannot update {path}: {exc.strerror}") from None
    except GitclaimError as err:
        raise GitclaimError(f"cannot update {path}: {err}") from None
    return rel


def enable(store: Store, agents_file: str) -> list[str]:
    """Record the agents file in git config, install the /start command if absent, write the section now;
    nothing of it when the file is refused (`check`)."""
    root = _worktree(store)
    rel = check(store, agents_file)
    report = []
    if store.repo.get(CONFIG_KEY) != rel:
        g.config_set(store.git, CONFIG_KEY, rel)
        store.repo.config[CONFIG_KEY] = [rel]
    report.append(_install_start(root))
    problem = refresh(store)
    if problem:
        raise GitclaimError(problem)
    report.append(f"keeping the Active Mission section of {rel} up to date ({CONFIG_KEY} = {rel})")
    return report


def _worktree(store: Store) -> Path:
    root = store.repo.worktree
    if root is None:
        raise InvalidInput("--agents needs a working tree: this repository is bare")
    return root


def _relative(root: Path, cwd: Path, name: str) -> str:
    """The agents file as a path relative to the working tree's top, which is how it is recorded."""
    if not name.strip():
        raise InvalidInput("--agents needs a file name, such as CLAUDE.md or AGENTS.md")
    # The directories resolved, not the file: AGENTS.md linking to CLAUDE.md is recorded as AGENTS.md.
    given = cwd / name
    path = given.parent.resolve() / given.name
    try:
        rel = path.relative_to(root.resolve())
    except ValueError:
        raise InvalidInput(f"--agents {name}: the file must be inside this working tree ({root})") from None
    if not rel.parts or rel.parts[0] == ".git":
        raise InvalidInput(f"--agents {name}: not a file of the working tree")
    return rel.as_posix()


def _install_start(root: Path) -> str:
    path = root / START_COMMAND
    if path.exists():
        if path.read_bytes() == START_TEXT.encode("utf-8"):
            return f"the Claude Code /start command is installed: {START_COMMAND}"
        # The team may have its own /start (the seed had one): theirs wins.
        return f"kept the existing {START_COMMAND} (not gitclaim's: compare with docs/agents.md)"
    try:
        write_atomic(path, START_TEXT.encode("utf-8"))
    except OSError as exc:
        raise GitclaimError(f"cannot write {path}: {exc.strerror}") from None
    return f"installed the Claude Code /start command: {START_COMMAND}"


# ---- refreshing -----------------------------------------------------------------------------------------------

def refresh(store: Store, state: State | None = None) -> str | None:
    """Rewrite the section from the local refs (no fetch), `state` being the change just made.

    Returns a problem as text instead of raising: it runs after a state change has already landed, and a
    file that cannot be written must not turn a successful claim into a failed command."""
    rel = store.repo.get(CONFIG_KEY)
    root = store.repo.worktree
    if not rel or root is None:
        return None
    # Through a symlink (AGENTS.md -> CLAUDE.md is common) to the file itself: the rename must not replace
    # the link.
    path = (root / rel).resolve()
    try:
        old = _read(path)
        new = replace_section(old, section(held(store, state), _newline(old)))
        if new != old:
            write_atomic(path, new.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        return f"cannot update {path}: {exc.strerror}"
    except GitclaimError as err:
        return f"cannot update {path}: {err}"
    return None


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else ""


def after_write(store: Store, out: Outcome) -> str | None:
    """After a landed write: rewrite the section when the write changed a mission this instance holds or held
    (nothing else can change what the section lists). Returns the warning when the file cannot be updated."""
    if not out.changed or not store.repo.get(CONFIG_KEY):
        return None
    me = store.repo.instance(create=False)
    if not any(s is not None and s.mission.held and s.mission.claim_instance == me
               for s in (out.previous, out.state)):
        return None
    problem = refresh(store, out.state)
    return f"warning: {problem}" if problem else None


def held(store: Store, state: State | None = None) -> list[m.Mission]:
    """The missions this instance holds, as the local mirror (and the change just made) says."""
    states, _ = store.all()
    by_id = {s.mission_id: s.mission for s in states}
    if state is not None:
        by_id[state.mission_id] = state.mission
    me = store.repo.instance(create=False)
    return sorted((mis for mis in by_id.values() if mis.held and mis.claim_instance == me),
                  key=lambda mis: (mis.priority, mis.mission_id))


def section(missions: list[m.Mission], newline: str = "\n") -> str:
    """The marked section, in the seed's "## Active Mission" layout, with gitclaim's commands."""
    lines = [BEGIN, "## Active Mission"]
    if not missions:
        lines += ["None: this clone holds no mission. Run `gitclaim start` to see what is ready "
                  "(`gitclaim next` claims the best one)."]
    for mis in missions:
        lines += [*_mission_lines(mis), ""]
    if missions:
        lines += _quick_commands(missions[0].mission_id if len(missions) == 1 else "<id>")
    lines.append(END)
    return newline.join(lines)


def _mission_lines(mis: m.Mission) -> list[str]:
    status = f"{mis.status} (epoch {mis.claim_epoch}, claimed {mis.claimed_at} as \"{_clean(mis.claimed_by)}\")"
    if mis.blocked_reason:
        status += f"; blocked: {_clean(mis.blocked_reason)}"
    return [f"Mission: {_clean(mis.title)}", f"Mission ID: `{mis.mission_id}`",
            f"Path: refs/missions/{mis.mission_id} (files: `gitclaim show {mis.mission_id} --file NAME`)",
            f"Status: {status}"]


def _clean(text: str | None) -> str:
    # Free text on one line and unable to open a comment: it must never end the section early.
    return " ".join((text or "").split()).replace("<!--", "<!-")


def _quick_commands(mid: str) -> list[str]:
    return [
        "### Quick Commands",
        f"- \"continue mission\" → `gitclaim show {mid}` (body and execution log), then its start.md if any",
        f"- \"mission status\" → `gitclaim show {mid} --json`",
        f"- \"log progress\" → `gitclaim log {mid} \"TEXT\" --kind milestone --progress N`",
        f"- \"complete mission\" → `gitclaim done {mid} --summary \"TEXT\"`",
        f"- \"abort mission\" → `gitclaim fail {mid} --summary \"TEXT\"`",
        f"- \"hand it back\" → `gitclaim release {mid}`",
    ]


def replace_section(text: str, new_section: str) -> str:
    """`text` with the marked section replaced, or appended when there is none; the rest is left byte for
    byte. A begin marker without its end marker is refused rather than guessed at."""
    begin = text.find(BEGIN)
    if begin < 0:
        if END in text:
            raise GitclaimError(f"found {END} without {BEGIN}; fix the markers by hand")
        newline = _newline(text)
        if not text or text.endswith(newline * 2):
            sep = ""
        else:
            sep = newline if text.endswith(newline) else newline * 2
        return text + sep + new_section + newline
    end = text.find(END, begin)
    if end < 0:
        raise GitclaimError(f"found {BEGIN} without {END}; fix the markers by hand")
    return text[:begin] + new_section + text[end + len(END):]


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"
