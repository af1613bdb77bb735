"""`gitclaim init --signing-key FILE` / `--new-signing-key FILE`: the clone's signing key, checked before it is
recorded, and the line that puts it in the repository's trust list (docs/signing.md).

Library code: returns what it found as data and lines, raises GitclaimError, never prints.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from gitclaim.core import git as g
from gitclaim.core.repo import Repo
from gitclaim.core.signing import KEY_CONFIG, KEY_ENV, Signer
from gitclaim.core.store import Store
from gitclaim.core.trust import TRUST_FILE, TrustList
from gitclaim.errors import InvalidInput, NotFound, SigningError

# A principal is one word of an allowed-signers line: no blanks, no quotes, no comma (it separates principals),
# and not a comment.
_PRINCIPAL = re.compile(r"^[^\s\",#][^\s\",]{0,199}$")
_DOCTOR_HINT = "; check the key with gitclaim doctor"


class KeyRequest(NamedTuple):
    """What the user asked for: a key file to use, or to create; `principal` None for the default."""

    path: str
    create: bool
    principal: str | None


class SigningSetup(NamedTuple):
    signer: Signer
    public_key: str
    principal: str
    created: bool

    @property
    def line(self) -> str:
        """The key's line for the trust list."""
        return f"{self.principal} {self.public_key}"


def principal_for(repo: Repo, given: str | None) -> str:
    """`--principal`, else git config gitclaim.user, else user.email; checked as one allowed-signers word."""
    principal = given if given is not None else (repo.get("gitclaim.user") or repo.user_email or "")
    source = "--principal" if given is not None else "the default principal (gitclaim.user, else user.email)"
    if not principal:
        raise InvalidInput("no principal for the trust list: give --principal NAME (an email or agent name), or "
                           "set git config user.email")
    if not _PRINCIPAL.match(principal):
        fix = "" if given is not None else "; give one with --principal NAME"
        raise InvalidInput(f"{source} {principal!r} cannot be a principal: one word without blanks, quotes or "
                           f"commas, not starting with '#' (e.g. agent-7@ci){fix}")
    return principal


def prepare(repo: Repo, request: KeyRequest) -> SigningSetup:
    """Check (and with `create`, make) the key; nothing is recorded yet. A key that cannot sign raises
    SigningError (exit 11), and a file that `--signing-key` names must exist: a mistyped path is an error,
    never a new key."""
    principal = principal_for(repo, request.principal)
    path = Path(os.path.abspath(Path(request.path).expanduser()))
    if request.create:
        from gitclaim.core.signing import generate_key

        generate_key(path, principal)
    else:
        _check_file(path)
    signer = Signer(str(path), "--new-signing-key" if request.create else "--signing-key")
    try:
        public = signer.check()
    except SigningError as err:
        if request.create:
            discard(path)
        raise SigningError(f"{str(err).partition(_DOCTOR_HINT)[0]}; nothing was recorded") from None
    return SigningSetup(signer, public, principal, request.create)


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise SigningError(f"--signing-key {path} is a directory, not a key file; nothing was recorded")
    if not path.exists():
        raise SigningError(f"--signing-key {path}: no such file; nothing was recorded (to create a new key "
                           f"there: gitclaim init --new-signing-key {path})")
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise SigningError(f"--signing-key {path}: cannot read it ({err.strerror}); nothing was "
                           "recorded") from None


def discard(path: Path) -> None:
    """Remove a key this command created, when the rest of init failed: nothing half written."""
    for target in (path, Path(f"{path}.pub")):
        try:
            target.unlink()
        except OSError:
            pass


def record(repo: Repo, setup: SigningSetup) -> list[str]:
    """Record the key as git config gitclaim.signingKey (unless it is already), and say so."""
    key = setup.signer.key
    report = []
    if setup.created:
        report.append(f"created signing key {key} (ed25519, no passphrase, mode 0600) and {key}.pub")
    kept = repo.get(KEY_CONFIG) == key
    if not kept:
        g.config_set(repo.git, KEY_CONFIG, key)
        repo.config[KEY_CONFIG] = [key]
    report.append(f"signing key {key} ({KEY_CONFIG}{', kept' if kept else ''}): signs and verifies")
    env = os.environ.get(KEY_ENV)
    if env and os.path.abspath(Path(env).expanduser()) != key:
        report.append(f"note: {KEY_ENV}={env} is set and takes precedence over it in this environment")
    return report


def trust_status(trust: TrustList, setup: SigningSetup) -> dict[str, Any]:
    """Whether the key is in the trust list of the default branch, and as whom."""
    listed = trust.principal_for(setup.public_key)
    return {"source": trust.source, "has_list": trust.allowed_oid is not None, "trusted": listed is not None,
            "listed_as": listed}


def trust_lines(status: dict[str, Any], setup: SigningSetup) -> list[str]:
    """What init says about the trust list: the line to commit and whether it is there yet."""
    lines = [f"trust list line for {TRUST_FILE} (commit it on the default branch):", setup.line]
    source, listed = status["source"], status["listed_as"]
    if source is None:
        lines.append("no default branch found (refs/remotes/<remote>/HEAD, main, master): fetch it (git fetch; "
                     "git remote set-head <remote> --auto), then commit the line above")
    elif not status["has_list"]:
        lines.append(f"there is no {TRUST_FILE} on {source} yet: commit it with the line above on the default "
                     "branch")
    elif listed is None:
        lines.append(f"this key is not yet in the trust list on {source}: add the line above to {TRUST_FILE} "
                     "on the default branch")
    elif listed != setup.principal:
        lines.append(f"this key is already in the trust list on {source} as {listed} (not {setup.principal}): "
                     f"its claims record {listed}")
    else:
        lines.append(f"this key is already in the trust list on {source} as {listed}")
    return lines


def init_with_key(store: Store, remote: str, request: KeyRequest, *, hooks: bool = False,
                  agents_file: str | None = None) -> tuple[list[str], dict[str, Any]]:
    """`gitclaim init` with a signing key: the key is checked (or created and checked) first, then the clone is
    set up, then the key recorded; a failure on the way records nothing and removes a key it created."""
    from gitclaim.missions import setup

    if store.repo.get(f"remote.{remote}.url") is None:
        raise NotFound(f"no remote named {remote!r} in this clone (add it with: git remote add {remote} URL)")
    key = prepare(store.repo, request)
    try:
        report = setup.init_clone(store, remote, hooks=hooks, agents_file=agents_file)
    except BaseException:
        if key.created:
            discard(Path(key.signer.key))
        raise
    report += record(store.repo, key)
    status = trust_status(store.trust(), key)
    report += trust_lines(status, key)
    if store.settings.signing_required and not status["trusted"]:
        report.append("this repository requires signed claims (.gitclaim.yaml signing.required): this clone can "
                      "claim once that line is on the default branch and fetched (git fetch)")
    data = {"key": key.signer.key, "created": key.created, "principal": key.principal,
            "public_key": key.public_key, "line": key.line, "trust_file": TRUST_FILE,
            "trust_source": status["source"], "trusted": status["trusted"], "listed_as": status["listed_as"]}
    return report, data
