"""Imports every command module so that each registers its commands on the app."""

from gitclaim.cli import missions  # noqa: F401
from gitclaim.cli import policy  # noqa: F401
from gitclaim.cli import work  # noqa: F401
from gitclaim.cli import tasks_cmds  # noqa: F401
from gitclaim.cli import guard_cmds  # noqa: F401
from gitclaim.cli import lifecycle_cmds  # noqa: F401
from gitclaim.cli import doctor_cmd  # noqa: F401
