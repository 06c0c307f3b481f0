"""Turn what users pass to fit/evaluate/predict (arrays, tensors, lists, dicts, generators,
``Sequence``) into batches of torch tensors."""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import torch

from engine.layers.node import flatten
from engine.utils import Sequence


class DataError(ValueError):
    """Data that does not fit the model or itself (lengths, shapes, types)."""


def to_tensor(x, name="x"):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.float() if x.dtype == torch.float64 else x
    if isinstance(x, (list, tuple)) and x and all(np.isscalar(v) for v in x):
        x = np.asarray(x)
    if isinstance(x, (list, tuple)):
        return [to_tensor(v, name) for v in x]
    if isinstance(x, dict):
        return {k: to_tensor(v, f"{name}[{k!r}]") for k, v in x.items()}
    try:
        arr = np.asarray(x)
    except Exception as e:  # np.asarray runs the object's own __array__/__len__: any error
        raise DataError(f"Could not convert {name} of type {type(x).__name__} to an array: {e}") from None
    if arr.dtype == object:
        raise DataError(f"{name} holds Python objects (dtype=object); it must be a numeric array. "
                        "Check that every sample has the same shape.")
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.float32)
    elif arr.dtype in (np.uint16, np.uint32, np.uint64):
        arr = arr.astype(np.int64)
    return torch.from_numpy(np.ascontiguousarray(arr))


def num_samples(x):
    if isinstance(x, torch.Tensor):  # the common case, once per step
        return int(x.shape[0])
    leaves = [t for t in flatten(x) if t is not None]
    if not leaves:
        return 0
    return int(leaves[0].shape[0])


def check_lengths(x, y, sample_weight):
    sizes = {}
    for name, s in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for t in flatten(s):
            if t is not None:
                if t.ndim == 0:
                    raise DataError(f"{name} is a scalar; fit/evaluate need arrays with a first (sample) axis.")
                sizes.setdefault(name, set()).add(int(t.shape[0]))
    all_sizes = set().union(*sizes.values()) if sizes else set()
    if len(all_sizes) > 1:
        desc = ", ".join(f"{k}: {sorted(v)}" for k, v in sizes.items())
        raise DataError(f"Data cardinality is ambiguous: x and y (and sample_weight) must have the same number "
                        f"of samples. Received sizes {desc}.")


def take(x, idx):
    """Rows ``idx`` (a slice or an index tensor) of every array in the structure."""
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        # (the shuffled order lives on the CPU; data may sit on a GPU)
        return x[idx] if isinstance(idx, slice) else x.index_select(0, idx.to(x.device))
    if isinstance(x, list):
        return [take(t, idx) for t in x]
    if isinstance(x, tuple):
        return tuple(take(t, idx) for t in x)
    if isinstance(x, dict):
        return {k: take(v, idx) for k, v in x.items()}
    raise TypeError(type(x))


def move(x, device, non_blocking=False):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x if x.device == device else x.to(device, non_blocking=non_blocking)
    if isinstance(x, (list, tuple)):
        return [move(t, device, non_blocking) for t in x]
    if isinstance(x, dict):
        return {k: move(v, device, non_blocking) for k, v in x.items()}
    return x


def unpack(data):
    """(x, y, sample_weight) from a tuple a generator or Sequence yields."""
    if isinstance(data, (tuple, list)):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data[0], data[1], data[2]
        raise DataError(f"A data batch must be (x,), (x, y) or (x, y, sample_weight); received a tuple of "
                        f"{len(data)} items.")
    return data, None, None


def is_restartable(x):
    """A torch ``DataLoader`` (or another re-iterable batch source): each ``iter()`` is a new pass."""
    return isinstance(x, torch.utils.data.DataLoader)


def is_generator_like(x):
    return isinstance(x, Sequence) or inspect.isgenerator(x) or is_restartable(x) or (
        hasattr(x, "__next__") and not isinstance(x, (np.ndarray, torch.Tensor))) or (
        hasattr(x, "__iter__") and hasattr(x, "__len__") and hasattr(x, "__getitem__")
        and not isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict)))


class ArrayBatches:
    """Batches over in-memory tensors, reshuffled each epoch when ``shuffle``."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None, device=None):
        self.x, self.y, self.sw = x, y, sample_weight
        self.n = num_samples(x)
        self.batch_size = int(batch_size)
        if self.batch_size <= 0:
            raise DataError(f"batch_size must be a positive integer. Received: batch_size={batch_size}")
        self.shuffle = shuffle
        self.full_steps = max(1, math.ceil(self.n / self.batch_size)) if self.n else 0
        self.steps = min(steps, self.full_steps) if steps else self.full_steps
        self.device = device
        self.order_sync = None  # under torchrun: makes every process use rank 0's shuffled order

    def __len__(self):
        return self.steps

    def epoch(self):
        bs, n = self.batch_size, self.n
        perm = torch.randperm(n) if self.shuffle == True else None  # noqa: E712 ('batch' shuffles in place)
        if perm is not None and self.order_sync is not None:
            perm = self.order_sync(perm)
        x, y, sw, dev = self.x, self.y, self.sw, self.device
        if dev is None and isinstance(x, torch.Tensor) and all(t is None or (isinstance(t, torch.Tensor)
                                                                              and t.device == x.device) for t in (y, sw)):
            # The common case (one input array, its targets, all on one device): one index_select per
            # array and step, with the order already on the data's device.
            if perm is not None:
                perm = perm.to(x.device)
            for step in range(self.steps):
                lo, hi = step * bs, min(n, (step + 1) * bs)
                if perm is None:
                    yield step, x[lo:hi], None if y is None else y[lo:hi], None if sw is None else sw[lo:hi]
                else:
                    idx = perm[lo:hi]
                    yield (step, x.index_select(0, idx), None if y is None else y.index_select(0, idx),
                           None if sw is None else sw.index_select(0, idx))
            return
        for step in range(self.steps):
            lo, hi = step * bs, min(n, (step + 1) * bs)
            idx = perm[lo:hi] if perm is not None else slice(lo, hi)
            yield (step, move(take(x, idx), dev), move(take(y, idx), dev), move(take(sw, idx), dev))


class GeneratorBatches:
    """Batches from a Python generator/iterator or a ``Sequence``."""

    def __init__(self, data, steps=None, shuffle=False, device=None):
        self.data, self.device, self.shuffle = data, device, shuffle
        self.order_sync = None  # under torchrun: makes every process use rank 0's shuffled order
        self.is_sequence = isinstance(data, Sequence) or (hasattr(data, "__getitem__") and hasattr(data, "__len__"))
        # A DataLoader: every epoch is a new pass over it (its own sampler shuffles, as in Keras).
        self.restartable = not self.is_sequence and is_restartable(data)
        if self.is_sequence:
            self.steps = min(steps, len(data)) if steps else len(data)
        elif self.restartable:
            try:
                n = len(data)
            except TypeError:  # an IterableDataset without a length
                n = None
            self.steps = min(steps, n) if steps and n is not None else (steps or n)
        else:
            self.steps = steps
            self._steps_given = steps is not None  # (else steps is what the first pass counted)
            self._it = iter(data)

    def __len__(self):
        return self.steps

    def epoch(self):
        if self.is_sequence:
            order = np.random.permutation(len(self.data)) if self.shuffle else range(len(self.data))
            if self.shuffle and self.order_sync is not None:
                order = self.order_sync(torch.as_tensor(order)).numpy()
            # A dataset that reads files (image_dataset_from_directory) starts on the next batch while
            # the model trains on this one.
            read_ahead = getattr(self.data, "_read_ahead", None)
            last = len(order) if self.steps is None else min(self.steps, len(order))
            for step, i in enumerate(order):
                if step >= last:
                    break
                if read_ahead is not None and step + 1 < last:
                    read_ahead(int(order[step + 1]))
                yield self._prepare(step, self.data[int(i)])
            if hasattr(self.data, "on_epoch_end"):
                self.data.on_epoch_end()
            return
        if self.restartable:
            for step, batch in enumerate(self.data):
                if self.steps is not None and step >= self.steps:
                    break
                yield self._prepare(step, batch)
            return
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = next(self._it)
            except StopIteration:
                if self.steps is not None and step < self.steps and self._steps_given:
                    warnings.warn(f"The data generator ran out after {step} batches of the {self.steps} "
                                  "asked for (steps_per_epoch); make it loop forever (while True) or "
                                  "lower steps_per_epoch.", stacklevel=3)
                self.steps = step if self.steps is None else self.steps
                return
            yield self._prepare(step, batch)
            step += 1

    def _prepare(self, step, batch):
        x, y, sw = unpack(batch)
        return (step, move(to_tensor(x, "x"), self.device), move(to_tensor(y, "y"), self.device),
                move(to_tensor(sw, "sample_weight"), self.device))


class ShardedBatches:
    """This process's share of each global batch of ``inner`` (see ``engine.distribute``).

    Rank ``r`` of ``world`` keeps samples ``r, r + world, ...`` of every batch. A process whose
    share of a small last batch is empty gets the batch's first sample as a stand-in (it must still
    take part in the step) with ``local_size`` 0, so that the sample counts nowhere.
    """

    def __init__(self, inner, rank, world):
        self.inner, self.rank, self.world = inner, rank, world
        self.global_size = 0
        self.local_size = 0

    @property
    def steps(self):
        return self.inner.steps

    def __len__(self):
        return len(self.inner)

    def epoch(self):
        for step, x, y, sw in self.inner.epoch():
            g = num_samples(x)
            n = len(range(self.rank, g, self.world))
            idx = slice(self.rank, None, self.world) if n else slice(0, 1)
            self.global_size, self.local_size = g, n
            yield step, take(x, idx), take(y, idx), take(sw, idx)


def split_validation(x, y, sw, validation_split):
    """Keras's validation_split: the last fraction of the samples, taken before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise DataError(f"validation_split must be between 0 and 1. Received: validation_split={validation_split}")
    n = num_samples(x)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise DataError(f"validation_split={validation_split} leaves no training or no validation samples out "
                        f"of {n}.")
    tr, va = slice(0, split_at), slice(split_at, n)
    return (take(x, tr), take(y, tr), take(sw, tr)), (take(x, va), take(y, va), take(sw, va))


def class_weight_to_sample_weight(y, class_weight):
    if y is None:
        raise DataError("class_weight needs targets y.")
    if isinstance(y, (list, dict)):
        raise DataError("class_weight is only supported for models with one output.")
    labels = y.argmax(dim=-1) if (y.ndim > 1 and y.shape[-1] > 1) else y.reshape(y.shape[0]).long()
    max_label = int(labels.max()) if labels.numel() else 0
    table = torch.ones(max(max_label + 1, max(int(k) for k in class_weight) + 1))
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table[labels.long()]
