"""Writing blobs, trees and commits without a git process per object.

A mission write is one small blob, a tree or two and a commit. Starting `hash-object`, `mktree` and `commit-tree`
for them cost three processes where the push itself is one, so objects are written here as loose objects in git's
documented format (`<type> <size>\\0<content>`, zlib-compressed, named by its SHA-1 or SHA-256) whenever the
repository allows it. Whenever it does not (objects elsewhere than `<common dir>/objects`, a shared repository
with its own permissions, a commit encoding or an identity git would rewrite), the same object is written by git
itself, so the result never differs from what git would have written.

`ObjectWriter.commit` is the one place a commit is built, signed when the clone has a signing key
(core/signing.py): the signature is made over the same bytes git would sign, or by git itself when git builds
the commit.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitclaim.core import git as g
from gitclaim.core import timeutil
from gitclaim.core.hashing import hasher
from gitclaim.core.signing import Signer, signed_commit
from gitclaim.errors import GitclaimError

# Characters git strips from the ends of a name or e-mail, and those it removes inside (ident.c "crud"): an
# identity with any of them is left to git so that the commit is byte for byte what git would write.
_CRUD = ".,:;<>\"\\' \t\n"
_FORBIDDEN = "<>\n\0"
_HASHES = ("sha1", "sha256")
_FALSE = ("false", "no", "off", "0")


def fsyncs_loose_objects(config: Mapping[str, list[str]]) -> bool:
    """Whether git itself syncs a loose object it writes to disk. By default it does not (git 2.36 and later
    leave loose objects out of `core.fsync`'s default; before, only `core.fsyncObjectFiles` asked for it), and
    a sync costs a few milliseconds per object. A clone that sets `core.fsync` in any way, or
    `core.fsyncObjectFiles` to anything but false, gets every object synced here, which is at least what git
    would do."""
    if config.get("core.fsync"):
        return True
    value = (config.get("core.fsyncobjectfiles") or ["false"])[-1].strip().lower()
    return value not in _FALSE


class ObjectWriter:
    """Writes objects into one repository: in Python when `direct`, else through git processes."""

    def __init__(self, git: g.Git, objects_dir: Path | None, algo: str, config: Mapping[str, list[str]]) -> None:
        self.git = git
        self.objects_dir = objects_dir
        self.algo = algo
        self._config = config
        self._fsync = fsyncs_loose_objects(config)

    @classmethod
    def for_repo(cls, git: g.Git, common_dir: Path, config: Mapping[str, list[str]]) -> ObjectWriter:
        algo = (config.get("extensions.objectformat") or ["sha1"])[-1].lower()
        objects = common_dir / "objects"
        direct = (
            algo in _HASHES
            and "GIT_OBJECT_DIRECTORY" not in git.env
            and "GIT_QUARANTINE_PATH" not in git.env
            # A shared repository sets group permissions on every file git writes; leave those to git.
            and (config.get("core.sharedrepository") or ["false"])[-1].lower() in ("false", "umask", "0", "no", "off")
            and objects.is_dir()
        )
        return cls(git, objects if direct else None, algo, config)

    @property
    def direct(self) -> bool:
        return self.objects_dir is not None

    # ---- objects ------------------------------------------------------------------------------------------
    def blob(self, data: bytes) -> str:
        if self.objects_dir is None:
            return g.write_blob(self.git, data)
        return self._write(b"blob", data)

    def tree(self, entries: Sequence[g.TreeEntry]) -> str:
        """A tree of `entries`, which must already be in git's order."""
        if self.objects_dir is None:
            return g.write_tree(self.git, entries)
        body = b"".join(
            f"{e.mode.lstrip('0')} ".encode() + e.name.encode("utf-8", "surrogateescape") + b"\0"
            + bytes.fromhex(e.oid) for e in entries
        )
        return self._write(b"tree", body)

    def commit(self, tree: str, parents: Sequence[str], message: str, env: Mapping[str, str],
               signer: Signer | None = None) -> str:
        """Build one commit, signed by `signer` when given. `env` carries GIT_AUTHOR_DATE / GIT_COMMITTER_DATE
        and any identity override, as `git commit-tree` would read them."""
        header = self._commit_header(tree, parents, env) if self.objects_dir is not None else None
        if header is None:
            return g.commit_tree(self.git, tree, parents, message, dict(env), signer.key if signer else None)
        body = message.encode("utf-8")
        if signer is not None:
            return self._write(b"commit", signed_commit(header, body, signer))
        return self._write(b"commit", header + b"\n" + body)

    def chain(self, tree: str, base: str | None, sides: Sequence[str], messages: Sequence[str],
              env: Mapping[str, str]) -> str | None:
        """Unsigned commits of `tree`, one per side parent, each on the one before (the first on `base`, when
        given): parents [previous, side]. Returns the last one. Never a process per commit: built in Python and
        written by it, or, where git must write the objects, by one `git hash-object --stdin-paths`."""
        people = self._people(env)
        if people is None:
            # Only git can write such headers (an encoding or a name it would rewrite): one process per commit.
            prev = base
            for side, message in zip(sides, messages, strict=True):
                prev = g.commit_tree(self.git, tree, [p for p in (prev, side) if p], message, dict(env))
            return prev
        prev, bodies, oids = base, [], []
        for side, message in zip(sides, messages, strict=True):
            body = _header(tree, [prev, side] if prev else [side], people) + b"\n" + message.encode("utf-8")
            if self.objects_dir is not None:
                prev = self._write(b"commit", body)
            else:
                prev = hasher(self.algo)(b"commit %d\0" % len(body) + body).hexdigest()
                bodies.append(body)
                oids.append(prev)
        if bodies and g.write_objects(self.git, "commit", bodies) != oids:
            raise GitclaimError("git hashed the archive's commits differently from gitclaim: nothing was pushed; "
                                "report this with `git version`")
        return prev

    # ---- helpers ------------------------------------------------------------------------------------------
    def tree_with(self, git: g.Git, base: Sequence[g.TreeEntry], files: Mapping[str, bytes]) -> str:
        """The tree `base` with `files` (paths like mission.md or agents/x.md) written into it."""
        entries = {e.name: e for e in base}
        for name, data in files.items():
            entries.update(self._write_file(git, name, data, entries))
        return self.tree(sorted(entries.values(), key=_tree_sort_key))

    def _write_file(self, git: g.Git, path: str, data: bytes, entries: dict[str, g.TreeEntry]
                    ) -> dict[str, g.TreeEntry]:
        """Write `path` into the top-level entries, building subtrees for paths like agents/x.md."""
        head, _, rest = path.partition("/")
        if not rest:
            return {head: g.TreeEntry("100644", "blob", self.blob(data), head)}
        sub = {}
        old = entries.get(head)
        if old is not None and old.type == "tree":
            obj = g.cat_file_batch(git, [old.oid])[0]
            sub = {e.name: e for e in g.parse_tree(obj.data)} if obj else {}
        sub.update(self._write_file(git, rest, data, sub))
        oid = self.tree(sorted(sub.values(), key=_tree_sort_key))
        return {head: g.TreeEntry("040000", "tree", oid, head)}

    def _write(self, kind: bytes, body: bytes) -> str:
        assert self.objects_dir is not None
        raw = kind + b" " + str(len(body)).encode() + b"\0" + body
        oid = hasher(self.algo)(raw).hexdigest()
        path = self.objects_dir / oid[:2] / oid[2:]
        if path.exists():
            return oid
        path.parent.mkdir(exist_ok=True)
        # Written to a temporary name in the same directory, then renamed: a reader (or a concurrent writer of
        # the same object) sees either nothing or the whole object.
        fd, tmp = _temporary(path.parent)
        try:
            try:
                os.write(fd, zlib.compress(raw, 1))
                if self._fsync:  # as git would (fsyncs_loose_objects)
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return oid

    def _commit_header(self, tree: str, parents: Sequence[str], env: Mapping[str, str]) -> bytes | None:
        """The commit's header lines as git would write them, or None when only git can tell."""
        people = self._people(env)
        return None if people is None else _header(tree, parents, people)

    def _people(self, env: Mapping[str, str]) -> bytes | None:
        """The author and committer lines as git would write them, or None when only git can tell."""
        merged = {**self.git.env, **env}
        if self._get("i18n.commitencoding") not in (None, "", "utf-8", "UTF-8", "utf8"):
            return None
        author = self._ident("AUTHOR", "author", merged)
        committer = self._ident("COMMITTER", "committer", merged)
        if author is None or committer is None:
            return None
        return f"author {author}\ncommitter {committer}\n".encode()

    def _ident(self, who: str, section: str, env: Mapping[str, str]) -> str | None:
        name = env.get(f"GIT_{who}_NAME") or self._get(f"{section}.name") or self._get("user.name")
        email = env.get(f"GIT_{who}_EMAIL") or self._get(f"{section}.email") or self._get("user.email")
        stamp = _git_date(env.get(f"GIT_{who}_DATE", ""))
        if not name or not email or stamp is None:
            return None
        for text in (name, email):
            if text[0] in _CRUD or text[-1] in _CRUD or any(ch in text for ch in _FORBIDDEN):
                return None
        return f"{name} <{email}> {stamp}"

    def _get(self, key: str) -> str | None:
        values = self._config.get(key)
        return values[-1] if values else None


def _header(tree: str, parents: Sequence[str], people: bytes) -> bytes:
    return "".join([f"tree {tree}\n", *(f"parent {p}\n" for p in parents)]).encode() + people


def _temporary(directory: Path) -> tuple[int, Path]:
    """A new file of our own in `directory` (created exclusively, as `tempfile.mkstemp` would, without importing
    it), named like git's own temporary objects."""
    while True:
        path = directory / f"tmp_obj_{os.urandom(6).hex()}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), path
        except FileExistsError:
            continue


def _git_date(text: str) -> str | None:
    """'2026-01-01T00:00:00Z' -> '1767225600 +0000'; None for anything but a full ISO 8601 time with a zone."""
    if "T" not in text or not (text.endswith("Z") or (text[-6:-5] in "+-" and text[-3] == ":")):
        return None
    when = timeutil.parse_ts(text)
    offset = when.utcoffset() if when is not None else None
    if when is None or offset is None:
        return None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _tree_sort_key(entry: g.TreeEntry) -> str:
    # git orders tree entries by name, comparing directories as if their names ended in '/'
    return entry.name + ("/" if entry.type == "tree" else "")
