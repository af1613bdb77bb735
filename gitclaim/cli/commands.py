"""Imports every command module so that each registers its commands on the app (for --help, an unknown name or
no name). The order is the order in which `gitclaim --help` lists the commands."""

import importlib

for _module in ("mission_cmds", "board_cmds", "commits", "completion_cmd", "corrections", "doctor_cmd", "guard_cmds",
                "hooks_cmds", "transfer_cmds", "workflow_cmds", "session_cmds", "verify_cmd"):
    importlib.import_module(f"gitclaim.cli.{_module}")
