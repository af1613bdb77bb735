"""Objects: read in batches through `cat-file --batch`, commits and logs read in machine formats, and git's own
writers where Python's (core/objects.py) must not write.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitclaim.core.git.process import Git
from gitclaim.core.gitrecords import (
    LOG_FORMAT,
    Commit,
    GitObject,
    TreeEntry,
    parse_batch,
    parse_commit,
    parse_ident,
    parse_log,
)
from gitclaim.errors import InvalidInput, NotARepository


def cat_file_batch(git: Git, specs: Sequence[str]) -> list[GitObject | None]:
    """Read many objects in one `cat-file --batch` process (the kept one, in a server that keeps one); None for a
    spec that names nothing."""
    if not specs:
        return []
    for spec in specs:
        if "\n" in spec:
            raise ValueError("object spec with a newline")
    reader = git.reader  # once: another thread may close it meanwhile (it then answers None)
    kept = reader.read(specs) if reader is not None else None
    if kept is not None:
        return kept
    payload = ("\n".join(specs) + "\n").encode()
    res = git.run(["cat-file", "--batch"], input=payload)
    return parse_batch(res.stdout, len(specs))


def var_ident(git: Git, which: str) -> tuple[str, str] | None:
    """(name, email) git would record as `which` (GIT_AUTHOR_IDENT or GIT_COMMITTER_IDENT) right now, with
    `--author` and the GIT_AUTHOR_* variables git commit exports to its hooks; None when git has no identity."""
    res = git.run(["var", which], check=False)
    text = res.text().strip()
    if not res.ok or "> " not in text:
        return None
    ident = parse_ident(text)
    return ident.name, ident.email


def read_commits(git: Git, rev_range: str) -> list[Commit]:
    """Every commit of a revision range (`origin/main..HEAD`), oldest first: one rev-list, one cat-file.
    InvalidInput when git rejects the range."""
    if not rev_range.strip() or rev_range.startswith("-"):
        raise InvalidInput(f"invalid range {rev_range!r}: expected something like origin/main..HEAD")
    res = git.run(["rev-list", "--reverse", "--end-of-options", rev_range, "--"], check=False)
    if not res.ok:
        raise InvalidInput(f"invalid range {rev_range!r}: {res.error_line()}")
    oids = res.text().split()
    return [parse_commit(oid, obj.data) for oid, obj in zip(oids, cat_file_batch(git, oids), strict=True) if obj]


def first_parent_chain(git: Git, new: str, old: str | None, *, limit: int) -> list[str]:
    """The first-parent chain from `new` back to `old` (exclusive; to the root when old is None), oldest
    first, at most `limit` commits."""
    args = ["rev-list", "--first-parent", "--reverse", f"--max-count={limit}", new]
    if old is not None:
        args.append(f"^{old}")
    return git.run(args).text().split()


def unreachable_commits(git: Git, new: str) -> list[str] | None:
    """Commits reachable from `new` that no ref reaches yet, oldest first; None when `new` is not a commit."""
    res = git.run(["rev-list", "--reverse", new, "--not", "--all"], check=False)
    return res.text().split() if res.ok else None


def git_path(git: Git, name: str) -> Path:
    """Where git keeps `name` in this repository (`hooks` honours core.hooksPath), as an absolute path."""
    res = git.run(["rev-parse", "--git-path", name], check=False)
    if not res.ok:
        raise NotARepository(f"not a git repository: {git.cwd}")
    # The answer is relative to the directory git ran in, or absolute when core.hooksPath is.
    return (git.cwd / res.text().strip()).resolve()


def first_parent_log(git: Git, tips: Sequence[str], exclude: Sequence[str] = ()) -> list[Commit]:
    """Every commit on the first-parent chains of `tips`, stopping at commits reachable from `exclude`: one
    `git log` process for any number of chains (revisions go in on stdin, so the argument list stays short)."""
    if not tips:
        return []
    revs = [*tips, *(f"^{oid}" for oid in exclude)]
    if any("\n" in rev or rev.startswith("-") for rev in revs):
        raise ValueError("revision with a newline or a leading dash")
    res = git.run(["-c", "log.showSignature=false", "log", "--first-parent", "--no-decorate", "--no-color",
                   "-z", f"--format={LOG_FORMAT}", "--stdin"], input=("\n".join(revs) + "\n").encode())
    return parse_log(res.stdout)


def all_commits(git: Git, tips: Sequence[str]) -> list[Commit]:
    """Every commit reachable from `tips` (merged-in ones too), newest first: one `git log` for any number."""
    if not tips:
        return []
    if any("\n" in rev or rev.startswith("-") for rev in tips):
        raise ValueError("revision with a newline or a leading dash")
    res = git.run(["-c", "log.showSignature=false", "log", "--no-decorate", "--no-color", "-z",
                   f"--format={LOG_FORMAT}", "--stdin"], input=("\n".join(tips) + "\n").encode())
    return parse_log(res.stdout)


def trailer_values(git: Git, tip: str, key: str) -> list[str]:
    """The value of trailer `key` in every commit reachable from `tip`, newest first (one `git log`)."""
    res = git.run(["log", f"--format=%(trailers:key={key},valueonly)%x00", tip, "--"])
    return [value.strip() for value in res.text().split("\0") if value.strip()]


def list_files(git: Git, treeish: str) -> list[str]:
    """Every file's path in a tree, at any depth (`agents/analyst.md`, not `agents`), in one process."""
    res = git.run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", treeish])
    return sorted(name.decode("utf-8", "surrogateescape") for name in res.stdout.split(b"\0") if name)


def write_blob(git: Git, data: bytes) -> str:
    return git.run(["hash-object", "-w", "--no-filters", "--stdin"], input=data).text().strip()


def write_objects(git: Git, kind: str, bodies: Sequence[bytes]) -> list[str]:
    """Objects of one kind written by one `git hash-object --stdin-paths`, from files in a temporary directory;
    their ids in order."""
    import tempfile  # only where git must write many objects (a shared repository's archive run)

    with tempfile.TemporaryDirectory(prefix="gitclaim-objects-") as tmp:
        paths = []
        for n, body in enumerate(bodies):
            path = Path(tmp) / str(n)
            path.write_bytes(body)
            paths.append(str(path))
        res = git.run(["hash-object", "-w", "--no-filters", "-t", kind, "--stdin-paths"],
                      input=("\n".join(paths) + "\n").encode())
    return res.text().split()


def write_tree(git: Git, entries: Sequence[TreeEntry]) -> str:
    payload = b"".join(f"{e.mode} {e.type} {e.oid}\t{e.name}".encode() + b"\0" for e in entries)
    return git.run(["mktree", "-z"], input=payload).text().strip()


def commit_tree(git: Git, tree: str, parents: Sequence[str], message: str, env: dict[str, str],
                sign_key: str | None = None) -> str:
    """A commit of `tree`, signed by git with the ssh key `sign_key` when given, else never signed (whatever
    commit.gpgSign says: gitclaim decides what it signs)."""
    if sign_key is None:
        args = ["commit-tree", "--no-gpg-sign", tree]
    else:
        args = ["-c", "gpg.format=ssh", "-c", f"user.signingKey={sign_key}", "commit-tree", "-S", tree]
    for parent in parents:
        args += ["-p", parent]
    return git.run([*args, "-F", "-"], input=message.encode(), env=env).text().strip()


