"""The two services a canary compares: the live baseline and the candidate.

``--prodready-baseline-url`` and ``--prodready-target-url`` name them; their
API keys come from the environment only (``PRODREADY_API_KEY``, and
``PRODREADY_BASELINE_API_KEY`` when the baseline's differs), so they never
appear on a command line or in a report.  With neither URL, two identical
embedded reference apps stand in, so the canary suite runs on a fresh machine.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from ..load.locust_process import API_KEY_ENV
from ..net.server import reference_server
from .options import MISSING_TARGET

BASELINE_API_KEY_ENV = "PRODREADY_BASELINE_API_KEY"


class PairError(ValueError):
    """The options name only one side of the comparison."""


@dataclass(frozen=True)
class Endpoint:
    """One side: where it listens and the key it wants (never reported)."""

    url: str
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CanaryPair:
    """Baseline and candidate."""

    baseline: Endpoint
    candidate: Endpoint


def from_urls(baseline_url: str | None, target_url: str | None, environ: Mapping[str, str]) -> CanaryPair | None:
    """The user's pair, None when neither URL is given; one without the other is an error."""
    if not baseline_url and not target_url:
        return None
    if not baseline_url:
        raise PairError(
            "the canary needs a live baseline to compare with: pass --prodready-baseline-url URL "
            "(or neither URL, to compare two embedded reference apps)"
        )
    if not target_url:
        raise PairError(MISSING_TARGET)
    candidate_key = environ.get(API_KEY_ENV) or None
    baseline_key = environ.get(BASELINE_API_KEY_ENV) or candidate_key
    return CanaryPair(Endpoint(baseline_url, baseline_key), Endpoint(target_url, candidate_key))


@contextmanager
def embedded_pair(workdir: Path, volume: Mapping[str, int] | None = None) -> Iterator[CanaryPair]:
    """Two reference apps built alike on loopback: what an unchanged release looks like."""
    with ExitStack() as stack:
        apps = [
            stack.enter_context(reference_server(workdir / name, volume=volume))
            for name in ("canary-baseline", "canary-candidate")
        ]
        yield CanaryPair(*(Endpoint(app.base_url, app.api_key) for app in apps))
