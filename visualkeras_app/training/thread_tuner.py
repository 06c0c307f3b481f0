"""Train on the number of CPU threads that is fastest for this model on this machine, now.

Torch runs each CPU op on all the intra-op threads it has (the physical cores). That is not always
fastest: a small network's ops are too short to split well, two virtual CPUs may share one physical core,
and when other programs keep the cores busy, every op waits for its slowest thread to be scheduled again
(on a 2-core machine with a neighbour's load, the fast MNIST CNN trained 10 times slower on 2 threads
than on 1). So a CPU run times a few batches on each candidate count (all the threads, half, one), keeps
the fastest, and measures again every ``RETUNE_S`` seconds of training, as the machine's load changes. A
close verdict (the runner-up within ``CLOSE`` of the fastest) is checked sooner: ``FIRST_RETUNE_S`` seconds
after, then twice as long each time while verdicts stay close (a probe of a few batches can catch a
neighbour's moment, and a short run should not keep such a verdict for good).

A probe costs at most ``SETTLE + SAMPLE`` batches on each slower count, and two batches on a count far slower
than the fastest timed before it (``GIVE_UP``; one such batch alone may be a neighbour's moment). Results differ in
the last bits between thread counts (sums split differently), so a run repeats bit for bit only on the
same count: ``TrainingSession(..., tune_threads=False)`` keeps torch's setting.
"""
from __future__ import annotations

import statistics
import time

from engine.callbacks import Callback

SETTLE = 3  # batches after a change before timing (the new thread team's first ops, the caches)
SAMPLE = 8  # batches timed per candidate
RETUNE_S = 20.0  # seconds of training between probes
FIRST_RETUNE_S = 1.0  # ... after the first close verdict (doubling after each close one that follows)
CLOSE = 1.25  # a verdict is close when the runner-up's median batch is within this factor of the fastest's
# A candidate whose batches take this many times the best median so far is dropped early: on busy cores
# one batch on 2 threads took 0.66 s where one thread took 9 ms, so timing it 11 times cost 7 s.
GIVE_UP = 3.0
# ... after this many such batches in a row: one alone may be a moment's hiccup (a 5 s run on 2 quiet cores
# once timed 64 ms for one batch on 2 threads where one thread took 18 ms, and trained on one thread, 1.5x
# slower, until the next probe).
GIVE_UP_BATCHES = 2


def candidates(n: int) -> list[int]:
    """The thread counts a probe tries, in order: one (a safe yardstick on any machine), half, all ``n``."""
    return sorted({n, max(1, n // 2), 1}) if n > 1 else [1]


class ThreadTuner(Callback):
    """Times the batches of ``fit`` (from their begin to their end: pauses and validation passes do not
    count) on each of `candidates` in turn and keeps the fastest. ``chosen`` is the count in use after the
    last probe (None before one ends); ``probes`` lists ``{count: median seconds per batch}`` per probe."""

    def __init__(self, max_threads: int, set_threads, clock=time.perf_counter):
        super().__init__()
        self.counts = candidates(max_threads)
        self._set = set_threads
        self._clock = clock
        self.chosen = None
        self.probes: list[dict[int, float]] = []
        self._timings: dict[int, list[float]] = {}
        self._queue: list[int] = []  # the counts still to time in the probe under way
        self._settle = 0
        self._slow: list[float] = []  # the far-slower batches in a row on the count being timed
        self._t0 = None
        self._trained_s = 0.0  # batch time since the last probe ended
        self._retune_s = RETUNE_S  # ... before the next one
        self._close_s = FIRST_RETUNE_S  # the wait after the next close verdict

    def on_train_begin(self, logs=None):
        if self.chosen is None:
            self._start_probe()
        else:  # "more epochs": the count the last probe chose, until the next probe is due
            self._set(self.chosen)

    def _start_probe(self):
        self._timings = {n: [] for n in self.counts}
        self._queue = list(self.counts)
        self._switch(self._queue[0])

    def _switch(self, n):
        self._set(n)
        self._settle = SETTLE
        self._slow = []

    def on_train_batch_begin(self, batch, logs=None):
        self._t0 = self._clock()

    def on_train_batch_end(self, batch, logs=None):
        if self._t0 is None:
            return
        dt = self._clock() - self._t0
        self._t0 = None
        if not self._queue:  # between probes
            self._trained_s += dt
            if self._trained_s >= self._retune_s:
                self._trained_s = 0.0
                self._start_probe()
            return
        n = self._queue[0]
        done = [statistics.median(v) for k, v in self._timings.items() if k not in self._queue]
        if done and dt > GIVE_UP * min(done):  # far slower than a count timed already: no need to see more
            self._slow.append(dt)
            if len(self._slow) < GIVE_UP_BATCHES:
                return
            self._timings[n] = list(self._slow)
        elif self._settle:
            self._slow = []
            self._settle -= 1
            return
        else:
            self._slow = []
            self._timings[n].append(dt)
            if len(self._timings[n]) < SAMPLE:
                return
        self._queue.pop(0)
        if self._queue:
            self._switch(self._queue[0])
            return
        medians = {k: statistics.median(v) for k, v in self._timings.items()}
        self.probes.append(medians)
        self.chosen = min(medians, key=lambda k: (medians[k], k))  # a tie: fewer threads
        self._set(self.chosen)
        ranked = sorted(medians.values())
        if len(ranked) > 1 and ranked[1] < CLOSE * ranked[0]:
            self._retune_s = min(self._close_s, RETUNE_S)
            self._close_s *= 2
        else:
            self._retune_s = RETUNE_S
