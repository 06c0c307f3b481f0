"""Loss functions and ``Loss`` classes with Keras 3's names, defaults and numerics.

Every function form (``categorical_crossentropy(y_true, y_pred, ...)``) returns one loss per sample
(the last axis reduced); a ``Loss`` object weights those by ``sample_weight`` and reduces them to a
0-d tensor (``reduction="sum_over_batch_size"``: the weighted sum divided by the number of values,
as Keras 3 does).

These run on every training step: they work on torch tensors without Python loops and never read
a value back to the host. ``check_targets`` is the slow, friendly check a training loop runs once
before the first step.
"""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from engine import backend
from engine.ops import nn as nn_ops

_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")
_LOG2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------------
# tensor helpers shared with engine.metrics
# ---------------------------------------------------------------------------------------------------
def to_tensor(x, dtype=None, device=None):
    """``x`` as a torch tensor; a tensor already of that dtype and device is returned as is."""
    if isinstance(x, torch.Tensor):
        if (dtype is not None and x.dtype != dtype) or (device is not None and x.device != device):
            return x.to(device=device, dtype=dtype)
        return x
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # e.g. a tf tensor or a Keras variable
        x = x.numpy()
    arr = np.asarray(x)
    if dtype is None and arr.dtype == np.float64:
        dtype = backend.torch_dtype()
    return torch.as_tensor(arr, dtype=dtype, device=device)


def float_pair(y_true, y_pred):
    """``y_pred`` as a float tensor and ``y_true`` cast to its dtype and device (Keras's first lines)."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(backend.torch_dtype())
    return to_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks equal when they differ by one and the longer has a last axis of 1 (Keras's rule)."""
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _divide_no_nan(x, y):
    return torch.where(y == 0, torch.zeros_like(x), x / y)


def get_keras_mask(x):
    """The boolean mask a masking layer or ``ignore_class`` attached to a tensor (None if none)."""
    return getattr(x, "_keras_mask", None)


def _set_keras_mask(x, mask):
    x._keras_mask = mask
    return x


def standardize_reduction(reduction):
    if reduction == "auto":  # Keras 2 / tf.keras configs; it meant sum_over_batch_size outside tf.distribute
        return "sum_over_batch_size"
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean mask into the sample weights as Keras does.

    With a mean reduction, valid entries get weight ``total / valid`` so that dividing by the number
    of values afterwards divides by the number of valid values.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.to(dtype).sum()  # may be 0
        mask_weight = torch.where(valid == 0, torch.zeros_like(valid), float(mask.numel()) / valid)
        float_mask = torch.where(mask.bool(), mask_weight, torch.zeros_like(mask_weight))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = sample_weight.to(dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample losses and reduce them (Keras's ``reduce_weighted_values``)."""
    if sample_weight is None and mask is None and reduction == "sum_over_batch_size" and values.numel() \
            and (dtype is None or values.dtype == dtype):  # every step of a plain fit: one kernel
        return values.mean() if values.dim() else values
    dtype = dtype or values.dtype
    if values.dtype != dtype:
        values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype, values.device)
    sample_weight = apply_mask(sample_weight, mask, dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction is None or reduction == "none" or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return _divide_no_nan(loss, sample_weight.sum().to(loss.dtype))
    n = values.numel()
    return loss / n if n else torch.zeros_like(loss)


# ---------------------------------------------------------------------------------------------------
# loss functions: one value per sample
# ---------------------------------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """Mean of ``square(y_true - y_pred)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of ``abs(y_true - y_pred)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)))`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=backend.epsilon()))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean of ``square(log(y_pred + 1) - log(y_true + 1))`` (values below epsilon clipped)."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    eps = backend.epsilon()
    first_log = torch.log(torch.clamp(y_pred, min=eps) + 1.0)
    second_log = torch.log(torch.clamp(y_true, min=eps) + 1.0)
    return torch.mean(torch.square(first_log - second_log), dim=-1)


def _l2_normalize(x, axis):
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / backend.epsilon())


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis`` (so minimizing it aligns the vectors)."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond; mean over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta = float(delta)
    return torch.mean(
        torch.where(abs_error <= delta, 0.5 * torch.square(error), delta * abs_error - 0.5 * delta * delta),
        dim=-1,
    )


def log_cosh(y_true, y_pred):
    """Mean of ``log(cosh(y_pred - y_true))``, computed without overflow."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(x + F.softplus(x * -2.0) - _LOG2, dim=-1)


def _hinge_labels(y_true):
    # Keras maps {0, 1} labels to {-1, 1} only when every label is 0 or 1; torch.where keeps that
    # decision on the device instead of reading it back.
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """Mean of ``maximum(1 - y_true * y_pred, 0)``; labels in {0, 1} are mapped to {-1, 1}."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.mean(torch.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred):
    """Mean of ``square(maximum(1 - y_true * y_pred, 0))``; labels in {0, 1} are mapped to {-1, 1}."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.mean(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true, y_pred):
    """``maximum(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)``, ``neg = max((1 - y_true) * y_pred)``."""
    y_true, y_pred = float_pair(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred))`` over the last axis, both clipped to [epsilon, 1]."""
    y_true, y_pred = float_pair(y_true, y_pred)
    eps = backend.epsilon()
    y_true = torch.clamp(y_true, eps, 1.0)
    y_pred = torch.clamp(y_pred, eps, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    """Mean of ``y_pred - y_true * log(y_pred + epsilon)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + backend.epsilon()), dim=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) targets and predicted class probabilities.

    Args:
        y_true: one-hot targets, the same shape as ``y_pred``.
        y_pred: probabilities (normalized along ``axis`` and clipped to [epsilon, 1 - epsilon]) or,
            with ``from_logits=True``, unnormalized scores.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + s / num_classes``.
        axis: the class axis.

    Returns:
        One loss per sample: ``y_pred``'s shape without ``axis``.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    y_true, y_pred = float_pair(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. The loss is always 0 with one "
            "class: use 'binary_crossentropy' (and a sigmoid output) if you have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}. "
            "For integer class labels use loss='sparse_categorical_crossentropy', or one-hot encode them "
            "with engine.utils.to_categorical."
        )
    logits = None if from_logits else _softmax_logits(y_pred, axis)
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    elif logits is not None:
        log_prob = torch.clamp(torch.log_softmax(logits, dim=-1), *_log_clip_bounds(logits.dtype))
    else:
        eps = backend.epsilon()
        output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(y_true * log_prob, dim=axis)


def _softmax_logits(y_pred, axis):
    """The logits ``y_pred`` is the last-axis softmax of (``activations.softmax_keeping_logits``), or None."""
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is None or axis % y_pred.dim() != y_pred.dim() - 1 or logits.shape != y_pred.shape \
            or logits.dtype != y_pred.dtype:
        return None
    return logits


def _log_clip_bounds(dtype):
    """``log(epsilon)`` and ``log(1 - epsilon)`` as the probability clip computes them in ``dtype``."""
    eps = backend.epsilon()
    key = (dtype, eps)
    bounds = _LOG_CLIP_BOUNDS.get(key)
    if bounds is None:
        lo, hi = torch.tensor([eps, 1.0 - eps], dtype=dtype).tolist()
        bounds = _LOG_CLIP_BOUNDS[key] = (math.log(lo), math.log(hi) if hi < 1.0 else 0.0)
    return bounds


_LOG_CLIP_BOUNDS = {}


def fused_step_loss(loss):
    """For a training loop: a function ``(y_true, y_pred) -> reduced loss or None`` that computes
    ``loss(y_true, y_pred)`` in the fewest kernels when ``loss`` is sparse categorical crossentropy
    with Keras's defaults and ``y_pred`` a softmax with its logits (None when it cannot apply, and
    None for any other loss). The returned function gives None for a batch it does not cover (masks,
    labels of another shape): the caller then calls ``loss`` itself."""
    if type(loss) not in (LossFunctionWrapper, SparseCategoricalCrossentropy) \
            or getattr(loss, "fn", None) is not sparse_categorical_crossentropy \
            or loss.reduction != "sum_over_batch_size" \
            or set(loss._fn_kwargs) - {"from_logits", "ignore_class", "axis"} \
            or loss._fn_kwargs.get("from_logits") or loss._fn_kwargs.get("ignore_class") is not None \
            or loss._fn_kwargs.get("axis", -1) not in (-1, 1):
        return None
    dtype = loss._torch_dtype

    def step_loss(y_true, y_pred):
        logits = getattr(y_pred, "_keras_logits", None)
        if logits is None or not isinstance(y_true, torch.Tensor) or y_true.dim() != 1 or y_pred.dim() != 2 \
                or y_true.is_floating_point() or y_pred.dtype != dtype or logits.shape != y_pred.shape \
                or logits.dtype != dtype or not y_true.shape[0] or getattr(y_pred, "_keras_mask", None) is not None \
                or y_true.device != logits.device:
            return None
        lo, hi = _log_clip_bounds(dtype)
        target = y_true if y_true.dtype == torch.int64 else y_true.long()
        # the mean of -clip(log_softmax)[label]: three kernels (the clip on the log-probabilities)
        return F.nll_loss(torch.clamp(torch.log_softmax(logits, dim=-1), lo, hi), target)

    return step_loss


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer class labels and predicted class probabilities.

    Args:
        y_true: integer labels of shape ``y_pred.shape`` without ``axis`` (a trailing axis of 1 is
            accepted, e.g. ``(N, 1)``).
        y_pred: probabilities or, with ``from_logits=True``, logits.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose entries contribute nothing (and are left out of the mean).
        axis: the class axis.

    Returns:
        One loss per sample (per position for sequences).
    """
    logits = None if from_logits else getattr(y_pred, "_keras_logits", None)
    if logits is not None and ignore_class is None and isinstance(y_true, torch.Tensor) and y_true.dim() == 1 \
            and y_pred.dim() == 2 and axis in (-1, 1) and y_true.shape[0] == y_pred.shape[0] \
            and logits.shape == y_pred.shape and logits.dtype == y_pred.dtype and y_true.device == y_pred.device:
        # A softmax classifier's every training step (see below): only the fused crossentropy and its clip.
        lo, hi = _log_clip_bounds(logits.dtype)
        target = y_true if y_true.dtype == torch.int64 else y_true.long()
        return torch.clamp(F.cross_entropy(logits, target, reduction="none"), -hi, -lo)
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(backend.torch_dtype())
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if y_pred.dim() < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={tuple(y_pred.shape)}")
    expected = list(y_pred.shape)
    del expected[axis]
    if list(y_true.shape) != expected:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}. "
            "sparse_categorical_crossentropy expects integer labels (one per sample); for one-hot targets "
            "use loss='categorical_crossentropy'."
        )
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        # Ignored entries only need a legal index; their loss is zeroed below. Leaving y_pred
        # untouched (Keras zeroes it) gives the same values without NaN gradients.
        y_true = torch.where(valid, y_true, torch.zeros_like(y_true))
    target = y_true.long()
    if y_pred.dim() == 1:
        output, target, squeeze = y_pred.unsqueeze(0), target.unsqueeze(0), True
    else:
        squeeze = False
        class_axis = axis % y_pred.dim()
        output = y_pred if class_axis == 1 else y_pred.movedim(class_axis, 1)
    logits = None if from_logits else _softmax_logits(y_pred, axis)
    if from_logits:
        result = F.cross_entropy(output, target, reduction="none")
    elif logits is not None:
        # -log(clip(softmax(z)[t], eps, 1 - eps)) is the fused crossentropy of z clipped to
        # [-log(1 - eps), -log(eps)]: the same value, and no gradient where the clip bites, as Keras's.
        lo, hi = _log_clip_bounds(logits.dtype)
        z = logits if y_pred.dim() == 1 or class_axis == 1 else logits.movedim(class_axis, 1)
        z = z.unsqueeze(0) if squeeze else z
        result = torch.clamp(F.cross_entropy(z, target, reduction="none"), -hi, -lo)
    else:
        eps = backend.epsilon()
        output = output / torch.sum(output, dim=1, keepdim=True)
        result = F.nll_loss(torch.log(torch.clamp(output, eps, 1.0 - eps)), target, reduction="none")
    if squeeze:
        result = result.squeeze(0)
    if valid is not None:
        result = torch.where(valid, result, torch.zeros_like(result))
        _set_keras_mask(result, valid)
    return result


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy of targets in [0, 1] against probabilities (or logits), mean over ``axis``.

    ``label_smoothing`` squeezes the targets towards 0.5: ``y * (1 - s) + 0.5 * s``.
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        eps = backend.epsilon()
        values = F.binary_cross_entropy(torch.clamp(y_pred, eps, 1.0 - eps), y_true, reduction="none")
    return torch.mean(values, dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy down-weighting easy examples (Lin et al., 2017), mean over ``axis``.

    Per value: ``(1 - p_t) ** gamma * bce`` with ``p_t = y * p + (1 - y) * (1 - p)``; with
    ``apply_class_balancing`` also times ``alpha`` for positives and ``1 - alpha`` for negatives.
    ``label_smoothing`` squeezes the targets towards 0.5 first.
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    eps = backend.epsilon()
    clipped = torch.clamp(y_pred, eps, 1.0 - eps)
    bce = -(y_true * torch.log(clipped) + (1.0 - y_true) * torch.log(1.0 - clipped))
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal_bce = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal_bce
    return torch.mean(focal_bce, dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical crossentropy weighted by ``alpha * (1 - p) ** gamma`` per class, summed over ``axis``.

    The predictions are renormalised to sum to 1 over ``axis`` and clipped to ``[eps, 1 - eps]``;
    ``label_smoothing`` turns targets into ``y * (1 - s) + s / num_classes``.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    y_true, y_pred = float_pair(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_focal_crossentropy, expected y_pred.shape to be "
                      f"(batch_size, num_classes) with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
                      "Consider using 'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                      stacklevel=2)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    eps = backend.epsilon()
    output = torch.clamp(y_pred / torch.sum(y_pred, dim=axis, keepdim=True), eps, 1.0 - eps)
    cce = -y_true * torch.log(output)
    return torch.sum(torch.pow(1.0 - output, gamma) * alpha * cce, dim=axis)


def _sum_over(x, axis):
    return torch.sum(x) if axis is None else torch.sum(x, dim=axis)


def dice(y_true, y_pred, axis=None):
    """Dice loss: ``1 - 2 * sum(y * p) / (sum(y) + sum(p) + eps)``, summed over ``axis`` (all when None)."""
    y_true, y_pred = float_pair(y_true, y_pred)
    axis = tuple(axis) if isinstance(axis, list) else axis
    intersection = _sum_over(y_true * y_pred, axis)
    return 1 - 2.0 * intersection / (_sum_over(y_true, axis) + _sum_over(y_pred, axis) + backend.epsilon())


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss: ``1 - TP / (TP + alpha * FP + beta * FN + eps)`` with soft counts over ``axis``.

    As Keras computes it, ``FP = sum((1 - p) * y)`` and ``FN = sum(p * (1 - y))``, so ``alpha`` weighs
    the missed positives and ``beta`` the false alarms.
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    axis = tuple(axis) if isinstance(axis, list) else axis
    intersection = _sum_over(y_true * y_pred, axis)
    fp = _sum_over((1 - y_pred) * y_true, axis)
    fn = _sum_over(y_pred * (1 - y_true), axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + backend.epsilon())


def ctc(y_true, y_pred):
    """CTC (connectionist temporal classification) loss per sample.

    ``y_true``: integer labels ``(batch, max_label_length)``, 0 marking padding (the blank, never a class);
    ``y_pred``: logits ``(batch, time, classes)`` (not softmaxed). Every sample uses all ``time`` steps.
    """
    y_true, y_pred = to_tensor(y_true), to_tensor(y_pred)
    if y_true.dim() != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
                         f"integer format. Received: y_true.shape={tuple(y_true.shape)}")
    if y_pred.dim() != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}")
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    input_length = torch.full((batch,), steps, dtype=torch.int32, device=y_pred.device)
    label_length = (y_true != 0).sum(dim=-1).to(torch.int32)
    return nn_ops.ctc_loss(y_true, y_pred, label_length, input_length, mask_index=0)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) per sample, on L2-normalized embeddings ``y_pred`` ``(batch, dim)``
    with integer labels ``y_true`` ``(batch,)``: pulls same-label pairs together and pushes others apart.
    ``ref_labels``/``ref_embeddings`` default to ``y_true``/``y_pred``; ``remove_diagonal`` leaves out
    each sample's pair with itself. Samples with a loss of 0 are masked out of the average, as in Keras."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(backend.torch_dtype())
    y_true = to_tensor(y_true, device=y_pred.device).to(torch.int32)
    ref_embeddings = y_pred if ref_embeddings is None else to_tensor(ref_embeddings, y_pred.dtype, y_pred.device)
    ref_labels = y_true if ref_labels is None else to_tensor(ref_labels, device=y_pred.device).to(torch.int32)
    distances = torch.clamp(1 - y_pred @ ref_embeddings.T, min=0.0)
    query = y_true.reshape(-1, 1) if y_true.dim() == 1 else y_true
    key = ref_labels.reshape(-1, 1) if ref_labels.dim() == 1 else ref_labels
    positive = query == key.T
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(query.numel(), key.numel(), dtype=torch.bool, device=positive.device)
        positive = positive & ~eye
    pos_weights = torch.clamp((margin + distances) * positive.to(distances.dtype), min=0.0)
    neg_weights = torch.clamp((1 + margin - distances) * negative.to(distances.dtype), min=0.0)
    pos = -1 * gamma * pos_weights * (margin - distances)
    neg = gamma * neg_weights * ((1 - margin) - distances)
    inf = torch.tensor(float("-inf"), dtype=distances.dtype, device=distances.device)
    p_loss = torch.logsumexp(torch.where(positive, pos, inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg, inf), dim=1)
    loss = torch.nn.functional.softplus(p_loss + n_loss)
    _set_keras_mask(loss, loss > 0)
    return loss


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross entropy (Zhang & Sabuncu, 2018) per sample: ``(1 - p ** q) / q`` with ``p`` the
    predicted probability of the true class; ``y_true`` holds integer class ids ``(batch,)`` or
    ``(batch, 1)``, ``y_pred`` probabilities ``(batch, classes)``. Small ``q`` behaves like cross entropy,
    ``q`` near 1 like mean absolute error (robust to noisy labels)."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(backend.torch_dtype())
    ids = to_tensor(y_true, device=y_pred.device).long()
    one_hot = torch.nn.functional.one_hot(ids, num_classes=y_pred.shape[-1]).to(y_pred.dtype)
    p = torch.sum(y_pred * one_hot, dim=-1)
    return (1 - torch.pow(p, q)) / q


# Losses whose y_true holds integer ids: the wrapper hands them over without a float copy.
_INT_TARGET_FUNCTIONS = (sparse_categorical_crossentropy, ctc, circle, categorical_generalized_cross_entropy)

# Keras's short names and legacy spellings.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

# The loss functions by the names Keras files and compile() use (engine.metrics reads it too).
FUNCTIONS = {
    f.__name__: f
    for f in (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
              mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge, squared_hinge,
              categorical_hinge, kl_divergence, poisson, categorical_crossentropy,
              sparse_categorical_crossentropy, binary_crossentropy,
              binary_focal_crossentropy, categorical_focal_crossentropy, dice, tversky, ctc, circle,
              categorical_generalized_cross_entropy)
}
_ALIASES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh", "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
}


# ---------------------------------------------------------------------------------------------------
# Loss classes
# ---------------------------------------------------------------------------------------------------
class Loss:
    """Loss base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: the loss's name (a unique snake_case name of the class when omitted).
        reduction: ``"sum_over_batch_size"`` (default: weighted sum / number of values), ``"sum"``,
            ``"mean"`` (the same as sum_over_batch_size), ``"mean_with_sample_weight"`` (weighted sum /
            sum of weights) or ``"none"``/``None`` (no reduction).
        dtype: the computation dtype (``backend.floatx()`` when omitted).

    Calling the object, ``loss(y_true, y_pred, sample_weight=None)``, returns a 0-d tensor (or the
    weighted per-sample losses with reduction ``"none"``).
    """

    # sparse crossentropy reads integer labels; converting them to float and back would waste a copy
    _int_targets = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if name is None:
            name = backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.name = name
        self.reduction = standardize_reduction(reduction)
        if isinstance(dtype, dict):  # a serialized DTypePolicy
            dtype = dtype.get("config", {}).get("name")
        self._dtype = str(dtype) if dtype is not None else backend.floatx()
        self._torch_dtype = backend.torch_dtype(self._dtype)

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = get_keras_mask(y_pred)
        y_pred = to_tensor(y_pred, self._torch_dtype)
        if self._int_targets:
            y_true = to_tensor(y_true, device=y_pred.device)
        else:
            y_true = to_tensor(y_true, self._torch_dtype, y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = get_keras_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = in_mask & out_mask
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self._torch_dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("dtype") is None:
            config.pop("dtype", None)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample loss function ``fn(y_true, y_pred, **kwargs)``.

    Before calling ``fn``, ``y_true`` and ``y_pred`` are brought to the same rank when they differ by a
    trailing axis of 1 (labels of shape ``(N,)`` against outputs ``(N, 1)``), as Keras does.

    Args:
        fn: the loss function.
        reduction: see ``Loss``.
        name: the loss's name.
        dtype: the computation dtype.
        **kwargs: passed to ``fn`` on every call.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if isinstance(fn, (str, dict)):
            fn = _function_from_config(fn)
        if not callable(fn):
            raise ValueError(f"LossFunctionWrapper needs a callable `fn`. Received: fn={fn!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs
        self._int_targets = fn in _INT_TARGET_FUNCTIONS

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialize_function(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config))

    def __repr__(self):
        fn = getattr(self, "fn", None)
        return f"<{type(self).__name__}({getattr(fn, '__name__', fn)}, kwargs={getattr(self, '_fn_kwargs', {})})>"


class _BuiltinLoss(LossFunctionWrapper):
    """A Keras loss class: a fixed function, and the constructor arguments stored as attributes."""

    _fn = None
    _config_keys: tuple = ()

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(type(self)._fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self):
        config = Loss.get_config(self)
        for key in self._config_keys:
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("fn", None)  # written by older wrappers; the class fixes the function
        if config.get("dtype") is None:
            config.pop("dtype", None)
        return cls(**config)


class MeanSquaredError(_BuiltinLoss):
    """Mean of squares of errors between labels and predictions: ``mean(square(y_true - y_pred))``.

    Args:
        reduction: see ``Loss`` (default ``"sum_over_batch_size"``).
        name: default ``"mean_squared_error"``.
        dtype: computation dtype (floatx when omitted).
    """

    _fn = mean_squared_error

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_BuiltinLoss):
    """Mean of absolute errors: ``mean(abs(y_true - y_pred))``.

    Args:
        reduction: see ``Loss``.
        name: default ``"mean_absolute_error"``.
        dtype: computation dtype.
    """

    _fn = mean_absolute_error

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_BuiltinLoss):
    """``100 * mean(abs((y_true - y_pred) / y_true))`` (the divisor clipped below by epsilon).

    Args:
        reduction: see ``Loss``.
        name: default ``"mean_absolute_percentage_error"``.
        dtype: computation dtype.
    """

    _fn = mean_absolute_percentage_error

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_BuiltinLoss):
    """``mean(square(log(y_true + 1) - log(y_pred + 1)))``.

    Args:
        reduction: see ``Loss``.
        name: default ``"mean_squared_logarithmic_error"``.
        dtype: computation dtype.
    """

    _fn = mean_squared_logarithmic_error

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(_BuiltinLoss):
    """Negative cosine similarity between labels and predictions: ``-sum(l2_norm(y_true) * l2_norm(y_pred))``.

    Args:
        axis: the axis along which similarity is computed (default -1).
        reduction: see ``Loss``.
        name: default ``"cosine_similarity"``.
        dtype: computation dtype.
    """

    _fn = cosine_similarity
    _config_keys = ("axis",)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(_BuiltinLoss):
    """Huber loss: ``0.5 * x^2`` for ``|x| <= delta``, ``delta * |x| - 0.5 * delta^2`` beyond.

    Args:
        delta: where the loss changes from quadratic to linear (default 1.0).
        reduction: see ``Loss``.
        name: default ``"huber_loss"``.
        dtype: computation dtype.
    """

    _fn = huber
    _config_keys = ("delta",)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(_BuiltinLoss):
    """Logarithm of the hyperbolic cosine of the prediction error.

    Args:
        reduction: see ``Loss``.
        name: default ``"log_cosh"``.
        dtype: computation dtype.
    """

    _fn = log_cosh

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Hinge(_BuiltinLoss):
    """``mean(maximum(1 - y_true * y_pred, 0))``; labels in {0, 1} are mapped to {-1, 1}.

    Args:
        reduction: see ``Loss``.
        name: default ``"hinge"``.
        dtype: computation dtype.
    """

    _fn = hinge

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(_BuiltinLoss):
    """``mean(square(maximum(1 - y_true * y_pred, 0)))``; labels in {0, 1} are mapped to {-1, 1}.

    Args:
        reduction: see ``Loss``.
        name: default ``"squared_hinge"``.
        dtype: computation dtype.
    """

    _fn = squared_hinge

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(_BuiltinLoss):
    """``maximum(neg - pos + 1, 0)``, ``neg = max((1 - y_true) * y_pred)``, ``pos = sum(y_true * y_pred)``.

    Args:
        reduction: see ``Loss``.
        name: default ``"categorical_hinge"``.
        dtype: computation dtype.
    """

    _fn = categorical_hinge

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class KLDivergence(_BuiltinLoss):
    """Kullback-Leibler divergence ``y_true * log(y_true / y_pred)``, both clipped to [epsilon, 1].

    Args:
        reduction: see ``Loss``.
        name: default ``"kl_divergence"``.
        dtype: computation dtype.
    """

    _fn = kl_divergence

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Poisson(_BuiltinLoss):
    """Poisson loss ``y_pred - y_true * log(y_pred)``.

    Args:
        reduction: see ``Loss``.
        name: default ``"poisson"``.
        dtype: computation dtype.
    """

    _fn = poisson

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


def _check_smoothing(cls_name, label_smoothing):
    if not isinstance(label_smoothing, (int, float)) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{cls_name}: `label_smoothing` must be a float in [0, 1]. "
                         f"Received: label_smoothing={label_smoothing!r}")


class BinaryCrossentropy(_BuiltinLoss):
    """Crossentropy for binary (0 or 1) targets, e.g. with a single sigmoid output unit.

    Args:
        from_logits: whether ``y_pred`` holds logits instead of probabilities (default False).
        label_smoothing: in [0, 1]; targets are squeezed towards 0.5.
        axis: the axis the mean is taken over (default -1).
        reduction: see ``Loss``.
        name: default ``"binary_crossentropy"``.
        dtype: computation dtype.
    """

    _fn = binary_crossentropy
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        _check_smoothing("BinaryCrossentropy", label_smoothing)
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=bool(from_logits),
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_BuiltinLoss):
    """Crossentropy for one-hot targets, e.g. with a softmax output of one unit per class.

    For integer class labels use ``SparseCategoricalCrossentropy`` (or one-hot encode them with
    ``engine.utils.to_categorical``).

    Args:
        from_logits: whether ``y_pred`` holds logits instead of probabilities (default False).
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).
        reduction: see ``Loss``.
        name: default ``"categorical_crossentropy"``.
        dtype: computation dtype.
    """

    _fn = categorical_crossentropy
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        _check_smoothing("CategoricalCrossentropy", label_smoothing)
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=bool(from_logits),
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_BuiltinLoss):
    """Crossentropy for integer class labels (``(N,)`` or ``(N, 1)``) against per-class outputs.

    Args:
        from_logits: whether ``y_pred`` holds logits instead of probabilities (default False).
        ignore_class: a label value (e.g. -1 or 255 for "void") that contributes no loss and is left
            out of the mean.
        reduction: see ``Loss``.
        axis: the class axis (default -1).
        name: default ``"sparse_categorical_crossentropy"``.
        dtype: computation dtype.
    """

    _fn = sparse_categorical_crossentropy
    _config_keys = ("from_logits", "ignore_class")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, (int, float, np.integer, np.floating))
                                         or not float(ignore_class).is_integer()):
            raise ValueError(f"SparseCategoricalCrossentropy: `ignore_class` must be an integer or None. "
                             f"Received: ignore_class={ignore_class!r}")
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=bool(from_logits),
                         ignore_class=ignore_class, axis=axis)


class BinaryFocalCrossentropy(_BuiltinLoss):
    """Focal loss for binary targets (``binary_focal_crossentropy``), mean over ``axis``.

    Args:
        apply_class_balancing: weigh positives by ``alpha`` and negatives by ``1 - alpha`` (default False).
        alpha: the positives' weight with class balancing (default 0.25).
        gamma: the focusing exponent; 0 gives binary crossentropy (default 2.0).
        from_logits: whether ``y_pred`` holds logits (default False).
        label_smoothing: in [0, 1]; targets are squeezed towards 0.5.
        axis: the axis the mean is taken over (default -1).
        reduction, name (default ``"binary_focal_crossentropy"``), dtype: see ``Loss``.
    """

    _fn = binary_focal_crossentropy
    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_BuiltinLoss):
    """Focal loss for one-hot targets (``categorical_focal_crossentropy``), summed over ``axis``.

    Args:
        alpha: weight of every class term (default 0.25).
        gamma: the focusing exponent (default 2.0).
        from_logits: whether ``y_pred`` holds logits (default False).
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).
        reduction, name (default ``"categorical_focal_crossentropy"``), dtype: see ``Loss``.
    """

    _fn = categorical_focal_crossentropy
    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class Dice(_BuiltinLoss):
    """Dice loss (``dice``): one minus the soft Dice coefficient over ``axis`` (every axis when None).

    Args:
        reduction, name (default ``"dice"``), dtype: see ``Loss``.
        axis: the axes the sums run over (default None: all, giving one value for the batch).
    """

    _fn = dice
    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(_BuiltinLoss):
    """Tversky loss (``tversky``): a Dice loss with separate weights for the two kinds of error.

    Args:
        alpha: weight of ``sum((1 - y_pred) * y_true)`` (default 0.5).
        beta: weight of ``sum(y_pred * (1 - y_true))`` (default 0.5).
        reduction, name (default ``"tversky"``), dtype: see ``Loss``.
        axis: the axes the sums run over (default None: all).
    """

    _fn = tversky
    _config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None,
                 dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)


class CTC(_BuiltinLoss):
    """CTC loss (``ctc``): integer labels ``(batch, max_label_length)`` padded with 0 (the blank) against
    logits ``(batch, time, classes)``.

    Args:
        reduction, name (default ``"ctc"``), dtype: see ``Loss``.
    """

    _fn = ctc

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Circle(_BuiltinLoss):
    """Circle loss (``circle``) for metric learning on L2-normalized embeddings with integer labels.

    Args:
        gamma: scale of the similarities (default 80).
        margin: relaxation margin (default 0.4).
        remove_diagonal: leave out each sample's similarity with itself (default True).
        reduction, name (default ``"circle"``), dtype: see ``Loss``.
    """

    _fn = circle
    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size",
                 name="circle", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)


class CategoricalGeneralizedCrossEntropy(_BuiltinLoss):
    """Generalized cross entropy (``categorical_generalized_cross_entropy``): integer labels against class
    probabilities, robust to noisy labels.

    Args:
        q: in (0, 1); near 0 like cross entropy, near 1 like mean absolute error (default 0.5).
        reduction, name (default ``"categorical_generalized_cross_entropy"``), dtype: see ``Loss``.
    """

    _fn = categorical_generalized_cross_entropy
    _config_keys = ("q",)

    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q!r}")
        super().__init__(reduction=reduction, name=name, dtype=dtype, q=q)


_CLASSES = {
    c.__name__: c
    for c in (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
              MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge,
              CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
              SparseCategoricalCrossentropy, BinaryFocalCrossentropy,
              CategoricalFocalCrossentropy, Dice, Tversky, CTC, Circle, CategoricalGeneralizedCrossEntropy)
}


def names():
    """Every name ``get`` accepts: function names, their aliases and class names."""
    return sorted(set(FUNCTIONS) | set(_ALIASES) | {n for n in _CLASSES if n not in ("Loss",)})


# ---------------------------------------------------------------------------------------------------
# get / serialize
# ---------------------------------------------------------------------------------------------------
def canonical_name(name):
    """The canonical function name for a loss string (``"mse"`` -> ``"mean_squared_error"``)."""
    return _ALIASES.get(name, name)


def _function_from_config(fn):
    if isinstance(fn, dict):  # {"module": "builtins", "class_name": "function", "config": "mse", ...}
        fn = fn.get("config")
    name = canonical_name(fn) if isinstance(fn, str) else None
    if name not in FUNCTIONS:
        raise ValueError(f"Unknown loss function: {fn!r}. Valid names: {sorted(FUNCTIONS)}")
    return FUNCTIONS[name]


def serialize_function(fn):
    name = getattr(fn, "__name__", None)
    if FUNCTIONS.get(name) is fn:
        return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}
    return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
            "registered_name": name}


def is_binary_or_sparse_categorical(y_true, y_pred):
    """Keras's choice for ``"accuracy"``/``"crossentropy"``: ``(is_binary, is_sparse_categorical)``.

    ``y_true``/``y_pred`` may be arrays, tensors or shapes (tuples of ints and None).
    """
    t_shape, p_shape = _shape_of(y_true), _shape_of(y_pred)
    t_last = t_shape[-1] if t_shape else None
    p_last = p_shape[-1] if p_shape else None
    is_binary = p_last == 1
    is_sparse = len(t_shape) < len(p_shape) or (t_last == 1 and p_last is not None and p_last > 1)
    return is_binary, is_sparse


def _shape_of(x):
    if isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in x):
        return x
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return np.shape(x)


def _crossentropy_for(y_true, y_pred):
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
    if is_binary:
        return binary_crossentropy
    return sparse_categorical_crossentropy if is_sparse else categorical_crossentropy


class _AutoCrossentropy(LossFunctionWrapper):
    """``loss="crossentropy"`` before the data is seen: the first call picks the kind from the shapes."""

    def __init__(self, name="crossentropy", reduction="sum_over_batch_size", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype)
        self._resolved = False

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self._resolved:
            self.fn = _crossentropy_for(y_true, y_pred)
            self._int_targets = self.fn is sparse_categorical_crossentropy
            self._resolved = True
        return super().__call__(y_true, y_pred, sample_weight)


def get(identifier, y_true=None, y_pred=None):
    """Resolve a loss identifier to a ``Loss`` object.

    Accepts a name (``"categorical_crossentropy"``, ``"mse"``, ``"CategoricalCrossentropy"``), a dict
    ``{"class_name": ..., "config": ...}``, a ``Loss`` class or instance, or any callable
    ``fn(y_true, y_pred)`` (wrapped in ``LossFunctionWrapper``). ``"crossentropy"``/``"ce"`` pick the
    binary, sparse or categorical loss from ``y_true``/``y_pred`` (arrays or shapes) as Keras does.
    Returns None for None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("crossentropy", "ce"):
            if y_true is None or y_pred is None:
                return _AutoCrossentropy(name=identifier)
            return LossFunctionWrapper(_crossentropy_for(y_true, y_pred), name=identifier)
        if identifier in _CLASSES and identifier not in ("Loss", "LossFunctionWrapper"):
            return _CLASSES[identifier]()
        name = canonical_name(identifier)
        if name in FUNCTIONS:
            return LossFunctionWrapper(FUNCTIONS[name], name=identifier)
        raise ValueError(f"Unknown loss: {identifier!r}. Valid names: {names()}")
    if inspect.isclass(identifier):
        if issubclass(identifier, Loss):
            return identifier()
        raise ValueError(f"Could not interpret loss identifier: {identifier!r} (a class that is not a Loss).")
    if callable(identifier):
        name = getattr(identifier, "__name__", None) or backend.to_snake_case(type(identifier).__name__)
        return LossFunctionWrapper(identifier, name=name)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Valid names: {names()}")


def deserialize(config, custom_objects=None):
    """Rebuild a loss from ``serialize``'s output (a name or a ``{"class_name", "config"}`` dict)."""
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return get(custom_objects[config])
        return get(config)
    if not isinstance(config, dict):
        return get(config)
    class_name = config.get("class_name")
    inner = config.get("config", {})
    if class_name == "function":  # a bare function, Keras 3's form
        return get(inner if not (custom_objects and inner in custom_objects) else custom_objects[inner])
    cls = (custom_objects or {}).get(class_name) or _CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown loss class: {class_name!r}. Valid names: {sorted(_CLASSES)}")
    return cls.from_config(inner or {})


def serialize(loss):
    """A loss as Keras writes it, with canonical names.

    Names and wrapped built-in functions become the canonical function name (``"mean_squared_error"``,
    never the alias ``"mse"``: Keras 3.15 cannot load its own files with aliases). Loss objects become
    ``{"module": "keras.losses", "class_name", "config", "registered_name"}``.
    """
    if loss is None:
        return None
    if isinstance(loss, str):
        return canonical_name(loss)
    if isinstance(loss, _AutoCrossentropy):
        return loss.name
    if isinstance(loss, LossFunctionWrapper) and type(loss) is LossFunctionWrapper:
        fn_name = getattr(loss.fn, "__name__", None)
        if FUNCTIONS.get(fn_name) is loss.fn and not loss._fn_kwargs and loss.reduction == "sum_over_batch_size":
            return fn_name
    if isinstance(loss, Loss):
        cls = type(loss)
        builtin = _CLASSES.get(cls.__name__) is cls
        return {"module": "keras.losses" if builtin else cls.__module__, "class_name": cls.__name__,
                "config": loss.get_config(), "registered_name": None if builtin else cls.__name__}
    name = getattr(loss, "__name__", None)
    if name is not None and FUNCTIONS.get(name) is loss:
        return name
    if callable(loss):
        return serialize_function(loss)
    raise ValueError(f"Cannot serialize loss {loss!r}.")


# ---------------------------------------------------------------------------------------------------
# check_targets: friendly errors before the first training step
# ---------------------------------------------------------------------------------------------------
def _loss_kind(loss):
    """'categorical', 'sparse', 'binary', 'builtin' (another built-in) or None (custom)."""
    fn = getattr(loss, "fn", None) if isinstance(loss, LossFunctionWrapper) else loss
    if isinstance(loss, Loss) and not isinstance(loss, LossFunctionWrapper):
        return None
    if fn is categorical_crossentropy:
        return "categorical"
    if fn is sparse_categorical_crossentropy:
        return "sparse"
    if fn is binary_crossentropy:
        return "binary"
    if fn in (ctc, circle, categorical_generalized_cross_entropy):
        return None  # label sequences / ids against logits or embeddings: shapes differ by design
    if fn in FUNCTIONS.values():
        return "builtin"
    return None


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _dims_match(t_dims, p_dims):
    return len(t_dims) == len(p_dims) and all(p is None or t == p for t, p in zip(t_dims, p_dims))


def _flatten_hint(y_pred_shape):
    rank = len(y_pred_shape)
    if rank < 3:
        return ""
    return (f" The model's output is {rank}-D {_shape_str(y_pred_shape)}: Dense layers act on the last axis "
            f"only, so each position of the {rank - 2}-D feature map gets its own prediction. A Flatten() (or "
            "GlobalAveragePooling) layer before the Dense layers is probably missing.")


def check_targets(loss, y_true, y_pred_shape, output_name=None):
    """Check the targets against a loss and the model's output shape; raise ValueError with a fix.

    Called once by fit/evaluate, before any training step.

    Args:
        loss: the resolved loss (``get``'s result).
        y_true: the targets (or a sample of them) as an array.
        y_pred_shape: the model output's shape, batch axis first (usually None).
        output_name: the output's name, for messages of models with several outputs.
    """
    if loss is None or y_true is None or y_pred_shape is None:
        return
    if isinstance(y_true, torch.Tensor):
        y_true = y_true.detach().cpu().numpy()
    y_true = np.asarray(y_true)
    y_pred_shape = tuple(y_pred_shape)
    if isinstance(loss, _AutoCrossentropy) and not loss._resolved:
        return  # its kind is chosen from these very shapes, so they cannot contradict it
    kind = _loss_kind(loss)
    if kind is None or y_true.dtype == object:
        return
    loss_name = getattr(getattr(loss, "fn", None), "__name__", None) or getattr(loss, "name", "loss")
    where = f" for output '{output_name}'" if output_name else ""
    t_shape = y_true.shape
    p_rank = len(y_pred_shape)
    n_out = y_pred_shape[-1] if y_pred_shape else None
    is_int = np.issubdtype(y_true.dtype, np.integer) or np.issubdtype(y_true.dtype, np.bool_)
    finite = y_true[np.isfinite(y_true)] if np.issubdtype(y_true.dtype, np.floating) else y_true
    integral = is_int or (finite.size > 0 and np.all(np.mod(finite, 1) == 0))
    head = (f"Targets{where} have shape {_shape_str(t_shape)} but the model's output has shape "
            f"{_shape_str(y_pred_shape)} and the loss is {loss_name}.")

    if kind == "sparse":
        ignore = getattr(loss, "_fn_kwargs", {}).get("ignore_class")
        want = y_pred_shape[:-1]
        ok = _dims_match(t_shape[1:], want[1:]) or (
            len(t_shape) == p_rank and t_shape[-1] == 1 and _dims_match(t_shape[1:-1], want[1:]))
        if not ok:
            if len(t_shape) == p_rank and _dims_match(t_shape[1:], y_pred_shape[1:]):
                raise ValueError(
                    f"{head} sparse_categorical_crossentropy expects one integer class label per sample "
                    f"(shape {_shape_str((t_shape[0],) + tuple(want[1:]))}), but the targets look one-hot "
                    "encoded. Use loss='categorical_crossentropy' with one-hot targets, or pass the labels "
                    "y.argmax(axis=-1)."
                )
            hint = _flatten_hint(y_pred_shape) if p_rank > len(t_shape) + 1 or (
                p_rank >= 3 and len(t_shape) <= 2) else ""
            raise ValueError(
                f"{head} sparse_categorical_crossentropy expects integer labels of shape "
                f"{_shape_str((None,) + tuple(want[1:]))} (or with a trailing axis of 1).{hint}"
            )
        if y_true.size == 0:
            return
        if not integral:
            raise ValueError(
                f"{head} sparse_categorical_crossentropy expects integer class labels, but the targets "
                "hold non-integer values. For one-hot or probability targets use "
                "loss='categorical_crossentropy'; for 0/1 probabilities with one output unit, "
                "'binary_crossentropy'."
            )
        values = y_true if ignore is None else y_true[y_true != ignore]
        if values.size and n_out is not None:
            lo, hi = values.min(), values.max()
            if lo < 0 or hi >= n_out:
                raise ValueError(
                    f"Labels{where} must be integers in [0, {n_out}) for sparse_categorical_crossentropy: the "
                    f"model's last layer has {n_out} units (one per class). Found labels from {lo} to {hi}. "
                    f"Give the last layer {int(hi) + 1} units if there are {int(hi) + 1} classes, or remap the "
                    "labels to 0..num_classes-1."
                    + (" (Use ignore_class=... to skip a 'void' label.)" if lo < 0 else "")
                )
        return

    if kind == "categorical":
        if n_out is not None and n_out > 1 and (len(t_shape) == 1 or (len(t_shape) == p_rank and t_shape[-1] == 1)):
            k = n_out
            extra = ""
            if y_true.size and integral:
                hi = int(np.max(finite)) if finite.size else 0
                if hi >= k:
                    extra = (f" Note the labels go up to {hi}, more than the {k} output units: the last layer "
                             f"needs {hi + 1} units.")
            raise ValueError(
                f"{head} categorical_crossentropy expects one-hot targets of shape {_shape_str((None, k))}, "
                f"but got integer class labels. Convert them with engine.utils.to_categorical(y, "
                f"num_classes={k}), or use loss='sparse_categorical_crossentropy' which takes the integer "
                f"labels directly.{extra}"
            )

    # every other built-in loss: the shapes must agree after Keras's squeeze/expand of a trailing 1
    t_dims = t_shape[1:]
    p_dims = y_pred_shape[1:]
    ok = _dims_match(t_dims, p_dims)
    if not ok and len(t_shape) == p_rank + 1 and t_shape[-1] == 1:
        ok = _dims_match(t_dims[:-1], p_dims)
    if not ok and p_rank == len(t_shape) + 1 and y_pred_shape[-1] == 1:
        ok = _dims_match(t_dims, p_dims[:-1])
    if not ok and kind == "builtin":
        # Broadcasting per-sample values is legitimate for the element-wise losses (e.g. a
        # (N, 1) target against (None, 3) outputs); refuse only the ranks Keras cannot line up.
        ok = len(t_shape) == p_rank and all(t == 1 or p is None or t == p for t, p in zip(t_dims, p_dims))
    if not ok:
        hint = ""
        if p_rank >= 3 and len(t_shape) < p_rank:
            hint = _flatten_hint(y_pred_shape)
        elif kind == "categorical" and len(t_shape) == p_rank and n_out is not None and t_shape[-1] != n_out:
            hint = (f" The targets have {t_shape[-1]} classes but the last layer has {n_out} units: make the "
                    f"last layer Dense({t_shape[-1]}).")
        elif len(t_shape) == 1 and n_out is not None and n_out > 1 and integral:
            hint = (" The targets look like integer class labels: use loss='sparse_categorical_crossentropy', "
                    f"or one-hot encode them with engine.utils.to_categorical(y, num_classes={n_out}).")
        elif len(t_shape) == p_rank and n_out is not None and t_shape[-1] != n_out:
            hint = f" Make the last layer produce {t_shape[-1]} values per sample, or reshape the targets."
        raise ValueError(head + hint)

    if kind == "binary" and y_true.size:
        lo, hi = np.min(y_true), np.max(y_true)
        if lo < 0 or hi > 1:
            hint = ""
            if integral and n_out is not None and n_out > 1:
                hint = (" For integer class labels use loss='sparse_categorical_crossentropy' with a softmax "
                        f"output of {n_out} units.")
            elif integral:
                hint = (f" For {int(hi) + 1} classes use a Dense({int(hi) + 1}, activation='softmax') output and "
                        "loss='sparse_categorical_crossentropy'.")
            raise ValueError(
                f"binary_crossentropy{where} expects targets in [0, 1] (0/1 labels or probabilities). Found "
                f"values from {lo} to {hi}.{hint}"
            )
