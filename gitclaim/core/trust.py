"""The repository's trust list, and what the signature on a commit proves against it.

The trust list is an allowed-signers file in git's own format (ssh-keygen(1) ALLOWED SIGNERS), committed at
`.gitclaim/allowed_signers` on the remote's default branch, with an optional revocation list at
`.gitclaim/revoked_signers`. It is read from the commit the clone's remote-tracking ref of that branch points
at (`refs/remotes/<remote>/HEAD`, else `.../main`, else `.../master`; `HEAD` in a bare repository), never from
the working tree: what a clone trusts is what the team committed, not what an agent edited in its checkout.

A commit's signature is `good` (a key in the list, and the principal it belongs to), `untrusted` (a valid
signature by a key that is not in the list, or not valid at the commit's time), `bad` (the signature does not
match the commit, or the key is revoked) or `none`. Results are kept per commit, for one version of the lists,
in the clone's git directory: a commit never changes, so each is checked once (docs/signing.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from gitclaim.core import git as g
from gitclaim.core.atomicfile import write_atomic
from gitclaim.core.hashing import hasher

TRUST_FILE = ".gitclaim/allowed_signers"
# Where a clone finds the default branch, in this order: the remote's HEAD as the clone knows it, else these.
DEFAULT_BRANCH_REFS = ("HEAD", "main", "master")
REVOKED_FILE = ".gitclaim/revoked_signers"
GOOD, UNTRUSTED, BAD, NONE = "good", "untrusted", "bad", "none"
STATES = (GOOD, UNTRUSTED, BAD, NONE)
# git's %G? letters (git-log(1)): expired signatures and keys, and signatures git could not check, prove no
# trusted identity; a revoked key is treated like a forged signature.
_STATE_OF = {"G": GOOD, "U": UNTRUSTED, "X": UNTRUSTED, "Y": UNTRUSTED, "E": UNTRUSTED, "B": BAD, "R": BAD,
             "N": NONE}
_CACHE_FORMAT = 1
# The most results a cache file keeps (about 100 bytes each): the oldest go first. Without a bound the per-commit
# file would grow with every commit ever checked and be read whole by each command that checks one more.
CACHE_LIMIT = 100_000


class Signature(NamedTuple):
    state: str
    principal: str | None = None
    key: str | None = None  # the signing key's fingerprint (SHA256:...)

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "principal": self.principal, "key": self.key}

    def text(self) -> str:
        """How `show` and the board say it: `good (alice)`, `untrusted (key SHA256:...)`, `none`."""
        if self.state == GOOD:
            return f"good ({self.principal})"
        if self.key and self.state != NONE:
            return f"{self.state} (key {self.key})"
        return self.state


NO_SIGNATURE = Signature(NONE)


class TrustList(NamedTuple):
    """The allowed-signers and revocation files of one commit of the default branch."""

    source: str | None  # the ref it was read from; None when no default branch is known
    allowed: bytes  # empty when none is committed: every signature is then untrusted
    revoked: bytes | None
    allowed_oid: str | None
    revoked_oid: str | None

    @property
    def version(self) -> str:
        """Identifies these lists: results cached for other lists are not reused."""
        return f"{self.allowed_oid or '-'}:{self.revoked_oid or '-'}"

    def principal_for(self, public_key: str) -> str | None:
        """The first principal the list gives `public_key` (`<type> <base64>`), None when it is not listed."""
        want = public_key.split()[:2]
        for principals, key in _entries(self.allowed.decode("utf-8", "replace")):
            if key == want:
                return principals.split(",")[0]
        return None

    def principals(self) -> list[str]:
        return [p for principals, _ in _entries(self.allowed.decode("utf-8", "replace"))
                for p in principals.split(",")]


def load(git: g.Git, remote: str, bare: bool) -> TrustList:
    """The trust list of the default branch, read with one cat-file process."""
    refs = ["HEAD"] if bare else [f"refs/remotes/{remote}/{name}" for name in DEFAULT_BRANCH_REFS]
    specs = [f"{ref}:{path}" for ref in refs for path in (TRUST_FILE, REVOKED_FILE)]
    objs = g.cat_file_batch(git, [*refs, *specs])
    for i, ref in enumerate(refs):
        if objs[i] is None:
            continue
        allowed, revoked = objs[len(refs) + 2 * i], objs[len(refs) + 2 * i + 1]
        allowed = allowed if allowed is not None and allowed.type == "blob" else None
        revoked = revoked if revoked is not None and revoked.type == "blob" else None
        return TrustList(ref, allowed.data if allowed else b"", revoked.data if revoked else None,
                         allowed.oid if allowed else None, revoked.oid if revoked else None)
    return TrustList(None, b"", None, None, None)


def verify(git: g.Git, trust: TrustList, state_dir: Path, oids: Iterable[str]) -> dict[str, Signature]:
    """The signature of every commit in `oids`: from the cache kept in `state_dir` (the clone's
    `<git common dir>/gitclaim`), the others checked by git in one process and added to it."""
    wanted = list(dict.fromkeys(oids))
    cache = SignatureCache(state_dir / "signatures", trust.version)
    if cache.previous:
        _carry_over(cache, trust)
    found = {oid: sig for oid in wanted if (sig := cache.get(oid)) is not None}
    todo = [oid for oid in wanted if oid not in found]
    if todo:
        allowed, revoked = _files(trust, state_dir)
        for rec in g.commit_signatures(git, todo, allowed, revoked):
            sig = _signature(rec)
            found[rec.oid] = sig
            cache.put(rec.oid, sig)
        cache.save()
    return found


def _carry_over(cache: SignatureCache, trust: TrustList) -> None:
    """Keep, across a change of the trust list, every result the change cannot alter, so that adding one agent's
    key does not mean checking every commit again: an unsigned commit stays unsigned, a signature that does not
    verify stays bad, and a valid signature's key is looked up in the new list by its fingerprint. Results that
    depend on what changed are dropped and checked again by git: a key whose new line carries options
    (valid-before, namespaces, ...), and everything but unsigned commits when the revocation list changed."""
    revoked_same = cache.previous_version.split(":")[-1] == trust.version.split(":")[-1]
    plain, listed = _fingerprints(trust)
    for oid, entry in cache.previous.items():
        if not (isinstance(entry, list) and len(entry) == 3 and entry[0] in STATES):
            continue
        sig = Signature(*entry)
        if sig.state == NONE or (sig.state == BAD and revoked_same):
            cache.put(oid, sig)
        elif sig.state in (GOOD, UNTRUSTED) and revoked_same and sig.key:
            if sig.key in plain and sig.state == GOOD:
                cache.put(oid, Signature(GOOD, plain[sig.key], sig.key))
            elif sig.key not in listed:
                cache.put(oid, Signature(UNTRUSTED, None, sig.key))


def _fingerprints(trust: TrustList) -> tuple[dict[str, str], set[str]]:
    """({fingerprint: principal} of the keys listed without options, every listed key's fingerprint), in the
    form git reports them (%GF: SHA256:<base64 without padding>)."""
    plain: dict[str, str] = {}
    listed: set[str] = set()
    for principals, key, options in _entries(trust.allowed.decode("utf-8", "replace"), with_options=True):
        try:
            digest = hasher("sha256")(base64.b64decode(key[1], validate=True)).digest()
        except (ValueError, binascii.Error):
            continue
        fingerprint = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
        listed.add(fingerprint)
        if not options and fingerprint not in plain:
            plain[fingerprint] = principals.split(",")[0]
    return plain, listed


def _signature(rec: g.CommitSignature) -> Signature:
    state = _STATE_OF.get(rec.code, UNTRUSTED)
    return Signature(state, rec.principal or None if state == GOOD else None, rec.key or None)


def _files(trust: TrustList, state_dir: Path) -> tuple[Path, Path | None]:
    """The lists as files for git (it reads them by path), named by their object ids so that a file, once
    written, never changes under a concurrent reader."""
    allowed = state_dir / "trust" / f"allowed-{trust.allowed_oid or 'empty'}"
    if not allowed.exists():
        write_atomic(allowed, trust.allowed)
    if trust.revoked is None:
        return allowed, None
    revoked = state_dir / "trust" / f"revoked-{trust.revoked_oid}"
    if not revoked.exists():
        write_atomic(revoked, trust.revoked)
    return allowed, revoked


def _entries(text: str, *, with_options: bool = False) -> list[Any]:
    """(principals, [key type, base64]) of each line of an allowed-signers file, and with `with_options` the
    line's options (the words between the principals and the key) as a third member."""
    out: list[Any] = []
    for line in text.splitlines():
        words = _words(line.strip())
        if not words or words[0].startswith("#"):
            continue
        for i in range(1, len(words) - 1):
            if _is_key_type(words[i]):
                entry = (words[0].strip('"'), words[i:i + 2])
                out.append((*entry, words[1:i]) if with_options else entry)
                break
    return out


def _words(line: str) -> list[str]:
    """Split on blanks outside double quotes (options such as namespaces="git,file" hold commas, not blanks,
    but a quoted principal list may hold anything)."""
    words, cur, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    return words


def _is_key_type(word: str) -> bool:
    return word.startswith(("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"))


class SignatureCache:
    """Signatures by commit (or, for claims, by a mission's tip), for one version of the trust lists. A corrupt,
    foreign or outdated file is started afresh, never trusted; concurrent writers replace it whole (the last one
    wins: nothing is lost that cannot be checked again)."""

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        self.entries: dict[str, list[Any]] = {}
        # The results kept for another version of the lists, for `_carry_over` to take what still holds.
        self.previous: dict[str, Any] = {}
        self.previous_version = ""
        self.dirty = False
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return
        if not (isinstance(data, dict) and data.get("format") == _CACHE_FORMAT
                and isinstance(data.get("entries"), dict) and isinstance(data.get("trust"), str)):
            return
        if data["trust"] == version:
            self.entries = data["entries"]
        else:
            self.previous, self.previous_version = data["entries"], data["trust"]

    def get(self, oid: str) -> Signature | None:
        entry = self.entries.get(oid)
        if isinstance(entry, list) and len(entry) == 3 and entry[0] in STATES:
            return Signature(*entry)
        return None

    def put(self, oid: str, sig: Signature) -> None:
        self.entries[oid] = list(sig)
        self.dirty = True

    def keep_only(self, keys: set[str]) -> None:
        """Drop every result but those of `keys`."""
        if any(key not in keys for key in self.entries):
            self.entries = {key: value for key, value in self.entries.items() if key in keys}
            self.dirty = True

    def save(self, limit: int | None = None) -> None:
        if not self.dirty:
            return
        limit = CACHE_LIMIT if limit is None else limit
        if len(self.entries) > limit:  # oldest first: a dict keeps the order results were added in
            self.entries = dict(list(self.entries.items())[-limit:])
        data = {"format": _CACHE_FORMAT, "trust": self.version, "entries": self.entries}
        try:
            write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode())
        except OSError:
            pass  # a cache that cannot be written is checked again next time


def verified(git: g.Git, trust: TrustList, state_dir: Path, oids: Sequence[str]) -> list[Signature]:
    """`verify` in the order of `oids`; a commit git could not read counts as unsigned."""
    found = verify(git, trust, state_dir, oids)
    return [found.get(oid, NO_SIGNATURE) for oid in oids]
