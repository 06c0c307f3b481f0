"""Folders of files as datasets (Keras's ``keras.utils`` dataset helpers, without TensorFlow).

``index_directory`` lists the files as Keras does (the same order and labels for a given seed);
``DirectoryDataset`` reads them a batch at a time, in worker threads, and is what
``image_dataset_from_directory`` and ``text_dataset_from_directory`` return.
"""
from __future__ import annotations

import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from engine import distribute
from engine.utils import io_utils
from engine.utils.sequence import PyDataset

# A file that cannot be read is reported with at most this many names (then "and N more").
_NAMES_IN_WARNING = 10


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Raises ``ValueError`` for invalid ``validation_split``/``subset``/``seed`` combinations (as Keras)."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")


def check_labels_args(labels, label_mode, class_names, what="image"):
    """Keras's checks of ``labels``/``label_mode``/``class_names``; returns ``(labels, label_mode)``."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as the number of "
                f"{what} files in the target directory. If you wish to infer the labels from the subdirectory "
                'names in the target directory, pass `labels="inferred"`. If you wish to get a dataset that only '
                f"contains {what}s (no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode}")
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def _walk_sorted(directory, follow_links, formats):
    """``(folder, file name)`` of the files under ``directory`` whose extension is in ``formats``,
    folders in sorted order and files sorted within each (Keras's order)."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda t: t[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False,
                    verbose=True):
    """Lists the files under ``directory`` with their labels, as Keras's ``index_directory``.

    Args:
        directory: The folder. With ``labels="inferred"`` each subfolder is a class (files directly
            in ``directory`` are ignored); otherwise the whole tree is listed.
        labels: ``"inferred"``, ``None`` or a list of integer labels, one per file in the sorted order.
        formats: Tuple of accepted extensions, lower case (e.g. ``(".png", ".jpg")``).
        class_names: With ``labels="inferred"``: the subfolders to use, in this order.
        shuffle: Shuffle the list (with ``np.random.RandomState(seed)``, so the order is Keras's);
            otherwise it stays sorted.
        seed: The shuffling seed; ``None`` draws one.
        follow_links: Descend into symbolically linked folders.
        verbose: Print "Found N files belonging to K classes."

    Returns:
        ``(file_paths, labels, class_names)``: labels an int32 array (``None`` without labels).
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"The directory {directory!r} does not exist or is not a folder.")
    if labels == "inferred":
        subdirs = [d.rstrip("/") for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` cannot be specified (the "
                             "`class_names` will be the sorted list of labels).")
    class_names = subdirs
    filenames, file_labels = [], []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        for root, name in _walk_sorted(folder, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, name), folder)))
            file_labels.append(index)

    if labels == "inferred":
        labels = np.asarray(file_labels, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                             f"directory. len(labels) is {len(labels)} while we found {len(filenames)} files in "
                             f"directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels, dtype="int32")
    if verbose:
        if labels is None:
            io_utils.print_msg(f"Found {len(filenames)} files.")
        else:
            io_utils.print_msg(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        # Keras's global shuffle: the same permutation of paths and labels for the same seed.
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def draw_seed():
    """A shuffling seed for a dataset made without one (as Keras, from NumPy's global generator).

    Under torchrun every process must list the files in the same order (each then keeps its share
    of every global batch), so all of them take rank 0's draw.
    """
    seed = int(np.random.randint(1e6))

    if distribute.launched():
        ctx = distribute.context()
        if ctx is not None:
            seed = int(ctx.broadcast(torch.tensor([seed], dtype=torch.int64))[0])
    return seed


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """The training (first) or validation (last ``int(validation_split * n)``) part, as Keras."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        io_utils.print_msg(f"Using {len(samples) - num_val} files for training.")
        end = len(samples) - num_val
        return samples[:end], (labels[:end] if labels is not None else None)
    if subset == "validation":
        io_utils.print_msg(f"Using {num_val} files for validation.")
        start = len(samples) - num_val
        return samples[start:], (labels[start:] if labels is not None else None)
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def encode_labels(labels, label_mode, num_classes):
    """Integer labels as Keras yields them: int32 ``(n,)``, float32 ``(n, 1)`` (binary) or one-hot."""
    labels = np.asarray(labels, dtype="int32")
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        # As tf.one_hot: a label outside 0..num_classes-1 becomes all zeros.
        return (labels[:, None] == np.arange(num_classes)).astype("float32")
    return labels


def describe_skipped(skipped, total, what):
    """One message naming unreadable files: ``skipped`` is a list of ``(path, reason)``."""
    names = [f"{path} ({reason})" for path, reason in skipped[:_NAMES_IN_WARNING]]
    more = len(skipped) - len(names)
    return (f"Skipped {len(skipped)} of {total} {what} files that could not be read: " + "; ".join(names)
            + (f"; and {more} more" if more > 0 else "") + ".")


def failure_reason(exc, path=None):
    """A short reason for a warning, without the path (the warning names it already)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if path:
        text = text.replace(f" '{path}'", "").replace(f" {path}", "").replace(path, "the file")
    return text if len(text) <= 120 else text[:117] + "..."


_pools = {}
_pools_lock = threading.Lock()


def thread_pool(workers):
    """A shared pool of ``workers`` threads (Pillow and NumPy release the GIL while decoding/resizing)."""
    # Keyed by process too: a forked child (a DataLoader worker, multiprocessing) inherits the pool but
    # not its threads, and would wait forever on it.
    key = (os.getpid(), workers)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine-files")
        return pool


def default_workers():
    return max(1, min(8, os.cpu_count() or 1))


class _DatasetMethods:
    """The ``tf.data.Dataset`` methods that Keras examples call on what ``image_dataset_from_directory``
    returns (``for x, y in ds.take(1)``, ``ds.prefetch(AUTOTUNE)``, ``ds.map(augment)``, ``ds.cache()``),
    over batches as this dataset yields them."""

    def take(self, count):
        """The first ``count`` batches (all of them for ``count=-1``)."""
        n = len(self)
        return _View(self, 0, n if count is None or count < 0 else min(int(count), n))

    def skip(self, count):
        """All but the first ``count`` batches."""
        return _View(self, min(max(int(count), 0), len(self)), len(self))

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies ``map_func`` to each batch: ``map_func(images, labels)`` (``map_func(images)`` without
        labels), with NumPy arrays where TensorFlow passes tensors; it runs as each batch is handed out.
        ``num_parallel_calls`` and ``deterministic`` are accepted for compatibility."""
        if not callable(map_func):
            raise TypeError(f"map_func must be callable. Received: {map_func!r}")
        return _View(self, 0, len(self), map_func)

    def prefetch(self, buffer_size=None, name=None):
        """This dataset: the next batch is always read ahead already."""
        return self

    def cache(self, filename="", name=None):
        """Keeps every decoded file in memory after it is first read, so later passes read no files.
        Files are cached before ``map`` functions run (they run again on every pass)."""
        if filename:
            raise ValueError(f"cache() keeps decoded files in memory; caching to a file is not supported. "
                             f"Received: filename={filename!r}")
        self._source()._cache = {}
        return self

    def as_numpy_iterator(self):
        """The batches, as iterating the dataset gives them (NumPy arrays already)."""
        return iter(self)

    def cardinality(self):
        """The number of batches."""
        return len(self)

    def _source(self):
        return self


class DirectoryDataset(_DatasetMethods, PyDataset):
    """Files read a batch at a time: what ``image_dataset_from_directory`` and
    ``text_dataset_from_directory`` return.

    It is a ``PyDataset`` (``len`` is the number of batches, ``ds[i]`` the i-th batch), so
    ``fit``/``evaluate``/``predict`` take it as they take any ``PyDataset``; iterating it yields the
    batches too. Either way the next batch is read (in worker threads) while the current one is
    used, and only those batches are in memory. With ``shuffle``, every pass over the data (every
    epoch) takes a new order drawn from ``seed`` and the pass number, as Keras's dataset (a
    ``tf.data`` shuffle buffer) draws a new order on every pass. A file that cannot be read is left
    out of its batch (which is then smaller) and named in a warning, once; a batch with no readable
    file left is skipped when iterating, and replaced by the next readable file when indexed.

    ``take``, ``skip``, ``map``, ``prefetch``, ``cache``, ``as_numpy_iterator`` and ``cardinality``
    work as ``tf.data.Dataset``'s do on batches (see ``_DatasetMethods``).

    Attributes:
        file_paths: The files, in Keras's order (before the per-pass shuffling).
        class_names: The class names (``None`` without labels).
        skipped_files: ``(path, reason)`` of each file found unreadable so far.
    """

    def __init__(self, file_paths, labels, label_mode, class_names, batch_size, shuffle, seed, load_fn,
                 collate_fn, what="image", workers=None, skipped=()):
        super().__init__(workers=workers or default_workers())
        self.file_paths = list(file_paths)
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.skipped_files = list(skipped)
        self._labels = (encode_labels(labels, label_mode, len(class_names) if class_names else 0)
                        if label_mode is not None else None)
        self._load_fn = load_fn
        self._collate = collate_fn
        self._what = what
        self._reported = {path for path, _ in self.skipped_files}
        self._lock = threading.Lock()
        self._ahead = {}  # batch index -> (pass, submitted reads): batches read ahead for fit
        self._ahead_hits = 0
        self._cache = None  # file index -> decoded item, once cache() is called
        self._pass = 0
        self._order = self._draw_order()

    def _draw_order(self):
        n = len(self.file_paths)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([int(self.seed or 0), self._pass]).permutation(n)

    def __len__(self):
        n = len(self.file_paths)
        return n if self.batch_size is None else math.ceil(n / self.batch_size)

    @property
    def num_batches(self):
        return len(self)

    def _indices(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for a dataset of {len(self)} batches.")
        if self.batch_size is None:
            return self._order[index:index + 1]
        return self._order[index * self.batch_size:(index + 1) * self.batch_size]

    def _load_one(self, i):
        cache = self._cache
        if cache is not None and i in cache:
            return cache[i]
        path = self.file_paths[i]
        try:
            item = self._load_fn(path)
        except Exception as e:  # any decoder error: the file is skipped and named
            return _Failed(path, failure_reason(e, path))
        if cache is not None:
            cache[i] = item
        return item

    def _submit(self, index):
        idx = self._indices(int(index))
        pool = thread_pool(self.workers)
        return idx, [pool.submit(self._load_one, int(i)) for i in idx]

    def _assemble(self, idx, futures):
        items = [f.result() for f in futures]
        failed = [it for it in items if isinstance(it, _Failed)]
        if failed:
            with self._lock:
                new = [(f.path, f.reason) for f in failed if f.path not in self._reported]
                self._reported.update(path for path, _ in new)
                self.skipped_files.extend(new)
            if new:
                warnings.warn(describe_skipped(new, len(self.file_paths), self._what), stacklevel=3)
            keep = [k for k, it in enumerate(items) if not isinstance(it, _Failed)]
            items, idx = [items[k] for k in keep], idx[keep]
        if not items:
            return _SKIP
        if self.batch_size is None:
            x = items[0]
            return x if self._labels is None else (x, self._labels[idx[0]])
        x = self._collate(items)
        return x if self._labels is None else (x, self._labels[idx])

    def _read_ahead(self, index):
        """Starts reading batch ``index`` in the worker threads; ``fit`` calls it for the next batch."""
        with self._lock:
            if index in self._ahead or not 0 <= index < len(self):
                return
            while len(self._ahead) >= 2:  # an index that was never asked for: forget it
                self._ahead.pop(next(iter(self._ahead)))
            self._ahead[index] = (self._pass, self._submit(index))

    def __getitem__(self, index):
        with self._lock:
            ahead = self._ahead.pop(int(index), None)
        if ahead is not None and ahead[0] == self._pass:
            self._ahead_hits += 1
            item = self._assemble(*ahead[1])
        else:
            item = self._assemble(*self._submit(index))
        if item is _SKIP:
            # Every file of this batch is unreadable, but fit/evaluate need a batch at this index (an
            # empty one would make the loss NaN): the next readable file in this pass's order stands in.
            start = int(index) * (self.batch_size or 1)
            for k in range(1, len(self._order)):
                i = int(self._order[(start + k) % len(self._order)])
                if self.file_paths[i] in self._reported:
                    continue
                item = self._assemble(np.asarray([i]), [thread_pool(self.workers).submit(self._load_one, i)])
                if item is not _SKIP:
                    return item
            raise OSError(describe_skipped(self.skipped_files, len(self.file_paths), self._what)
                          + " No readable file is left.")
        return item

    def __iter__(self):
        n = len(self)
        pending = self._submit(0) if n else None
        for index in range(n):
            current = pending
            pending = self._submit(index + 1) if index + 1 < n else None  # read ahead
            item = self._assemble(*current)
            if item is not _SKIP:
                yield item
            del item, current  # not kept alive here while the next batch is read
        self.on_epoch_end()

    def on_epoch_end(self):
        with self._lock:
            self._ahead.clear()
        self._pass += 1
        if self.shuffle:
            self._order = self._draw_order()

    def __repr__(self):
        return (f"<{type(self).__name__} {len(self.file_paths)} files, {len(self)} batches of "
                f"{self.batch_size}, classes={self.class_names}>")


class _View(_DatasetMethods, PyDataset):
    """Batches ``start`` to ``stop`` of another dataset, each passed through ``fn`` when given
    (``take``, ``skip``, ``map``). A pass over it is a pass over its source (which then reshuffles)."""

    def __init__(self, parent, start, stop, fn=None):
        super().__init__(workers=parent.workers)
        self._parent, self._start, self._stop, self._fn = parent, start, max(start, stop), fn

    def __getattr__(self, name):  # class_names, file_paths, skipped_files... of the source
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._parent, name)

    def _source(self):
        return self._parent._source()

    def __len__(self):
        return self._stop - self._start

    @property
    def num_batches(self):
        return len(self)

    def _read_ahead(self, index):
        if 0 <= index < len(self):
            self._parent._read_ahead(self._start + index)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for a dataset of {len(self)} batches.")
        item = self._parent[self._start + index]
        if self._fn is None:
            return item
        return self._fn(*item) if isinstance(item, tuple) else self._fn(item)

    def __iter__(self):
        for index in range(len(self)):
            if index + 1 < len(self):
                self._read_ahead(index + 1)
            yield self[index]
        self.on_epoch_end()

    def on_epoch_end(self):
        self._parent.on_epoch_end()

    def __repr__(self):
        return f"<{type(self).__name__} of {len(self)} batches of {self._parent!r}>"


_SKIP = object()


class _Failed:
    __slots__ = ("path", "reason")

    def __init__(self, path, reason):
        self.path, self.reason = path, reason
