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

from gitclaim.errors import SigningError

KEY_ENV = "GITCLAIM_SIGNING_KEY"
KEY_CONFIG = "gitclaim.signingKey"
LITERAL = "key::"
NAMESPACE = "git"  # the namespace git signs and verifies commits in
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


def _ssh_keygen(args: list[str], payload: bytes, signer: Signer) -> bytes:
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
    if proc.returncode != 0 or not proc.stdout:
        raise SigningError(f"cannot sign with {signer.describe()}: {_reason(proc.stderr)}; check the key with "
                           "gitclaim doctor")
    return proc.stdout


def _reason(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith("Signing data on standard input")]
    return useful[-1] if useful else "ssh-keygen failed"
