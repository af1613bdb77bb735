"""`gitclaim doctor`: check that a remote can hold missions and that this clone is set up to use it.

Every check is a `Check(name, ok, detail, fix)`. A failing *required* check means gitclaim will not work as
documented (the doctor fails); a failing advisory check (`required=False`) is advice (the doctor passes).

On the remote, the doctor does what gitclaim does, once, on a throw-away mission:
* it pushes `<namespace>/gitclaim-doctor-probe-<random>` (`refs/missions/...` by default) by compare-and-swap
  (creation), reads it back with `ls-remote`, and deletes it under a lease. When the remote refuses it, the
  same probe is tried in branch namespaces (BRANCH_NAMESPACES, under `refs/heads/`), and the doctor says which
  one the remote accepts and the `.gitclaim.yaml` line to commit for it. The probe is a DONE mission written
  as an `import` with epoch 0, so
  the server guard accepts it, no agent can ever claim it, and if the deletion is refused it is harmless (the
  guard refuses deleting missions; `gitclaim archive` moves it away);
* the git packet trace of those commands tells which protocol version the server speaks for fetches and
  whether its receive-pack advertises atomic pushes (`gitclaim archive` needs them);
* the mission tips (fetched by id: no local ref moves) are compared with this clock: a tip dated in the
  future beyond CLOCK_SLACK means a clock is off (leases are judged from recorded times: docs/lifecycle.md).

Library code: returns data, raises nothing for a failing check, never prints.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gitclaim.core import git as g
from gitclaim.core import mission as m
from gitclaim.core import timeutil
from gitclaim.core.message import MissionMessage
from gitclaim.core.refs import Namespace
from gitclaim.core.signing import Signer
from gitclaim.core.store import Store
from gitclaim.errors import GitclaimError
from gitclaim.ops.checks import Check
from gitclaim.ops.signcheck import signing_checks

PROBE_PREFIX = "gitclaim-doctor-probe-"
# Where a remote that refuses custom refs may still take missions: the branches a hosted agent sandbox lets
# through (claude/*), then a neutral one. Tried in this order, only when the configured namespace is refused.
BRANCH_NAMESPACES = ("refs/heads/claude/missions", "refs/heads/gitclaim/missions")
CLOCK_SLACK = timedelta(minutes=5)
# `12:34:56.789012 pkt-line.c:80   packet:   push< <payload>`: the side that reads (`<`) is named before it.
_PACKET = re.compile(r"packet:\s+(?P<who>\S+?)(?P<dir>[<>]) (?P<payload>.*)$")


@dataclass
class Report:
    remote: str
    checks: list[Check] = field(default_factory=list)
    reachable: bool = True
    namespace: str = ""  # the namespace examined (this clone's)
    working_namespace: str | None = None  # where the remote accepted the probe; None: nowhere, or not tried
    signing: dict[str, Any] = field(default_factory=dict)  # what the signing checks found (ops/signcheck.py)

    @property
    def ok(self) -> bool:
        return all(c.ok or not c.required for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.required]

    def to_json(self) -> dict[str, Any]:
        return {"remote": self.remote, "ok": self.ok, "reachable": self.reachable, "namespace": self.namespace,
                "working_namespace": self.working_namespace, "signing": self.signing,
                "checks": [c.to_json() for c in self.checks]}


def diagnose(store: Store, remote: str | None = None, *, now: datetime | None = None) -> Report:
    """Run every check against `remote` (default: the clone's gitclaim remote)."""
    repo = store.repo
    name = remote or repo.remote
    report = Report(name, namespace=store.namespace.name)
    report.checks += clone_checks(store, name)
    checks, report.signing = signing_checks(store)
    report.checks += checks
    if repo.get(f"remote.{name}.url") is None:
        return report  # nothing to talk to: clone_checks said how to add it
    with tempfile.TemporaryDirectory(prefix="gitclaim-doctor-") as tmp:
        report.checks += remote_checks(store, name, Path(tmp), now or timeutil.now(), report)
    return report


# ---- this clone -------------------------------------------------------------------------------------------

def clone_checks(store: Store, remote: str) -> list[Check]:
    return [_remote_configured(store, remote), _refspec(store, remote), _instance(store), _hook(store)]


def _remote_configured(store: Store, remote: str) -> Check:
    url = store.repo.get(f"remote.{remote}.url")
    if url is None:
        return Check("remote", False, f"no remote named {remote!r} in this clone",
                     f"git remote add {remote} URL && gitclaim init --remote {remote}")
    return Check("remote", True, f"{remote} -> {url}")


def _refspec(store: Store, remote: str) -> Check:
    try:
        # the refspec of the wrong namespace would be no better than none
        store.repo.check_namespace(store.settings.namespace)
    except GitclaimError as err:
        return Check("fetch refspec", False, str(err).partition(": run")[0], "gitclaim init")
    refspec = store.refspec
    if refspec in store.repo.get_all(f"remote.{remote}.fetch"):
        return Check("fetch refspec", True, f"{refspec} on remote {remote!r}")
    return Check("fetch refspec", False, f"remote {remote!r} has no fetch refspec {refspec}, so a plain "
                 "`git fetch` does not bring missions", f"gitclaim init --remote {remote}")


def _instance(store: Store) -> Check:
    instance = store.repo.instance(create=False)
    if instance:
        return Check("instance id", True, f"{instance} ({store.repo.instance_key})")
    return Check("instance id", False, f"no instance id in this clone ({store.repo.instance_key}): claims made "
                 "here cannot be told apart from other clones'", "gitclaim init")


def _hook(store: Store) -> Check:
    from gitclaim.hooks import install as hooks_install

    try:
        hook = hooks_install.hooks_dir(store.git) / hooks_install.HOOK_NAME
        text = hook.read_text(encoding="utf-8") if hook.is_file() else ""
    except (GitclaimError, OSError, UnicodeDecodeError):
        text, hook = "", Path(hooks_install.HOOK_NAME)
    ours = any(line.startswith(hooks_install.HOOK_ID) for line in text.splitlines()[:5])
    if ours and hook.stat().st_mode & 0o111:
        return Check("commit-msg hook", True, f"installed at {hook}", required=False)
    what = "not executable" if ours else "not installed"
    return Check("commit-msg hook", False, f"the commit policy hook is {what} ({hook}): your own commits are "
                 "not checked before they are made", "gitclaim hooks install", required=False)


# ---- the remote -------------------------------------------------------------------------------------------

def remote_checks(store: Store, remote: str, tmp: Path, now: datetime, report: Report) -> list[Check]:
    timeout = store.repo.timeout
    read_trace, push_trace = tmp / "ls-remote.trace", tmp / "push.trace"
    try:
        tips = g.ls_remote(_traced(store, read_trace), remote, [f"{store.namespace.prefix}*"], timeout=timeout)
    except GitclaimError as err:
        report.reachable = False
        return [Check("remote reachable", False, str(err), f"check the URL (git remote get-url {remote}), the "
                      "network and your credentials; the time limit is GITCLAIM_TIMEOUT / gitclaim.timeout")]
    checks = [Check("remote reachable", True, f"{len(tips)} mission refs on {remote}"),
              _protocol(protocol_version(_read(read_trace)), store.repo.get(f"remote.{remote}.url") or "")]
    ns = store.namespace
    # A key that signs signs the probe too: a guard that requires signed claims accepts only signed missions.
    signer = store.repo.signer if report.signing.get("signs") else None
    try:
        checks += _probe(store, remote, _traced(store, push_trace), timeout, now, ns, signer)
        if not checks[-1].ok and checks[-1].name == f"push {ns.prefix}*":
            checks += _find_namespace(store, remote, timeout, now, ns, report, signer)
    except GitclaimError as err:  # a timeout, a refusal of the probe's message by the commit policy, ...
        checks.append(Check(f"push {ns.prefix}*", False, f"the probe could not be written or pushed: {err}",
                            "run gitclaim doctor again; if it persists, try a claim and read its error"))
    checks.append(_atomic(capabilities(_read(push_trace))))
    checks.append(_clock(store, remote, tips, now))
    return checks


def _traced(store: Store, trace: Path) -> g.Git:
    return g.Git(store.git.cwd, env={"GIT_TRACE_PACKET": str(trace)})


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _client_packets(trace: str) -> list[str]:
    """Payloads the client read (`push<`, `ls-remote<`, `git<`); the server's own lines (file:// remotes
    trace into the same file) are `upload-pack>`/`receive-pack<` and are left out."""
    out = []
    for line in trace.splitlines():
        found = _PACKET.search(line)
        if found and found["dir"] == "<" and not found["who"].endswith("-pack"):
            out.append(found["payload"])
    return out


def protocol_version(trace: str) -> int:
    for payload in _client_packets(trace):
        if payload.startswith("version "):
            return int(payload.split()[1]) if payload.split()[1].isdigit() else 0
    return 0


def capabilities(trace: str) -> set[str] | None:
    """The receive-pack capabilities advertised (after the NUL, shown as `\\0`, of the first ref line)."""
    for payload in _client_packets(trace):
        if "\\0" in payload:
            return set(payload.split("\\0", 1)[1].split())
    return None


def _protocol(version: int, url: str) -> Check:
    if version >= 2:
        return Check("protocol version", True, f"fetches speak protocol version {version}", required=False)
    how = {"ssh": "AcceptEnv GIT_PROTOCOL in the server's sshd_config",
           "http": "pass the Git-Protocol header to git http-backend as GIT_PROTOCOL",
           "git": "git daemon 2.18 or later"}.get(_scheme(url), "git 2.18 or later on the server")
    return Check("protocol version", False, f"fetches speak protocol version {version}: every fetch downloads the "
                 "whole ref list first, slow with thousands of missions", how, required=False)


def _scheme(url: str) -> str:
    if "://" in url:
        scheme = url.split("://", 1)[0]
        return "ssh" if scheme.startswith("ssh") or scheme.endswith("ssh") else scheme.rstrip("s")
    return "ssh" if re.match(r"^[^/:]+:", url) else "file"


def _atomic(caps: set[str] | None) -> Check:
    if caps is None:
        return Check("atomic pushes", False, "could not read the receive-pack capabilities from the packet trace",
                     "run again with GIT_TRACE_PACKET=1 to see what the server says", required=False)
    if "atomic" in caps:
        return Check("atomic pushes", True, "receive-pack advertises atomic", required=False)
    return Check("atomic pushes", False, "receive-pack does not advertise atomic pushes: `gitclaim archive` (one "
                 "atomic push) cannot work", "upgrade git on the server (2.4 or later; receive.advertiseAtomic "
                 "must not be false)", required=False)


def _probe(store: Store, remote: str, traced: g.Git, timeout: float, now: datetime, ns: Namespace,
           signer: Signer | None) -> list[Check]:
    probe_id = PROBE_PREFIX + secrets.token_hex(6)
    ref = ns.remote_mission(probe_id)
    oid = probe_commit(store, probe_id, now, signer)
    pushed = g.push_cas(traced, remote, [g.RefUpdate(ref, oid, None)], timeout=timeout)
    if not pushed.accepted(ref):
        said = "; ".join(pushed.remote_messages)
        return [Check(f"push {ns.prefix}*", False, f"the remote refused a new mission ref {ref}: {said}",
                      f"let this user push to {ns.prefix}* (forge ref permissions), fix what the server's "
                      "hook says above, or use a namespace the remote accepts (see below)")]
    checks = [Check(f"push {ns.prefix}*", True, f"created {ref} by compare-and-swap")]
    seen = g.ls_remote(store.git, remote, [ref], timeout=timeout).get(ref)
    if seen == oid:
        checks.append(Check(f"serve {ns.prefix}*", True, f"ls-remote shows {ref} at the pushed commit"))
    else:
        checks.append(Check(f"serve {ns.prefix}*", False, f"ls-remote shows {ref} at {seen or 'nothing'} right "
                            f"after pushing {oid[:12]}: the remote hides or rewrites mission refs",
                            f"serve {ns.prefix}* to fetches (uploadpack.hideRefs, the forge's ref filters), or "
                            "use a branch namespace (docs/config.md)"))
    checks.append(_delete_probe(store, remote, ref, oid, timeout, ns))
    return checks


def _find_namespace(store: Store, remote: str, timeout: float, now: datetime, refused: Namespace,
                    report: Report, signer: Signer | None) -> list[Check]:
    """The configured namespace was refused: push and delete the same probe under refs/heads/ and say which
    namespace the remote accepts, with the line to commit (advice: the failing push check already fails)."""
    tried = []
    for name in BRANCH_NAMESPACES:
        ns = Namespace(name)
        if ns == refused:
            continue
        probe_id = PROBE_PREFIX + secrets.token_hex(6)
        ref = ns.remote_mission(probe_id)
        oid = probe_commit(store, probe_id, now, signer)
        pushed = g.push_cas(store.git, remote, [g.RefUpdate(ref, oid, None)], timeout=timeout)
        if not pushed.accepted(ref):
            tried.append(name)
            continue
        g.push_cas(store.git, remote, [g.RefUpdate(ref, None, oid)], timeout=timeout)
        report.working_namespace = name
        return [Check("working namespace", False, f"the remote refuses {refused.prefix}* but accepts {ns.prefix}* "
                      f"(created and deleted {ref})", f"commit `namespace: {name}` in .gitclaim.yaml, then run "
                      f"`gitclaim init` in every clone (`gitclaim migrate --to {name}` first if missions exist "
                      "elsewhere)", required=False)]
    return [Check("working namespace", False, f"the remote also refuses branches under {', '.join(tried)}",
                  "ask the remote's owner which refs this user may push (docs/config.md)", required=False)]


def _delete_probe(store: Store, remote: str, ref: str, oid: str, timeout: float, ns: Namespace) -> Check:
    gone = g.push_cas(store.git, remote, [g.RefUpdate(ref, None, oid)], timeout=timeout)
    if gone.accepted(ref):
        return Check("remove the probe", True, f"deleted {ref} under a lease", required=False)
    return Check("remove the probe", False, f"the remote refused deleting {ref} ({'; '.join(gone.remote_messages)})"
                 ": it stays as a DONE mission nobody can claim", "gitclaim archive (moves finished missions "
                 f"out of {ns.prefix})", required=False)


def probe_commit(store: Store, probe_id: str, now: datetime, signer: Signer | None = None) -> str:
    """A one-commit DONE mission at epoch 0, written as an import, signed by `signer` when given: what the
    server guard accepts for a new ref, and what no agent can claim."""
    stamp = timeutil.format_ts(now)
    mission = m.Mission(mission_id=probe_id, title="gitclaim doctor probe (safe to delete)", status=m.DONE,
                        created=stamp, last_activity=stamp, finished_at=stamp,
                        summary="written by gitclaim doctor to check that the remote accepts missions")
    instance = store.repo.instance(create=False) or secrets.token_hex(6)
    message = MissionMessage("import", probe_id, "import", "", {"Instance": instance, "Epoch": "0"}).render()
    store.check_message(message)
    blob = g.write_blob(store.git, m.render(mission))
    tree = g.write_tree(store.git, [g.TreeEntry("100644", "blob", blob, m.FILENAME)])
    return g.commit_tree(store.git, tree, [], message, _commit_env(store, stamp), signer.key if signer else None)


def _commit_env(store: Store, when: str) -> dict[str, str]:
    # Not repo.commit_env: without a git user it would create an instance id, and the doctor changes nothing.
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    if not store.repo.user_name:
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "gitclaim doctor"
    if not store.repo.user_email:
        env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "doctor@gitclaim.invalid"
    return env


def _clock(store: Store, remote: str, tips: dict[str, str], now: datetime) -> Check:
    tips = {ref: oid for ref, oid in tips.items() if not ref.startswith(f"{store.namespace.prefix}{PROBE_PREFIX}")}
    if not tips:
        return Check("clock", True, "no mission commits to compare this clock with yet")
    try:
        # By object id, with no destination: the tips' commits arrive, no local ref moves (not even the
        # mirror, which may belong to another remote than the one examined).
        g.fetch(store.git, remote, sorted(set(tips.values())), timeout=store.repo.timeout, prune=False)
    except GitclaimError as err:
        return Check("clock", False, f"cannot fetch the mission tips to compare times: {err}",
                     "run gitclaim doctor again")
    objects = g.cat_file_batch(store.git, list(tips.values()))
    times = [(g.parse_commit(obj.oid, obj.data).committer_time, ref)
             for ref, obj in zip(tips, objects, strict=False) if obj is not None and obj.type == "commit"]
    if not times:
        return Check("clock", True, "no mission commits to compare this clock with yet")
    newest, ref = max(times)
    ahead = timedelta(seconds=newest - int(now.timestamp()))
    if ahead > CLOCK_SLACK:
        return Check("clock", False, f"{ref} was written {timeutil.format_duration(ahead)} in the future of this "
                     "clock: this clock is behind, or that writer's is ahead; leases are judged from recorded "
                     "times", "synchronise clocks (NTP) on every machine that runs gitclaim")
    return Check("clock", True, f"the newest mission commit ({ref}) is {timeutil.format_duration(-ahead)} old")
