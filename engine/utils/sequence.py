"""``PyDataset`` (Keras 3) a.k.a. ``Sequence`` (Keras 2): a dataset that hands out whole batches."""
from __future__ import annotations

import itertools
import warnings


class PyDataset:
    """Base class for a dataset written in Python that yields whole batches by index.

    Subclasses implement ``__len__`` (the number of batches) and ``__getitem__(index)``
    (the batch at ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``). Override
    ``on_epoch_end`` to reshuffle between epochs; ``fit`` calls it after every epoch.

    Args:
        workers: Number of workers for parallel loading (accepted for Keras compatibility).
        use_multiprocessing: Whether loading would use processes rather than threads
            (accepted for Keras compatibility).
        max_queue_size: Batches to keep ready ahead of the model (accepted for Keras
            compatibility).

    Example:

    ```python
    class Batches(PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, idx):
            lo = idx * self.batch_size
            return self.x[lo:lo + self.batch_size], self.y[lo:lo + self.batch_size]
    ```
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"`workers` must be a positive integer. Received: workers={workers!r}")
        if not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(f"`max_queue_size` must be a positive integer. Received: max_queue_size={max_queue_size!r}")
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        # Keras 2 Sequences never called super().__init__(); give them the defaults, with a hint.
        missing = [n for n in ("_workers", "_use_multiprocessing", "_max_queue_size") if n not in self.__dict__]
        if missing:
            self._workers = self.__dict__.get("_workers", 1)
            self._use_multiprocessing = self.__dict__.get("_use_multiprocessing", False)
            self._max_queue_size = self.__dict__.get("_max_queue_size", 10)
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`.",
                stacklevel=3,
            )

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Returns the batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(self, index) returning a batch.")

    @property
    def num_batches(self):
        """Number of batches, or ``None`` for an endless dataset (Keras 3's name for ``len``)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__(self) returning the number of batches, "
            "or a `num_batches` property (None for an endless dataset)."
        )

    def __iter__(self):
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (range(n) if n is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (e.g. to reshuffle)."""


# Keras 2's name; in Keras 3 ``keras.utils.Sequence`` is the same class as ``PyDataset``.
Sequence = PyDataset
