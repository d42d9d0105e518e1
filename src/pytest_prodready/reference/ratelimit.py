"""Token-bucket rate limiting per client identity (an API key, or an address when anonymous)."""

from __future__ import annotations

import math
import time
from typing import Callable, Hashable

MAX_IDENTITIES = 10_000


class TokenBucket:
    """``capacity`` requests at once, refilled at ``rate`` per second."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def full_at(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate >= self.capacity


class RateLimiter:
    """One bucket per identity; idle, refilled buckets are dropped when the table grows large."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._buckets: dict[Hashable, TokenBucket] = {}

    def wait_s(self, identity: Hashable, rate: float, capacity: float) -> float:
        now = self._clock()
        bucket = self._buckets.get(identity)
        if bucket is None:
            if len(self._buckets) >= MAX_IDENTITIES:
                self._sweep(now)
            bucket = self._buckets[identity] = TokenBucket(rate, capacity, now)
        return bucket.take(now)

    def _sweep(self, now: float) -> None:
        for identity in [i for i, b in self._buckets.items() if b.full_at(now)]:
            del self._buckets[identity]


def retry_after(wait_s: float) -> str:
    """``Retry-After`` takes whole seconds: round up, never 0."""
    return str(max(1, math.ceil(wait_s)))
