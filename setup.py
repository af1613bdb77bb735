"""The build step that pyproject.toml cannot express: the man pages.

`gitclaim.1` and `git-claim.1` are generated from the commands' own help (gitclaim/cli/manpage.py) while the
package is built, and installed as data files under `<prefix>/share/man/man1`: in a virtual environment that is
`<venv>/share/man/man1`, which `man` finds from the venv's `bin` on PATH, so `man gitclaim` and
`git claim --help` (git runs `man git-claim`) work there as in a system install. Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
MAN_DIR = "build/man"  # relative to this file, where setuptools reads data_files from
PAGES = [f"{MAN_DIR}/gitclaim.1", f"{MAN_DIR}/git-claim.1"]


class BuildWithManPages(build_py):
    def run(self) -> None:
        super().run()
        sys.path.insert(0, str(HERE))  # the package being built, not an installed gitclaim
        from gitclaim.cli.manpage import write_pages

        write_pages(HERE / MAN_DIR)


setup(cmdclass={"build_py": BuildWithManPages}, data_files=[("share/man/man1", PAGES)])
