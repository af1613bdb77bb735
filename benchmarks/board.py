"""The board and watch benchmark: 1,000 missions (5,000 in a full run) with real histories, against the raw git
reads of the same data in the same run, and the git processes counted from git's own trace."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT
from benchmarks.harness import FETCH_ARGS, TIME_HEADERS, Ctx, Section, Target, new_clone, new_remote, time_row

INSTANCES = ["0123456789ab", "ba9876543210", "00aa11bb22cc", "ddeeff001122"]


def bulk_histories(bare: Path, ids: list[str]) -> tuple[float, int]:
    """Every mission with a history written in one fast-import stream: create, claim, a milestone, then done
    (a third), release (a third) or still held. Returns (seconds, commits)."""
    from gitclaim.core import mission as m
    from gitclaim.core.message import MissionMessage

    t0 = time.perf_counter()
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=bare, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stdin
    base, commits = 1767225600, 0
    for n, mid in enumerate(ids):
        inst = INSTANCES[n % len(INSTANCES)]
        stamp = base + n * 60

        def ts(t: int) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

        mis = m.Mission(mission_id=mid, title=f"Benchmark mission {mid}", created=ts(stamp), last_activity=ts(stamp),
                        body="# Mission\n\nA mission with a history, from benchmarks/board.py.\n")
        claimed = mis.evolve(status=m.ACTIVE, claimed_at=ts(stamp + 10), claimed_by=f"agent {inst[:4]}",
                             claim_user="Bench User", claim_instance=inst, claim_epoch=1, last_activity=ts(stamp + 10))
        logged = claimed.evolve(last_activity=ts(stamp + 20))
        steps = [(mis, "create", {}), (claimed, "claim", {"Epoch": "1"}),
                 (logged, "log", {"Epoch": "1", "Kind": "milestone", "Progress": "50"})]
        if n % 3 == 0:
            steps.append((logged.evolve(status=m.DONE, summary="done", finished_at=ts(stamp + 30),
                                        last_activity=ts(stamp + 30)), "complete", {"Epoch": "1"}))
        elif n % 3 == 1:
            steps.append((logged.evolve(status=m.QUEUED, last_activity=ts(stamp + 30)), "release", {"Epoch": "1"}))
        for i, (state, action, trailers) in enumerate(steps):
            blob = m.render(state)
            msg = MissionMessage(action, mid, action, trailers={"Instance": inst, **trailers}).render().encode()
            when = stamp + 10 * i
            proc.stdin.write(f"commit refs/missions/{mid}\ncommitter Bench User <bench@example.invalid> {when} +0000\n"
                             .encode() + f"data {len(msg)}\n".encode() + msg + b"\n")
            proc.stdin.write(f"M 100644 inline {m.FILENAME}\ndata {len(blob)}\n".encode() + blob + b"\n\n")
            commits += 1
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    err = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed: {err.decode(errors='replace')[-2000:]}")
    c.git(bare, "pack-refs", "--all")
    return time.perf_counter() - t0, commits


FLOOR = ("git for-each-ref --format='%(objectname)' refs/missions/ "
         "| git log --first-parent --stdin --format='%T:mission.md' | git cat-file --batch | wc -c")


def board(ctx: Ctx) -> Section:
    sec = Section("board", "`board` and `watch` over missions with histories")
    sizes = [1000] if ctx.quick else [1000, 5000]
    sec.intro = (
        "Missions with histories are written in ONE `git fast-import` stream into the bare remote (create, claim, a "
        "milestone, then done for a third, release for a third; 3.7 commits a mission on average), then "
        "`git pack-refs --all`. The clone is a plain `git clone` plus `gitclaim init`. Every `board` run includes "
        "its no-op fetch. The floor is the same data read by raw git: `for-each-ref` of the tips, one `git log` "
        "over every first-parent chain, one `cat-file --batch` of each commit's mission.md. The process counts "
        "come from git's trace2 (top-level git processes started by gitclaim)."
    )
    rows, counts = [], []
    board_1k = None
    for size in sizes:
        ctx.log(f"board: {size} missions with histories")
        n = ctx.reps(10, 3)
        remote = new_remote(ctx, "file", f"board-{size}")
        t_bulk, commits = bulk_histories(remote.bare, [f"m-{i:06d}" for i in range(size)])
        clone = new_clone(ctx, remote, f"board-{size}-clone")
        out = ctx.ws.path(f"board-{size}.html")
        runs = {
            "floor": lambda i: c.timed(["sh", "-c", FLOOR], clone),
            "fetch": lambda i: c.timed(["git", *FETCH_ARGS], clone),
            "json": lambda i: c.timed([*GITCLAIM, "board", "--json"], clone),
            "terminal": lambda i: c.timed([*GITCLAIM, "board"], clone),
            "html": lambda i: c.timed([*GITCLAIM, "board", "--out", str(out)], clone),
        }
        got = c.interleave(runs, n, warmup=1)
        label = f"{size:,} missions, {commits:,} commits"
        rows += [
            time_row(f"{label}: floor (for-each-ref + log + cat-file)", got["floor"], None, FLOOR),
            time_row(f"{label}: no-op fetch alone", got["fetch"], got["floor"], "git fetch ... (as gitclaim runs it)"),
            time_row(f"{label}: gitclaim board --json", got["json"], got["floor"], f"{GITCLAIM_TEXT} board --json"),
            time_row(f"{label}: gitclaim board (terminal)", got["terminal"], got["floor"], f"{GITCLAIM_TEXT} board"),
            time_row(f"{label}: gitclaim board --out page.html", got["html"], got["floor"],
                     f"{GITCLAIM_TEXT} board --out page.html"),
        ]
        trace = c.traced([*GITCLAIM, "board", "--json"], clone, ctx.ws.path(f"trace-board-{size}.json"))
        counts.append((label, trace))
        sec.raw[str(size)] = {**{k: v.to_json() for k, v in got.items()}, "bulk_s": t_bulk, "commits": commits,
                              "git_processes": trace.commands, "page_bytes": out.stat().st_size}
        if size == 1000:
            board_1k = (got["json"], trace)
            watch = c.traced([*GITCLAIM, "watch", "--until", "claimed", "--interval", "1", "--timeout", "3"], clone,
                             ctx.ws.path("trace-watch.json"), ok=(8,))
            sec.raw["watch_3s_interval_1s"] = watch.commands
            sec.notes.append(
                f"`watch --interval 1 --timeout 3` on {size:,} quiet missions ran these git processes: "
                f"{', '.join(watch.commands)} ({watch.fetches} fetches: the first read, then one a poll, the "
                "polls 1 s then 1.5 s apart by the back-off; a quiet poll is a fetch and a for-each-ref)."
            )
    sec.table(TIME_HEADERS, rows)
    sec.table(["board of", "top-level git processes", "which"],
              [[label, str(t.top_level), ", ".join(t.commands)] for label, t in counts])
    if board_1k is not None:
        sample, trace = board_1k
        constant = len({tuple(t.commands) for _, t in counts}) == 1
        sec.targets.append(Target(
            "`board` of 1,000 missions with histories: one fetch, one for-each-ref, a constant number of cat-file",
            trace.fetches == 1 and trace.commands.count("for-each-ref") == 1 and constant,
            f"{', '.join(trace.commands)}; {c.ms(sample.median)} median including the fetch"))
    return sec
