"""Linear-algebra ops (``keras.ops.linalg``) on torch.linalg."""
from __future__ import annotations

import torch

from engine import backend
from engine.ops._dispatch import dtype_name, keras_op, result_type
from engine.ops.core import cast, convert_to_tensor

_t = convert_to_tensor


@keras_op
def cholesky(x, upper=False):
    return torch.linalg.cholesky(_t(x), upper=upper)


@keras_op
def cholesky_inverse(x, upper=False):
    return torch.cholesky_inverse(_t(x), upper=upper)


@keras_op
def det(x):
    return torch.linalg.det(_t(x))


@keras_op
def eig(x):
    return tuple(torch.linalg.eig(_t(x)))


@keras_op
def eigh(x):
    return tuple(torch.linalg.eigh(_t(x)))


@keras_op
def inv(x):
    return torch.linalg.inv(_t(x))


@keras_op
def lu_factor(x):
    lu, pivots = torch.linalg.lu_factor(_t(x))
    return lu, pivots - 1  # zero-based pivots, as Keras returns them


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    x = _t(x)
    dt = backend.floatx() if dtype_name(x.dtype) == "int64" else result_type(x.dtype, float)
    x = cast(x, dt)
    if isinstance(axis, list):
        axis = tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims)


@keras_op
def qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. "
                         f"Received: mode={mode}")
    return tuple(torch.linalg.qr(_t(x), mode=mode))


@keras_op
def solve(a, b):
    return torch.linalg.solve(_t(a), _t(b))


@keras_op
def solve_triangular(a, b, lower=False):
    a, b = _t(a), _t(b)
    if b.ndim == a.ndim - 1:
        return torch.linalg.solve_triangular(a, b.unsqueeze(-1), upper=not lower).squeeze(-1)
    return torch.linalg.solve_triangular(a, b, upper=not lower)


@keras_op
def svd(x, full_matrices=True, compute_uv=True):
    x = _t(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


@keras_op
def lstsq(a, b, rcond=None):
    a, b = _t(a), _t(b)
    return torch.linalg.pinv(a, rtol=rcond) @ b if rcond is not None else torch.linalg.lstsq(a, b)[0]


@keras_op
def matrix_rank(x, tol=None):
    return torch.linalg.matrix_rank(_t(x), atol=tol).to(torch.int32)


@keras_op
def pinv(x, rcond=None):
    return torch.linalg.pinv(_t(x), rtol=rcond)


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product: ``(fun(*primals), J @ tangents)`` (plus the aux output with ``has_aux``)."""
    return torch.func.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)


__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
           "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]
