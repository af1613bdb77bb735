"""What the files holding the mission refs look like now, so that a reader can tell, without starting git, that
the refs under refs/missions/ are exactly the ones it read last time (missions/listcache.py).

With git's "files" ref storage, the refs under a prefix are the lines of `packed-refs`, overridden by the loose
files under `refs/<prefix>`. The stamp holds the identity of `packed-refs` (device, inode, size, modification
and change times: git and other tools replace it by renaming a new file over it, never in place) and the
content of every loose mission ref. Equal stamps mean equal refs, with one guard, as git's own index has
("racy git"): a file's times have a coarse granularity, so a `packed-refs` replaced within the same tick by
one of the same size on a reused inode would look unchanged. A stamp is therefore only trusted when
`packed-refs` was already SETTLED seconds old when it was taken (`settled`): any later replacement then has a
newer time. Anything unusual (a lock file, a symbolic ref, a link, another ref storage, very many loose refs)
gives no stamp, and the reader asks git.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SETTLED = 2.0  # seconds: coarser than the time granularity of any file system git runs on (FAT: 2 s)
MAX_LOOSE = 512  # reading more loose ref files than this costs about what for-each-ref does
_HEX = frozenset("0123456789abcdef")


def stamp(common_dir: Path, prefix: str = "refs/missions/") -> dict[str, Any] | None:
    """The stamp of the refs under `prefix` (JSON-ready), or None when the files cannot vouch for them."""
    if (common_dir / "reftable").exists():
        return None
    try:
        st = os.stat(common_dir / "packed-refs")
        packed: list[int] | None = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    except FileNotFoundError:
        packed = None
    except OSError:
        return None
    loose: dict[str, str] = {}
    if not _read_loose(common_dir / prefix, prefix, loose):
        return None
    return {"packed": packed, "loose": loose}


def _read_loose(folder: Path, prefix: str, out: dict[str, str]) -> bool:
    """Add every loose ref under `folder` (named `prefix`...) to `out`; False when one is not a plain ref."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    for entry in entries:
        name = prefix + entry.name
        if entry.is_symlink():
            return False
        if entry.is_dir():
            if not _read_loose(Path(entry.path), name + "/", out):
                return False
            continue
        if len(out) >= MAX_LOOSE or name.endswith(".lock"):
            return False
        try:
            with open(entry.path, "rb") as handle:
                data = handle.read(80)
        except OSError:
            return False
        oid = data.decode("ascii", "replace").rstrip("\n")
        if len(oid) not in (40, 64) or not _HEX.issuperset(oid) or data != oid.encode() + b"\n":
            return False  # a symbolic ref ("ref: ..."), a half-written file: git knows what it means
        out[name] = oid
    return True


def settled(snap: dict[str, Any], taken_at: float) -> bool:
    """Whether `snap`, taken at `taken_at` (time.time()), may be trusted later: its packed-refs was older than
    SETTLED seconds then (loose refs are compared by content, so their times do not matter)."""
    packed = snap.get("packed")
    return packed is None or packed[3] < (taken_at - SETTLED) * 1e9


def agrees(snap: dict[str, Any], refs: list[tuple[str, str]]) -> bool:
    """Whether git's answer (refname, oid) agrees with the loose refs of `snap` (read just before and after)."""
    got = dict(refs)
    return all(got.get(name) == oid for name, oid in snap["loose"].items())
