#!/usr/bin/env python3
"""Run gitclaim's benchmark suite and write the results as markdown.

    python3 benchmarks/run.py [--quick] [--only NAME[,NAME...]] [--out docs/performance.md] [--keep]

Everything runs in a temporary directory with git's configuration isolated (HOME and GIT_CONFIG_GLOBAL inside
it, GIT_CONFIG_NOSYSTEM=1), against bare remotes on disk and an sshd on 127.0.0.1. gitclaim is run as
`python3 -m gitclaim` with PYTHONPATH at the repository root (the interpreter resolved to its real binary).

The markdown goes to --out (default benchmarks/results/latest.md) and the raw numbers to
benchmarks/results/<date>.json. When --out names a file that already has `<!-- bench:NAME -->` blocks (as
docs/performance.md does), only those blocks are replaced, so the prose around them stays.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import archive, contention, latency, race, scale, warm_mcp
from benchmarks import board as b
from benchmarks import common as c
from benchmarks import harness as h
from benchmarks import reuse as r
from benchmarks import signing as sg

# Cheap suites first, the big rows (100,000 missions, many agents) last.
SUITES = {"startup": latency.startup, "trips": latency.round_trips, "claim": latency.claim_latency,
          "mcp": warm_mcp.mcp, "board": b.board, "own": r.own_cost, "ssh": r.ssh_reuse, "cache": r.list_cache,
          "archive": archive.archive, "scale": scale.scale, "growth": r.growth,
          "contention": contention.contention, "agents": race.agents_race, "signing": sg.signing}


def machine(args: argparse.Namespace, load_before: tuple[float, float, float]) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip(),
        "python": f"{platform.python_version()} ({c.PYTHON})",
        "gitclaim": f"run as `{c.PYTHON} -m gitclaim` (written `{c.GITCLAIM_TEXT}` below), PYTHONPATH={c.ROOT}; "
                    + (f"a `gitclaim` script is on PATH ({h.which('gitclaim')}) but not used: it goes through "
                       "the same interpreter plus whatever wrapper PATH holds" if h.which("gitclaim")
                       else "no `gitclaim` script on PATH"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=c.ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "dirty": bool(subprocess.run(["git", "status", "--porcelain", "--", "gitclaim"], cwd=c.ROOT,
                                     capture_output=True, text=True).stdout.strip()),
        "load_before": load_before,
        "mode": "--quick" if args.quick else "full",
        "command": "python3 benchmarks/run.py" + (" --quick" if args.quick else "")
                   + (f" --only {args.only}" if args.only else "")
                   + (" --clock cpu" if args.clock == "cpu" else "")
                   + "".join(f" --{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                             if k in ("sizes", "growth_sizes") and v)
                   + "".join(f" --{k} {v}" for k, v in (("archived", args.archived), ("agents", args.agents),
                                                          ("missions", args.missions))
                             if v is not None and v != {"archived": None, "agents": 32, "missions": 500}[k]),
    }


def machine_md(info: dict, load_after: tuple[float, float, float]) -> str:
    la = lambda t: " / ".join(f"{x:.2f}" for x in t)
    return "\n".join([
        "| | |", "| --- | --- |",
        f"| date | {info['date']} |",
        f"| command | `{info['command']}` ({info['mode']} run) |",
        f"| clock | {'CPU time (user + system) of each process and its waited-for children' if c.CLOCK == 'cpu' else 'wall time, fork to exit'} |",
        f"| machine | {info['nproc']} CPUs ({info['cpu']}), {info['memory']} memory, Linux {info['kernel']} |",
        f"| git | {info['git']} |",
        f"| python | {info['python']} |",
        f"| gitclaim | {info['gitclaim']}; tree at {info['commit']}"
        f"{' plus uncommitted changes in gitclaim/' if info['dirty'] else ''} |",
        f"| load average (1/5/15 min) | before: {la(info['load_before'])}; after: {la(load_after)} |",
    ]) + "\n"


def section_md(sec: h.Section, run_line: str) -> str:
    out = [f"### {sec.title}", "", f"_{run_line}_", ""]
    if sec.intro:
        out += [sec.intro, ""]
    for headers, rows in sec.tables:
        out.append("| " + " | ".join(headers) + " |")
        out.append("|" + "|".join(" --- " for _ in headers) + "|")
        for row in rows:
            out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        out.append("")
    for note in sec.notes:
        out.append(f"* {note}")
    if sec.notes:
        out.append("")
    for t in sec.targets:
        verdict = f"**{t.verdict}**" if t.verdict else (
            "not measured" if t.met is None else ("**met**" if t.met else "**missed**"))
        out.append(f"Target: {t.text}: {verdict} ({t.evidence}).")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def targets_md(sections: list[h.Section]) -> str:
    rows = ["| target | result | measured |", "| --- | --- | --- |"]
    for sec in sections:
        for t in sec.targets:
            verdict = f"**{t.verdict}**" if t.verdict else (
                "not measured" if t.met is None else ("met" if t.met else "**missed**"))
            rows.append(f"| {t.text} | {verdict} | {t.evidence} |")
    return "\n".join(rows) + "\n"


TARGET_LINE = re.compile(r"^Target: (.*?): (\*\*[^*]+\*\*|not measured) \((.*)\)\.$", re.M)


def merged_targets(path: Path, sections: list[h.Section]) -> str:
    """The summary for a partial run: this run's targets, plus those the file's other blocks state."""
    fresh = {sec.name for sec in sections}
    text = path.read_text()
    rows = []
    for name in SUITES:
        if name in fresh:
            rows += [t for sec in sections if sec.name == name for t in sec.targets]
            continue
        m = re.search(rf"<!-- bench:{name} -->\n(.*?)<!-- /bench:{name} -->", text, re.S)
        for t in TARGET_LINE.finditer(m.group(1) if m else ""):
            verdict = t.group(2)
            split = None if verdict in ("not measured", "**met**", "**missed**") else verdict.strip("*")
            rows.append(h.Target(t.group(1), None if verdict == "not measured" else verdict == "**met**",
                                 t.group(3), split))
    holder = h.Section("all", "all")
    holder.targets = rows
    return targets_md([holder])


def write_out(path: Path, blocks: dict[str, str]) -> None:
    """Replace <!-- bench:NAME --> ... <!-- /bench:NAME --> blocks in an existing file, or write a new one."""
    if path.exists():
        text = path.read_text()
        missing = []
        for name, body in blocks.items():
            pat = re.compile(rf"(<!-- bench:{re.escape(name)} -->\n).*?(<!-- /bench:{re.escape(name)} -->)", re.S)
            if pat.search(text):
                text = pat.sub(lambda m: m.group(1) + body + m.group(2), text)
            else:
                missing.append(name)
        if len(missing) < len(blocks):
            for name in missing:
                text += f"\n<!-- bench:{name} -->\n{blocks[name]}<!-- /bench:{name} -->\n"
            path.write_text(text)
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = ["# gitclaim benchmark results", ""]
    for name, body in blocks.items():
        parts += [f"<!-- bench:{name} -->", body.rstrip(), f"<!-- /bench:{name} -->", ""]
    path.write_text("\n".join(parts))


def _ints(text: str | None) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()] if text else []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, no 100,000-mission row, 1 contention "
                                                         "run")
    ap.add_argument("--only", help=f"comma-separated suites: {', '.join(SUITES)}")
    ap.add_argument("--sizes", help="`cache` suite: mission counts, comma-separated (default 10000,100000; "
                                    "--quick: 10000)")
    ap.add_argument("--growth-sizes", help="`growth` suite: live mission counts (default 100,1000,10000,100000; "
                                           "--quick: 100,1000)")
    ap.add_argument("--archived", type=int, help="`growth` suite: archived missions (default 100000; --quick: 1000)")
    ap.add_argument("--agents", type=int, default=32, help="`agents` suite: agents (default 32)")
    ap.add_argument("--missions", type=int, default=500, help="`agents` suite: missions (default 500)")
    ap.add_argument("--out", default=str(c.ROOT / "benchmarks" / "results" / "latest.md"),
                    help="markdown output (default benchmarks/results/latest.md)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="what each timed run measures: wall time (default) or the CPU time of the process and "
                         "its waited-for children (robust on a machine shared with other busy processes)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--tmp", help="parent directory for the temporary directory")
    args = ap.parse_args()
    names = list(SUITES) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")

    c.CLOCK = args.clock
    # gitclaim's modules compiled once, as an installed package has them: with PYTHONDONTWRITEBYTECODE set (as
    # on the benchmark machine) every run would otherwise compile them all again from source.
    compileall.compile_dir(str(c.ROOT / "gitclaim"), quiet=1)
    load_before = os.getloadavg()
    info = machine(args, load_before)
    ws = c.Workspace(args.tmp, keep=args.keep)
    started = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - started:7.1f}s] {msg}", file=sys.stderr, flush=True)

    log(f"workspace {ws.root}; load before {load_before}")
    ctx = h.Ctx(ws, args.quick, log, sizes=_ints(args.sizes), growth_sizes=_ints(args.growth_sizes),
                archived=args.archived, agents=args.agents, missions=args.missions)
    sections: list[h.Section] = []
    raw: dict = {"machine": info, "suites": {}}
    blocks: dict[str, str] = {}
    try:
        for name in names:
            t0 = time.time()
            load = os.getloadavg()[0]
            try:
                sec = SUITES[name](ctx)
            except Exception as exc:
                traceback.print_exc()
                sec = h.Section(name, f"{name} (failed)")
                sec.notes.append(f"the suite failed: {type(exc).__name__}: {exc}")
            took = time.time() - t0
            run_line = (f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, `{info['command']}`, "
                        f"1-min load {load:.2f} at the start of this suite, {took:.0f} s")
            sections.append(sec)
            raw["suites"][name] = {"raw": sec.raw, "seconds": took, "load_at_start": load}
            blocks[name] = section_md(sec, run_line)
            log(f"{name} done in {took:.0f} s")
    finally:
        ctx.close()
        ws.close()
    load_after = os.getloadavg()
    out = Path(args.out)
    if not (args.only and out.exists()):
        blocks = {"machine": machine_md(info, load_after), "targets": targets_md(sections), **blocks}
    else:  # a partial run keeps the full run's machine block; the summary merges the blocks' own verdicts
        blocks = {"targets": merged_targets(out, sections), **blocks}
    write_out(out, blocks)
    results = c.ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw["load_after"] = load_after
    (results / f"{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))
    log(f"wrote {out} and {results / (stamp + '.json')}")
    print(targets_md(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
