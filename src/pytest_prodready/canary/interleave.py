"""Interleaved sampling of two services: A B, B A, A B, ... blocks of requests.

Measuring the baseline for a minute and then the candidate for a minute lets
any drift of the machine (a neighbour's build, a cache warming, a CPU
throttling) land on one side only.  Alternating small blocks spreads it over
both, and swapping who goes first each round cancels an order effect.  The
clock is injected, so tests of this logic never depend on the machine's speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from ..gates.latency import DEFAULT_CLOCK, Clock

BASELINE, CANDIDATE = "baseline", "candidate"
SIDES = (BASELINE, CANDIDATE)
MAX_ERROR_EXAMPLES = 5

# One request, given the seconds left before the deadline (its timeout must not exceed them):
# returns None when it succeeded, else a short description of the error.
Call = Callable[[float], "str | None"]
Progress = Callable[[str], None]
# Given what was measured so far, how many more rounds to run (0: the run is done).
More = Callable[["Interleaved"], int]


@dataclass
class SideSamples:
    """One service's successful latencies and errors, block by block.

    Block i of each side belongs to round i; the comparison draws whole
    rounds, so the blocks are what is kept, and the totals are read off them.
    """

    name: str
    block_samples: list[list[float]] = field(default_factory=list)
    block_counts: list[tuple[int, int]] = field(default_factory=list)  # (errors, requests) per block
    error_examples: list[str] = field(default_factory=list)

    @property
    def samples_ms(self) -> list[float]:
        """Every successful latency, in order."""
        return [sample for block in self.block_samples for sample in block]

    @property
    def requests(self) -> int:
        return sum(requests for _, requests in self.block_counts)

    @property
    def errors(self) -> int:
        return sum(errors for errors, _ in self.block_counts)

    def add(self, elapsed_ms: float, error: str | None, *, new_block: bool = False) -> None:
        """Count one request; ``new_block`` opens the block it belongs to (a block exists once it has a request)."""
        if new_block or not self.block_counts:
            self.block_samples.append([])
            self.block_counts.append((0, 0))
        errors, requests = self.block_counts[-1]
        self.block_counts[-1] = (errors + (error is not None), requests + 1)
        if error is None:
            self.block_samples[-1].append(elapsed_ms)
        elif len(self.error_examples) < MAX_ERROR_EXAMPLES:
            self.error_examples.append(error)


@dataclass
class Interleaved:
    """What both sides measured, and whether the run ended before its plan."""

    sides: dict[str, SideSamples]
    rounds_done: int
    stopped_early: str = ""

    @property
    def rounds(self) -> int:
        """Rounds with a block on both sides (the last may be partial): what the comparison draws from."""
        return min(len(side.block_counts) for side in self.sides.values())


def schedule(rounds: int, first_round: int = 0) -> Iterator[str]:
    """The side of each block: A B, B A, A B, ... (``rounds`` rounds from round ``first_round`` on)."""
    for round_ in range(first_round, first_round + rounds):
        yield from SIDES if round_ % 2 == 0 else reversed(SIDES)


def sample(
    calls: Mapping[str, Call],
    *,
    rounds: int,
    block_size: int,
    warmup: int,
    duration_s: float,
    clock: Clock = DEFAULT_CLOCK,
    progress: Progress = lambda line: None,
    more: More = lambda run: 0,
) -> Interleaved:
    """Warm both sides up, then run the interleaved blocks until done or ``duration_s`` is spent.

    Stopping at the deadline keeps the run bounded even against a service
    that answers slowly; the comparison then works with what was measured.
    After the planned rounds, ``more(run)`` may ask for further rounds (the
    canary extends an undecided plan), again and again until it answers 0.
    """
    sides = {name: SideSamples(name) for name in SIDES}
    deadline = clock() + int(duration_s * 1e9)
    limit = f"stopped at the {duration_s:g} s limit"
    for name in SIDES:
        for _ in range(warmup):
            if clock() >= deadline:
                return Interleaved(sides, 0, f"{limit} during the warm-up")
            calls[name](_left_s(clock, deadline))
    done, planned, extra = 0, 0, rounds
    while extra > 0:
        first, planned = planned, planned + extra
        for name in schedule(extra, first):
            if not _block(calls[name], sides[name], block_size, clock, deadline):
                return Interleaved(sides, done // 2, f"{limit} after {done} of {2 * planned} blocks")
            done += 1
            if done % 2 == 0 and (done // 2) % max(1, rounds // 4) == 0:
                progress(f"canary: {done // 2}/{planned} rounds, {_brief(sides)}")
        extra = more(Interleaved(sides, planned))
        if extra > 0:
            progress(f"canary: undecided after {planned} rounds, {extra} more")
    return Interleaved(sides, planned)


def _block(call: Call, side: SideSamples, size: int, clock: Clock, deadline: int) -> bool:
    """Run one block; False when the deadline cut it short (a block with no request is not opened)."""
    for index in range(size):
        start = clock()
        if start >= deadline:
            return False
        error = call((deadline - start) / 1e9)
        side.add((clock() - start) / 1e6, error, new_block=index == 0)
    return True


def _left_s(clock: Clock, deadline: int) -> float:
    return max(0.0, (deadline - clock()) / 1e9)


def _brief(sides: Mapping[str, SideSamples]) -> str:
    """``baseline 250 requests / 0 errors, candidate ...`` for the progress line."""
    return ", ".join(f"{s.name} {s.requests} requests / {s.errors} errors" for s in sides.values())
