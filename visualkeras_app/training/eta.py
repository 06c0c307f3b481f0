"""The pace behind the ETA: the run's mean training rate since its warm-up, so the ETA is smoothed over the whole
run instead of jumping with each slow or fast batch.

A run's first batches are slow for reasons that do not last (memory allocation, kernel choice, a new thread's
OpenMP team, caches warming), and a 5-second window of the latest batches swings with every hiccup. The mean rate
since the warm-up counts every later cost that recurs (a garbage collection, a periodic checkpoint) at its true
frequency. The warm-up is the first batch, and any following batches slower than ``warmup_factor`` times the
median batch of the start of the run; it is decided once ``decide_after`` batches have been seen.
"""
from __future__ import annotations

import math


class EtaEstimator:
    """The mean work rate of a run after its warm-up.

    Feed it ``add(clock_s, done)`` after every batch: ``clock_s`` a clock that leaves out pauses and validation
    passes, ``done`` the work done since the start (samples). ``rate()`` is work per second (``nan`` until two
    batches after the warm-up), ``eta(left)`` the seconds for ``left`` more work.

    Args:
        warmup_factor: a leading batch this many times slower than the median of the first ones is warm-up.
        decide_after: batches seen before the warm-up is fixed (until then it is re-decided with each batch).
    """

    def __init__(self, warmup_factor=3.0, decide_after=32):
        if not warmup_factor > 1:
            raise ValueError(f"warmup_factor must be > 1. Received: {warmup_factor!r}")
        if isinstance(decide_after, bool) or not isinstance(decide_after, int) or decide_after < 4:
            raise ValueError(f"decide_after must be an integer >= 4. Received: {decide_after!r}")
        self.warmup_factor = float(warmup_factor)
        self.decide_after = decide_after
        self._points = []  # (clock, done) for the first decide_after + 1 batches
        self._start = None  # (clock, done) where the measured pace begins, once decided
        self._last = None

    def add(self, clock_s, done):
        """One more batch ended at ``clock_s`` with ``done`` work done in all."""
        clock_s, done = float(clock_s), float(done)
        if self._last is not None and (clock_s < self._last[0] or done < self._last[1]):
            raise ValueError("the clock and the work done must not go back: "
                             f"({clock_s}, {done}) after {self._last}")
        self._last = (clock_s, done)
        if self._start is None:
            self._points.append(self._last)
            if len(self._points) > self.decide_after:
                self._start = self._warmup_end()
                self._points = []

    def _warmup_end(self):
        """The point after the warm-up batches among those seen so far."""
        pts = self._points
        if len(pts) < 3:
            return pts[0]
        steps = [(b[0] - a[0]) / max(b[1] - a[1], 1e-12) for a, b in zip(pts, pts[1:])]  # seconds per unit
        median = sorted(steps)[len(steps) // 2]
        i = 0
        while i < len(steps) - 2 and steps[i] > self.warmup_factor * median:
            i += 1
        return pts[i]

    def rate(self) -> float:
        """Work per second since the warm-up (``nan`` while unknown)."""
        if self._last is None:
            return math.nan
        start = self._start if self._start is not None else (self._warmup_end() if len(self._points) >= 2 else None)
        if start is None:
            return math.nan
        dt, dw = self._last[0] - start[0], self._last[1] - start[1]
        return dw / dt if dt > 0 and dw > 0 else math.nan

    def eta(self, left) -> float:
        """Seconds until ``left`` more work is done at `rate` (``nan`` while unknown)."""
        r = self.rate()
        return max(float(left), 0.0) / r if r > 0 else math.nan
