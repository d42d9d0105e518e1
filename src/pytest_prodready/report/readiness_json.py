"""The JSON report: the verdict and every case's figures, in a versioned schema.

The schema lives beside this module (``readiness.schema.json``); bump
``SCHEMA_VERSION`` with any change a CI gate reading the file would notice.
"""

from __future__ import annotations

import platform
import sqlite3
import sys
import time
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import deselection, systems
from ..records import CaseResult
from ..run_state import RunState
from ..settings import Settings
from .redaction import Redactor

SCHEMA_VERSION = "1.4"
SCHEMA_PATH = Path(__file__).with_name("readiness.schema.json")
_CASE_FIELDS = tuple(field.name for field in fields(CaseResult))


def build_document(state: RunState, settings: Settings, redactor: Redactor) -> dict[str, Any]:
    """Everything the run decided and measured, as JSON-ready data."""
    verdict = state.verdict
    assert verdict is not None
    finished = time.time()
    cases = [_case(record) for record in state.ordered_records()]  # figures were masked as they arrived
    touched = systems.of_cases(cases)
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": {
            "decision": verdict.label,
            "headline": verdict.headline,
            "go": verdict.go,
            "incomplete": verdict.incomplete,
            "blocked": verdict.blocked,
            "reasons": [redactor.text(r) for r in verdict.reasons],
            "failing_cases": [r.nodeid for r in verdict.failing],
            "warnings": [{"nodeid": r.nodeid, "message": redactor.text(r.message)} for r in verdict.warnings],
        },
        "categories": [
            {
                "domain": t.domain,
                "category": t.category,
                "required": t.required,
                "passed": t.passed,
                "warned": t.warned,
                "failed": t.failed,
                "errors": t.errors,
                "skipped": t.skipped,
                "unsupported": t.unsupported,
                "waived": t.waived,
                "on_reference": t.on_reference,
                "pass_rate": round(t.pass_rate, 2),
                "ready": t.ready,
            }
            for t in verdict.categories
        ],
        "cases": cases,
        "deselected": deselection.unrequired(state.deselected, settings.requirements),
        **({"baseline_suite": redactor.value(state.baseline_suite)} if state.baseline_suite else {}),
        "environment": {
            **redactor.value(
                {
                    "profile": settings.profile,
                    "target": systems.used_factory(touched, settings.target),
                    "sqlite": str(settings.sqlite) if settings.sqlite else None,
                }
            ),
            "systems": touched,
            "python": platform.python_version(),
            "sqlite_library": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "versions": _versions(),
            "started_at": _iso(state.started_at),
            "finished_at": _iso(finished),
            "duration_s": round(finished - state.started_at, 3),
            "workers": state.workers,
        },
    }


def _case(record: CaseResult) -> dict[str, Any]:
    """The record's fields; its figures are plain data already and no longer change once the run is judged,
    so the document holds them as they are (``asdict`` deep-copied every figure, a large share of a
    2,000-case report's cost, and every copy is one more object for the garbage collector to walk)."""
    return {name: getattr(record, name) for name in _CASE_FIELDS}


# The distributions the report names, each with the module whose ``__version__`` stands for it once this
# run has loaded it (None: always ask the metadata): each ``metadata.version`` call scans every folder of
# sys.path (about 2 ms of CPU each).
_VERSION_MODULES = {
    "pytest-prodready": None, "pytest": "pytest", "pytest-html": "pytest_html", "pytest-xdist": "xdist", "aiosqlite": "aiosqlite",
}


def _versions() -> dict[str, str]:
    found = {}
    for dist, module in _VERSION_MODULES.items():
        loaded = getattr(sys.modules.get(module), "__version__", None) if module else None
        if isinstance(loaded, str):
            found[dist] = loaded
            continue
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
