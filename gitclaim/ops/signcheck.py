"""`gitclaim doctor`'s signing checks (docs/signing.md): whether the repository requires signed claims, whether
this clone has a key and it signs (a payload signed and verified with its public key, as readers will), the trust
list and the ref it was read from, and whether the key is in it (as which principal).

A clone without a key is fine unless `.gitclaim.yaml` requires signing; then the missing key, the missing trust
list and an untrusted key are failures, each with its fix. Library code: returns checks, never prints.
"""

from __future__ import annotations

from typing import Any

from gitclaim.core.signing import Signer
from gitclaim.core.store import Store
from gitclaim.core.trust import REVOKED_FILE, TRUST_FILE, TrustList
from gitclaim.errors import GitclaimError, SigningError
from gitclaim.ops.checks import Check

SETUP = "gitclaim init --signing-key FILE (or --new-signing-key FILE for a new agent key)"


def signing_checks(store: Store) -> tuple[list[Check], dict[str, Any]]:
    """The checks, and what they found for `doctor --json`'s `signing` object."""
    try:
        required = store.settings.signing_required
    except GitclaimError as err:
        return [Check("signing required", False, str(err), "fix .gitclaim.yaml (docs/config.md)")], {}
    info: dict[str, Any] = {"required": required, "key": None, "key_source": None, "signs": None,
                            "public_key": None, "trust_source": None, "principal": None}
    checks = [_required(required)]
    signer = store.repo.signer
    public = None
    if signer is not None:
        info.update(key=signer.key, key_source=signer.source)
        checks.append(_key(signer, info))
        public = info["public_key"]
    else:
        checks.append(_no_key(required))
    trust = store.trust()
    info["trust_source"] = trust.source
    checks.append(_trust_list(trust, required, signer is not None, store.repo.remote))
    if public is not None and signer is not None:
        info["principal"] = trust.principal_for(public)
        checks.append(_trusted(store, trust, public, info["principal"], required))
        if info["principal"] is not None:
            checks.append(_accepted(signer, trust, info["principal"], required))
    return checks, info


def _required(required: bool) -> Check:
    if required:
        return Check("signing required", True, ".gitclaim.yaml requires signed claims (signing.required): a "
                     "claim that is not good is void, and only its principal may write to it", required=False)
    return Check("signing required", True, "not required (.gitclaim.yaml has no signing.required): signatures "
                 "are shown, unsigned claims still hold", required=False)


def _no_key(required: bool) -> Check:
    if required:
        return Check("signing key", False, "none, and this repository requires signed claims: this clone cannot "
                     "claim or write missions", f"{SETUP}, then commit its trust-list line (docs/signing.md)")
    return Check("signing key", True, f"none: this clone's mission commits are not signed (to sign them: {SETUP})",
                 required=False)


def _key(signer: Signer, info: dict[str, Any]) -> Check:
    try:
        info["public_key"] = signer.check()
    except SigningError as err:
        info["signs"] = False
        reason = str(err).partition("; check the key with gitclaim doctor")[0]
        return Check("signing key", False, reason, f"fix the key, or name another: {SETUP}")
    info["signs"] = True
    return Check("signing key", True, f"{signer.describe()}: a test signature verifies with its public key "
                 f"{_short(info['public_key'])}")


def _trust_list(trust: TrustList, required: bool, signs: bool, remote: str) -> Check:
    """A missing list fails where signing is required, is advice when this clone signs, and is no fault else."""
    if not (required or signs) and trust.allowed_oid is None:
        return Check("trust list", True, f"none on {trust.source or 'the default branch'}: fine while this clone "
                     "does not sign (signatures by others show untrusted)", required=False)
    if trust.source is None:
        return Check("trust list", False, f"no default branch to read {TRUST_FILE} from (refs/remotes/{remote}/HEAD, "
                     "main, master): every signature counts as untrusted",
                     f"git fetch {remote} && git remote set-head {remote} --auto", required=required)
    if trust.allowed_oid is None:
        return Check("trust list", False, f"no {TRUST_FILE} on {trust.source} (as of the last fetch): every "
                     "signature counts as untrusted", f"commit {TRUST_FILE} on the default branch (gitclaim init "
                     "--signing-key FILE prints a key's line for it)", required=required)
    count = len(trust.principals())
    revoked = f", revocations in {REVOKED_FILE}" if trust.revoked_oid else ""
    return Check("trust list", True, f"{count} principal{'s' if count != 1 else ''} in {TRUST_FILE} on "
                 f"{trust.source}{revoked} (as of the last fetch)", required=required)


def _trusted(store: Store, trust: TrustList, public: str, principal: str | None, required: bool) -> Check:
    if principal is not None:
        return Check("trusted key", True, f"this clone's key is in the trust list as {principal}: its claims show "
                     f"good ({principal})", required=required)
    from gitclaim.missions.signkeys import principal_for

    try:
        name = principal_for(store.repo, None)
    except GitclaimError:
        name = "<principal>"
    void = ", and void: this repository requires signed claims" if required else ""
    where = trust.source or "the default branch"
    return Check("trusted key", False, f"this clone's key is not in the trust list on {where}: its claims show "
                 f"untrusted{void}", f"add this line to {TRUST_FILE} on the default branch: {name} {public}",
                 required=required)


def _accepted(signer: Signer, trust: TrustList, principal: str, required: bool) -> Check:
    """Listed is not enough: the line's options (valid-after, valid-before, namespaces) and the revocation list
    decide whether a signature made now is good."""
    try:
        signer.check_against(trust.allowed, principal, trust.revoked)
    except SigningError as err:
        return Check("trusted now", False, f"{err}: its new claims show untrusted or bad",
                     f"check the options on its line in {TRUST_FILE} (valid-after, valid-before, namespaces) and "
                     f"{REVOKED_FILE}, or set up another key: {SETUP}", required=required)
    return Check("trusted now", True, f"a signature made now verifies as {principal} against the trust list and "
                 "its revocations", required=required)


def _short(public: str) -> str:
    kind, _, data = public.partition(" ")
    return f"{kind} ...{data[-12:]}"
