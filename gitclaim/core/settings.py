"""The committed `.gitclaim.yaml`, read in one place: lease time-to-live, heartbeat interval, commit policy, guard
rules, the mission namespace and whether claims must be signed.

Every user of the file gets the same frozen `Settings` from `parse`, so one rule means the same thing
everywhere: the client's claims and steals (through the store), `gitclaim check-msg` and the commit-msg hook,
and the server guard, which reads the file at the server's HEAD through its own cat-file process
(`load_committed`). Per-clone settings (remote name, network timeout, instance id, a TTL override) live in
git config instead; see docs/config.md.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

from gitclaim.core import git as g
from gitclaim.core import safeyaml, timeutil
from gitclaim.core.refs import DEFAULT_NAMESPACE
from gitclaim.core.repo import Repo, open_repo
from gitclaim.errors import InvalidInput, NotARepository, PolicyViolation
from gitclaim.policy.config import PolicyConfig, policy_from_section

FILENAME = ".gitclaim.yaml"
DEFAULT_LEASE_TTL = timedelta(hours=24)
DEFAULT_HEARTBEAT_INTERVAL = timedelta(minutes=5)


class Settings(NamedTuple):
    lease_ttl: timedelta = DEFAULT_LEASE_TTL  # when a claim becomes stale (docs/lifecycle.md)
    policy: PolicyConfig = PolicyConfig()  # the commit policy (docs/commit-policy.md)
    guard_branches: bool = False  # the server guard also checks branch commits (docs/server-guard.md)
    # How often the post-commit and agent hooks may refresh one mission's lease (docs/lifecycle.md).
    heartbeat_interval: timedelta = DEFAULT_HEARTBEAT_INTERVAL
    # Where missions live on the remote, for the whole repository (docs/config.md "Mission namespace").
    namespace: str = DEFAULT_NAMESPACE
    # Claims must be signed by a key in the trust list; an unsigned or untrusted claim is void (docs/signing.md).
    signing_required: bool = False

    def check_message(self, message: str) -> None:
        """Raise PolicyViolation when a message gitclaim is about to write breaks the commit policy."""
        from gitclaim.policy import checker  # compiled regexes: only when something is written

        found = checker.check_message(message, self.policy, verbatim=True)
        if found:
            first = found[0]
            raise PolicyViolation(
                f"refused before writing anything: the commit message would break this repository's commit "
                f"policy ({first.rule}: {first.text!r}); reword the text you gave"
            )


def parse(text: str | None) -> Settings:
    """The settings a `.gitclaim.yaml` text describes (None or blank: the defaults). InvalidInput, naming the
    file and the key, for anything that is not a valid setting."""
    if text is None or not text.strip():
        return Settings()
    try:
        data = safeyaml.load(text)
    except safeyaml.YamlProblem as err:
        if err.kind == "syntax":
            where = f" (line {err.line})" if err.line is not None else ""
            raise InvalidInput(f"{FILENAME}: not valid YAML{where}") from None
        raise InvalidInput(f"{FILENAME}: unreadable YAML ({err.problem})") from None
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise InvalidInput(f"{FILENAME}: expected a mapping at the top level")
    try:
        return Settings(_lease_ttl(data.get("lease_ttl")), _policy(data.get("policy")),
                        _guard_branches(data.get("guard")), _heartbeat_interval(data.get("heartbeat_interval")),
                        _namespace(data.get("namespace")), _signing_required(data.get("signing")))
    except InvalidInput as err:
        raise InvalidInput(f"{FILENAME}: {err}") from None


def load(repo: Repo) -> Settings:
    """The clone's settings: the working tree's file (what the user sees); in a bare repository or a sparse
    checkout without it, the one committed at HEAD; else the defaults. The policy gets the clone's
    core.commentChar."""
    settings = parse(_read_text(repo))
    comment_char = repo.get("core.commentChar") or ""  # "auto" and unset both mean '#'
    if comment_char and comment_char != "auto":
        settings = settings._replace(policy=settings.policy._replace(comment_char=comment_char))
    return settings


def load_at(cwd: Path | str | None = None) -> Settings:
    """`load` for commands that also work outside a clone (`check-msg --message`): the defaults there."""
    try:
        repo = open_repo(cwd)
    except NotARepository:
        return Settings()
    return load(repo)


def load_committed(cat: g.CatFile, rev: str = "HEAD") -> Settings:
    """The settings committed at `rev`, read through an open cat-file process (the server guard's)."""
    obj = cat.get(f"{rev}:{FILENAME}")
    return parse(_decode(obj.data) if obj is not None and obj.type == "blob" else None)


def _read_text(repo: Repo) -> str | None:
    if repo.worktree is not None:
        path = repo.worktree / FILENAME
        try:
            return _decode(path.read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            # A full checkout without the file has none at HEAD either (or the user removed it): no process
            # spent on looking. Only a sparse checkout leaves committed files out of the working tree.
            if repo.get("core.sparseCheckout") != "true":
                return None
        except OSError as exc:
            raise InvalidInput(f"{FILENAME}: cannot read: {exc.strerror}") from None
    blob = g.cat_file_batch(repo.git, [f"HEAD:{FILENAME}"])[0]
    return _decode(blob.data) if blob is not None and blob.type == "blob" else None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{FILENAME}: not UTF-8 text") from None


def _lease_ttl(raw: Any) -> timedelta:
    if raw is None:
        return DEFAULT_LEASE_TTL
    try:
        ttl = timeutil.parse_duration(str(raw))
    except InvalidInput as err:
        raise InvalidInput(f"lease_ttl: {err}") from None
    # A lease of zero would make every claim stealable at once; the guard and the client refuse it alike.
    if ttl <= timedelta(0):
        raise InvalidInput(f"lease_ttl must be a positive duration, got {raw}")
    return ttl


def _heartbeat_interval(raw: Any) -> timedelta:
    if raw is None:
        return DEFAULT_HEARTBEAT_INTERVAL
    try:
        return timeutil.parse_duration(str(raw))  # 0 is allowed: every hook run refreshes the lease
    except InvalidInput as err:
        raise InvalidInput(f"heartbeat_interval: {err}") from None


def _policy(section: Any) -> PolicyConfig:
    if section is None:
        return PolicyConfig()
    if not isinstance(section, dict):
        raise InvalidInput("policy: expected a mapping")
    return policy_from_section(section)


def _guard_branches(section: Any) -> bool:
    if not section:  # absent or empty
        return False
    if not isinstance(section, dict):
        raise InvalidInput("guard: expected a mapping")
    branches = section.get("branches", False)
    if not isinstance(branches, bool):
        raise InvalidInput("guard.branches: expected true or false")
    return branches


def _signing_required(section: Any) -> bool:
    if not section:  # absent or empty
        return False
    if not isinstance(section, dict):
        raise InvalidInput("signing: expected a mapping")
    unknown = sorted(set(section) - {"required"})
    if unknown:
        raise InvalidInput(f"signing: unknown key {unknown[0]!r} (known: required)")
    required = section.get("required", False)
    if not isinstance(required, bool):
        raise InvalidInput("signing.required: expected true or false")
    return required


def _namespace(value: Any) -> str:
    if value is None:
        return DEFAULT_NAMESPACE
    from gitclaim.core.refs import namespace_problem

    name = str(value).rstrip("/")
    problem = namespace_problem(name)
    if problem:
        raise InvalidInput(f"invalid mission namespace {name!r}: it {problem}")
    return name
