"""Array helpers from ``keras.utils``: one-hot encoding and normalization."""
from __future__ import annotations

import numpy as np
import torch

from engine import backend


def to_categorical(x, num_classes=None, dtype="float32"):
    """Converts a class vector (integers) to a one-hot class matrix.

    E.g. for use with ``categorical_crossentropy``. The values are Keras's; the default dtype
    is float32 (Keras 3 returns float64 for NumPy input, Keras 2 float32), which is what a
    float32 model wants as targets.

    Args:
        x: Array-like of class indices (integers from 0 to ``num_classes - 1``). A trailing
            axis of size 1, as in labels of shape ``(N, 1)``, is dropped.
        num_classes: Total number of classes. ``None`` infers ``max(x) + 1``.
        dtype: The dtype of the result (Keras 2's argument).

    Returns:
        A NumPy array of shape ``x.shape + (num_classes,)`` (less a trailing axis of size 1),
        or a torch tensor if ``x`` is one.

    Example:

    >>> to_categorical([0, 1, 2, 3], num_classes=4)
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]], dtype=float32)
    """
    if isinstance(x, torch.Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = x.squeeze(-1)
        x = x.long()
        if num_classes is None:
            num_classes = int(x.max().item()) + 1 if x.numel() else 0
        _check_range(int(x.min().item()) if x.numel() else 0, int(x.max().item()) if x.numel() else 0,
                     num_classes)

        return torch.nn.functional.one_hot(x, int(num_classes)).to(backend.torch_dtype(dtype))

    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        if not np.all(np.mod(arr, 1) == 0):
            raise ValueError(
                "to_categorical expects integer class indices. Received floats with a fractional part, "
                "e.g. " + repr(arr[np.mod(arr, 1) != 0].flat[0]) + ". Pass integer labels such as y_train."
            )
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"to_categorical expects integer class indices. Received an array of dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    shape = arr.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = arr.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    num_classes = int(num_classes)
    if flat.size:
        _check_range(int(flat.min()), int(flat.max()), num_classes)
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def _check_range(lo, hi, num_classes):
    if num_classes <= 0:
        raise ValueError(f"`num_classes` must be a positive integer. Received: num_classes={num_classes}")
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"Class indices must lie in [0, num_classes - 1] = [0, {num_classes - 1}]. "
            f"Received labels from {lo} to {hi}. Pass a larger num_classes or fix the labels."
        )


def normalize(x, axis=-1, order=2):
    """Normalizes an array to unit norm along ``axis``.

    Args:
        x: NumPy array (a NumPy array is returned) or torch tensor (a tensor is returned).
        axis: Axis along which to normalize.
        order: Normalization order (``order=2`` for the L2 norm).

    Returns:
        A normalized copy of ``x``. Slices whose norm is 0 are left as they are.
    """
    if isinstance(x, torch.Tensor):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")

        if x.ndim == 0:
            x = x.unsqueeze(0)
        eps = backend.epsilon()
        if order == 2:
            # As Keras: x * min(rsqrt(sum(x^2)), 1/eps) rather than x / max(norm, eps).
            inv = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True)).clamp(max=1.0 / eps)
            return x * inv
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / norm.clamp(min=eps)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis if axis is not None else -1)
