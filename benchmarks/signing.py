"""The `signing` suite (issue 15): what a signed claim costs, and what verifying every claim costs `list`, each
against raw git doing the same in the same run.

1. A claim signed with an ed25519 key (no passphrase) against the same claim unsigned, and against the raw floor
   with and without signing: `git commit-tree [-S]` + one compare-and-swap push.
2. `list --json` of many held missions whose claim commits are signed, cold (every claim verified) and warm
   (the signature caches in place), against the same missions unsigned and against raw git verifying the same
   tips (`git log --no-walk --stdin --format=%G?...` with gpg.ssh.allowedSignersFile).

ssh-keygen is not git, so trace2 does not see it: the counting runs put a wrapper named ssh-keygen first on PATH
that appends one line per process to a log and then runs the real one (git and gitclaim both find it on PATH).
Bulk signed claims are made without gitclaim: one fast-import stream writes the create and claim commits, one
ssh-keygen process per 1,000 commits signs them (`ssh-keygen -Y sign` takes many files), one
`git hash-object --stdin-paths` writes the signed commits and one `git update-ref --stdin` moves the refs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import common as c
from benchmarks.common import GITCLAIM, GITCLAIM_TEXT, PYTHON, ms
from benchmarks.harness import (
    FETCH_ARGS,
    TIME_HEADERS,
    Ctx,
    Remote,
    Section,
    floor_runner,
    new_clone,
    new_remote,
    run_lengths,
    time_row,
)
from tests.support import signing as keys

PRINCIPAL = "agent@bench"
INSTANCE = "0123456789ab"
SIGN_CHUNK = 1000  # files per `ssh-keygen -Y sign` process
FORMAT = "%H%x1f%G?%x1f%GS%x1f%GF%x1e"  # what gitclaim asks git for each commit (core/git/signatures.py)

SIGNED_FLOOR = """#!/bin/sh
# The raw-git floor of a signed claim: build one ssh-signed commit on an existing tree and push it as a
# compare-and-swap creation of a new ref.
# usage: floor-signed.sh <remote> <ref> <tree> <message> <key>
set -e
new=$(git -c gpg.format=ssh -c user.signingKey="$5" commit-tree -S "$3" -m "$4")
git push --porcelain --force-with-lease="$2": "$1" "$new:$2" >/dev/null
"""

COUNTER = """#!/bin/sh
# Counts ssh-keygen processes for the benchmark (trace2 sees git only), then runs the real one.
echo "$1 $2" >> "$SSH_KEYGEN_LOG"
exec {real} "$@"
"""


def _counter(ctx: Ctx) -> tuple[dict[str, str], Path]:
    """An environment whose PATH starts with the ssh-keygen counter, and the log it writes."""
    real = shutil.which("ssh-keygen")
    if real is None:
        raise RuntimeError("ssh-keygen is not on PATH")
    bindir = ctx.ws.root / "counting-bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "ssh-keygen"
    script.write_text(COUNTER.format(real=real))
    script.chmod(0o755)
    log = ctx.ws.root / "ssh-keygen.log"
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "SSH_KEYGEN_LOG": str(log)}, log


def counted(argv: Sequence[str], cwd: Path, ctx: Ctx, env: dict[str, str] | None = None
            ) -> tuple[c.TraceCount, list[str]]:
    """trace2's git processes and the ssh-keygen processes (`-Y sign`, `-Y verify`, ...) of one run."""
    extra, log = _counter(ctx)
    log.unlink(missing_ok=True)
    trace = ctx.ws.root / "signing-trace.json"
    trace.unlink(missing_ok=True)
    res = c.run(argv, cwd, env={**(env or {}), **extra, "GIT_TRACE2_EVENT": str(trace)}, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{argv} exited {res.returncode}: {res.stderr.decode(errors='replace')[-2000:]}")
    lines = log.read_text().splitlines() if log.exists() else []
    return c.count_trace(trace), lines


def _keygen_summary(lines: list[str]) -> str:
    if not lines:
        return "no ssh-keygen"
    kinds: dict[str, int] = {}
    for line in lines:
        kinds[line] = kinds.get(line, 0) + 1
    return ", ".join(f"{n:,} × `ssh-keygen {k}`" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


def trusted_remote(ctx: Ctx, name: str, key: Path) -> Remote:
    """A bare remote on disk whose main branch holds a trust list naming `key` as PRINCIPAL."""
    remote = new_remote(ctx, "file", name)
    keys.commit_to_main(remote.bare, ctx.ws.path(f"{name}-trust"),
                        {".gitclaim/allowed_signers": keys.trust_line(PRINCIPAL, key)})
    return remote


# ---------------------------------------------------------------------------------------------------------------
# 1. A signed claim


def claim_cost(ctx: Ctx, sec: Section, key: Path) -> None:
    n = ctx.reps(30, 5)
    ctx.log("signing: claim")
    remote = trusted_remote(ctx, "sig-claim", key)
    ids = [f"c-{i:04d}" for i in range(4 * n + 16)]
    c.bulk_missions(remote.bare, ids)
    signed = new_clone(ctx, remote, "sig-claim-signed")
    keys.use_key(signed, key)
    plain = new_clone(ctx, remote, "sig-claim-plain")
    tree = c.git(signed, "rev-parse", f"refs/missions/{ids[0]}^{{tree}}")
    floor, floor_cmd = floor_runner(ctx, plain, remote, tree, "floor")
    script = ctx.ws.root / "floor-signed.sh"
    script.write_text(SIGNED_FLOOR)
    script.chmod(0o755)
    todo = iter(ids)
    numbers = iter(range(10**9))

    def floor_signed(i: int) -> float:
        k = next(numbers)
        return c.timed(["sh", str(script), "origin", f"refs/bench/signed-{k}", tree, f"floor {k}", str(key)],
                       signed)

    runs: dict[str, Callable[[int], float]] = {
        "floor": floor,
        "floor_signed": floor_signed,
        "claim": lambda i: c.timed([*GITCLAIM, "claim", next(todo), "--as", "bench"], plain),
        "claim_signed": lambda i: c.timed([*GITCLAIM, "claim", next(todo), "--as", "bench"], signed),
    }
    got = c.interleave(runs, n, warmup=2)
    signed_cmd = ("sh floor-signed.sh origin refs/bench/signed-<n> <tree> <msg> <key>  (git -c gpg.format=ssh "
                  "-c user.signingKey=<key> commit-tree -S + the same push)")
    sec.table(TIME_HEADERS, [
        time_row("floor, unsigned (commit-tree + CAS push)", got["floor"], None, floor_cmd),
        time_row("floor, signed (commit-tree -S + CAS push)", got["floor_signed"], None, signed_cmd),
        time_row("claim, unsigned, against the unsigned floor", got["claim"], got["floor"],
                 f"{GITCLAIM_TEXT} claim c-<n> --as bench"),
        time_row("claim, signed, against the signed floor", got["claim_signed"], got["floor_signed"],
                 f"git config gitclaim.signingKey <key>; {GITCLAIM_TEXT} claim c-<n> --as bench"),
        time_row("claim, signed, against the unsigned claim", got["claim_signed"], got["claim"],
                 f"{GITCLAIM_TEXT} claim c-<n> --as bench"),
    ])
    extra_floor = got["floor_signed"].median - got["floor"].median
    extra_claim = got["claim_signed"].median - got["claim"].median
    sec.notes.append(f"What signing adds (difference of medians): to the raw floor {ms(extra_floor)}, to a "
                     f"gitclaim claim {ms(extra_claim)}.")
    # Process counts: git from trace2, ssh-keygen from the counter on PATH.
    for label, argv, cwd in (
            ("floor, signed", ["sh", str(script), "origin", "refs/bench/signed-count", tree, "count", str(key)],
             signed),
            ("claim, unsigned", [*GITCLAIM, "claim", next(todo), "--as", "bench"], plain),
            ("claim, signed", [*GITCLAIM, "claim", next(todo), "--as", "bench"], signed)):
        t, kg = counted(argv, cwd, ctx)
        sec.notes.append(f"{label}: {t.top_level} git processes ({', '.join(run_lengths(t.commands))}; {t.all_git} "
                         f"with git's own children), {_keygen_summary(kg)}")
        sec.raw[f"count {label}"] = {"git": t.commands, "all_git": t.all_git, "ssh_keygen": kg}
    sec.raw["claim"] = {k: v.to_json() for k, v in got.items()}
    sec.notes.append(f"claim ÷ floor: signed {got['claim_signed'].median / got['floor_signed'].median:.2f}×, "
                     f"unsigned {got['claim'].median / got['floor'].median:.2f}×")


# ---------------------------------------------------------------------------------------------------------------
# 2. Verification on list: bulk claimed missions, then the same claims signed


def bulk_claimed(bare: Path, ids: Sequence[str]) -> None:
    """Every id as a held mission: a create commit and a claim commit by PRINCIPAL at epoch 1, in gitclaim's
    own formats, written by one fast-import stream (unsigned)."""
    from gitclaim.core import mission as m
    from gitclaim.core.message import MissionMessage

    stamp, secs = "2026-01-01T00:00:00Z", 1767225600
    stream = c.FastImport(bare)
    for mid in ids:
        queued_mission = m.Mission(mission_id=mid, title=f"Benchmark mission {mid}", status=m.QUEUED, priority=2,
                                   created=stamp, last_activity=stamp,
                                   body="# Mission\n\nA mission claimed in bulk by benchmarks/signing.py.\n")
        queued = m.render(queued_mission)
        held = m.render(queued_mission.evolve(status=m.ACTIVE, claimed_at=stamp, claimed_by="bench",
                                                claim_user="Bench User", claim_instance=INSTANCE, claim_epoch=1,
                                                claim_principal=PRINCIPAL))
        create = MissionMessage("create", mid, "create", trailers={"Instance": INSTANCE}).render().encode()
        claim = MissionMessage("claim", mid, "claim", trailers={"Instance": INSTANCE, "Epoch": "1",
                                                                "Principal": PRINCIPAL}).render().encode()
        for msg, blob in ((create, queued), (claim, held)):
            stream.commit(f"refs/missions/{mid}", secs, msg, m.FILENAME, blob)
    stream.close()
    c.git(bare, "pack-refs", "--all")


def sign_tips(bare: Path, key: Path, work: Path) -> int:
    """Replace the tip of every mission ref of `bare` with the same commit signed by `key`, as git signs a
    commit (the signature covers the unsigned commit; gpgsig header lines after the first indented by a
    space). Returns the number of commits signed."""
    refs = [line.split(" ", 1) for line in
            c.git(bare, "for-each-ref", "--format=%(objectname) %(refname)", "refs/missions/").splitlines()]
    bodies = _cat_commits(bare, [oid for oid, _ in refs])
    work.mkdir(parents=True)
    payloads = []
    for i, body in enumerate(bodies):
        p = work / f"c{i:06d}"
        p.write_bytes(body)
        payloads.append(p)
    for start in range(0, len(payloads), SIGN_CHUNK):
        c.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", str(key),
               *map(str, payloads[start:start + SIGN_CHUNK])])
    signed = []
    for p, body in zip(payloads, bodies, strict=True):
        header, _, message = body.partition(b"\n\n")
        sig = Path(f"{p}.sig").read_bytes().rstrip(b"\n").replace(b"\n", b"\n ")
        out = work / f"s{p.name}"
        out.write_bytes(header + b"\ngpgsig " + sig + b"\n\n" + message)
        signed.append(str(out))
    oids = c.git(bare, "hash-object", "-t", "commit", "-w", "--stdin-paths",
                 input="\n".join(signed) + "\n").split()
    updates = "".join(f"update {ref} {new} {old}\n" for (old, ref), new in zip(refs, oids, strict=True))
    c.git(bare, "update-ref", "--stdin", input=updates)
    c.git(bare, "pack-refs", "--all")
    shutil.rmtree(work)
    return len(oids)


def _cat_commits(repo: Path, oids: Sequence[str]) -> list[bytes]:
    res = c.run(["git", "cat-file", "--batch"], repo, input="\n".join(oids) + "\n")
    out, data, pos = [], res.stdout, 0
    for _ in oids:
        end = data.index(b"\n", pos)
        size = int(data[pos:end].split()[2])
        out.append(data[end + 1:end + 1 + size])
        pos = end + 1 + size + 1
    return out


def _list_argv(clone: Path) -> list[str]:
    """`list --json`, checked to report each claim's signature (docs/json.md)."""
    rows = json.loads(c.gitclaim(clone, "list", "--offline", "--json").stdout)
    if rows and "signature" not in rows[0]:
        raise RuntimeError("`list --json` reports no signature: this tree predates signed claims")
    return [*GITCLAIM, "list", "--json"]


CACHES = ("cache", "claims", "signatures")  # under .git/gitclaim: parsed missions, claims by tip, commits


def _forget(clone: Path, oids: Sequence[str] | None = None) -> None:
    """No cached missions, claims or signatures (the first `list` after setup); with `oids`, only the claims
    and signatures of those commits (the next `list` after they were pushed)."""
    state = clone / ".git" / "gitclaim"
    if oids is None:
        for name in CACHES:
            p = state / name
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
        return
    for name in ("claims", "signatures"):
        p = state / name
        data = json.loads(p.read_bytes())
        for oid in oids:
            data["entries"].pop(oid, None)
        p.write_text(json.dumps(data))


def _check(argv: list[str], clone: Path, size: int, want: str) -> None:
    rows = json.loads(c.run(argv, clone).stdout)
    states = {(r.get("signature") or {}).get("state") for r in rows}
    if len(rows) != size or states != {want}:
        raise RuntimeError(f"expected {size} claims {want}, got {len(rows)} rows with states {states}")


def list_cost(ctx: Ctx, sec: Section, key: Path) -> None:
    # A cold check of 10,000 signed claims takes minutes (two ssh-keygen processes per claim): those rows run once.
    size = 200 if ctx.quick else 10000
    fresh = max(size // 100, 1)  # claims not yet seen by an otherwise warm list
    label = f"{size:,}"
    ctx.log(f"signing: {size} held missions, unsigned and signed")
    plain_remote = trusted_remote(ctx, "sig-list-plain", key)
    t0 = time.perf_counter()
    bulk_claimed(plain_remote.bare, [f"m-{i:06d}" for i in range(size)])
    made = time.perf_counter() - t0
    signed_bare = ctx.ws.path("sig-list-signed") / "remote.git"
    c.git(ctx.ws.root, "clone", "-q", "--mirror", str(plain_remote.bare), str(signed_bare))
    t0 = time.perf_counter()
    count = sign_tips(signed_bare, key, ctx.ws.path("sig-list-payloads"))
    signing_secs = time.perf_counter() - t0
    ctx.log(f"signing: {count} claim commits signed in {signing_secs:.1f} s")
    signed_remote = Remote("file", signed_bare.as_uri(), signed_bare, {})
    plain = new_clone(ctx, plain_remote, "sig-list-plain-clone")
    signed = new_clone(ctx, signed_remote, "sig-list-signed-clone")
    argv = _list_argv(plain)  # the unsigned clone: checking the signed one would verify every claim
    shown = f"{GITCLAIM_TEXT} list --json"
    allowed = ctx.ws.root / "allowed_signers"
    allowed.write_text(keys.trust_line(PRINCIPAL, key))
    tips = "git for-each-ref --format='%(objectname)' refs/missions/"
    verify = (f"{tips} | git -c gpg.ssh.allowedSignersFile=allowed_signers log --no-walk=unsorted --stdin "
              f"--format='{FORMAT}' >/dev/null")
    read = "git for-each-ref --format='%(objectname):mission.md' refs/missions/ | git cat-file --batch >/dev/null"
    online = f"git {' '.join(FETCH_ARGS)} && {read}"
    floor_verify = f"{online} && {verify}"

    def cold(clone: Path) -> Callable[[int], float]:
        def fn(i: int) -> float:
            _forget(clone)
            return c.timed(argv, clone)
        return fn

    def shell(command: str, clone: Path) -> Callable[[int], float]:
        return lambda i: c.timed(["sh", "-c", command.replace("allowed_signers", str(allowed))], clone)

    # Verifying every claim spawns two ssh-keygen processes per claim (git's own way): the cold rows are few.
    ctx.log("signing: cold list against raw verification")
    sigcheck = [PYTHON, str(c.ROOT / "benchmarks" / "sigcheck.py"), str(allowed)]
    dear = c.interleave({"floor_verify": shell(floor_verify, signed), "signed_cold": cold(signed),
                         "in_process": lambda i: c.timed(sigcheck, signed)}, 1, warmup=0)
    checked = c.run(sigcheck, signed).stdout.decode().split()
    if checked != [str(size), "0"]:
        raise RuntimeError(f"benchmarks/sigcheck.py found {checked} good/other, expected {size} good")
    _check(argv, signed, size, "good")
    _check(argv, plain, size, "none")
    ctx.log("signing: warm lists")
    tip_oids = c.git(signed, "for-each-ref", "--format=%(objectname)", "refs/missions/").split()
    new_ones = tip_oids[:: max(len(tip_oids) // fresh, 1)][:fresh]

    def incremental(i: int) -> float:
        _forget(signed, new_ones)
        return c.timed(argv, signed)

    cheap = c.interleave({
        "floor_read": shell(online, plain),
        "plain_warm": lambda i: c.timed(argv, plain),
        "signed_warm": lambda i: c.timed(argv, signed),
        "incremental": incremental,
        "plain_cold": cold(plain),
    }, ctx.reps(10, 3), warmup=1)
    got = {**cheap, **dear}
    c.run(argv, signed)
    forget = "rm -r .git/gitclaim/{cache,claims,signatures}; "
    sec.table(TIME_HEADERS, [
        time_row(f"{label}: floor, no-op fetch + for-each-ref + cat-file", got["floor_read"], None, online),
        time_row(f"{label}: unsigned claims, warm, against the read floor", got["plain_warm"], got["floor_read"],
                 shown),
        time_row(f"{label}: signed claims, warm, against the read floor", got["signed_warm"], got["floor_read"],
                 shown),
        time_row(f"{label}: signed claims, warm, against unsigned warm", got["signed_warm"], got["plain_warm"],
                 shown),
        time_row(f"{label}: signed claims, warm but {fresh:,} claims not seen yet, against unsigned warm",
                 got["incremental"], got["plain_warm"], f"(their cache entries dropped); {shown}"),
        time_row(f"{label}: unsigned claims, cold, against the read floor", got["plain_cold"], got["floor_read"],
                 forget + shown),
    ])
    sec.table(TIME_HEADERS, [
        time_row(f"{label}: floor with verification: the read floor + git log %G? of every tip",
                 got["floor_verify"], None, floor_verify),
        time_row(f"{label}: signed claims, cold, against the floor with verification", got["signed_cold"],
                 got["floor_verify"], forget + shown),
        time_row(f"{label}: signed claims, cold, against unsigned cold", got["signed_cold"], got["plain_cold"],
                 forget + shown),
        time_row(f"{label}: signed claims, cold, against signed warm", got["signed_cold"], got["signed_warm"],
                 forget + shown),
        time_row(f"{label}: the same tips read and checked in one Python process (benchmarks/sigcheck.py, "
                 "not gitclaim), against the floor with verification", got["in_process"], got["floor_verify"],
                 "python3 benchmarks/sigcheck.py allowed_signers"),
    ])
    sec.notes.append(f"setup (not timed): {size:,} held missions by one fast-import in {made:.1f} s; their "
                     f"claim commits signed in {signing_secs:.1f} s (`ssh-keygen -Y sign` processes: "
                     f"{-(-count // SIGN_CHUNK)}, one `hash-object --stdin-paths`, one `update-ref --stdin`)")
    sec.notes.append(f"the cold rows are {got['signed_cold'].n} run each: verifying {size:,} claims runs "
                     f"{2 * size:,} ssh-keygen processes, the raw floor as many")
    counts: list[tuple[str, Path, Callable[[], None]]] = [
        ("signed, warm", signed, lambda: None),
        (f"signed, {fresh:,} claims not seen yet", signed, lambda: _forget(signed, new_ones)),
        ("unsigned, cold", plain, lambda: _forget(plain))]
    for what, clone, prepare in counts:
        prepare()
        t, kg = counted(argv, clone, ctx)
        sec.notes.append(f"{label} {what}: {t.top_level} git processes ({', '.join(run_lengths(t.commands))}), "
                         f"{_keygen_summary(kg)}")
        sec.raw[f"count {what}"] = {"git": t.commands, "ssh_keygen": len(kg)}
    some = ctx.ws.root / "fresh-oids"
    some.write_text("\n".join(new_ones) + "\n")
    t, kg = counted(["sh", "-c", f"git -c gpg.ssh.allowedSignersFile={allowed} log --no-walk=unsorted --stdin "
                                 f"--format='{FORMAT}' <{some} >/dev/null"], signed, ctx)
    sec.notes.append(f"raw verification of the same {fresh:,} commits: {t.top_level} git process, "
                     f"{_keygen_summary(kg)}")
    sec.raw["list"] = {k: v.to_json() for k, v in got.items()}
    sec.raw["list_size"] = size


def signing(ctx: Ctx) -> Section:
    sec = Section("signing", "Signed claims: signing a claim, verifying every claim on `list`")
    sec.intro = (
        "Claims signed with an ed25519 key without a passphrase (`gitclaim.signingKey`), the trust list "
        "(`.gitclaim/allowed_signers`) committed on the remote's main branch, remotes on disk. Claim floors: "
        "`git commit-tree` (signed: `git -c gpg.format=ssh -c user.signingKey=<key> commit-tree -S`) + one "
        "compare-and-swap push. List: every mission held, its claim commit signed (or not) by the listed key; "
        "'cold' is the first listing after setup (no cached missions, claims or signatures: every claim is "
        "verified), 'warm' the next one. git processes are counted by trace2, ssh-keygen processes by a "
        "counting wrapper first on PATH (separate runs, not timed). Interleaved."
    )
    key = keys.make_key(ctx.ws.root / "keys", "agent")
    claim_cost(ctx, sec, key)
    list_cost(ctx, sec, key)
    return sec
