"""Stash keys: where the plugin keeps its state on pytest's config and items."""

from __future__ import annotations

from typing import Any

import pytest

from .gates.evaluation import GateOutcome
from .gates.latency import LatencyRecorder
from .gates.thresholds import GateSpec
from .load.results import LoadResult
from .load.thresholds import LoadSpec
from .report.redaction import Redactor
from .run_state import RunState
from .settings import Settings

SETTINGS_KEY = pytest.StashKey[Settings]()
STATE_KEY = pytest.StashKey[RunState]()
OVERHEAD_KEY = pytest.StashKey[dict[Any, float]]()
GATE_KEY = pytest.StashKey[tuple[GateSpec, LatencyRecorder]]()
FIGURES_KEY = pytest.StashKey[dict[str, Any]]()
INFO_KEY = pytest.StashKey[dict[str, Any]]()
LOAD_KEY = pytest.StashKey[tuple[LoadSpec, LoadResult]]()
REDACTOR_KEY = pytest.StashKey[Redactor]()
CANARY_KEY = pytest.StashKey[GateOutcome]()
BUILT_TARGET_KEY = pytest.StashKey[object]()  # the adapter the ``target`` fixture built, to tell it from an override
