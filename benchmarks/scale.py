"""`list` and `show` at 1,000 / 10,000 / 100,000 missions."""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, ms
from benchmarks.harness import (
    FETCH_ARGS,
    TIME_HEADERS,
    Ctx,
    Section,
    Target,
    breakdown,
    breakdown_table,
    new_clone,
    new_remote,
    time_row,
)


def scale(ctx: Ctx) -> Section:
    sec = Section("scale", "`list` and `show` with many missions")
    sizes = [1000, 10000] if ctx.quick else [1000, 10000, 100000]
    sec.intro = (
        "Missions are created in bulk with ONE `git fast-import` stream into the bare remote (mission.md from "
        "`gitclaim.core.mission.render`, a create commit with gitclaim's trailers, one commit per mission), then "
        "`git pack-refs --all` on the remote. The clone is a plain `git clone` plus `gitclaim init` (whose fetch "
        "brings every mission ref). Measured runs of `list` and `show` therefore include a **no-op fetch** "
        "(every gitclaim read fetches first); the fetch alone is its own row. The list floor is "
        "`git for-each-ref` piped into one `git cat-file --batch` reading every mission.md; the show floor is "
        "one `git cat-file --batch` of the tip commit and its mission.md."
    )
    rows = []
    list_10k = None
    list_breakdown: tuple[dict[str, float], dict[str, Any]] = ({}, {})
    for size in sizes:
        ctx.log(f"scale: {size} missions")
        n = 3 if (ctx.quick or size >= 100000) else 10
        remote = new_remote(ctx, "file", f"scale-{size}")
        ids = [f"m-{i:06d}" for i in range(size)]
        t_bulk = c.bulk_missions(remote.bare, ids)
        t0 = time.perf_counter()
        clone = new_clone(ctx, remote, f"scale-{size}-clone")
        t_init = time.perf_counter() - t0
        loose = sum(1 for _ in (clone / ".git" / "refs" / "missions").iterdir()) \
            if (clone / ".git" / "refs" / "missions").exists() else 0
        mid = ids[size // 2]
        floor_list = ("git for-each-ref --format='%(objectname):mission.md' refs/missions/ "
                      "| git cat-file --batch | wc -c")
        floor_show = f"printf 'refs/missions/{mid}\\nrefs/missions/{mid}:mission.md\\n' | git cat-file --batch"
        runs = {
            "floor_list": lambda i: c.timed(["sh", "-c", floor_list], clone),
            "fetch": lambda i: c.timed(["git", *FETCH_ARGS], clone),
            "list": lambda i: c.timed([*GITCLAIM, "list"], clone),
            "floor_show": lambda i: c.timed(["sh", "-c", floor_show], clone),
            "show": lambda i: c.timed([*GITCLAIM, "show", mid], clone),
        }
        got = c.interleave(runs, n, warmup=1)
        out = c.run([*GITCLAIM, "list", "--json"], clone).stdout
        listed = len(json.loads(out))
        label = f"{size:,}"
        rows += [
            time_row(f"{label}: list floor (for-each-ref + cat-file --batch)", got["floor_list"], None,
                     floor_list),
            time_row(f"{label}: no-op fetch alone (as gitclaim runs it)", got["fetch"], got["floor_list"],
                     "git " + shlex.join(FETCH_ARGS)),
            time_row(f"{label}: gitclaim list (incl. no-op fetch)", got["list"], got["floor_list"],
                     f"{GITCLAIM_TEXT} list"),
            time_row(f"{label}: show floor (cat-file of tip + mission.md)", got["floor_show"], None, floor_show),
            time_row(f"{label}: gitclaim show (incl. no-op fetch)", got["show"], got["floor_show"],
                     f"{GITCLAIM_TEXT} show {mid}"),
        ]
        if size == 10000:
            list_10k = got["list"]
            list_breakdown = breakdown(ctx, clone, lambda i: ["list"], n)
            sec.raw["list_10k_breakdown_median_s"] = list_breakdown[0]
        # The same reads once the clone's mission refs are packed (git pack-refs --all), as gc would leave them.
        c.git(clone, "pack-refs", "--all")
        packed = c.interleave({k: runs[k] for k in ("floor_list", "fetch", "list")}, n, warmup=1)
        rows += [
            time_row(f"{label}, clone's refs packed: list floor", packed["floor_list"], None, floor_list),
            time_row(f"{label}, clone's refs packed: no-op fetch alone", packed["fetch"], packed["floor_list"],
                     "git " + shlex.join(FETCH_ARGS)),
            time_row(f"{label}, clone's refs packed: gitclaim list", packed["list"], packed["floor_list"],
                     f"{GITCLAIM_TEXT} list"),
        ]
        sec.raw[f"{size}-packed"] = {k: v.to_json() for k, v in packed.items()}
        sec.raw[str(size)] = {**{k: v.to_json() for k, v in got.items()}, "bulk_create_s": t_bulk,
                              "clone_and_init_s": t_init, "loose_mission_refs_in_clone": loose,
                              "listed": listed}
        sec.notes.append(f"{label} missions: fast-import + pack-refs on the remote {t_bulk:.1f} s; `git clone` + "
                         f"`gitclaim init` {t_init:.1f} s; the clone holds {loose:,} loose mission refs after "
                         f"init (git fetch writes loose refs); `list --json` returned {listed:,} missions.")

    sec.table(TIME_HEADERS, rows)
    if list_10k is not None:
        breakdown_table(sec, "where `list` of 10,000 missions spends its time", *list_breakdown, "list")
        sec.targets.append(Target("`list` of 10,000 missions under 1 s", list_10k.median < 1.0,
                                  f"{ms(list_10k.median)} median (including its no-op fetch)"))
    return sec


