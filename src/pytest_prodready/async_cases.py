"""``async def`` readiness cases run in a fresh project: the plugin marks them for pytest-asyncio.

pytest-asyncio's default (strict) mode runs a coroutine test only when it
carries ``@pytest.mark.asyncio``; without it pytest fails the case with
"async def functions are not natively supported", which a readiness run would
count as a product failure.  A coroutine readiness case
(:func:`..readiness_case.is_readiness_case`) or a coroutine test using one
of the plugin's session-loop fixtures, with no asyncio marker of its own,
gets ``asyncio(loop_scope="session")``: the loop the session-scoped ``target`` and
``sqlite_db`` fixtures live on.
"""

from __future__ import annotations

import inspect
from types import FunctionType
from typing import Any, Iterable

import pytest

from .readiness_case import is_readiness_case

# The plugin's fixtures a coroutine test awaits on the session's loop, readiness case or not.
SESSION_LOOP_FIXTURES = (
    "target", "sqlite_db", "consistency", "latency", "api_readiness", "load_runner", "canary", "canary_pair",
    "reference_app", "readiness_figures",
)
SESSION_LOOP = pytest.mark.asyncio(loop_scope="session")


def _needs_the_session_loop(item: pytest.Function) -> bool:
    """A readiness case, or a test that uses one of the plugin's session-loop fixtures."""
    return is_readiness_case(item) or any(name in SESSION_LOOP_FIXTURES for name in getattr(item, "fixturenames", ()))


def may_be_coroutine_test(obj: object) -> bool:
    """False for a plain ``def`` function, nearly every test: its items need no look.

    The items of a function are that function (bound, for a method), so a
    plain function that is no coroutine function yields no coroutine test;
    anything else (a coroutine function, a class, a staticmethod) is looked at.
    The code flag is what ``inspect.iscoroutinefunction`` reads for a plain
    function, without its five calls per test; a function marked with
    ``inspect.markcoroutinefunction`` (Python 3.12) is looked at too.
    """
    return (
        not isinstance(obj, FunctionType)
        or bool(obj.__code__.co_flags & inspect.CO_COROUTINE)
        or hasattr(obj, "_is_coroutine_marker")
    )


def mark_async_cases(collected: Any) -> None:
    """Add the asyncio marker to each collected coroutine readiness case that lacks one."""
    nodes: Iterable[Any] = collected if isinstance(collected, (list, tuple)) else (collected,)
    for node in nodes:
        if not isinstance(node, pytest.Function) or not inspect.iscoroutinefunction(node.obj):
            continue  # the common case first: an ordinary test costs one look
        if node.get_closest_marker("asyncio") is None and _needs_the_session_loop(node):
            node.add_marker(SESSION_LOOP)
