"""Writing JSON files so that a reader never sees half of one.

Reports and baselines are read by other processes (a CI gate, the next run);
writing to a temporary name and renaming makes each write all-or-nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json_atomically(path: Path, document: Any, *, sort_keys: bool = False) -> Path:
    """Write ``document`` as indented JSON to ``path`` via a rename; return the resolved path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(document, indent=2, sort_keys=sort_keys, default=str) + "\n", encoding="utf-8")
    partial.replace(path)
    return path.resolve()
