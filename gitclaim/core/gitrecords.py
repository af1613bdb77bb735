"""What git writes, as gitclaim's records: objects from `cat-file --batch`, trees, commits and identities.

Pure parsing, no processes (core/git/ starts git and hands the bytes here). `Commit` is gitclaim's one record
of a commit and `parse_commit` / `parse_log` its readers, of a raw commit object and of `git log
--format=LOG_FORMAT -z` output: the store's history walk, the board, `check-msg --range`, the guard and the
doctor all read commits through them.
"""

from __future__ import annotations

from typing import NamedTuple


class GitObject(NamedTuple):
    oid: str
    type: str
    data: bytes


def parse_batch(out: bytes, count: int) -> list[GitObject | None]:
    """The answers of `cat-file --batch` to `count` specs; None for a spec that names nothing."""
    objects: list[GitObject | None] = []
    pos = 0
    for _ in range(count):
        nl = out.index(b"\n", pos)
        header = batch_header(out[pos:nl])
        pos = nl + 1
        if header is None:
            objects.append(None)
            continue
        oid, kind, size = header
        objects.append(GitObject(oid, kind, out[pos:pos + size]))
        pos += size + 1
    return objects


def batch_header(line: bytes) -> tuple[str, str, int] | None:
    """(oid, type, size) from one `cat-file --batch` header line; None for "<spec> missing" / "<spec> ambiguous"
    (a spec may hold spaces, so only a third field of digits makes an object)."""
    fields = line.decode().split(" ")
    if len(fields) != 3 or not fields[2].isdigit():
        return None
    return fields[0], fields[1], int(fields[2])


class TreeEntry(NamedTuple):
    mode: str
    type: str
    oid: str
    name: str


def parse_tree(data: bytes) -> list[TreeEntry]:
    """Entries of a raw tree object (`<mode> <name>\\0<20 or 32 byte id>` repeated)."""
    entries: list[TreeEntry] = []
    pos = 0
    oid_len = 20
    while pos < len(data):
        sp = data.index(b" ", pos)
        nul = data.index(b"\0", sp)
        mode = data[pos:sp].decode()
        name = data[sp + 1:nul].decode("utf-8", "surrogateescape")
        oid = data[nul + 1:nul + 1 + oid_len].hex()
        kind = "tree" if mode == "40000" else ("commit" if mode == "160000" else "blob")
        entries.append(TreeEntry(mode.rjust(6, "0"), kind, oid, name))
        pos = nul + 1 + oid_len
    return entries


class Commit(NamedTuple):
    """gitclaim's one record of a commit: what `parse_commit` reads from a raw commit object. The store walks
    missions' histories with it, the commit policy checks its message and identities, the guard judges it."""

    oid: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: int
    committer_name: str
    committer_email: str
    committer_time: int
    message: str

    @property
    def short(self) -> str:
        return self.oid[:12]


class Ident(NamedTuple):
    name: str
    email: str
    time: int  # seconds since the epoch; 0 when the line has none


def parse_commit(oid: str, data: bytes) -> Commit:
    """A raw commit object (as `cat-file --batch` gives it) as a Commit."""
    head, _, message = data.partition(b"\n\n")
    tree, parents = "", []
    author = committer = Ident("", "", 0)
    for line in head.split(b"\n"):
        key, _, value = line.decode("utf-8", "replace").partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = parse_ident(value)
        elif key == "committer":
            committer = parse_ident(value)
    return Commit(oid, tree, tuple(parents), author.name, author.email, author.time, committer.name,
                  committer.email, committer.time, message.decode("utf-8", "replace"))


def parse_ident(value: str) -> Ident:
    """'Name <mail> 1700000000 +0000' -> Ident('Name', 'mail', 1700000000), as commit objects and `git var`
    write identities."""
    who, _, when = value.rpartition("> ")
    name, _, email = who.rpartition("<")
    stamp = when.split(" ")[0]
    return Ident(name.strip(), email, int(stamp) if stamp.isdigit() else 0)


# One record per commit, in the fields of `Commit` (the same record `parse_commit` makes of a raw object): fields
# split by the unit separator, records by NUL (`-z`); the message comes last so a separator inside it cannot
# shift the other fields.
LOG_FORMAT = "%x1f".join(("%H", "%T", "%P", "%an", "%ae", "%at", "%cn", "%ce", "%ct", "%B"))




def parse_log(out: bytes) -> list[Commit]:
    """The commits of `git log -z --format=LOG_FORMAT` output."""
    commits = []
    for record in out.split(b"\0"):
        fields = record.decode("utf-8", "replace").split("\x1f", 9)
        if len(fields) != 10:
            continue
        oid, tree, parents, an, ae, atime, cn, ce, ctime, message = fields
        commits.append(Commit(oid, tree, tuple(parents.split()), an, ae, int(atime or 0), cn, ce, int(ctime or 0),
                              message))
    return commits


# What git adds after the line that names the problem: true of every remote failure, so it explains none.
_BOILERPLATE = frozenset((
    "fatal: Could not read from remote repository.",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
))


def describe_stderr(stderr: bytes) -> str:
    """git's own words for a failure: its `fatal:`/`error:` lines, else all its lines, without the generic
    advice that follows them (an ssh or proxy failure is a line without a prefix, kept for that reason)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("hint:")]
    specific = [ln for ln in lines if ln not in _BOILERPLATE]
    lines = specific or lines
    errors = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return "; ".join(errors or lines)
