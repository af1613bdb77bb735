"""Signing the commits gitclaim writes with an ssh key, the way `git commit -S` does with `gpg.format=ssh`.

The key is the clone's choice (docs/signing.md): `GITCLAIM_SIGNING_KEY`, else `git config gitclaim.signingKey`,
else git's own `user.signingKey` when `gpg.format` is `ssh`. It is a private key file, a public key file whose
private half is in the ssh agent, or git's `key::<public key>` literal (also in the agent). A signature is made by
`ssh-keygen -Y sign -n git` over the commit exactly as git would sign it, and stored in the commit's `gpgsig`
header, so git, GitHub, GitLab, Gitea and Bitbucket verify it like any signed commit.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from gitclaim.errors import InvalidInput, SigningError

KEY_ENV = "GITCLAIM_SIGNING_KEY"
KEY_CONFIG = "gitclaim.signingKey"
LITERAL = "key::"
NAMESPACE = "git"  # the namespace git signs and verifies commits in
CHECK_PRINCIPAL = "gitclaim-check"
TIMEOUT = 30.0  # an agent asking for confirmation must not hang a command for ever


class Signer(NamedTuple):
    """A key to sign with and where it was named (for messages)."""

    key: str  # a file path, or `key::<type> <base64>`
    source: str

    @property
    def literal(self) -> bool:
        return self.key.startswith(LITERAL)

    def public_key(self) -> str:
        """`<type> <base64>` of the key: from the literal, the .pub file, or asked of ssh-keygen."""
        if self.literal:
            return _key_words(self.key[len(LITERAL):])
        path = Path(self.key)
        pub = path if path.suffix == ".pub" else Path(f"{self.key}.pub")
        try:
            return _key_words(pub.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SigningError):
            if pub == path:
                raise SigningError(f"cannot read the public key {self.describe()}") from None
        out = _ssh_keygen(["-y", "-f", self.key], b"", self)  # the private key alone: derive its public half
        return _key_words(out.decode("utf-8", "replace"))

    def sign(self, payload: bytes) -> str:
        """The armored ssh signature of `payload` (`-----BEGIN SSH SIGNATURE-----` ...)."""
        if self.literal:
            with tempfile.NamedTemporaryFile("w", suffix=".pub", encoding="utf-8") as pub:
                pub.write(self.key[len(LITERAL):] + "\n")
                pub.flush()
                return _sign(pub.name, payload, self, agent=True)
        return _sign(self.key, payload, self, agent=False)

    def describe(self) -> str:
        return f"{self.key} ({self.source})"

    def check(self) -> str:
        """Sign a payload and verify the signature against this key's public half, as a reader of a mission
        commit would; the public key (`<type> <base64>`). Raises SigningError saying what is wrong."""
        public = self.public_key()
        try:
            self.check_against(f"{CHECK_PRINCIPAL} {public}\n".encode(), CHECK_PRINCIPAL, None)
        except SigningError as err:
            if "does not accept" not in str(err):
                raise
            raise SigningError(f"the signature made with {self.describe()} does not verify with its public "
                               f"key {public[:40]}...: the .pub file is not the private key's") from None
        return public

    def check_against(self, allowed: bytes, principal: str, revoked: bytes | None) -> None:
        """Sign a payload now and have ssh-keygen verify it as `principal` of the allowed-signers text `allowed`
        (with the revocation list `revoked`): what a trust list's options (valid-before, namespaces) and
        revocations say of this key today. Raises SigningError when it does not verify."""
        payload = b"gitclaim signing check\n"
        signature = self.sign(payload)
        with tempfile.TemporaryDirectory(prefix="gitclaim-sign-") as tmp:
            files = Path(tmp)
            (files / "allowed_signers").write_bytes(allowed)
            (files / "payload.sig").write_text(signature, encoding="ascii")
            args = ["-Y", "verify", "-f", str(files / "allowed_signers"), "-I", principal, "-n", NAMESPACE,
                    "-s", str(files / "payload.sig")]
            if revoked is not None:
                (files / "revoked_signers").write_bytes(revoked)
                args += ["-r", str(files / "revoked_signers")]
            try:
                _ssh_keygen(args, payload, self)
            except SigningError as err:
                reason = str(err.details.get("reason", ""))
                reason = reason.split("allowed_signers:", 1)[-1].lstrip("0123456789: ")  # no temporary path
                if reason == "ssh-keygen failed":  # it says nothing more of a revoked key or a refused line
                    reason = "the key is revoked, or its line does not allow git signatures"
                raise SigningError(f"the trust list does not accept a signature by {self.describe()} as "
                                   f"{principal}: {reason}") from None


def signer_from(get: Callable[[str], str | None], env: Mapping[str, str], cwd: Path) -> Signer | None:
    """The clone's signing key, or None when it has none; relative paths are taken from `cwd`, a leading `~`
    from the home directory (as git does for user.signingKey)."""
    for value, source in ((env.get(KEY_ENV), f"environment variable {KEY_ENV}"),
                          (get(KEY_CONFIG), f"git config {KEY_CONFIG}")):
        if value:
            return Signer(_path(value, cwd), source)
    if (get("gpg.format") or "").lower() == "ssh":
        value = get("user.signingKey")
        if value:
            return Signer(_path(value, cwd), "git config user.signingKey")
    return None


def generate_key(path: Path, comment: str) -> None:
    """A new ed25519 key without a passphrase at `path` (mode 0600) and `path.pub`, for an agent that signs
    without a person. Never overwrites: the key is made in a private directory beside it and each file is then
    created exclusively, so an existing file (or one that appears meanwhile) is left alone."""
    for target in (path, Path(f"{path}.pub")):
        if target.exists() or target.is_symlink():
            raise InvalidInput(f"{target} already exists: gitclaim never overwrites a key; use it with "
                               f"gitclaim init --signing-key {path}, or name a new file")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot create a key at {path}: the directory {path.parent} does not exist")
    signer = Signer(str(path), "--new-signing-key")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".gitclaim-key-", dir=path.parent))
    except OSError as err:
        raise SigningError(f"cannot create a key in {path.parent}: {err.strerror}") from None
    try:
        made = tmp / "key"
        _ssh_keygen(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(made)], b"", signer, output=False)
        _create(path, made.read_bytes(), 0o600)
        try:
            _create(Path(f"{path}.pub"), made.with_suffix(".pub").read_bytes(), 0o644)
        except BaseException:
            path.unlink()
            raise
    finally:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()


def _create(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise InvalidInput(f"{path} already exists: gitclaim never overwrites a key; name a new file") from None
    except OSError as err:
        raise SigningError(f"cannot create {path}: {err.strerror}") from None
    try:
        os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, data)
    finally:
        os.close(fd)


def signed_commit(header: bytes, message: bytes, signer: Signer) -> bytes:
    """The commit object's body with `signer`'s signature in a gpgsig header, as git writes it: the signature
    covers the unsigned commit, and each of its lines after the first is indented by one space."""
    signature = signer.sign(header + b"\n" + message).rstrip("\n")
    return header + b"gpgsig " + signature.replace("\n", "\n ").encode("ascii") + b"\n\n" + message


def _path(value: str, cwd: Path) -> str:
    if value.startswith(LITERAL):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else cwd / path)


def _key_words(text: str) -> str:
    """`<type> <base64>` of the first key in `text`, without its comment."""
    words = text.strip().split()
    if len(words) < 2:
        raise SigningError(f"not an ssh public key: {text.strip()[:60]!r}")
    return f"{words[0]} {words[1]}"


def _sign(key_file: str, payload: bytes, signer: Signer, *, agent: bool) -> str:
    args = ["-Y", "sign", "-n", NAMESPACE, "-f", key_file, *(["-U"] if agent else [])]
    return _ssh_keygen(args, payload, signer).decode("ascii", "replace")


def _ssh_keygen(args: list[str], payload: bytes, signer: Signer, *, output: bool = True) -> bytes:
    """Run ssh-keygen with `payload` on stdin. It never prompts: it runs in a session of its own, without the
    terminal, so a key with a passphrase and no agent fails at once instead of waiting for a person."""
    env = {**os.environ, "SSH_ASKPASS_REQUIRE": "never"}
    try:
        proc = subprocess.run(["ssh-keygen", *args], input=payload, capture_output=True, timeout=TIMEOUT,
                              env=env, start_new_session=True, check=False)
    except FileNotFoundError:
        raise SigningError("cannot sign: ssh-keygen is not installed or not on PATH (OpenSSH 8.2 or later "
                           "signs git commits)") from None
    except subprocess.TimeoutExpired:
        raise SigningError(f"cannot sign with {signer.describe()}: ssh-keygen did not answer within "
                           f"{TIMEOUT:g}s") from None
    if proc.returncode != 0 or (output and not proc.stdout):
        reason = _reason(proc.stderr, signer.key)
        raise SigningError(f"cannot sign with {signer.describe()}: {reason}; check the key with gitclaim doctor",
                           reason=reason)
    return proc.stdout


def _reason(stderr: bytes, key: str) -> str:
    text = stderr.decode("utf-8", "replace")
    # ssh-keygen's own words for the usual mistakes, told with their fix
    if "passphrase" in text:
        return f"the key has a passphrase and no ssh agent holds it (add it to the agent: ssh-add {key})"
    if "bad permissions" in text or "are too open" in text:
        return f"ssh refuses a private key that others can read (chmod 600 {key})"
    if "invalid format" in text or "error in libcrypto" in text:
        return "the file is not an ssh key"
    if "doesn't match private" in text:
        return f"{key}.pub is not the public half of {key}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith("Signing data on standard input")]
    return useful[-1] if useful else "ssh-keygen failed"
