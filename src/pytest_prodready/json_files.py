"""Writing JSON files so that a reader never sees half of one.

Reports and baselines are read by other processes (a CI gate, the next run);
writing to a temporary name and renaming makes each write all-or-nothing.
The rename only ever replaces a regular file: a symlink keeps pointing where
it did (its target is replaced), and a character device such as
``/dev/null`` is written through, never replaced by a file.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any


def write_json_atomically(path: Path, document: Any, *, sort_keys: bool = False) -> Path:
    """Write ``document`` as indented JSON to ``path`` via a rename; return the resolved path."""
    text = json.dumps(document, indent=2, sort_keys=sort_keys, default=str) + "\n"
    target = Path(os.path.realpath(path))  # through symlinks: the link stays, its target is written
    if _is_character_device(target):
        with target.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)  # gone after the rename; after a failure, no leftover
    return target


def _is_character_device(path: Path) -> bool:
    try:
        return stat.S_ISCHR(path.stat().st_mode)
    except OSError:
        return False
