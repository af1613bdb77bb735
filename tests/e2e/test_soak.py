"""Soak: many agents, each a process on its own clone, loop over claim / log / heartbeat / release / steal /
force / done / next on a shared pool of missions with a one-second lease, so that races, steals and fenced
writes happen all the time. Every command an agent reports as successful is recorded with its commit.

Afterwards the invariant checker (`gitclaim.ops.audit`) reads the remote's histories with an independent reader:
zero violations, every reported commit in the remote's history, and no two agents told they won the same
claim (mission, epoch).

Length: GITCLAIM_SOAK_SECONDS (default 40) for the run on a local bare remote, a quarter of it over smart
HTTP. The long run: GITCLAIM_SOAK_SECONDS=600 python3 -m pytest tests/e2e/test_soak.py -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitclaim.core import transitions as claims
from gitclaim.missions import setup
from gitclaim.missions.workspace import open_store
from gitclaim.ops.audit import audit
from tests.helpers import git
from tests.support.servers import GitServer

SOAK_SECONDS = float(os.environ.get("GITCLAIM_SOAK_SECONDS", "40"))
AGENTS = int(os.environ.get("GITCLAIM_SOAK_AGENTS", "6"))
MISSIONS = int(os.environ.get("GITCLAIM_SOAK_MISSIONS", "30"))
ROUND_SECONDS = 20.0  # agents restart between rounds, and the remote is audited after each
EXPECTED_CODES = {0: "ok", 3: "conflict", 5: "nothing ready"}

# One agent: a real process on its own clone, running the real CLI entry point in a loop (in-process, so that
# the soak spends its time in gitclaim and git rather than in interpreter start-up), choosing at random.
AGENT = r"""
import contextlib, io, json, os, random, sys, time
from gitclaim.cli.app import run_app

name, seed, seconds, out_path, go = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[6]
missions = sys.argv[5].split(",")
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    run_app(["log", "warm-up", "--progress", "x"])  # what the CLI framework imports on its first parse
open(f"{go}.{name}.ready", "w").close()
while not os.path.exists(go):  # every agent starts at the same moment, imports done
    time.sleep(0.005)
deadline = time.time() + seconds
rng = random.Random(seed)
held = set()  # what this agent believes it holds: often wrong, which is the point (fenced writes)
created = 0
WEIGHTS = [("claim", 30), ("log", 16), ("heartbeat", 5), ("release", 8), ("steal", 12), ("force", 4),
           ("done", 4), ("next", 8), ("new", 2), ("block", 2), ("unblock", 3)]

def pick_held():
    return rng.choice(sorted(held)) if held and rng.random() < 0.85 else rng.choice(missions)

def command(op):
    global created
    if op in ("claim", "steal", "force"):
        target = rng.choice(missions)
        extra = {"claim": [], "steal": ["--steal"], "force": ["--force", "--reason", "soak takeover"]}[op]
        return target, ["claim", target, *extra]
    if op == "next":
        return None, ["next"]
    if op == "new":
        created += 1
        target = f"{name}-extra-{created}"
        return target, ["new", target, "--title", f"Created by {name}"]
    target = pick_held()
    if op == "log":
        return target, ["log", target, f"{name} works on {target}", "--kind", rng.choice(["note", "milestone"])]
    if op == "done":
        return target, ["done", target, "--summary", f"finished by {name}"]
    if op == "block":
        return target, ["log", target, f"{name} needs a decision", "--kind", "issue", "--needs-human"]
    if op == "unblock":
        return target, ["unblock", rng.choice(missions), "--note", f"{name} decided"]
    return target, [op, target]

with open(out_path, "a") as out:
    while time.time() < deadline:
        op = rng.choices([w[0] for w in WEIGHTS], [w[1] for w in WEIGHTS])[0]
        target, args = command(op)
        stdout, stderr = io.StringIO(), io.StringIO()
        started = time.time()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run_app([*args, "--json"])
        record = {"agent": name, "op": op, "args": args, "code": code, "seconds": round(time.time() - started, 3),
                  "stderr": stderr.getvalue().strip()}
        if code == 0:
            data = json.loads(stdout.getvalue())
            record.update(mission=data["mission_id"], commit=data.get("commit"), epoch=data["epoch"],
                          instance=data["instance"], changed=data.get("changed", True), status=data["status"],
                          lost_races=data.get("lost_races", 0))
            mine = data["status"] in ("ACTIVE", "BLOCKED") and data["instance"] is not None
            (held.add if mine else held.discard)(data["mission_id"])
        elif code == 3 and target:
            held.discard(target)
        out.write(json.dumps(record) + "\n")
        out.flush()
"""


@dataclass
class SoakStats:
    agents: int
    missions: int
    rounds: int = 0
    ops: Counter = field(default_factory=Counter)  # (op, outcome) -> count
    codes: Counter = field(default_factory=Counter)
    steals: int = 0
    forced: int = 0
    lost_races: int = 0
    violations: int = 0
    commits_checked: int = 0
    seconds: float = 0.0

    def summary(self, label: str) -> str:
        per_kind = ", ".join(f"{op} {ok}/{n}" for op, n, ok in self._per_kind())
        return (f"soak[{label}]: agents={self.agents} missions={self.missions} rounds={self.rounds} "
                f"seconds={self.seconds:.0f} operations={sum(self.codes.values())} (ok/attempts per kind: "
                f"{per_kind}) conflicts={self.codes[3]} nothing-ready={self.codes[5]} steals={self.steals} "
                f"forced-takeovers={self.forced} lost-races-in-next={self.lost_races} "
                f"reported-commits-checked={self.commits_checked} violations={self.violations}")

    def _per_kind(self) -> list[tuple[str, int, int]]:
        kinds = sorted({op for op, _ in self.ops})
        return [(op, sum(n for (o, _), n in self.ops.items() if o == op), self.ops[(op, "ok")]) for op in kinds]


def make_clones(url: str, root: Path, count: int) -> list[Path]:
    """Clones initialised in-process (the CLI's `init` is tested elsewhere; start-up costs add up here)."""
    clones = []
    for i in range(count):
        path = root / f"agent{i}"
        res = git(root, "clone", "-q", url, str(path), check=False)
        assert res.returncode == 0, res.stderr
        setup.init_clone(open_store(path), "origin")
        clones.append(path)
    return clones


def seed_missions(clone: Path, count: int) -> list[str]:
    store = open_store(clone)
    actor = claims.actor_for(store, "soak setup")
    ids = [f"soak-{i:03d}" for i in range(count)]
    for i, mission_id in enumerate(ids):
        claims.create(store, actor, mission_id, f"Soak mission {i}", priority=i % 3)
    return ids


def run_round(clones: list[Path], ids: list[str], seconds: float, logs: Path, round_no: int) -> None:
    env = {**os.environ, "GITCLAIM_TTL": "1s", "GITCLAIM_TIMEOUT": "30"}
    go = logs / f"go-{round_no}"
    procs = []
    for i, clone in enumerate(clones):
        args = [sys.executable, "-c", AGENT, f"a{i}", str(round_no * 1000 + i), str(seconds),
                str(logs / f"a{i}.jsonl"), ",".join(ids), str(go)]
        procs.append(subprocess.Popen(args, cwd=clone, env={**env, "GITCLAIM_AS": f"soak agent {i}"},
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    while len(list(logs.glob(f"go-{round_no}.*.ready"))) < len(procs):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "an agent did not start"
        time.sleep(0.01)
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        assert proc.returncode == 0, f"agent crashed:\n{out}\n{err}"


def read_records(logs: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(logs.glob("*.jsonl")) for line in path.read_text().splitlines()]


def check(records: list[dict], remote: Path, stats: SoakStats, label: str) -> None:
    """Zero invariant violations, every reported commit on the remote, one winner per (mission, epoch)."""
    report = audit(remote)
    stats.violations = len(report.violations)
    reported = [r for r in records if r["code"] == 0 and r.get("commit")]
    stats.commits_checked = len(reported)
    summary = stats.summary(label)
    assert not report.violations, f"audit: {report.violations[:20]} ({summary})"
    unexpected = [r for r in records if r["code"] not in EXPECTED_CODES]
    assert not unexpected, f"unexpected exit codes: {unexpected[:10]} ({summary})"
    crashes = [r for r in records if "internal error" in r["stderr"] or "Traceback" in r["stderr"]]
    assert not crashes, f"{crashes[:5]} ({summary})"
    missing = [r for r in reported if not report.contains(r["commit"])]
    assert not missing, f"commits reported successful but not on the remote: {missing[:10]} ({summary})"
    winners: dict[tuple[str, int], set[str]] = {}
    for r in reported:
        if r["op"] in ("claim", "steal", "force", "next") and r["changed"]:
            winners.setdefault((r["mission"], r["epoch"]), set()).add(r["instance"])
    doubles = {k: v for k, v in winners.items() if len(v) > 1}
    assert not doubles, f"two agents were told they won the same claim: {doubles} ({summary})"


def count(records: list[dict], agents: int, missions: int, rounds: int) -> SoakStats:
    stats = SoakStats(agents, missions, rounds)
    for r in records:
        stats.codes[r["code"]] += 1
        stats.ops[(r["op"], EXPECTED_CODES.get(r["code"], f"exit {r['code']}"))] += 1
        stats.lost_races += r.get("lost_races", 0)
        if r["code"] == 0 and r.get("changed"):
            stats.steals += r["op"] == "steal"
            stats.forced += r["op"] == "force"
    return stats


def soak(url: str, remote: Path, root: Path, seconds: float, label: str) -> SoakStats:
    clones = make_clones(url, root, AGENTS)
    ids = seed_missions(clones[0], MISSIONS)
    rounds = max(1, round(seconds / ROUND_SECONDS))
    logs = root / "logs"
    logs.mkdir()
    start = time.monotonic()
    for round_no in range(rounds):
        run_round(clones, ids, seconds / rounds, logs, round_no)
        records = read_records(logs)
        stats = count(records, AGENTS, MISSIONS, round_no + 1)
        stats.seconds = time.monotonic() - start
        check(records, remote, stats, label)
    summary = stats.summary(label)
    print(f"\n{summary}")
    assert stats.ops[("claim", "ok")] + stats.ops[("next", "ok")] > 0, summary
    assert stats.codes[3] > 0, f"no conflicts at all: the soak did not race ({summary})"
    return stats


def test_soak_local_remote(bare_remote: Path, tmp_path: Path) -> None:
    stats = soak(bare_remote.as_uri(), bare_remote, tmp_path, SOAK_SECONDS, "file")
    assert stats.steals > 0, f"no steal succeeded with a one-second lease ({stats.summary('file')})"


def test_soak_over_http(http_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not http_server.running:
        http_server.start()
    repo = http_server.new_repo("soak").apply(monkeypatch)
    soak(repo.url, repo.bare_path, tmp_path, SOAK_SECONDS / 4, "http")
