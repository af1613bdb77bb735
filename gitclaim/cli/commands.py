"""Imports every command module so that each registers its commands on the app."""

from gitclaim.cli import (
    board_cmds,  # noqa: F401
    commits,  # noqa: F401
    completion_cmd,  # noqa: F401
    corrections,  # noqa: F401
    doctor_cmd,  # noqa: F401
    guard_cmds,  # noqa: F401
    hooks_cmds,  # noqa: F401
    lifecycle_cmds,  # noqa: F401
    missions,  # noqa: F401
    tasks_cmds,  # noqa: F401
    work,  # noqa: F401
)
