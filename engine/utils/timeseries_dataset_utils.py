"""``timeseries_dataset_from_array``: sliding windows over a series, in batches (Keras's)."""
from __future__ import annotations

import numpy as np

from engine.utils.dataset_utils import _DatasetMethods
from engine.utils.sequence import PyDataset


class TimeseriesDataset(_DatasetMethods, PyDataset):
    """Batches of windows of a series: ``len`` is the number of batches, ``ds[i]`` the i-th batch
    (``windows`` or ``(windows, targets)`` as NumPy arrays), and ``fit``/``evaluate``/``predict`` take
    it as any ``PyDataset``. ``take``, ``skip``, ``map``, ``prefetch``, ``cache``,
    ``as_numpy_iterator`` and ``cardinality`` work as ``tf.data.Dataset``'s do on batches."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size):
        super().__init__()
        self._data, self._targets, self._starts = data, targets, starts
        self._offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self):
        if self.batch_size is None:
            return len(self._starts)
        return -(-len(self._starts) // self.batch_size)

    def _read_ahead(self, index):  # windows are cut from memory: nothing to read ahead
        pass

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for a dataset of {len(self)} batches.")
        if self.batch_size is None:  # one window per item, no batch axis
            starts = self._starts[index:index + 1]
        else:
            starts = self._starts[index * self.batch_size:(index + 1) * self.batch_size]
        windows = self._data[starts[:, None] + self._offsets]  # (batch, sequence_length, ...)
        if self.batch_size is None:
            windows = windows[0]
        if self._targets is None:
            return windows
        targets = self._targets[starts] if self.batch_size is not None else self._targets[starts[0]]
        return windows, targets


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Windows of ``sequence_length`` steps over ``data``, each with the target at its start, in batches.

    Window ``i`` starts at ``start_index + i * sequence_stride`` and takes every ``sampling_rate``-th
    step; its target is ``targets[i * sequence_stride]`` counted from ``start_index`` (so that
    ``targets = data[n:]`` pairs each window with the step ``n`` after its start), as in Keras.

    Args:
        data: an array (or list) whose first axis is time.
        targets: the targets, or None for windows alone.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of two windows.
        sampling_rate: take every ``sampling_rate``-th step within a window.
        batch_size: windows per batch (None: single windows, no batch axis).
        shuffle: whether the windows come in an order drawn from ``seed`` (NumPy's RandomState, as
            Keras draws the start positions; Keras then also shuffles within a buffer, which
            ``tf.data`` draws and this does not).
        seed: the shuffling seed.
        start_index / end_index: only steps ``[start_index, end_index)`` of ``data`` are used.

    Returns:
        A ``TimeseriesDataset`` (a ``PyDataset`` of NumPy batches).
    """
    data = np.asarray(data)
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. Received: "
                             f"start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: start_index={start_index}, "
                             f"and end_index={end_index}")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for arg, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{arg}` must be higher than 0. Received: {arg}={value}")
        if value >= n:
            raise ValueError(f"`{arg}` must be lower than the length of the data. Received: {arg}={value}, "
                             f"for data of length {n}")
    start_index = start_index or 0
    end_index = end_index if end_index is not None else n
    count = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets) - start_index)
    positions = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    # Windows and targets are indexed from start_index, as Keras slices both at start_index.
    return TimeseriesDataset(data, targets, positions + start_index, sequence_length, sampling_rate, batch_size)
