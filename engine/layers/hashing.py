"""``Hashing`` and ``HashedCrossing`` for integer features, with Keras 3's bin ids.

Keras computes them with TensorFlow's string kernels; the engine has the same hash functions in NumPy
(``engine.utils.hash_utils``: FarmHash ``Fingerprint64``, SipHash-2-4, ``FingerprintCat64``), so a
model saved by Keras gives the same ids here, without TensorFlow. Strings stay refused: torch tensors
hold no strings. The hashing runs on the CPU, as Keras's does, and is not differentiable (ids are).
"""
from __future__ import annotations

import numpy as np
import torch

from engine import backend
from engine.layers.core import describe
from engine.layers.layer import Layer
from engine.layers.node import is_symbolic
from engine.layers.preprocessing import _encode_categorical
from engine.layers.registry import register
from engine.utils.hash_utils import cross_hash, hash_decimal

__all__ = ["Hashing", "HashedCrossing"]

_STRINGS = ("the engine's tensors are torch tensors, which hold no strings. Hash integer ids instead (the same ids "
            "as Keras's for integers), or map strings to integers before the model")


def _has_strings(x):
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "US" or (x.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in x.flat))
    if isinstance(x, (list, tuple)):
        return any(_has_strings(v) for v in x)
    return False


def _as_tensor(x):
    """A tensor of ``x``; a (nested) list of numbers or of tensors of one shape is stacked."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)) and x and all(isinstance(t, torch.Tensor) for t in x):
        return torch.stack(list(x))
    if isinstance(x, (list, tuple)) and x and all(isinstance(t, np.ndarray) for t in x):
        return torch.from_numpy(np.stack(x))
    return torch.as_tensor(np.asarray(x))


def _refuse_strings(layer, args, kwargs, what):
    if args and _has_strings(args[0]) or _has_strings(kwargs.get("inputs")):
        raise ValueError(f"{describe(layer)} was called on strings, and Keras's {what} of strings is not supported "
                         f"by the engine: {_STRINGS}.")


def salt_pair(salt, owner):
    """Keras's ``salt`` argument as the two-integer SipHash key it stores (``[s, s]`` for one integer),
    or None; ``owner`` names the layer in Keras's message. Each integer must fit in int64, as
    TensorFlow's key attribute."""
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        pair = list(salt)
    elif isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        pair = [salt, salt]
    else:
        raise ValueError(f"The `salt` argument for `{owner}` can only be a tuple of size 2 integers, or a single "
                         f"integer. Received: salt={salt}.")
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not -2**63 <= int(v) < 2**63
           for v in pair):
        raise ValueError(f"Each `salt` integer of `{owner}` must fit in a signed 64-bit integer, as TensorFlow's "
                         f"key. Received: salt={salt}.")
    return [int(v) for v in pair]


def _check_num_bins(layer, num_bins):
    if num_bins is None or isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) \
            or num_bins <= 0:
        raise ValueError(f"The `num_bins` for `{type(layer).__name__}` cannot be `None` or non-positive values. "
                         f"Received: num_bins={num_bins}.")
    return int(num_bins)


def _int_values(layer, x, what="inputs"):
    """``x`` as an int64 NumPy array (floats truncated toward zero, as Keras's cast), or a clear error."""
    if x.dtype == torch.bool:
        raise ValueError(f"{describe(layer)}: {what} are booleans; cast them to integers (0/1) first. Keras hashes "
                         "booleans as the strings 'true'/'false', which the engine does not.")
    if x.is_complex():
        raise ValueError(f"{describe(layer)}: {what} must be integers. Received dtype {x.dtype}.")
    if x.is_floating_point():
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{describe(layer)}: {what} hold NaN or infinite values, which have no integer to hash; "
                             "replace them first.")
        x = x.to(torch.int64)
    return x.detach().to("cpu", torch.int64).numpy()


@register("Preprocessing")
class Hashing(Layer):
    """Hashes integers into ``num_bins`` bins, giving each value the bin Keras gives it.

    The bin is FarmHash ``Fingerprint64`` of the value's decimal string modulo the bins, or SipHash-2-4
    keyed by ``salt``. With ``mask_value``, that value gets bin 0 and the others ``1 + hash % (num_bins - 1)``.

    Args:
        num_bins: the number of bins, the mask's bin included.
        mask_value: an integer mapped to bin 0 (None: no mask bin).
        salt: None (FarmHash), an integer ``s`` (SipHash keyed ``[s, s]``) or two integers.
        output_mode: ``"int"`` (bin ids), ``"one_hot"``, ``"multi_hot"`` or ``"count"`` (encoded over
            ``num_bins``, as ``CategoryEncoding``).
        sparse: only False (torch outputs are dense).
        dtype: the output dtype: ``"int64"`` (default) or ``"int32"`` for ``"int"``, float otherwise.

    Input shape:
        Integers (or floats, truncated to integers as Keras does) of any shape. Strings are refused.

    Output shape:
        ``"int"``: the input's. ``"one_hot"``: a last axis of size 1 is replaced by ``num_bins``, any
        other gets ``num_bins`` appended. ``"multi_hot"``/``"count"``: ``(batch, num_bins)`` for
        ``(batch, n)``; ``(num_bins,)`` for a vector (one sample), as Keras computes them.
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else backend.floatx()
        super().__init__(**kwargs)
        self.num_bins = _check_num_bins(self, num_bins)
        if output_mode == "int" and self._dtype not in ("int32", "int64"):
            raise ValueError('When `output_mode="int"`, `dtype` should be an integer type, \'int32\' or \'in64\'. '
                             f"Received: dtype={kwargs['dtype']}")
        modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in modes:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {modes}. "
                             f"Received: output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError('`sparse` may only be true if `output_mode` is `"one_hot"`, `"multi_hot"`, or '
                             f'`"count"`. Received: sparse={sparse} and output_mode={output_mode}')
        if sparse:
            raise ValueError(f"{describe(self)}: sparse=True is not supported by the engine (torch outputs are "
                             "dense). Use sparse=False.")
        if isinstance(mask_value, (str, bytes)):
            raise ValueError(f"{describe(self)}: mask_value={mask_value!r} is a string, and Keras's Hashing of "
                             f"strings is not supported by the engine: {_STRINGS}.")
        if mask_value is not None and (isinstance(mask_value, bool)
                                       or not isinstance(mask_value, (int, float, np.integer, np.floating))):
            raise ValueError(f"{describe(self)}: mask_value must be a number or None. Received: "
                             f"mask_value={mask_value!r}")
        self.mask_value = mask_value.item() if isinstance(mask_value, np.generic) else mask_value
        self.salt = salt_pair(salt, "Hashing")
        self.strong_hash = self.salt is not None
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def __call__(self, *args, **kwargs):
        _refuse_strings(self, args, kwargs, "Hashing")
        if args and not is_symbolic(args[0]):
            # A list of values is one tensor, as Keras reads it (and a scalar stays 0-d).
            args = (_as_tensor(args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)

    def _hash_values_to_bins(self, x):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:  # bin 0 is the mask's
            bins -= 1
            mask = x == self.mask_value
        hashes = hash_decimal(_int_values(self, x), self.salt)
        ids = torch.from_numpy(np.asarray(hashes % np.uint64(bins)).astype(np.int64)).to(x.device)
        if mask is not None:
            ids = torch.where(mask, torch.zeros_like(ids), ids + 1)
        return ids

    def call(self, inputs):
        x = _as_tensor(inputs)
        if self.output_mode == "one_hot" and x.dim() > 0 and x.shape[-1] == 1:
            x = x.squeeze(-1)
        return _encode_categorical(self._hash_values_to_bins(x), self.output_mode, self.num_bins, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot":
            if shape and shape[-1] == 1:
                shape = shape[:-1]
            shape = shape or (1,)
            if len(shape) > 1 and shape[-1] == 1:
                shape = shape[:-1]
            return shape + (self.num_bins,)
        if len(shape) <= 1:  # a vector is one sample
            return (self.num_bins,)
        return (shape[0],) + shape[2:] + (self.num_bins,)

    def compute_output_dtype(self, input_dtype):
        return self.compute_dtype

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                       "output_mode": self.output_mode, "sparse": self.sparse})
        return config


@register("Preprocessing")
class HashedCrossing(Layer):
    """Crosses integer features into ``num_bins`` bins (the hashing trick), with the bins Keras gives.

    The bin is TensorFlow's ``tf.sparse.cross_hashed`` (``FingerprintCat64`` of the features' values in
    order, from its default key) modulo ``num_bins``.

    Args:
        num_bins: the number of bins.
        output_mode: ``"int"`` (bin ids) or ``"one_hot"``.
        sparse: only False (torch outputs are dense).
        dtype: the output dtype (``"int64"`` for ``"int"``, float for ``"one_hot"``).

    Call arguments:
        inputs: a list or tuple of two or more integer tensors, each ``()``, ``(batch,)`` or
            ``(batch, 1)``, all of one shape. Strings are refused.

    Output shape:
        ``"int"``: the inputs' shape. ``"one_hot"``: ``(batch, num_bins)``.
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        kwargs.pop("trainable", None)  # Keras's HashedCrossing takes only name and dtype
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend; the engine's outputs are "
                             "dense torch tensors. Use sparse=False.")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"Unknown value for `output_mode` argument of layer HashedCrossing. Allowed values are: "
                             f"'int', 'one_hot'. Received: output_mode={output_mode!r}")
        self.num_bins = _check_num_bins(self, num_bins)
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def __call__(self, *args, **kwargs):
        _refuse_strings(self, args, kwargs, "crossing")
        if args and isinstance(args[0], (list, tuple)) and not is_symbolic(args[0]):
            args = (type(args[0])(_as_tensor(x) for x in args[0]),) + args[1:]  # scalars stay 0-d
        return super().__call__(*args, **kwargs)

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`HashedCrossing` should be called on a list or tuple of inputs. Received: "
                             f"inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs}")

    def _check_shapes(self, shapes):
        first = tuple(shapes[0])
        if len(first) > 2 or (len(first) == 2 and first[-1] not in (1, None)):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                             f"`(batch_size, 1)`. Received shapes: {[tuple(s) for s in shapes]}")
        for s in shapes[1:]:
            if len(s) != len(first) or any(a is not None and b is not None and a != b for a, b in zip(s, first)):
                raise ValueError("All `HashedCrossing` inputs should have equal shape. Received shapes: "
                                 f"{[tuple(s) for s in shapes]}")

    def call(self, inputs):
        self._check_inputs(inputs)
        xs = [_as_tensor(x) for x in inputs]
        self._check_shapes([tuple(x.shape) for x in xs])
        for x in xs:
            if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
                raise ValueError("All `HashedCrossing` inputs should have an integer or string dtype (the engine: "
                                 f"integer). Received dtypes: {[str(t.dtype) for t in xs]}")
        crossed = cross_hash([_int_values(self, x) for x in xs]) % np.uint64(self.num_bins)
        ids = torch.from_numpy(np.asarray(crossed).astype(np.int64)).to(xs[0].device)
        out = _encode_categorical(ids, self.output_mode, self.num_bins, self.compute_dtype)
        return out.to(backend.torch_dtype(self.dtype))

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 \
                or not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"Expected as input a list/tuple of 2 or more tensors. Received input_shape={input_shape}")
        self._check_shapes(input_shape)
        shape = tuple(input_shape[0])
        if self.output_mode == "int":
            return shape
        if len(shape) == 2:
            shape = shape[:1]
        return (shape or (1,)) + (self.num_bins,)

    def compute_output_dtype(self, input_dtype):
        return self.dtype

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name,
                "dtype": self.dtype}
