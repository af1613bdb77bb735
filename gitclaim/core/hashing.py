"""Hash functions without `hashlib`: importing it loads the OpenSSL binding, about 5 ms of every start-up of the
hot commands, for hashes (SHA-1, SHA-256, BLAKE2b) that Python's own built-in modules compute as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def hasher(name: str) -> Callable[..., Any]:
    """The constructor of hash `name` ("sha1", "sha256" or "blake2b"), as `hashlib.<name>` would give it."""
    try:
        if name == "sha1":
            from _sha1 import sha1

            return sha1
        if name == "sha256":
            from _sha256 import sha256

            return sha256
        from _blake2 import blake2b

        return blake2b
    except ImportError:  # a Python built without its own hash modules
        import hashlib

        return getattr(hashlib, name)
