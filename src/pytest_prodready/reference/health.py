"""Dependency health of the reference service: healthy / degraded / unhealthy, each with its response time.

Thresholds follow the source material's alerting levels: a dependency
answering slower than the warning level is degraded, one slower than the
critical level (or failing) is unhealthy, and the service is as healthy as
its worst dependency.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from .connections import fetch_one
from .service import ReferenceService

STATUSES = ("healthy", "degraded", "unhealthy")
WARNING_MS = 2000.0
CRITICAL_MS = 5000.0
DISK_DEGRADED_FREE = 0.10
DISK_UNHEALTHY_FREE = 0.02

Probe = Callable[[], Awaitable[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class HealthLimits:
    """Response times (ms) past which a dependency is degraded, then unhealthy."""

    warning_ms: float = WARNING_MS
    critical_ms: float = CRITICAL_MS


DEFAULT_LIMITS = HealthLimits()


def worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUSES.index, default="healthy")


async def check(service: ReferenceService, limits: HealthLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Run every dependency probe concurrently; the report the /health endpoint returns."""
    probes = _probes(service)
    results = await asyncio.gather(*(_timed(probe, limits) for probe in probes.values()))
    dependencies = dict(zip(probes, results))
    return {
        "status": worst([d["status"] for d in dependencies.values()]),
        "checked_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "dependencies": dependencies,
    }


def _probes(service: ReferenceService) -> dict[str, Probe]:
    async def database() -> tuple[str, dict[str, Any]]:
        async with service.db.read() as conn:
            await fetch_one(conn, "SELECT 1")
        return "healthy", {}

    async def writer() -> tuple[str, dict[str, Any]]:
        async with service.db.write():
            pass
        return "healthy", {}

    async def search_index() -> tuple[str, dict[str, Any]]:
        async with service.db.read() as conn:
            row = await fetch_one(conn, "SELECT COUNT(*) AS n FROM document_index")
        documents = int(row["n"]) if row else 0
        return ("healthy" if documents else "degraded"), {"documents": documents}

    async def disk() -> tuple[str, dict[str, Any]]:
        return _disk_status(Path(service.database_path or ".").parent)

    return {"database": database, "database_writer": writer, "search_index": search_index, "disk": disk}


def _disk_status(folder: Path) -> tuple[str, dict[str, Any]]:
    usage = shutil.disk_usage(folder)
    free = usage.free / usage.total if usage.total else 0.0
    status = "healthy" if free >= DISK_DEGRADED_FREE else "degraded" if free >= DISK_UNHEALTHY_FREE else "unhealthy"
    return status, {"free_ratio": round(free, 4)}


async def _timed(probe: Probe, limits: HealthLimits) -> dict[str, Any]:
    """One probe under the critical time limit; any exception makes the dependency unhealthy."""
    start = time.perf_counter()
    try:
        status, details = await asyncio.wait_for(probe(), limits.critical_ms / 1000.0)
        error = None
    except asyncio.TimeoutError:
        status, details, error = "unhealthy", {}, f"no answer within {limits.critical_ms:g} ms"
    except Exception as exc:  # noqa: BLE001  (a health check reports failures, it does not raise them)
        status, details, error = "unhealthy", {}, f"{type(exc).__name__}: {exc}"
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    if status == "healthy" and elapsed_ms > limits.warning_ms:
        status = "degraded"
    result: dict[str, Any] = {"status": status, "response_time_ms": round(elapsed_ms, 3), **details}
    if error:
        result["error"] = error
    return result
