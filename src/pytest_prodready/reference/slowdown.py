"""Test knob: a reference service whose every operation takes a set share longer.

The regression gates need a target that is known to be slower (a
"regressed release") to measure their detection: ``slow_down(service, 0.3)``
holds each operation back by 30 % of its own time after it finished, so the
slowed target is 30 % slower in every gated operation, tail included.  The
embedded target reads the share from ``PRODREADY_REFERENCE_SLOWDOWN``; the
HTTP app has the same knob as ``--slowdown`` (:class:`.middleware.Slowdown`).
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from typing import Any, Awaitable, Callable, Mapping

SLOWDOWN_ENV = "PRODREADY_REFERENCE_SLOWDOWN"
SPIN_S = 0.002  # the last stretch of a hold, spun instead of slept
KEPT_AS_IS = ("close",)


def slowdown_from(environ: Mapping[str, str]) -> float:
    """The share in ``PRODREADY_REFERENCE_SLOWDOWN`` (0 when unset); a bad value says which and why."""
    text = environ.get(SLOWDOWN_ENV, "").strip()
    if not text:
        return 0.0
    try:
        factor = float(text)
    except ValueError:
        factor = math.nan
    if not (math.isfinite(factor) and 0.0 <= factor <= 10.0):
        raise ValueError(f"{SLOWDOWN_ENV}: expected a share between 0 and 10 such as 0.3 (30 % slower), got {text!r}")
    return factor


def slow_down(service: Any, factor: float, methods: tuple[str, ...]) -> Any:
    """Wrap ``service``'s coroutine ``methods`` in place, so each takes ``1 + factor`` times its own time."""
    if factor:
        for name in methods:
            if name not in KEPT_AS_IS:
                setattr(service, name, _slowed(getattr(service, name), factor))
    return service


def _slowed(method: Callable[..., Awaitable[Any]], factor: float) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def slowed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = await method(*args, **kwargs)
        await hold((time.perf_counter() - started) * factor)
        return result

    return slowed


async def hold(seconds: float) -> None:
    """Sleep ``seconds`` precisely: asyncio's timers round up to whole milliseconds.

    The coarse part sleeps; the last two milliseconds yield to the loop in a
    tight loop, so a 0.3 ms hold is 0.3 ms, not 1 ms.
    """
    end = time.perf_counter() + seconds
    if seconds > SPIN_S:
        await asyncio.sleep(seconds - SPIN_S)
    while time.perf_counter() < end:
        await asyncio.sleep(0)
