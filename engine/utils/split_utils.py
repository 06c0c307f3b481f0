"""``split_dataset``: one data set as two torch datasets (Keras's, on its torch backend)."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset


def _as_torch_dataset(dataset):
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, np.ndarray):
        return TensorDataset(torch.from_numpy(dataset))
    if isinstance(dataset, (list, tuple)):
        arrays = [np.asarray(a) for a in dataset]
        if arrays and all(a.ndim >= 1 for a in arrays) and len({len(a) for a in arrays}) == 1:
            return TensorDataset(*[torch.from_numpy(a) for a in arrays])
        raise ValueError("A list or tuple given to split_dataset must hold arrays with the same first dimension. "
                         f"Received lengths: {[len(a) if a.ndim else 'scalar' for a in arrays]}")
    raise TypeError("The `dataset` argument must be a `torch.utils.data.Dataset` object, or a list/tuple of "
                    f"arrays. Received: dataset={dataset!r:.100} of type {type(dataset)}")


def _split_sizes(left_size, right_size, total):
    for side, size in (("left", left_size), ("right", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{side}_size` Type. Expected: int or float or None, "
                            f"Received: type({side}_size)={type(size)}.")
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must "
                         "be non-zero.")
    for side, size in (("left", left_size), ("right", right_size)):
        if (type(size) is int and not 0 < size < total) or (type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{side}_size` should be either a positive integer smaller than {total}, or a float "
                             f"within the range `[0, 1]`. Received: {side}_size={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or "
                         "equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
                         f"Received: left_size + right_size = {left + right} and total_length = {total}")
    for side, size in (("left", left), ("right", right)):
        if size == 0:
            raise ValueError(f"With `dataset` of length {total}, `left_size`={left_size} and "
                             f"`right_size`={right_size}, the resulting {side} side dataset split has 0 samples.")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None):
    """Splits a data set into a left and a right part: two ``torch.utils.data.Subset``s, as Keras's torch
    backend returns them (item ``i`` of ``(x, y)`` arrays is the tuple of tensors ``(x[i], y[i])``).

    Args:
        dataset: an array, a list/tuple of arrays with the same length, or a torch ``Dataset``.
        left_size / right_size: an int (samples) or a float in (0, 1) (a fraction, rounded); the
            other side gets the rest when one is None.
        shuffle: whether the samples are permuted first (``torch.randperm`` with a generator seeded by
            ``seed``, as Keras's ``random_split`` does, so the same seed gives Keras's split); without
            it the left part is the first samples and the right part the next ones.
        seed: the shuffling seed.
        preferred_backend: accepted for Keras's signature; only ``None`` or ``"torch"``.
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(f"The engine's datasets are torch datasets: preferred_backend must be None or 'torch'. "
                         f"Received: preferred_backend={preferred_backend!r}")
    ds = _as_torch_dataset(dataset)
    total = len(ds)
    left, right = _split_sizes(left_size, right_size, total)
    if shuffle:
        generator = torch.Generator()
        if seed is not None:
            generator.manual_seed(seed)
        else:
            generator.seed()
        order = torch.randperm(total, generator=generator).tolist()
    else:
        order = list(range(total))
    return Subset(ds, order[:left]), Subset(ds, order[left:left + right])
