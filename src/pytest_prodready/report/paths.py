"""Report paths are checked before any case runs, not when the reports are written.

A path that names a folder, or lies below a file, used to fail at session end
with a traceback, after a whole run (and an exit code of 1 after a GO).  A
path whose existing part cannot hold a file is a usage error instead; the
writers (``json_files``) then only meet paths they can write.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Mapping


def unwritable_reason(path: Path) -> str | None:
    """Why a report cannot be written at ``path``, or None when it can (as far as can be told up front)."""
    try:
        mode = path.stat().st_mode  # follows a symlink: its target is what gets written
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        return f"cannot use it ({exc.strerror})"
    if mode is not None:
        if stat.S_ISDIR(mode):
            return "is a folder, not a file"
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
            return "is neither a regular file nor a character device (a FIFO, socket or block device)"
        return None
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            return None if parent.is_dir() else f"lies below {parent}, which is not a folder"
    return None


def check_report_paths(paths: Mapping[str, Path | None]) -> str | None:
    """The first ``'<option> <path>: <reason>'`` among the report paths, or None when all can be written."""
    for option, path in paths.items():
        if path is None:
            continue
        reason = unwritable_reason(path)
        if reason is not None:
            shown = str(path) if str(path).isprintable() else repr(str(path))
            return f"{option} {shown}: {reason}"
    return None
