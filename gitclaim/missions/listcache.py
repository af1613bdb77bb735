"""`list --json` from a cache of the listing itself: each row kept as the JSON text it is printed as.

A warm `list --json` of 10,000 missions spent most of its time in Python: reading the cache of parsed missions,
building 10,000 Mission objects, each row's dict, and encoding it again. A row's text depends only on the
mission's tip commit, except for a mission that records a claim: its idle time and staleness depend on the
clock, its claim's signature on the trust list (core/claimsigs.py, cached there per tip and trust list). So
this cache keeps every row as text, in listing order (status, priority, id), with the end of the claimed rows
left open; a listing is the kept text with those filled in.

The file is `<common git dir>/gitclaim/cache/listing`:
  line 1: header (cache format, mission format, gitclaim version, object format, SHA-256 of the rest, and the
          stamp of the mission refs' files it was read from, core/refsnap.py, or null);
  line 2: the open rows ([offset of its open end in the text, *Claim]) and the warnings;
  line 3: one entry a row, [id, tip oid, status, priority, length of its text, Claim or null];
  the rest: the rows' text, joined with ",\\n".
When the refs' files have the stamp of the header, the refs are those of the rows and no git process runs
(not even for-each-ref); otherwise for-each-ref says which they are, rows of unmoved tips are reused, and
only missions whose tip moved are read. Written atomically (concurrent processes each read a whole file, and
a file is only stamped when the refs did not move while it was read); a file that does not match its header
exactly is ignored and written again, never trusted.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from gitclaim import __version__
from gitclaim.core import git as g
from gitclaim.core import jsontext, refsnap, timeutil
from gitclaim.core import mission as m
from gitclaim.core.atomicfile import write_atomic
from gitclaim.core.hashing import hasher
from gitclaim.core.refs import classify
from gitclaim.core.store import MISSIONS_PREFIX, Store
from gitclaim.errors import InvalidInput

FORMAT = 2
SEP = b",\n"


class Row(NamedTuple):
    mission_id: str
    oid: str
    status: int  # index in m.STATUSES
    priority: int
    text: bytes  # the row's JSON text (UTF-8); a claimed row's without `idle`, `stale`, `signature` and the brace
    claim: list[Any] | None  # a Claim's fields when the mission records a claim, else None


class Claim(NamedTuple):
    """What the open end of a row is written from."""

    held: bool
    last_activity: str | None
    claimed_at: str | None
    instance: str
    epoch: int


class Listing(NamedTuple):
    rows: list[Row]  # in listing order
    invalid: list[str]  # refs whose names are no mission ids
    broken: dict[str, str]  # "<id> <oid>" -> why that mission cannot be read (kept, so it is not read again)

    @property
    def warnings(self) -> list[str]:
        return [*self.invalid, *self.broken.values()]


class Kept(NamedTuple):
    """A listing as the file holds it: its stamp, its text and open rows, and the rest unparsed until needed."""

    stamp: dict[str, Any] | None
    text: bytes
    open: list[list[Any]]
    invalid: list[str]
    broken: dict[str, str]
    entries: bytes  # line 3, parsed only when a row must be looked at

    def listing(self) -> Listing:
        rows, at = [], 0
        for mission_id, oid, status, priority, length, claim in json.loads(self.entries):
            rows.append(Row(mission_id, oid, status, priority, self.text[at:at + length], claim))
            at += length + len(SEP)
        return Listing(rows, self.invalid, self.broken)


def list_json(store: Store, *, status: str | None = None, stale_only: bool = False, fetch: bool = True
              ) -> tuple[bytes, list[str]]:
    """The `list --json` document in UTF-8 (views.list_missions' rows, as `json.dumps(rows, indent=2,
    ensure_ascii=False)` writes them) and the warnings to print."""
    if status is not None and status.upper() not in m.STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(m.STATUSES)}")
    if fetch:
        store.sync()
    common = store.repo.paths.common_dir
    path = store.repo.state_dir / "cache" / "listing"
    algo = store.repo.get("extensions.objectformat") or "sha1"
    files = (store.repo.get("extensions.refstorage") or "files") == "files"
    kept = _load(path, algo)
    if kept is not None and kept.stamp is not None and files and refsnap.stamp(common) == kept.stamp:
        if status is None and not stale_only:  # the common case: no row is looked at but the claimed ones
            return _fill(kept.text, kept.open, store), [*kept.invalid, *kept.broken.values()]
        listing = kept.listing()
    else:
        listing = _refresh(store, path, algo, files, kept)
    return _render(listing.rows, store, status, stale_only), listing.warnings


def _fill(text: bytes, open_rows: list[list[Any]], store: Store) -> bytes:
    """The whole listing: the kept text with the end of each claimed row written in."""
    if not text:
        return b"[]"
    now, ttl = timeutil.now(), store.ttl
    sigs = _signatures(store, [(mission_id, oid, Claim(*claim)) for _, mission_id, oid, *claim in open_rows],
                       every=True)
    view = memoryview(text)  # slices without copies: the text is megabytes, the claimed rows usually few
    out: list[bytes | memoryview] = [b"[\n"]
    at = 0
    for offset, mission_id, _, *claim in open_rows:
        out += [view[at:offset], _tail(now, ttl, Claim(*claim), sigs.get(mission_id))[0]]
        at = offset
    out += [view[at:], b"\n]"]
    return b"".join(out)


def _signatures(store: Store, claims: list[tuple[str, str, Claim]], *, every: bool) -> dict[str, Any]:
    """The signature of each claim (core/claimsigs.py), read from the mission's id, tip, instance and epoch,
    which is all of a mission that the claim's signature depends on. `every`: these are all the claims."""
    if not claims:
        return {}
    from gitclaim.core.claimsigs import claim_signatures
    from gitclaim.core.store import State

    return claim_signatures(store, [State(m.Mission(mid, "", claim_instance=c.instance, claim_epoch=c.epoch), oid)
                                    for mid, oid, c in claims], every=every)


def _tail(now: datetime, ttl: timedelta, claim: Claim, signature: Any) -> tuple[bytes, bool]:
    """The end of a claimed row (`idle`, `stale` and `signature`, as views.row writes them), and whether the
    claim is stale."""
    last = timeutil.parse_ts(claim.last_activity) or timeutil.parse_ts(claim.claimed_at) if claim.held else None
    idle = timeutil.format_duration(max(now - last, timedelta(0))) if last else None
    stale = claim.held and (last is None or now - last > ttl)
    members = [f'    "idle": {jsontext.scalar(idle)}', f'    "stale": {"true" if stale else "false"}',
               jsontext.member("signature", signature.to_json() if signature is not None else None)]
    return jsontext.close_row(members).encode(), stale


def _render(rows: list[Row], store: Store, status: str | None, stale_only: bool) -> bytes:
    now, ttl = timeutil.now(), store.ttl
    want = m.STATUSES.index(status.upper()) if status is not None else None
    listed: list[tuple[Row, Claim | None]] = []
    for row in rows:
        if want is not None and row.status != want:
            continue
        if row.claim is None:
            if not stale_only:
                listed.append((row, None))
            continue
        claim = Claim(*row.claim)
        if not stale_only or _tail(now, ttl, claim, None)[1]:
            listed.append((row, claim))
    sigs = _signatures(store, [(row.mission_id, row.oid, claim) for row, claim in listed if claim is not None],
                       every=want is None and not stale_only)
    out = [row.text if claim is None else row.text + _tail(now, ttl, claim, sigs.get(row.mission_id))[0]
           for row, claim in listed]
    return b"[\n" + SEP.join(out) + b"\n]" if out else b"[]"


def offline_note(store: Store) -> str:
    """What a read that did not fetch says about the age of what it shows."""
    age = store.repo.mirror_age()
    if age is None:
        return "offline: this clone has never fetched missions (run: gitclaim sync)"
    return f"offline: missions as last fetched {timeutil.format_duration(timedelta(seconds=age))} ago"


# ---- building the rows ------------------------------------------------------------------------------------

# The end of a row of a mission without a claim.
_CLOSED = jsontext.close_row(['    "idle": null', '    "stale": false', '    "signature": null']).encode()


def row_of(mission: m.Mission, oid: str) -> Row:
    """The listing row of a mission at tip `oid`."""
    items = list(mission.to_json().items())  # idle, stale and signature come after these
    text = jsontext.open_row(items)
    claim = None
    if mission.claim_instance:
        claim = list(Claim(mission.held, mission.last_activity, mission.claimed_at, mission.claim_instance,
                           mission.claim_epoch))
    body = text.encode()
    return Row(mission.mission_id, oid, m.STATUSES.index(mission.status), mission.priority,
               body if claim else body + _CLOSED, claim)


def _refresh(store: Store, path: Path, algo: str, files: bool, kept: Kept | None) -> Listing:
    """Ask git which the refs are, reuse the rows of unmoved tips, read the rest, and keep the new listing."""
    common = store.repo.paths.common_dir
    taken = time.time()
    before = refsnap.stamp(common) if files else None
    raw = g.for_each_ref(store.git, MISSIONS_PREFIX)
    after = refsnap.stamp(common) if files else None
    refs, invalid = classify(raw)
    old = kept.listing() if kept is not None else Listing([], [], {})
    rows_by_key = {f"{row.mission_id} {row.oid}": row for row in old.rows}
    missing = [(mid, oid) for mid, oid in refs if f"{mid} {oid}" not in rows_by_key
               and f"{mid} {oid}" not in old.broken]
    # Many moved tips (a first listing): through the cache of parsed missions that `next` and `start` keep too.
    found, bad = store.read(missing, cached=len(missing) > 64) if missing else ({}, [])
    problems = iter(bad)  # in the order of `missing`, one for each mission not found
    rows, broken = [], {}
    for mid, oid in refs:
        key = f"{mid} {oid}"
        if key in rows_by_key:
            rows.append(rows_by_key[key])
        elif key in old.broken:
            broken[key] = old.broken[key]
        elif mid in found:
            rows.append(row_of(found[mid], oid))
        else:
            broken[key] = str(next(problems))
    rows.sort(key=lambda r: (r.status, r.priority, r.mission_id))
    listing = Listing(rows, [str(err) for err in invalid], broken)
    trusted = (before is not None and before == after and refsnap.settled(before, taken)
               and refsnap.agrees(before, raw))
    stamp = before if trusted else None
    if kept is None or stamp != kept.stamp or _keys(listing) != _keys(old):  # else the file says it all already
        _save(path, algo, listing, stamp)
    return listing


def _keys(listing: Listing) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    return [(row.mission_id, row.oid) for row in listing.rows], listing.invalid, list(listing.broken)


# ---- the file ---------------------------------------------------------------------------------------------

def _header(digest: str, algo: str, stamp: dict[str, Any] | None) -> dict[str, Any]:
    return {"cache": FORMAT, "mission_format": m.FORMAT_VERSION, "gitclaim": __version__, "object_format": algo,
            "fields": _FIELDS, "sha256": digest, "refs": stamp}


# The rows' keys: a gitclaim whose missions have other fields (a development build of the same version) does not
# read this listing.
_FIELDS = ",".join(f.json for f in m.FIELDS)


def _digest(stamp: Any, rest: bytes | memoryview) -> str:
    """The checksum of everything the header vouches for: the stamp and the rest of the file."""
    sha = hasher("sha256")(json.dumps(stamp).encode() + b"\n")
    sha.update(rest)
    return sha.hexdigest()


def _load(path: Path, algo: str) -> Kept | None:
    """The kept listing, or None when there is none or it does not match its header exactly."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        first = raw.index(b"\n")
        second = raw.index(b"\n", first + 1)
        third = raw.index(b"\n", second + 1)
        header = json.loads(raw[:first])
        stamp = header.get("refs") if isinstance(header, dict) else None
        if header != _header(_digest(stamp, memoryview(raw)[first + 1:]), algo, stamp):
            return None
        meta = json.loads(raw[first + 1:second])
        return Kept(stamp, raw[third + 1:], meta["open"], meta["invalid"], meta["broken"], raw[second + 1:third])
    except (ValueError, KeyError, TypeError):
        return None


def _save(path: Path, algo: str, listing: Listing, stamp: dict[str, Any] | None) -> None:
    """Write the listing atomically; a cache that cannot be written is only a slower next run."""
    open_rows, index, at = [], [], 0
    for row in listing.rows:
        at += len(row.text)
        if row.claim is not None:
            open_rows.append([at, row.mission_id, row.oid, *row.claim])
        index.append([row.mission_id, row.oid, row.status, row.priority, len(row.text), row.claim])
        at += len(SEP)
    meta = {"open": open_rows, "invalid": listing.invalid, "broken": listing.broken}
    rest = b"\n".join([json.dumps(meta, ensure_ascii=False).encode(),
                       json.dumps(index, separators=(",", ":")).encode(), SEP.join(row.text for row in listing.rows)])
    head = json.dumps(_header(_digest(stamp, rest), algo, stamp)).encode()
    try:
        write_atomic(path, head + b"\n" + rest)
    except OSError:
        pass
