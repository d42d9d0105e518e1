"""``python -m pytest_prodready.datasets FOLDER``: (re)write the shipped graph datasets."""

from __future__ import annotations

import sys
from pathlib import Path

from .graph import write_datasets

if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    folder.mkdir(parents=True, exist_ok=True)
    for path in write_datasets(folder):
        print(path)
