"""``python -m pytest_prodready.datasets [FOLDER]``: (re)write the shipped graph datasets."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from .knowledge_graph import write_datasets


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line first, so ``--help`` or a bad option writes nothing."""
    parser = argparse.ArgumentParser(
        prog="python -m pytest_prodready.datasets",
        description="Write graph_clean.json and graph_faults.json, the reference graphs with seeded faults.",
    )
    parser.add_argument("folder", nargs="?", type=Path, default=Path("."), help="where to write them (default: .)")
    options = parser.parse_args(argv)
    options.folder.mkdir(parents=True, exist_ok=True)
    for path in write_datasets(options.folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
