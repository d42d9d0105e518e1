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
from typing import Any, Callable


_INDENT = "  "
_LINE_DEPTH = 2  # objects and lists this shallow get a line per item; deeper ones stay on their item's line
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)  # not public API: see one_line_encoder


def dumps(document: Any, *, sort_keys: bool = False) -> str:
    """JSON a reader can scan: the top levels indented, each deeper value (a case, a category) on one line.

    ``json.dumps(indent=...)`` uses the pure-Python encoder, which took most
    of a 2,000-case report's writing time; each one-line value here is
    written by the C encoder.
    """
    compact = one_line_encoder(sort_keys)

    def layout(value: Any, depth: int) -> str:
        if depth >= _LINE_DEPTH or not isinstance(value, (dict, list, tuple)) or not value:
            return compact(value)
        inner = _INDENT * (depth + 1)
        if isinstance(value, dict):
            items = sorted(value.items()) if sort_keys else value.items()
            lines = [f"{inner}{compact(_key(key))}: {layout(item, depth + 1)}" for key, item in items]
            return "{\n" + ",\n".join(lines) + "\n" + _INDENT * depth + "}"
        lines = [f"{inner}{layout(item, depth + 1)}" for item in value]
        return "[\n" + ",\n".join(lines) + "\n" + _INDENT * depth + "]"

    return layout(document, 0)


def one_line_encoder(sort_keys: bool) -> Callable[[Any], str]:
    """``JSONEncoder(separators=(", ", ": "), default=str).encode``, with its C encoder made once.

    ``encode`` makes a new C encoder for every value it is given: about 2 µs
    each, once per case of a 2,000-case report.  ``json.encoder.c_make_encoder``
    is not public API: where it is missing, takes other arguments or writes
    anything else than ``encode`` for a probe value, every value goes through
    ``encode`` as before (tests/test_json_files.py checks both paths agree).
    """
    encoder = json.JSONEncoder(separators=(", ", ": "), sort_keys=sort_keys, default=str)
    if _C_MAKE_ENCODER is None:
        return encoder.encode
    try:
        made = _C_MAKE_ENCODER({}, encoder.default, json.encoder.encode_basestring_ascii, None, ": ", ", ", sort_keys, False, True)

        def encode(value: Any) -> str:
            return "".join(made(value, 0))

        if encode(_PROBE) != encoder.encode(_PROBE):
            return encoder.encode
    except Exception:  # another signature or behaviour: the public path
        return encoder.encode
    return encode


# Every kind of value a report holds, for the check above: nesting, floats, non-ASCII text, a value only str() turns into JSON.
_PROBE = {"b": [1, 2.5, -0.0, 1e300, None, True, False], "a": {"é\n\"": "\u2603\x00", "3": ()}, "c": Path("p")}


def _key(key: Any) -> str:
    """A key as ``json.dumps`` turns it into a string (``True`` -> ``"true"``, ``1`` -> ``"1"``)."""
    return key if isinstance(key, str) else json.dumps(key)


def write_json_atomically(path: Path, document: Any, *, sort_keys: bool = False) -> Path:
    """Write ``document`` as JSON (:func:`dumps`) to ``path`` via a rename; return the resolved path."""
    text = dumps(document, sort_keys=sort_keys) + "\n"
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
