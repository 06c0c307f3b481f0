"""Stateful metrics with Keras 3's names, defaults and numerics.

A metric accumulates state over batches (``update_state``), reports it (``result``, a 0-d tensor)
and starts over (``reset_state``). The state lives in torch tensors on the device of the data it
is fed, and ``update_state`` never reads a value back to the host: a training loop can update
metrics on every batch and only pay for a transfer when it logs ``result()``.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import torch

from engine import backend, losses
from engine.variables import Variable
from engine.losses import (  # noqa: F401  (Keras also exports the loss functions as metrics)
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    is_binary_or_sparse_categorical,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    squeeze_or_expand_to_same_rank,
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

NEG_INF = -1e10


def _data(x, dtype=None, device=None):
    """A metric input as a tensor cut from autograd (metrics never need gradients)."""
    t = losses.to_tensor(x, dtype, device)
    return t.detach() if t.requires_grad else t


def _floatx():
    return backend.torch_dtype()


def _divide_no_nan(x, y):
    return torch.where(y == 0, torch.zeros_like(x), x / y)


# ---------------------------------------------------------------------------------------------------
# base classes
# ---------------------------------------------------------------------------------------------------
class Metric:
    """Metric base class: state, ``update_state``, ``result`` and ``reset_state``.

    Subclasses create their state in ``__init__`` with ``add_variable`` (a zero-filled torch tensor
    stored as an attribute), update it in place in ``update_state`` and compute ``result`` from it.

    Args:
        name: the metric's name (a unique snake_case name of the class when omitted).
        dtype: the dtype of the state and results (``backend.floatx()`` when omitted).
    """

    _direction = None  # "up" or "down": what improving means, for callbacks with mode="auto"

    def __init__(self, name=None, dtype=None):
        if name is None:
            name = backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.name = name
        if isinstance(dtype, dict):  # a serialized DTypePolicy
            dtype = dtype.get("config", {}).get("name")
        self._dtype = str(dtype) if dtype is not None else backend.floatx()
        self._torch_dtype = backend.torch_dtype(self._dtype)
        self._state_names: list[str] = []
        self._device = torch.device("cpu")

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """Create a zero-filled state tensor, stored as attribute ``name``, and return it."""
        if not hasattr(self, "_state_names"):
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before add_variable().")
        if initializer not in ("zeros", None) and not getattr(initializer, "__name__", "") == "zeros":
            raise ValueError(f"Metric state starts at zero. Received: initializer={initializer!r}")
        name = name or f"variable_{len(self._state_names)}"
        # A non-trainable engine Variable: Keras-style metrics call .assign_add()/.assign() on it.
        value = Variable(torch.zeros(tuple(shape), dtype=backend.torch_dtype(dtype or self._dtype),
                                     device=self._device), trainable=False, name=name)
        value.keras_path = f"{self.name}/{name}"
        setattr(self, name, value)
        self._state_names.append(name)
        return value

    add_weight = add_variable

    @property
    def variables(self):
        """The state tensors, in creation order."""
        return [getattr(self, n) for n in self._state_names]

    # constant tensors (thresholds, label weights) that must sit on the state's device
    _aux_tensors: tuple = ()

    def _to_device(self, device):
        # State follows the data: the first batch from a GPU model moves it there once.
        if device != self._device:
            for n in self._state_names + list(self._aux_tensors):
                value = getattr(self, n, None)
                if isinstance(value, Variable):
                    value.data = value.data.to(device)  # in place: the Variable object stays the state
                elif value is not None:
                    setattr(self, n, value.to(device))
            self._device = device

    def reset_state(self):
        """Zero the state (between epochs)."""
        for n in self._state_names:
            getattr(self, n).zero_()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _samplewise(values, sample_weight, reduce_fn, dtype):
    """Reduce ``values`` (and weights) to one value per sample, as Keras's ``reduce_to_samplewise_values``."""
    mask = losses.get_keras_mask(values)
    if values.dtype != dtype:
        values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = _data(sample_weight, dtype, values.device)
        if mask is not None:
            sample_weight = losses.apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.dim(), values.dim()
        if v_ndim > w_ndim:
            values = reduce_fn(values, dim=tuple(range(w_ndim, v_ndim)))
        sample_weight = sample_weight.expand(values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, w_ndim)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values given.

    Args:
        name: default ``"sum"``.
        dtype: state dtype.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values = _data(values)
        self._to_device(values.device)
        values, _ = _samplewise(values, sample_weight, torch.sum, self._torch_dtype)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """The (weighted) mean of the values given: ``total / count``.

    Args:
        name: default ``"mean"``.
        dtype: state dtype.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        values = _data(values)
        self._to_device(values.device)
        self._accumulate(values, sample_weight)

    def _accumulate(self, values, sample_weight):
        values, sample_weight = _samplewise(values, sample_weight, torch.mean, self._torch_dtype)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        elif values.dim() >= 1:
            self.count.add_(values.shape[0])
        else:
            self.count.add_(1)

    def result(self):
        return _divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Args:
        fn: the function, e.g. a loss function.
        name: the metric's name.
        dtype: state dtype.
        **kwargs: passed to ``fn`` on every call.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, (str, dict)):
            fn = _function_from_config(fn)
        if not callable(fn):
            raise ValueError(f"MeanMetricWrapper needs a callable `fn`. Received: fn={fn!r}")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if fn in losses.FUNCTIONS.values():
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = losses.get_keras_mask(y_pred)
        y_pred = _data(y_pred)
        y_true = _data(y_true, device=y_pred.device)
        self._to_device(y_pred.device)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if not isinstance(values, torch.Tensor):
            values = torch.as_tensor(values, device=y_pred.device)
        if mask is not None:
            if sample_weight is not None:
                sample_weight = _data(sample_weight, self._torch_dtype, y_pred.device)
            sample_weight = losses.apply_mask(sample_weight, mask, dtype=self._torch_dtype, reduction="sum")
        self._accumulate(values, sample_weight)

    def get_config(self):
        config = super().get_config()
        if _METRIC_FUNCTIONS.get(getattr(self._fn, "__name__", None)) is self._fn:
            config["fn"] = {"module": "builtins", "class_name": "function", "config": self._fn.__name__,
                            "registered_name": "function"}
        else:
            config["fn"] = losses.serialize_function(self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config))


class _BuiltinWrapper(MeanMetricWrapper):
    """A Keras metric class over a fixed function; constructor arguments become attributes."""

    _fn_static = None
    _config_keys: tuple = ()

    def __init__(self, name=None, dtype=None, **kwargs):
        super().__init__(type(self)._fn_static, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self):
        config = Metric.get_config(self)
        for key in self._config_keys:
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("fn", None)
        return super(MeanMetricWrapper, cls).from_config(config)


# ---------------------------------------------------------------------------------------------------
# accuracy functions and classes
# ---------------------------------------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` exactly, else 0.0."""
    y_true, y_pred = losses.float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).to(_floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold)`` equals the 0/1 label, else 0.0."""
    y_pred = losses.to_tensor(y_pred)
    y_true = losses.to_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).to(y_true.dtype)
    return (y_true == y_pred).to(_floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of the one-hot target equals the argmax of the prediction."""
    y_pred = losses.to_tensor(y_pred)
    y_true = torch.argmax(losses.to_tensor(y_true, device=y_pred.device), dim=-1)
    if y_true.dim() == y_pred.dim():  # one-hot targets with an extra trailing axis
        org_shape = y_true.shape
        matches = (y_true.squeeze(-1) == torch.argmax(y_pred, dim=-1)).to(_floatx())
        return matches.reshape(org_shape)
    return (y_true == torch.argmax(y_pred, dim=-1)).to(_floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals the argmax of the prediction."""
    y_pred = losses.to_tensor(y_pred)
    y_true = losses.to_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    pred = torch.argmax(y_pred, dim=-1)
    if y_true.is_floating_point():
        pred = pred.to(y_true.dtype)
    else:
        y_true = y_true.long()
    matches = (y_true == pred).to(_floatx())
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(targets, predictions, k):
    # Keras counts a target as a hit when its score reaches the k-th largest score, so ties count.
    k = min(int(k), predictions.shape[-1])
    kth = torch.topk(predictions, k, dim=-1).values[:, -1:]
    target_values = torch.take_along_dim(predictions, targets.long()[:, None], dim=-1)
    return (target_values >= kth).squeeze(-1)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the ``k`` highest predictions."""
    y_pred = losses.to_tensor(y_pred)
    y_true = torch.argmax(losses.to_tensor(y_true, device=y_pred.device), dim=-1)
    org_shape = y_true.shape
    matches = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k).to(_floatx())
    return matches.reshape(org_shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` highest predictions.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score instead of scores.
    """
    y_pred = losses.to_tensor(y_pred)
    y_true = losses.to_tensor(y_true, device=y_pred.device)
    org_shape = y_true.shape
    y_true = y_true.reshape(-1)
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        matches = torch.any(y_true.to(y_pred.dtype)[:, None] == y_pred[:, :k], dim=1)
    else:
        matches = _in_top_k(y_true, y_pred, k)
    return matches.to(_floatx()).reshape(org_shape)


class Accuracy(_BuiltinWrapper):
    """How often predictions equal labels exactly.

    Args:
        name: default ``"accuracy"``.
        dtype: state dtype.
    """

    _fn_static = accuracy
    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryAccuracy(_BuiltinWrapper):
    """How often ``y_pred > threshold`` matches 0/1 labels.

    Args:
        name: default ``"binary_accuracy"``.
        dtype: state dtype.
        threshold: the probability above which a prediction counts as 1 (default 0.5).
    """

    _fn_static = binary_accuracy
    _config_keys = ("threshold",)
    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(_BuiltinWrapper):
    """How often the argmax of the prediction matches the argmax of a one-hot label.

    Args:
        name: default ``"categorical_accuracy"``.
        dtype: state dtype.
    """

    _fn_static = categorical_accuracy
    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SparseCategoricalAccuracy(_BuiltinWrapper):
    """How often the argmax of the prediction matches an integer label.

    Args:
        name: default ``"sparse_categorical_accuracy"``.
        dtype: state dtype.
    """

    _fn_static = sparse_categorical_accuracy
    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is None and isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor) \
                and y_true.dim() == 1 and y_pred.dim() == 2 and not y_true.is_floating_point() \
                and y_true.device == y_pred.device == self._device and getattr(y_pred, "_keras_mask", None) is None:
            # fit's every step with integer labels: the count of hits, added on the device (the same
            # sums as the per-sample path below, in three kernels instead of six)
            hits = (y_true == y_pred.detach().argmax(-1)).sum()
            self.total.add_(hits)
            self.count.add_(y_true.shape[0])
            return
        super().update_state(y_true, y_pred, sample_weight=sample_weight)


class TopKCategoricalAccuracy(_BuiltinWrapper):
    """How often the one-hot label's class is among the ``k`` highest predictions.

    Args:
        k: how many top predictions count (default 5).
        name: default ``"top_k_categorical_accuracy"``.
        dtype: state dtype.
    """

    _fn_static = top_k_categorical_accuracy
    _config_keys = ("k",)
    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"TopKCategoricalAccuracy: `k` must be a positive integer. Received: k={k!r}")
        super().__init__(name=name, dtype=dtype, k=int(k))


class SparseTopKCategoricalAccuracy(_BuiltinWrapper):
    """How often the integer label is among the ``k`` highest predictions.

    Args:
        k: how many top predictions count (default 5).
        name: default ``"sparse_top_k_categorical_accuracy"``.
        dtype: state dtype.
        from_sorted_ids: whether ``y_pred`` holds class ids sorted by score instead of scores.
    """

    _fn_static = sparse_top_k_categorical_accuracy
    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"SparseTopKCategoricalAccuracy: `k` must be a positive integer. Received: k={k!r}")
        super().__init__(name=name, dtype=dtype, k=int(k), from_sorted_ids=bool(from_sorted_ids))

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


# ---------------------------------------------------------------------------------------------------
# regression, probabilistic and hinge metrics (means of the loss functions)
# ---------------------------------------------------------------------------------------------------
def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (positive, unlike the loss of the same name)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(_BuiltinWrapper):
    """Mean of ``square(y_true - y_pred)``.

    Args:
        name: default ``"mean_squared_error"``.
        dtype: state dtype.
    """

    _fn_static = mean_squared_error

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_BuiltinWrapper):
    """Mean of ``abs(y_true - y_pred)``.

    Args:
        name: default ``"mean_absolute_error"``.
        dtype: state dtype.
    """

    _fn_static = mean_absolute_error

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_BuiltinWrapper):
    """Mean of ``100 * abs((y_true - y_pred) / y_true)``.

    Args:
        name: default ``"mean_absolute_percentage_error"``.
        dtype: state dtype.
    """

    _fn_static = mean_absolute_percentage_error

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_BuiltinWrapper):
    """Mean of ``square(log(y_true + 1) - log(y_pred + 1))``.

    Args:
        name: default ``"mean_squared_logarithmic_error"``.
        dtype: state dtype.
    """

    _fn_static = mean_squared_logarithmic_error

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over all values seen.

    Args:
        name: default ``"root_mean_squared_error"``.
        dtype: state dtype.
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _data(y_pred, self._torch_dtype)
        y_true = _data(y_true, self._torch_dtype, y_pred.device)
        self._to_device(y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        self._accumulate(torch.square(y_pred - y_true), sample_weight)

    def result(self):
        return torch.sqrt(super().result())


class CosineSimilarity(_BuiltinWrapper):
    """Mean cosine similarity between labels and predictions.

    Args:
        name: default ``"cosine_similarity"``.
        dtype: state dtype.
        axis: the axis along which similarity is computed (default -1).
    """

    _fn_static = cosine_similarity
    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class LogCoshError(_BuiltinWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``.

    Args:
        name: default ``"logcosh"``.
        dtype: state dtype.
    """

    _fn_static = log_cosh

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryCrossentropy(_BuiltinWrapper):
    """Mean binary crossentropy.

    Args:
        name: default ``"binary_crossentropy"``.
        dtype: state dtype.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1].
    """

    _fn_static = binary_crossentropy
    _config_keys = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_BuiltinWrapper):
    """Mean categorical crossentropy (one-hot targets).

    Args:
        name: default ``"categorical_crossentropy"``.
        dtype: state dtype.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1].
        axis: the class axis.
    """

    _fn_static = categorical_crossentropy
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0,
                 axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(_BuiltinWrapper):
    """Mean sparse categorical crossentropy (integer labels).

    Args:
        name: default ``"sparse_categorical_crossentropy"``.
        dtype: state dtype.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value to leave out.
        axis: the class axis.
    """

    _fn_static = sparse_categorical_crossentropy
    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class KLDivergence(_BuiltinWrapper):
    """Mean Kullback-Leibler divergence.

    Args:
        name: default ``"kl_divergence"``.
        dtype: state dtype.
    """

    _fn_static = kl_divergence

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Poisson(_BuiltinWrapper):
    """Mean Poisson loss.

    Args:
        name: default ``"poisson"``.
        dtype: state dtype.
    """

    _fn_static = poisson

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Hinge(_BuiltinWrapper):
    """Mean hinge loss.

    Args:
        name: default ``"hinge"``.
        dtype: state dtype.
    """

    _fn_static = hinge

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_BuiltinWrapper):
    """Mean squared hinge loss.

    Args:
        name: default ``"squared_hinge"``.
        dtype: state dtype.
    """

    _fn_static = squared_hinge

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_BuiltinWrapper):
    """Mean categorical hinge loss.

    Args:
        name: default ``"categorical_hinge"``.
        dtype: state dtype.
    """

    _fn_static = categorical_hinge

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


# ---------------------------------------------------------------------------------------------------
# confusion-matrix metrics: Precision, Recall, AUC and the raw counts
# ---------------------------------------------------------------------------------------------------
def _parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or t < 0 or t > 1]
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return [float(t) for t in values]


def _evenly_distributed(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=backend.epsilon()))


def _filter_top_k(x, k):
    idx = torch.topk(x, k, dim=-1).indices
    keep = torch.zeros_like(x).scatter_(-1, idx, 1.0)
    return x * keep + NEG_INF * (1.0 - keep)


def _confusion_counts(y_true, y_pred, thresholds, thresholds_t, evenly, want_neg, sample_weight=None,
                      top_k=None, class_id=None, multi_label=False, label_weights=None):
    """Weighted (tp, fp, tn, fn) per threshold, ``pred > threshold`` counting as positive.

    ``tn``/``fn`` are None unless ``want_neg``. Shapes: ``(T,)``, or ``(T, labels)`` with ``multi_label``.
    """
    dtype = thresholds_t.dtype
    y_true = y_true.to(dtype)
    y_pred = y_pred.to(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = _data(sample_weight, dtype, y_pred.device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]

    weights = None
    if sample_weight is not None:
        weights = sample_weight.expand(y_pred.shape)
    if label_weights is not None:
        lw = label_weights.to(device=y_pred.device, dtype=dtype).unsqueeze(0).expand(y_pred.shape)
        weights = lw if weights is None else weights * lw
    label = (y_true != 0).to(dtype)
    if not multi_label:  # multi_label keeps the (N, labels) layout
        label = label.reshape(-1)
        y_pred = y_pred.reshape(-1)
        if weights is not None:
            weights = weights.reshape(-1)
    pos_w = label if weights is None else label * weights
    neg_w = (1.0 - label) if weights is None else (1.0 - label) * weights
    n_thr = thresholds_t.shape[0]

    if evenly:
        # One pass: bucket every prediction by the highest threshold it exceeds, then a reversed
        # cumulative sum gives the counts at every threshold (Keras's memory-light method).
        with_eps = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        bucket = torch.ceil(torch.clamp(y_pred, 0.0, 1.0) * (n_thr - 1)) - 1
        if with_eps:
            bucket = torch.relu(bucket)
        bucket = bucket.long() + 1  # slot 0 collects predictions above no threshold (dropped)
        if multi_label:
            n_labels = y_pred.shape[-1]
            offset = torch.arange(n_labels, device=y_pred.device) * (n_thr + 1)
            flat = (bucket + offset).reshape(-1)
            size = n_labels * (n_thr + 1)
            tp_b = torch.zeros(size, dtype=dtype, device=y_pred.device).index_add_(0, flat, pos_w.reshape(-1))
            fp_b = torch.zeros(size, dtype=dtype, device=y_pred.device).index_add_(0, flat, neg_w.reshape(-1))
            tp_b = tp_b.reshape(n_labels, n_thr + 1)[:, 1:].T
            fp_b = fp_b.reshape(n_labels, n_thr + 1)[:, 1:].T
        else:
            tp_b = torch.zeros(n_thr + 1, dtype=dtype, device=y_pred.device).index_add_(0, bucket, pos_w)[1:]
            fp_b = torch.zeros(n_thr + 1, dtype=dtype, device=y_pred.device).index_add_(0, bucket, neg_w)[1:]
        tp = torch.flip(torch.cumsum(torch.flip(tp_b, [0]), 0), [0])
        fp = torch.flip(torch.cumsum(torch.flip(fp_b, [0]), 0), [0])
    else:
        thr = thresholds_t
        if multi_label:
            is_pos = (y_pred.unsqueeze(0) > thr.reshape(-1, 1, 1)).to(dtype)  # (T, N, L)
            tp = torch.einsum("tnl,nl->tl", is_pos, pos_w)
            fp = torch.einsum("tnl,nl->tl", is_pos, neg_w)
        else:
            is_pos = (y_pred.unsqueeze(0) > thr.unsqueeze(1)).to(dtype)  # (T, M)
            tp = is_pos @ pos_w
            fp = is_pos @ neg_w
    tn = fn = None
    if want_neg:
        dims = (0,) if multi_label else tuple(range(pos_w.dim()))
        fn = pos_w.sum(dims) - tp
        tn = neg_w.sum(dims) - fp
    return tp, fp, tn, fn


class _ThresholdMetric(Metric):
    """Shared state for metrics counted at one or more thresholds."""

    _counts: tuple = ()
    _aux_tensors = ("_thresholds_t",)

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_distributed(self.thresholds)
        self._thresholds_t = torch.tensor(self.thresholds, dtype=self._torch_dtype)
        for attr in self._counts:
            self.add_variable((len(self.thresholds),), name=attr)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _data(y_pred)
        y_true = _data(y_true, device=y_pred.device)
        self._to_device(y_pred.device)
        want_neg = "true_negatives" in self._counts or "false_negatives" in self._counts
        tp, fp, tn, fn = _confusion_counts(
            y_true, y_pred, self.thresholds, self._thresholds_t, self._evenly, want_neg,
            sample_weight=sample_weight, top_k=self.top_k, class_id=self.class_id)
        values = {"true_positives": tp, "false_positives": fp, "true_negatives": tn, "false_negatives": fn}
        for attr in self._counts:
            getattr(self, attr).add_(values[attr])

    def _one(self, value):
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class _ConfusionCount(_ThresholdMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        return self._one(getattr(self, self._counts[0]).clone())


class TruePositives(_ConfusionCount):
    """The weighted count of true positives (``y_pred > threshold`` and a positive label).

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5); one count per threshold.
        name: the metric's name.
        dtype: state dtype.
    """

    _counts = ("true_positives",)
    _direction = "up"


class FalsePositives(_ConfusionCount):
    """The weighted count of false positives. Args as ``TruePositives``."""

    _counts = ("false_positives",)
    _direction = "down"


class TrueNegatives(_ConfusionCount):
    """The weighted count of true negatives. Args as ``TruePositives``."""

    _counts = ("true_negatives",)
    _direction = "up"


class FalseNegatives(_ConfusionCount):
    """The weighted count of false negatives. Args as ``TruePositives``."""

    _counts = ("false_negatives",)
    _direction = "down"


class Precision(_ThresholdMetric):
    """Precision ``tp / (tp + fp)``: the fraction of positive predictions that are right.

    Args:
        thresholds: a float or list of floats in [0, 1]; a prediction above it counts as positive
            (default 0.5, or none with ``top_k``). A list gives one precision per threshold.
        top_k: count only the ``k`` highest predictions of each sample as positive.
        class_id: compute the metric for this class (column) only.
        name: the metric's name.
        dtype: state dtype.
    """

    _counts = ("true_positives", "false_positives")
    _direction = "up"

    def result(self):
        return self._one(_divide_no_nan(self.true_positives, self.true_positives + self.false_positives))

    def get_config(self):
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Recall(_ThresholdMetric):
    """Recall ``tp / (tp + fn)``: the fraction of positive labels that are found.

    Args:
        thresholds: a float or list of floats in [0, 1]; a prediction above it counts as positive
            (default 0.5, or none with ``top_k``). A list gives one recall per threshold.
        top_k: count only the ``k`` highest predictions of each sample as positive.
        class_id: compute the metric for this class (column) only.
        name: the metric's name.
        dtype: state dtype.
    """

    _counts = ("true_positives", "false_negatives")
    _direction = "up"

    def result(self):
        return self._one(_divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))

    def get_config(self):
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class AUC(Metric):
    """Area under the ROC or precision-recall curve, approximated by a Riemann sum over thresholds.

    Args:
        num_thresholds: how many thresholds discretize the curve (default 200, must be > 1).
        curve: ``"ROC"`` (default) or ``"PR"``.
        summation_method: ``"interpolation"`` (default; for PR, Davis & Goadrich's interpolation),
            ``"minoring"`` or ``"majoring"``.
        name: the metric's name.
        dtype: state dtype.
        thresholds: explicit thresholds in [0, 1] (then ``num_thresholds`` is ignored); -epsilon and
            1 + epsilon are added at the ends.
        multi_label: compute one AUC per label column and average them (otherwise all values are
            flattened into one binary problem).
        num_labels: the number of labels with ``multi_label`` (else taken from the first batch).
        label_weights: weights of the labels (per-label AUC average with ``multi_label``, per-value
            weights otherwise).
        from_logits: whether predictions are logits (a sigmoid is applied).
    """

    _direction = "up"
    _aux_tensors = ("_thresholds_t", "label_weights")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
                 from_logits=False):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(_parse_thresholds(thresholds, 0.5))
            self._evenly = _evenly_distributed(np.array([0.0] + thresholds + [1.0]))
        else:
            if not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            thresholds = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        eps = backend.epsilon()
        self._thresholds = [0.0 - eps] + list(thresholds) + [1.0 + eps]
        curve_key = str(getattr(curve, "value", curve)).upper()
        if curve_key not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        self.curve = curve_key
        method = str(getattr(summation_method, "value", summation_method)).lower()
        if method not in ("interpolation", "majoring", "minoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self.summation_method = method
        super().__init__(name=name, dtype=dtype)
        self._thresholds_t = torch.tensor(self._thresholds, dtype=self._torch_dtype)
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        if isinstance(label_weights, dict):  # Keras serializes tensors as {"class_name": "__tensor__", ...}
            label_weights = label_weights.get("config", {}).get("value")
        if isinstance(label_weights, torch.Tensor):
            label_weights = label_weights.detach().cpu().numpy()
        if label_weights is not None:
            label_weights = torch.as_tensor(np.asarray(label_weights, dtype=np.float64), dtype=self._torch_dtype)
        self.label_weights = label_weights
        self._from_logits = bool(from_logits)
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds used to discretize the curve (including the two end points)."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                                 f"{len(shape)}. Full shape received for `y_pred`: {tuple(shape)}")
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        for attr in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable(var_shape, name=attr)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _data(y_pred)
        y_true = _data(y_true, device=y_pred.device)
        if not self._built:
            self._build(tuple(y_pred.shape))
        self._to_device(y_pred.device)
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        label_weights = None if self.multi_label else self.label_weights
        tp, fp, tn, fn = _confusion_counts(
            y_true, y_pred, self._thresholds, self._thresholds_t, self._evenly, True,
            sample_weight=sample_weight, multi_label=self.multi_label, label_weights=label_weights)
        self.true_positives.add_(tp)
        self.false_positives.add_(fp)
        self.true_negatives.add_(tn)
        self.false_negatives.add_(fn)

    def _average(self, by_label):
        if self.label_weights is None:
            return by_label.mean()
        lw = self.label_weights
        return _divide_no_nan((by_label * lw).sum(), lw.sum())

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = _divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[: n - 1] > 0) & (p[1:] > 0),
                                   _divide_no_nan(p[: n - 1], torch.clamp(p[1:], min=0)),
                                   torch.ones_like(p[1:]))
        increment = _divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                   torch.clamp(tp[1:] + fn[1:], min=0))
        if self.multi_label:
            return self._average(increment.sum(0))
        return increment.sum()

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[: n - 1], y[1:])
        else:
            heights = torch.maximum(y[: n - 1], y[1:])
        terms = (x[: n - 1] - x[1:]) * heights
        if self.multi_label:
            return self._average(terms.sum(0))
        return terms.sum()

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


# ---------------------------------------------------------------------------------------------------
# F-scores, R2, IoU
# ---------------------------------------------------------------------------------------------------
class FBetaScore(Metric):
    """The F-beta score, ``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)``, per class.

    Inputs are 2D, ``(batch_size, num_classes)``. Without ``threshold`` the highest prediction of each
    row (if non-zero) counts as positive; with it, every prediction above it.

    Args:
        average: None (one score per class), ``"micro"`` (counts pooled over classes), ``"macro"``
            (mean of the class scores) or ``"weighted"`` (mean weighted by each class's label count).
        beta: a float > 0: how much more recall weighs than precision (default 1.0).
        threshold: a float in (0, 1], or None (default).
        name: default ``"fbeta_score"``.
        dtype: state dtype.
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: "
                             f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python float. "
                                 f"Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                                 f"Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                             f"y_true.shape={tuple(y_true_shape)}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            self.add_variable(shape, name=name)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _data(y_pred, self._torch_dtype)
        y_true = _data(y_true, self._torch_dtype, y_pred.device)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        self._to_device(y_pred.device)
        if self.threshold is None:
            top = torch.amax(y_pred, dim=-1, keepdim=True)
            y_pred = (y_pred >= top) & (torch.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.to(self._torch_dtype)
        if sample_weight is not None:
            sample_weight = _data(sample_weight, self._torch_dtype, y_pred.device)

        def weighted_sum(values):
            if sample_weight is not None:
                values = values * sample_weight.unsqueeze(1)
            return torch.sum(values) if self.axis is None else torch.sum(values, dim=self.axis)

        self.true_positives.add_(weighted_sum(y_pred * y_true))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self):
        if not self._built:
            # Keras has no state before the first batch either; an empty score is 0.
            return torch.zeros((), dtype=self._torch_dtype)
        eps = backend.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        b2 = self.beta ** 2
        score = precision * recall / (b2 * precision + recall + eps) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (torch.sum(self.intermediate_weights) + eps)
            score = torch.sum(score * weights)
        elif self.average is not None:
            score = torch.mean(score)
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score: ``FBetaScore`` with ``beta=1``.

    Args:
        average: None, ``"micro"``, ``"macro"`` or ``"weighted"`` (see ``FBetaScore``).
        threshold: a float in (0, 1], or None (the highest prediction per row counts).
        name: default ``"f1_score"``.
        dtype: state dtype.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """The coefficient of determination, ``1 - sum((y - p)**2) / sum((y - mean(y))**2)``, per output.

    Inputs are 2D, ``(batch_size, num_outputs)``; sample weights weigh the sums.

    Args:
        class_aggregation: ``"uniform_average"`` (default: mean over outputs), ``"variance_weighted_average"``
            (weighted by each output's variance) or None (one score per output).
        num_regressors: for the adjusted R2, the number of independent variables (default 0: plain R2).
        name: default ``"r2_score"``.
        dtype: state dtype.
    """

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                             f"Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. "
                             f"Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                             f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}.")
        n = y_pred_shape[-1]
        self.add_variable((n,), name="squared_sum")
        self.add_variable((n,), name="sum")
        self.add_variable((n,), name="residual")  # Keras's name for its `total_mse`
        self.add_variable((n,), name="count")
        self._built = True

    @property
    def total_mse(self):
        return self.residual

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _data(y_pred, self._torch_dtype)
        y_true = _data(y_true, self._torch_dtype, y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        self._to_device(y_pred.device)
        sample_weight = _data(1.0 if sample_weight is None else sample_weight, self._torch_dtype, y_pred.device)
        if sample_weight.dim() == 1:
            sample_weight = sample_weight.unsqueeze(1)
        sample_weight = sample_weight.expand(y_true.shape)
        weighted = y_true * sample_weight
        self.sum.add_(torch.sum(weighted, dim=0))
        self.squared_sum.add_(torch.sum(y_true * weighted, dim=0))
        self.residual.add_(torch.sum((y_true - y_pred) ** 2 * sample_weight, dim=0))
        self.count.add_(torch.sum(sample_weight, dim=0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1 - self.residual / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = torch.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = torch.sum(total * raw) / torch.sum(total)
        else:
            score = raw
        if self.num_regressors != 0:
            n = float(self.num_samples)
            if self.num_regressors > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. "
                              "Falling back to standard R2 score.", stacklevel=2)
            elif self.num_regressors == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                              stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - self.num_regressors - 1.0)
        return score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class _IoUBase(Metric):
    """A running confusion matrix of class ids (rows: labels, columns: predictions)."""

    _direction = "up"

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        # Keras keeps the confusion matrix as integers unless told otherwise.
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.add_variable((num_classes, num_classes), name="total_cm")

    def _ids(self, x, sparse):
        x = _data(x)
        if not sparse:
            x = torch.argmax(x, dim=self.axis)
        return x.to(self._torch_dtype).reshape(-1)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = self._ids(y_true, self.sparse_y_true)
        y_pred = self._ids(y_pred, self.sparse_y_pred).to(y_true.device)
        self._to_device(y_true.device)
        if sample_weight is None:
            sample_weight = 1
        elif (hasattr(sample_weight, "dtype") and "float" in str(sample_weight.dtype)
              and "int" in self.dtype):
            warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an "
                          "incorrect weight due to type casting Consider using integer weights.")
        sample_weight = _data(sample_weight, self._torch_dtype, y_true.device)
        if sample_weight.dim() > 1:
            sample_weight = sample_weight.reshape(-1)
        sample_weight = sample_weight.expand(y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        zero = torch.zeros((), dtype=y_true.dtype, device=y_true.device)
        y_true = torch.where(valid, y_true, zero).long()
        y_pred = torch.where(valid, y_pred, zero).long()
        sample_weight = torch.where(valid, sample_weight, torch.zeros_like(sample_weight))
        cm = torch.zeros(n * n, dtype=self._torch_dtype, device=y_true.device)
        cm.index_add_(0, y_true * n + y_pred, sample_weight.to(self._torch_dtype))
        self.total_cm.add_(cm.reshape(n, n))

    def reset_state(self):
        self.total_cm.zero_()


class IoU(_IoUBase):
    """Intersection over union, ``tp / (tp + fp + fn)``, averaged over ``target_class_ids``.

    Labels and predictions are class ids (or, with ``sparse_y_true``/``sparse_y_pred`` False, scores whose
    argmax over ``axis`` is taken). Classes that appear in neither are left out of the mean.

    Args:
        num_classes: the number of classes (the confusion matrix is num_classes x num_classes).
        target_class_ids: the classes averaged over.
        name: the metric's name.
        dtype: state dtype (default ``"int32"``: float sample weights are truncated, as in Keras).
        ignore_class: a label id left out (e.g. a "void" class), or None.
        sparse_y_true: whether labels are class ids (default True).
        sparse_y_pred: whether predictions are class ids (default True).
        axis: the class axis of non-sparse inputs (default -1).
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm
        tp = torch.diagonal(cm)
        denominator = torch.sum(cm, dim=0) + torch.sum(cm, dim=1) - tp
        ids = torch.tensor(self.target_class_ids, dtype=torch.long, device=cm.device)
        tp = tp[ids].to(torch.float32)
        denominator = denominator[ids].to(torch.float32)
        valid = denominator > 1e-9
        iou = tp / (denominator + backend.epsilon())
        iou = torch.where(valid, iou, torch.zeros_like(iou))
        return torch.sum(iou, dim=self.axis) / (torch.sum(valid.to(torch.float32)) + backend.epsilon())

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU for binary labels: a prediction ``>= threshold`` is class 1.

    Args:
        target_class_ids: the classes averaged over, among (0, 1) (default both).
        threshold: the decision threshold (default 0.5).
        name: the metric's name.
        dtype: state dtype (default ``"int32"``).
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _data(y_true).to(self._torch_dtype)
        y_pred = (_data(y_pred, torch.float32) >= self.threshold).to(self._torch_dtype)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over every class.

    Args:
        num_classes, name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: as ``IoU``.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)), name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU with one-hot labels (and, by default, per-class scores as predictions).

    Args:
        num_classes, target_class_ids, name, dtype, ignore_class, axis: as ``IoU``.
        sparse_y_pred: whether predictions are class ids (default False).
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot labels (and, by default, per-class scores as predictions).

    Args:
        num_classes, name, dtype, ignore_class, axis: as ``MeanIoU``.
        sparse_y_pred: whether predictions are class ids (default False).
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, axis=axis, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


# ---------------------------------------------------------------------------------------------------
# correlation metrics
# ---------------------------------------------------------------------------------------------------
def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation between ``y_true`` and ``y_pred`` along ``axis`` (one value per sample)."""
    y_pred = _data(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(_floatx())
    y_true = _data(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    t = y_true - y_true.mean(dim=axis, keepdim=True)
    p = y_pred - y_pred.mean(dim=axis, keepdim=True)
    t = t / torch.std(t, dim=axis, keepdim=True, unbiased=False)
    p = p / torch.std(p, dim=axis, keepdim=True, unbiased=False)
    return torch.mean(t * p, dim=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient along ``axis`` (one value per sample), computed as Keras
    3 computes it (its covariance term centres ``y_true`` on the mean of ``y_pred``)."""
    y_pred = _data(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(_floatx())
    y_true = _data(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    t_mean = y_true.mean(dim=axis, keepdim=True)
    p_mean = y_pred.mean(dim=axis, keepdim=True)
    t_var = torch.var(y_true - t_mean, dim=axis, keepdim=True, unbiased=False)
    p_var = torch.var(y_pred - p_mean, dim=axis, keepdim=True, unbiased=False)
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + torch.square(t_mean - p_mean)
    return torch.mean(2 * covar / (norm + backend.epsilon()), dim=axis)


class PearsonCorrelation(_BuiltinWrapper):
    """The mean over samples of the Pearson correlation between labels and predictions along ``axis``.

    Args:
        name: default ``"pearson_correlation"``.
        dtype: state dtype.
        axis: the axis the correlation runs along (default -1).
    """

    _fn_static = pearson_correlation
    _direction = "up"
    _config_keys = ("axis",)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(_BuiltinWrapper):
    """The mean over samples of the concordance correlation coefficient along ``axis``.

    Args:
        name: default ``"concordance_correlation"``.
        dtype: state dtype.
        axis: the axis the coefficient runs along (default -1).
    """

    _fn_static = concordance_correlation
    _direction = "up"
    _config_keys = ("axis",)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


# ---------------------------------------------------------------------------------------------------
# one rate at a constraint on another (sensitivity at specificity, precision at recall...)
# ---------------------------------------------------------------------------------------------------
class _SensitivitySpecificityBase(_ThresholdMetric):
    """Confusion counts at ``num_thresholds`` evenly spaced thresholds in [0, 1]; ``result`` is the largest
    value of one rate over the thresholds where another rate reaches ``value`` (0 when none does)."""

    _counts = ("true_positives", "false_positives", "true_negatives", "false_negatives")
    _direction = "up"
    _constraint = ""  # the argument's name: "specificity", "sensitivity", "recall" or "precision"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        arg = self._constraint
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value <= 1:
            raise ValueError(f"Argument `{arg}` must be in the range [0, 1]. Received: {arg}={value!r}")
        if not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds!r}")
        if num_thresholds == 1:
            thresholds = [0.5]
        else:
            thresholds = [0.0] + [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        super().__init__(thresholds=thresholds, class_id=class_id, name=name, dtype=dtype)
        self.value = value
        self.num_thresholds = num_thresholds
        setattr(self, arg, value)

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp), "precision": _divide_no_nan(tp, tp + fp)}

    def _best(self, wanted):
        rates = self._rates()
        feasible = rates[self._constraint] >= self.value
        values = torch.where(feasible, rates[wanted], torch.zeros_like(rates[wanted]))
        return torch.clamp(values.max(), min=0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._constraint: self.value}


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall, ``tp / (tp + fn)``) at the thresholds whose specificity
    (``tn / (tn + fp)``) is at least ``specificity``.

    Args:
        specificity: in [0, 1].
        num_thresholds: thresholds used to find the operating point (default 200).
        class_id: compute the metric for this class (column) only.
        name: the metric's name.
        dtype: state dtype.
    """

    _constraint = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        return self._best("sensitivity")


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity at the thresholds whose sensitivity is at least ``sensitivity``.
    Args as ``SensitivityAtSpecificity`` with ``sensitivity`` in [0, 1]."""

    _constraint = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        return self._best("specificity")


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision at the thresholds whose recall is at least ``recall``.
    Args as ``SensitivityAtSpecificity`` with ``recall`` in [0, 1]."""

    _constraint = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        return self._best("precision")


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall at the thresholds whose precision is at least ``precision`` (0 when no threshold
    reaches it). Args as ``SensitivityAtSpecificity`` with ``precision`` in [0, 1]."""

    _constraint = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        return self._best("recall")


# ---------------------------------------------------------------------------------------------------
# get / serialize
# ---------------------------------------------------------------------------------------------------
_CLASS_LIST = (Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
               SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision,
               Recall, AUC, TruePositives, FalsePositives, TrueNegatives, FalseNegatives, MeanSquaredError,
               MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError,
               CosineSimilarity, LogCoshError, BinaryCrossentropy, CategoricalCrossentropy,
               SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
               FBetaScore, F1Score, R2Score, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
               PearsonCorrelation, ConcordanceCorrelation, SensitivityAtSpecificity, SpecificityAtSensitivity,
               PrecisionAtRecall, RecallAtPrecision)
_CLASSES = {c.__name__: c for c in _CLASS_LIST}
# Keras accepts each class's snake_case name too ("categorical_crossentropy", "auc", "precision").
_SNAKE = {backend.to_snake_case(c.__name__): c for c in _CLASS_LIST
          if c not in (Metric, MeanMetricWrapper, Mean, Sum)}
_SNAKE.update({"mean": Mean, "sum": Sum})
_ALIASES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
    "kld": "kl_divergence", "KLD": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh_error", "log_cosh": "log_cosh_error",
}
_METRIC_FUNCTIONS = {f.__name__: f for f in (accuracy, binary_accuracy, categorical_accuracy,
                                             sparse_categorical_accuracy, top_k_categorical_accuracy,
                                             sparse_top_k_categorical_accuracy, pearson_correlation,
                                             concordance_correlation)}
# Loss functions without a metric class of their own ("huber") are averaged by MeanMetricWrapper.
_WRAPPED_FUNCTIONS = {n: f for n, f in losses.FUNCTIONS.items() if n not in _SNAKE}
_AUTO_KIND = ("accuracy", "acc", "crossentropy", "ce")


def names():
    """Every name ``get`` accepts (Keras names, aliases and class names)."""
    return sorted(set(_SNAKE) | set(_ALIASES) | set(_WRAPPED_FUNCTIONS) | set(_AUTO_KIND)
                  | {n for n in _CLASSES if n not in ("Metric", "MeanMetricWrapper")})


def canonical_name(name):
    """The canonical spelling of a metric string (``"mse"`` -> ``"mean_squared_error"``)."""
    return _ALIASES.get(name, name)


def _function_from_config(fn):
    if isinstance(fn, dict):
        fn = fn.get("config")
    if isinstance(fn, str):
        if fn in _METRIC_FUNCTIONS:
            return _METRIC_FUNCTIONS[fn]
        if fn == "cosine_similarity":
            return cosine_similarity
        name = losses.canonical_name(fn)
        if name in losses.FUNCTIONS:
            return losses.FUNCTIONS[name]
    raise ValueError(f"Unknown metric function: {fn!r}. Valid names: "
                     f"{sorted(set(_METRIC_FUNCTIONS) | set(losses.FUNCTIONS))}")


def _auto_metric(identifier, y_true, y_pred):
    if y_true is None or y_pred is None:
        raise ValueError(
            f"metric {identifier!r} chooses its kind (binary, sparse categorical or categorical) from the "
            "targets and outputs: pass y_true and y_pred (arrays or shapes), or name the metric, e.g. "
            "'sparse_categorical_accuracy'."
        )
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
    if identifier.lower() in ("accuracy", "acc"):
        cls = BinaryAccuracy if is_binary else (SparseCategoricalAccuracy if is_sparse else CategoricalAccuracy)
    else:
        cls = BinaryCrossentropy if is_binary else (
            SparseCategoricalCrossentropy if is_sparse else CategoricalCrossentropy)
    return cls(name=identifier)


def get(identifier, y_true=None, y_pred=None):
    """Resolve a metric identifier to a ``Metric`` object.

    Accepts a name (``"accuracy"``, ``"mae"``, ``"AUC"``, ``"categorical_crossentropy"``), a dict
    ``{"class_name": ..., "config": ...}``, a ``Metric`` class or instance, or any callable
    ``fn(y_true, y_pred)`` (averaged by ``MeanMetricWrapper``). ``"accuracy"``/``"acc"`` and
    ``"crossentropy"``/``"ce"`` pick the binary, sparse categorical or categorical kind from
    ``y_true``/``y_pred`` (arrays or shapes) as Keras does. A metric made from a string is named by
    that string, as Keras shows it in the logs.
    """
    if identifier is None:
        raise ValueError("Expected a metric, received None.")
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in _AUTO_KIND:
            return _auto_metric(identifier, y_true, y_pred)
        key = _ALIASES.get(identifier, identifier)
        cls = _SNAKE.get(key) or (_CLASSES.get(key) if key not in ("Metric", "MeanMetricWrapper") else None)
        if cls is not None:
            metric = cls()
        elif key in _METRIC_FUNCTIONS or key in _WRAPPED_FUNCTIONS:
            metric = MeanMetricWrapper(_METRIC_FUNCTIONS.get(key) or _WRAPPED_FUNCTIONS[key])
        elif losses.canonical_name(key) in _WRAPPED_FUNCTIONS:
            metric = MeanMetricWrapper(_WRAPPED_FUNCTIONS[losses.canonical_name(key)])
        else:
            raise ValueError(f"Unknown metric: {identifier!r}. Valid names: {names()}")
        metric.name = identifier
        return metric
    if inspect.isclass(identifier):
        if issubclass(identifier, Metric):
            return identifier()
        raise ValueError(f"Could not interpret metric identifier: {identifier!r} (a class that is not a Metric).")
    if callable(identifier):
        name = getattr(identifier, "name", None)  # a Loss object used as a metric keeps its name
        if not isinstance(name, str):
            fn_name = getattr(identifier, "__name__", None) or type(identifier).__name__
            name = backend.to_snake_case(fn_name)
        return MeanMetricWrapper(identifier, name=name)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Valid names: {names()}")


def deserialize(config, custom_objects=None):
    """Rebuild a metric from ``serialize``'s output."""
    if not isinstance(config, dict):
        if isinstance(config, str) and custom_objects and config in custom_objects:
            return get(custom_objects[config])
        return get(config)
    class_name = config.get("class_name")
    inner = config.get("config", {})
    if class_name == "function":
        return get(custom_objects[inner] if custom_objects and inner in custom_objects
                   else _function_from_config(inner))
    cls = (custom_objects or {}).get(class_name) or _CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown metric class: {class_name!r}. Valid names: {sorted(_CLASSES)}")
    return cls.from_config(inner or {})


def serialize(metric):
    """A metric as Keras writes it, with canonical names (``"mse"`` becomes ``"mean_squared_error"``).

    Strings stay strings; built-in functions become their name; metric objects become
    ``{"module": "keras.metrics", "class_name", "config", "registered_name"}``.
    """
    if metric is None:
        return None
    if isinstance(metric, str):
        return canonical_name(metric)
    if isinstance(metric, Metric):
        cls = type(metric)
        builtin = _CLASSES.get(cls.__name__) is cls
        return {"module": "keras.metrics" if builtin else cls.__module__, "class_name": cls.__name__,
                "config": metric.get_config(), "registered_name": None if builtin else cls.__name__}
    name = getattr(metric, "__name__", None)
    if name is not None and (_METRIC_FUNCTIONS.get(name) is metric or losses.FUNCTIONS.get(name) is metric):
        return name
    if callable(metric):
        return losses.serialize_function(metric)
    raise ValueError(f"Cannot serialize metric {metric!r}.")
