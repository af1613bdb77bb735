"""A measuring stick, not gitclaim code: check the ssh signatures of mission tips inside one Python process.

    python3 benchmarks/sigcheck.py ALLOWED_SIGNERS   (in a clone; prints "<good> <other>" counts)

git checks an ssh-signed commit by running ssh-keygen twice (`-Y find-principals`, then `-Y verify`), so checking
N commits starts 2N processes. This script does what those two do for ed25519 keys (the SSHSIG format of
OpenSSH's PROTOCOL.sshsig: the signed blob is "SSHSIG", namespace, reserved, hash name and the hash of the
message) with the `cryptography` package, over commits read by one for-each-ref and one cat-file. It supports
only what the `signing` suite builds: ed25519 keys, namespace "git", no allowed-signers options, no revocation
list. It shows what the check costs without the processes.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import subprocess
import sys
from pathlib import Path

MAGIC = b"SSHSIG"


def _string(buf: bytes, pos: int) -> tuple[bytes, int]:
    (n,) = struct.unpack(">I", buf[pos:pos + 4])
    return buf[pos + 4:pos + 4 + n], pos + 4 + n


def _pack(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def split_commit(body: bytes) -> tuple[bytes, bytes | None]:
    """(the commit as signed, i.e. without its gpgsig header; the armored signature or None)."""
    header, sep, message = body.partition(b"\n\n")
    kept, sig, lines = [], [], header.split(b"\n")
    in_sig = False
    for line in lines:
        if line.startswith(b"gpgsig "):
            in_sig = True
            sig.append(line[len(b"gpgsig "):])
        elif in_sig and line.startswith(b" "):
            sig.append(line[1:])
        else:
            in_sig = False
            kept.append(line)
    return b"\n".join(kept) + sep + message, (b"\n".join(sig) if sig else None)


def check(payload: bytes, armored: bytes, keys: dict[bytes, str]) -> str | None:
    """The principal whose listed ed25519 key made this signature over `payload`, else None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = b"".join(line for line in armored.split(b"\n") if line and not line.startswith(b"-----"))
    blob = base64.b64decode(text)
    if not blob.startswith(MAGIC):
        return None
    pos = len(MAGIC) + 4
    pub, pos = _string(blob, pos)
    namespace, pos = _string(blob, pos)
    reserved, pos = _string(blob, pos)
    hash_name, pos = _string(blob, pos)
    sig, pos = _string(blob, pos)
    principal = keys.get(pub)
    if principal is None or namespace != b"git":
        return None
    digest = hashlib.new(hash_name.decode(), payload).digest()
    signed = MAGIC + _pack(namespace) + _pack(reserved) + _pack(hash_name) + _pack(digest)
    key_type, p = _string(pub, 0)
    raw_key, _ = _string(pub, p)
    sig_type, p = _string(sig, 0)
    raw_sig, _ = _string(sig, p)
    if key_type != b"ssh-ed25519" or sig_type != b"ssh-ed25519":
        return None
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_sig, signed)
    except InvalidSignature:
        return None
    return principal


def main() -> int:
    keys = {}
    for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) >= 3:
            keys[base64.b64decode(words[2])] = words[0]
    oids = subprocess.run(["git", "for-each-ref", "--format=%(objectname)", "refs/missions/"], check=True,
                          capture_output=True).stdout
    data = subprocess.run(["git", "cat-file", "--batch"], input=oids, check=True, capture_output=True).stdout
    good = other = pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        size = int(data[pos:end].split()[2])
        body = data[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
        payload, armored = split_commit(body)
        if armored is not None and check(payload, armored, keys):
            good += 1
        else:
            other += 1
    print(good, other)
    return 0


if __name__ == "__main__":
    sys.exit(main())
