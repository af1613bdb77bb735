"""The one way gitclaim replaces a file in the user's tree: a temporary file, then a rename.

A reader (an editor, an agent, git running a hook) sees the old file or the new one, never half of one. The
temporary file is a dot-name in the same directory by default, so the rename never crosses a file system.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, scratch: Path | None = None) -> None:
    """Replace `path` with `data`. `mode` is the new file's permission bits (default: the current file's, else
    0o644); a read-only file is replaced too, since a rename needs write access to the directory only.
    `scratch` is where the temporary file is made (default: beside `path`). Raises OSError; nothing is left
    behind when it does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=scratch or path.parent, prefix=f".{path.name}.", suffix=".gitclaim-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
