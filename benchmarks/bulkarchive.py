"""Archived missions in bulk: what `gitclaim archive` leaves on a remote, written with one `git fast-import`.

`gitclaim archive` of many missions is bound by git's push, not by gitclaim: for every ref a push names,
git (2.39 here) compares it with every ref the remote advertises, so archiving K missions of a remote of R refs
costs about K × R such comparisons (18 s of CPU for one batch of 500 at 10,000 refs on this machine,
docs/performance.md). The `growth` suite needs 100,000 archived missions, so it writes their end state the way
gitclaim writes it (gitclaim.missions.archive: each finished mission's own create-and-finish commit; then, per
archive.MAX_BATCH missions, one link commit per mission whose parents are the commit before it and the mission's
tip, and an archive commit on the last link, all on refs/gitclaim/archive; no refs/missions/<id> left), in one
stream.

One difference, which no measured command reads: an archive commit's index.json and missions/ tree list every
mission archived up to it; here only the last one does (each earlier one lists its own batch), which keeps the
stream linear in K instead of quadratic. The tip's tree is exactly what gitclaim would have written. The archive
commits are dated when they are written, as gitclaim dates them (the missions they archive are older).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import common as c

STAMP = "2026-01-01T00:00:00Z"
SECS = 1767225600
INSTANCE = "0123456789ab"


def bulk_archive(bare: Path, ids: Sequence[str]) -> float:
    """Write `ids` as DONE missions archived on `bare`'s refs/gitclaim/archive. Returns the seconds taken."""
    from gitclaim.core import mission as m
    from gitclaim.core.message import MissionMessage
    from gitclaim.core.repo import ARCHIVE_REF
    from gitclaim.missions import archive

    t0 = time.perf_counter()
    stream = c.FastImport(bare)
    w = stream.write
    scratch = "refs/bench/archived-mission"
    tips: list[str] = []
    for n, mid in enumerate(ids, 1):
        mis = m.Mission(
            mission_id=mid, title=f"Benchmark mission {mid}", status=m.DONE, priority=2, created=STAMP,
            last_activity=STAMP, claimed_at=STAMP, claimed_by="bench agent", claim_user="Bench User",
            claim_instance=INSTANCE, claim_epoch=1, summary="done in bulk", finished_at=STAMP,
            body="# Mission\n\nA mission created in bulk by benchmarks/bulkarchive.py.\n")
        blob = m.render(mis)
        msg = MissionMessage("create", mid, "create", trailers={"Instance": INSTANCE}).render().encode()
        w(f"blob\nmark :{2 * n}\ndata {len(blob)}\n".encode() + blob + b"\n")
        w(f"reset {scratch}\ncommit {scratch}\nmark :{2 * n + 1}\n".encode())
        w(f"committer Bench User <bench@example.invalid> {SECS} +0000\n".encode())
        w(f"data {len(msg)}\n".encode() + msg + f"\nM 100644 :{2 * n} {m.FILENAME}\n\n".encode())
        tips.append(_commit_oid(blob, m.FILENAME, msg))
    index: dict[str, archive.Entry] = {}
    archived_at = int(time.time())
    for start in range(0, len(ids), archive.MAX_BATCH):
        batch = range(start, min(start + archive.MAX_BATCH, len(ids)))
        entries = {ids[i]: archive.Entry(ids[i], tips[i], m.DONE, f"Benchmark mission {ids[i]}", STAMP, STAMP)
                   for i in batch}
        index.update(entries)
        last = batch.stop == len(ids)
        data = archive.render_index(index if last else entries)
        msg = archive._message(len(batch), INSTANCE).encode()
        # Dated when written, as `gitclaim archive` dates its commits: newer than the missions they archive.
        # git's push walks the history of refs by commit date, so an archive dated with its missions (the
        # first version of this file) hid what a real archive costs every later push (docs/performance.md).
        who = f"committer Bench User <bench@example.invalid> {archived_at} +0000\n".encode()
        for i in batch:  # one link commit per mission: [previous, tip]; the first of all has the tip alone
            link = archive._link_message(ids[i], INSTANCE).encode()
            w(f"commit {ARCHIVE_REF}\n".encode() + who + f"data {len(link)}\n".encode() + link + b"\n")
            tip = f":{2 * (i + 1) + 1}"
            w(f"from {tip}\ndeleteall\n\n".encode() if i == 0 else f"merge {tip}\n\n".encode())
        w(f"commit {ARCHIVE_REF}\n".encode() + who + f"data {len(msg)}\n".encode() + msg + b"\n")
        files = range(len(ids)) if last else batch  # an earlier commit's tree: its own batch only, as its index
        w(b"deleteall\n" + b"".join(f"M 100644 :{2 * (i + 1)} {archive.MISSIONS_DIR}/{ids[i]}.md\n".encode()
                                     for i in files))
        w(f"M 100644 inline {archive.INDEX}\ndata {len(data)}\n".encode() + data + b"\n\n")
    stream.close()
    if ids and c.git(bare, "rev-list", "--parents", "-n", "1", f"{ARCHIVE_REF}^").split()[-1] != tips[-1]:
        raise RuntimeError("bulk archive: the index's tips are not the commits fast-import wrote")
    c.git(bare, "update-ref", "-d", scratch)
    c.git(bare, "pack-refs", "--all")
    return time.perf_counter() - t0


def _oid(kind: str, body: bytes) -> bytes:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).digest()


def _commit_oid(blob: bytes, name: str, message: bytes) -> str:
    """The id fast-import gives a root commit holding `blob` as `name` (author = committer), computed here so
    that index.json can name each tip in the same stream."""
    tree = _oid("tree", f"100644 {name}\0".encode() + _oid("blob", blob))
    who = f"Bench User <bench@example.invalid> {SECS} +0000"
    return _oid("commit", f"tree {tree.hex()}\nauthor {who}\ncommitter {who}\n\n".encode() + message).hex()
