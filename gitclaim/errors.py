"""Typed failures of the library core.

The core never prints and never exits: it raises one of these, and the CLI (or the MCP server) turns it into
one line and an exit code. The codes are documented in docs/exit-codes.md.
"""

from __future__ import annotations

OK = 0
ERROR = 1
USAGE = 2
CONFLICT = 3
NOT_FOUND = 4
NOTHING_READY = 5
REMOTE = 6
POLICY = 7
TIMED_OUT = 8
OUTPUT = 9  # the command ran, but its output could not be written (`>/dev/full`, `>&-`)
NAMESPACE = 10
SIGNATURE = 11  # a commit could not be signed, or `verify` found a signature that is not good


class GitclaimError(Exception):
    """Base of every expected failure; `str(err)` is the one line shown to the user. `details` are facts a
    program may want beside the line (the holder of a refused claim, a policy's violations): the CLI puts
    them into the `--json` error object (docs/json.md)."""

    exit_code = ERROR

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message)
        self.details = details


# The `kind` of an error in `--json` output, by exit code: a stable word for each code of docs/exit-codes.md.
KINDS = {ERROR: "error", USAGE: "usage", CONFLICT: "conflict", NOT_FOUND: "not_found",
         NOTHING_READY: "nothing_ready", REMOTE: "remote", POLICY: "policy", TIMED_OUT: "timed_out",
         OUTPUT: "output", NAMESPACE: "namespace_mismatch", SIGNATURE: "signature"}


class InvalidInput(GitclaimError):
    """Bad id, bad option value, unreadable file: nothing was sent to git."""

    exit_code = USAGE


class Conflict(GitclaimError):
    """Held by another, lost a race, id exists, claim lost (fenced)."""

    exit_code = CONFLICT


class NotFound(GitclaimError):
    exit_code = NOT_FOUND


class NothingReady(GitclaimError):
    exit_code = NOTHING_READY


class RemoteError(GitclaimError):
    """The remote could not be reached, timed out, or refused a push for a reason other than a lost race."""

    exit_code = REMOTE


class PolicyViolation(GitclaimError):
    """A commit message (or text bound for one) breaks the repository's commit policy."""

    exit_code = POLICY


class TimedOut(GitclaimError):
    """`watch --timeout`: the condition did not hold in time (nothing is wrong, nothing was written)."""

    exit_code = TIMED_OUT


class NamespaceMismatch(GitclaimError):
    """This clone was set up for another mission namespace than the committed .gitclaim.yaml names."""

    exit_code = NAMESPACE


class NotARepository(GitclaimError):
    exit_code = USAGE


class CorruptMission(GitclaimError):
    """A mission's tip does not hold a mission.md this version can read."""

    exit_code = ERROR


class SigningError(GitclaimError):
    """A mission commit could not be signed (no usable key, ssh-keygen failed), or signatures did not verify."""

    exit_code = SIGNATURE
