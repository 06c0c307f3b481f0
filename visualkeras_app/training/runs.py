"""Records of training runs: per-epoch logs, a bounded per-batch curve, and the run list (CSV export)."""
from __future__ import annotations

import csv
import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from visualkeras_app.training.settings import TrainSettings


# What a run records per batch: its loss and accuracy, the learning rate its update used, where it is in
# epochs (epoch + fraction done) and the wall time since the run started (s): the plots' x axes.
BATCH_KEYS = ("loss", "accuracy", "lr", "epoch", "time")


class BatchCurve:
    """Per-batch values (loss, accuracy, ...) in bounded memory, for plotting a run of any length.

    Points are grouped into buckets of ``stride`` consecutive batches; each bucket keeps the mean, min
    and max of every value, the mean step, and the smoothed value (an exponential moving average,
    debiased as TensorBoard's) at its last batch. When ``max_points`` buckets are full, neighbours are
    merged pairwise and ``stride`` doubles, so a million batches take at most ``max_points`` buckets
    and each ``append`` costs O(1) amortized. The min/max envelope keeps spikes visible after merging.

    Args:
        keys: Names of the values given to ``append``, in order.
        max_points: Upper bound on the stored buckets (an even number >= 4).
        smoothing: EMA weight of the past, in [0, 1); 0 turns smoothing off.
    """

    def __init__(self, keys=("loss", "accuracy"), max_points=4096, smoothing=0.98):
        if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 4 or max_points % 2:
            raise ValueError(f"max_points must be an even integer >= 4. Received: max_points={max_points!r}")
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1). Received: smoothing={smoothing!r}")
        self.keys = tuple(keys)
        self.max_points = max_points
        self.smoothing = float(smoothing)
        k = len(self.keys)
        self._index = {key: i for i, key in enumerate(self.keys)}
        self._x = np.zeros(max_points)
        self._count = np.zeros(max_points)
        self._sum = np.zeros((max_points, k))
        self._min = np.zeros((max_points, k))
        self._max = np.zeros((max_points, k))
        self._ema = np.zeros((max_points, k))
        self._n = 0  # full buckets stored
        self.stride = 1
        self.total = 0  # raw points appended
        self._ema_raw = [0.0] * k
        self._ema_weight = 0.0
        self._reset_pending()

    def _reset_pending(self):
        k = len(self.keys)
        self._p_count = 0
        self._p_x = 0.0
        self._p_sum = [0.0] * k
        self._p_min = [math.inf] * k
        self._p_max = [-math.inf] * k

    def append(self, step, *values):
        """Add one batch's ``values`` (in ``keys`` order) at ``step``."""
        if len(values) != len(self.keys):
            raise ValueError(f"append() takes {len(self.keys)} values ({', '.join(self.keys)}); "
                             f"received {len(values)}.")
        self.total += 1
        s = self.smoothing
        self._ema_weight = s * self._ema_weight + (1.0 - s)
        ema = self._ema_raw
        for i, v in enumerate(values):
            v = float(v)
            ema[i] = s * ema[i] + (1.0 - s) * v
            self._p_sum[i] += v
            if v < self._p_min[i]:
                self._p_min[i] = v
            if v > self._p_max[i]:
                self._p_max[i] = v
            if v != v:  # NaN: keep it visible in the envelope instead of silently dropping it
                self._p_min[i] = self._p_max[i] = v
        self._p_x += step
        self._p_count += 1
        if self._p_count == self.stride:
            self._flush()

    def _flush(self):
        n = self._n
        c = self._p_count
        self._x[n] = self._p_x / c
        self._count[n] = c
        self._sum[n] = self._p_sum
        self._min[n] = self._p_min
        self._max[n] = self._p_max
        self._ema[n] = [e / self._ema_weight for e in self._ema_raw] if self._ema_weight else self._ema_raw
        self._n = n + 1
        self._reset_pending()
        if self._n == self.max_points:
            self._compact()

    def _compact(self):
        """Merge buckets pairwise: half as many, each covering twice the batches."""
        a, b = slice(0, self.max_points, 2), slice(1, self.max_points, 2)
        h = self.max_points // 2
        ca, cb = self._count[a], self._count[b]
        self._x[:h] = (self._x[a] * ca + self._x[b] * cb) / (ca + cb)
        self._sum[:h] = self._sum[a] + self._sum[b]
        self._min[:h] = np.minimum(self._min[a], self._min[b])
        self._max[:h] = np.maximum(self._max[a], self._max[b])
        self._ema[:h] = self._ema[b]
        self._count[:h] = ca + cb
        self._n = h
        self.stride *= 2

    def __len__(self):
        return self._n + (1 if self._p_count else 0)

    def _column(self, stored, pending, key):
        i = self._index[key]
        col = stored[:self._n, i]
        if self._p_count:
            col = np.append(col, pending[i])
        return col

    def steps(self):
        """The x axis: the mean step of each bucket."""
        x = self._x[:self._n]
        return np.append(x, self._p_x / self._p_count) if self._p_count else x.copy()

    def mean(self, key):
        counts = self._count[:self._n]
        if self._p_count:
            counts = np.append(counts, self._p_count)
        return self._column(self._sum, self._p_sum, key) / counts

    def min(self, key):
        return self._column(self._min, self._p_min, key)

    def max(self, key):
        return self._column(self._max, self._p_max, key)

    def smoothed(self, key):
        """The EMA of ``key`` at the last batch of each bucket."""
        current = [e / self._ema_weight for e in self._ema_raw] if self._ema_weight else self._ema_raw
        return self._column(self._ema, current, key)

    def last(self, key):
        """The mean of ``key`` over the newest bucket, or None before any point."""
        if not len(self):
            return None
        return float(self.mean(key)[-1])

    def counts(self):
        """Batches in each bucket (the newest may hold fewer than ``stride``)."""
        c = self._count[:self._n]
        return np.append(c, self._p_count) if self._p_count else c.copy()

    def to_state(self, max_points=None) -> dict:
        """The curve as plain lists (for a project file): ``keys``, ``stride``, ``total``, ``smoothing`` and per
        bucket ``x``, ``count`` and per key ``mean``/``min``/``max``/``smoothed``; the unfinished bucket is
        kept as a smaller one. With ``max_points``, neighbours are merged pairwise (as when the curve fills)
        until at most that many buckets remain. Non-finite values become None (JSON has no NaN)."""
        x, count = self.steps(), self.counts()
        cols = {k: {"mean": self.mean(k), "min": self.min(k), "max": self.max(k), "smoothed": self.smoothed(k)}
                for k in self.keys}
        stride = self.stride
        while max_points is not None and len(x) > max(1, int(max_points)):
            m = len(x) // 2 * 2
            a, b = slice(0, m, 2), slice(1, m, 2)
            ca, cb = count[a], count[b]
            merged_x = (x[a] * ca + x[b] * cb) / (ca + cb)
            for c in cols.values():
                c["mean"] = np.append((c["mean"][a] * ca + c["mean"][b] * cb) / (ca + cb), c["mean"][m:])
                c["min"] = np.append(np.minimum(c["min"][a], c["min"][b]), c["min"][m:])
                c["max"] = np.append(np.maximum(c["max"][a], c["max"][b]), c["max"][m:])
                c["smoothed"] = np.append(c["smoothed"][b], c["smoothed"][m:])
            x = np.append(merged_x, x[m:])
            count = np.append(ca + cb, count[m:])
            stride *= 2
        return {"keys": list(self.keys), "stride": int(stride), "total": int(self.total),
                "smoothing": self.smoothing, "x": _floats(x), "count": [int(c) for c in count],
                "values": {k: {name: _floats(v) for name, v in c.items()} for k, c in cols.items()}}

    @classmethod
    def from_state(cls, state, max_points=4096) -> "BatchCurve":
        """A curve from `to_state`'s dict, checked: every list as long as ``x``, counts positive integers,
        at most ``max_points`` buckets; ``ValueError`` naming what is wrong. None stands for NaN."""
        if not isinstance(state, dict):
            raise ValueError("a run's curve is not an object")
        keys = state.get("keys")
        if not isinstance(keys, list) or not keys or len(keys) > 16 or not all(
                isinstance(k, str) and 0 < len(k) <= 64 for k in keys) or len(set(keys)) != len(keys):
            raise ValueError(f"a run's curve has malformed keys: {keys!r:.80}")
        x = _checked_floats(state.get("x"), "x", max_points, finite=True)
        n = len(x)
        count = state.get("count")
        if not isinstance(count, list) or len(count) != n or not all(
                isinstance(c, int) and not isinstance(c, bool) and 0 < c < 2**40 for c in count):
            raise ValueError("a run's curve has malformed bucket counts (positive integers, one per point)")
        smoothing = state.get("smoothing", 0.98)
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not 0 <= smoothing < 1:
            raise ValueError(f"a run's curve has a bad smoothing value: {smoothing!r:.40}")
        values = state.get("values")
        if not isinstance(values, dict) or set(values) != set(keys):
            raise ValueError("a run's curve lacks values for its keys")
        curve = cls(keys, max_points=max_points, smoothing=float(smoothing))  # n <= max_points: checked above
        c = np.asarray(count, dtype=np.float64)
        curve._x[:n] = x
        curve._count[:n] = c
        for i, k in enumerate(keys):
            v = values[k]
            if not isinstance(v, dict):
                raise ValueError(f"a run's curve values for {k!r} are not an object")
            mean = _checked_floats(v.get("mean"), f"{k}.mean", n)
            if len(mean) != n:
                raise ValueError(f"a run's curve has {len(mean)} values of {k!r} for {n} points")
            cols = [mean] + [_checked_floats(v.get(name), f"{k}.{name}", n) for name in ("min", "max", "smoothed")]
            if any(len(col) != n for col in cols):
                raise ValueError(f"a run's curve has lists of {k!r} of different lengths")
            curve._sum[:n, i] = mean * c
            curve._min[:n, i], curve._max[:n, i], curve._ema[:n, i] = cols[1], cols[2], cols[3]
        curve._n = n
        stride, total = state.get("stride", 1), state.get("total", int(c.sum()))
        if isinstance(stride, bool) or not isinstance(stride, int) or not 0 < stride < 2**40:
            raise ValueError(f"a run's curve has a bad stride: {stride!r:.40}")
        if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total < 2**50:
            raise ValueError(f"a run's curve has a bad total: {total!r:.40}")
        curve.stride, curve.total = stride, total
        if n:  # the EMA continues from the last stored value
            curve._ema_weight = 1.0 - curve.smoothing ** max(total, 1)
            curve._ema_raw = [float(e) * curve._ema_weight if math.isfinite(e) else 0.0 for e in curve._ema[n - 1]]
        if curve._n == curve.max_points:
            curve._compact()
        return curve


def _floats(a):
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=np.float64).tolist()]


def _checked_floats(values, what, max_len, finite=False):
    if not isinstance(values, list) or len(values) > max_len:
        raise ValueError(f"a run's curve list {what} is not a list of at most {max_len} numbers")
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None and not finite:
            out[i] = math.nan
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e300:
            out[i] = v
        else:
            raise ValueError(f"a run's curve list {what} holds {v!r:.40}, not a finite number")
    return out


@dataclass
class RunRecord:
    """One training run: its settings, curves and final results."""

    id: int
    name: str
    settings: TrainSettings
    epochs: list = field(default_factory=list)  # one dict of logs per finished epoch, "epoch" included
    batches: BatchCurve = field(default_factory=lambda: BatchCurve(BATCH_KEYS))
    test_loss: float | None = None
    test_accuracy: float | None = None
    duration_s: float = 0.0
    stopped_reason: str = ""  # "finished", "stopped", "nan", "error: ..."
    started_at: float = field(default_factory=time.time)
    model: str = ""  # the model trained: its file or template name, as the window's title showed it
    architecture: str = ""  # a digest of the model's layers and connections: tells the model's versions apart
    version: int = 0  # which version of its project's model it trained (1, 2... in order of its runs; 0: unknown)
    versions: int = 0  # how many versions its project's runs trained (the Runs table shows "v2" when over 1)

    def summary(self) -> str:
        acc = f"{self.test_accuracy:.2%}" if self.test_accuracy is not None else "-"
        return f"{self.name}: test accuracy {acc} in {self.duration_s:.1f} s ({self.stopped_reason or 'running'})"


_ids = itertools.count(1)


def new_run_id() -> int:
    return next(_ids)


class RunList:
    """The runs of a session, in order; exported to CSV as one row per epoch per run."""

    def __init__(self):
        self._runs: list[RunRecord] = []

    def add(self, run: RunRecord) -> RunRecord:
        self._runs.append(run)
        return run

    def remove(self, run_or_id):
        rid = run_or_id.id if isinstance(run_or_id, RunRecord) else run_or_id
        before = len(self._runs)
        self._runs = [r for r in self._runs if r.id != rid]
        if len(self._runs) == before:
            raise KeyError(f"No run with id {rid!r}.")

    def get(self, rid) -> RunRecord:
        for r in self._runs:
            if r.id == rid:
                return r
        raise KeyError(f"No run with id {rid!r}.")

    def clear(self):
        self._runs.clear()

    def __iter__(self):
        return iter(list(self._runs))

    def __len__(self):
        return len(self._runs)

    def __getitem__(self, i):
        return self._runs[i]

    def to_csv(self, path):
        """Write one row per epoch per run: run id and name, the settings, the epoch's logs and the
        run's test results. A run without a finished epoch still gets one row (epoch empty)."""
        setting_keys = list(TrainSettings().to_dict())
        log_keys = []
        for r in self._runs:
            for e in r.epochs:
                for k in e:
                    if k != "epoch" and k not in log_keys:
                        log_keys.append(k)
        header = (["run_id", "run_name", "model"] + setting_keys + ["epoch"] + log_keys
                  + ["test_loss", "test_accuracy", "duration_s", "stopped_reason"])
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in self._runs:
                settings = r.settings.to_dict() if isinstance(r.settings, TrainSettings) else dict(r.settings)
                head = [r.id, r.name, r.model] + [settings.get(k, "") for k in setting_keys]
                tail = [_cell(r.test_loss), _cell(r.test_accuracy), f"{r.duration_s:.3f}", r.stopped_reason]
                for e in r.epochs or [{}]:
                    w.writerow(head + [e.get("epoch", "")] + [_cell(e.get(k)) for k in log_keys] + tail)
        return path


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return v
