"""Claim cost against finished missions, live or archived by a real `gitclaim archive`."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, ms
from benchmarks.harness import (
    TIME_HEADERS,
    Ctx,
    Remote,
    Section,
    Target,
    floor_runner,
    new_clone,
    new_remote,
    time_row,
)


def archive(ctx: Ctx) -> Section:
    sec = Section("archive", "Claim cost against the number of finished missions, live or archived")
    n = ctx.reps(20, 5)
    sec.intro = (
        "Each remote holds K DONE missions (bulk, one commit each) plus QUEUED missions to claim. 'live': the "
        "DONE missions stay under refs/missions/; 'archived': `gitclaim archive` (gitclaim/missions/archive.py) moved "
        "them to refs/gitclaim/archive. The claimer is a fresh clone + `gitclaim init` made after that, and "
        "claims QUEUED missions whose state it knows (one push). Every remote is set up first; then every floor "
        "and claim of every remote runs interleaved, so that a change of the machine's load reaches them all alike. "
        "'without the archive ref': the floor on a copy of the archived remote with `refs/gitclaim/archive` "
        "deleted, everything else the same."
    )
    runners: dict[str, Callable[[int], float]] = {}
    commands: dict[str, str] = {}
    for size, mode in ((0, "live"), (1000, "live"), (1000, "archived"), (10000, "live"), (10000, "archived")):
        label = f"K={size:,} DONE, {mode}"
        ctx.log(f"archive: {label}")
        remote, clone, tree = _archive_remote(ctx, sec, size, mode, n)
        runners[f"{label}: floor"], commands[f"{label}: floor"] = floor_runner(ctx, clone, remote, tree, "afloor")
        if mode == "archived":
            runners[f"{label}: floor without the archive ref"] = unarchived_floor(ctx, remote, size, tree)
            commands[f"{label}: floor without the archive ref"] = commands[f"{label}: floor"]
        runners[f"{label}: claim"] = _claimer(clone, n + 2)
        commands[f"{label}: claim"] = f"{GITCLAIM_TEXT} claim q-<n> --as bench"
    ctx.log("archive: measuring every remote, interleaved")
    got = c.interleave(runners, n, warmup=1)
    rows = []
    for name, sample in got.items():
        floor = got[name.replace(": claim", ": floor")] if name.endswith(": claim") else None
        rows.append(time_row(name, sample, floor, commands[name]))
    sec.table(TIME_HEADERS, rows)
    sec.raw = {name: sample.to_json() for name, sample in got.items()}
    for size in (1000, 10000):
        label = f"K={size:,} DONE, archived"
        ratio = got[f"{label}: floor"].median / got[f"{label}: floor without the archive ref"].median
        sec.notes.append(f"K={size:,}: the floor on the archived remote is {ratio:.2f}× the floor on its copy "
                         "without `refs/gitclaim/archive`: what the archive's history costs a plain push")
    base = got["K=0 DONE, live: claim"]
    archived = {k: got[f"K={k:,} DONE, archived: claim"] for k in (1000, 10000)}
    worst = max(s.median / base.median for s in archived.values())
    detail = ", ".join(f"K={k:,}: {ms(s.median)}" for k, s in archived.items())
    sec.targets.append(Target("claim cost flat in the number of archived missions", worst <= 1.10,
                              f"claim median with K=0: {ms(base.median)}; archived {detail} "
                              f"(worst {worst:.2f}× of K=0; 'flat' taken as within 10%)"))
    return sec


def _claimer(clone: Path, count: int) -> Callable[[int], float]:
    """Claims q-000, q-001, ... in `clone`, one per call."""
    ids = iter(f"q-{i:03d}" for i in range(count))
    return lambda i: c.timed([*GITCLAIM, "claim", next(ids), "--as", "bench"], clone)


def _archive_remote(ctx: Ctx, sec: Section, size: int, mode: str, n: int) -> tuple[Remote, Path, str]:
    """A remote of `size` DONE missions, left live or archived by `gitclaim archive`, with n + 2 QUEUED ones,
    and a fresh clone of it made afterwards."""
    remote = new_remote(ctx, "file", f"archive-{size}-{mode}")
    if size:
        c.bulk_missions(remote.bare, [f"old-{i:05d}" for i in range(size)], status="DONE")
    c.bulk_missions(remote.bare, [f"q-{i:03d}" for i in range(n + 2)])
    if mode == "archived":
        admin = new_clone(ctx, remote, f"archive-{size}-admin")
        t0 = time.perf_counter()
        # K × R ref comparisons in git's push (docs/archive.md): minutes at K=10,000 on a busy machine
        res = c.run([*GITCLAIM, "archive", "--json"], admin, timeout=3600)
        seconds = time.perf_counter() - t0
        arch = json.loads(res.stdout)
        left = len(c.git(remote.bare, "for-each-ref", "refs/missions/").splitlines())
        sec.notes.append(f"K={size:,}: `{GITCLAIM_TEXT} archive` moved {arch['count']:,} missions in "
                         f"{arch['pushes']} push(es), {len(arch['commits'])} commit(s), {seconds:.1f} s; "
                         f"{left} refs left under refs/missions/")
    clone = new_clone(ctx, remote, f"archive-{size}-{mode}-clone")
    return remote, clone, c.git(clone, "rev-parse", "refs/missions/q-000^{tree}")


def unarchived_floor(ctx: Ctx, remote: Remote, size: int, tree: str) -> Callable[[int], float]:
    """The floor on a copy of an archived remote with the archive ref deleted: everything else (packs, packed-refs,
    deleted mission refs) the same, so the difference between the two floors is the archive's history alone."""
    bare = ctx.ws.path(f"archive-{size}-unarchived") / "remote.git"
    shutil.copytree(remote.bare, bare, symlinks=True)
    c.git(bare, "update-ref", "-d", "refs/gitclaim/archive")
    copy = Remote("file", bare.as_uri(), bare, {})
    return floor_runner(ctx, new_clone(ctx, copy, f"archive-{size}-unarchived-clone"), copy, tree,
                        "ufloor")[0]


