"""Normalization layers with Keras 3's semantics: ``BatchNormalization``, ``LayerNormalization``,
``GroupNormalization``, ``UnitNormalization`` and ``RMSNormalization``."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine import backend, constraints, distribute, initializers, regularizers
from engine.layers.layer import Layer
from engine.layers import registry
from engine.layers.registry import register

__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
           "RMSNormalization", "SpectralNormalization"]


def _error(layer, message):
    return ValueError(f"{type(layer).__name__} layer {layer.name!r}: {message}")


def _check_axes(layer, axes, input_shape):
    """Positive axes for ``input_shape``; a ValueError naming the layer for an out-of-range axis."""
    rank = len(input_shape)
    out = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool):
            raise _error(layer, f"axis must be an int or a list of ints. Received: axis={layer.axis!r}")
        if a >= rank or a < -rank:
            raise _error(layer, f"axis {a} is out of bounds for an input of rank {rank} with shape "
                                f"{tuple(input_shape)}. Received: axis={layer.axis!r}")
        out.append(a % rank)
    return out


def _shares_cache_lines(channels):
    """Whether torch's CPU training-mode BatchNorm kernels slow down on several threads for ``channels``
    features. The pattern fits false sharing: each thread accumulates into its own row of a (threads,
    channels) float32 buffer, and rows that are not a whole number of 64-byte cache lines (channels not a
    multiple of 16) share lines with the next thread's row. Measured on this project's 2-core machine: training-mode BatchNorm forward and backward on
    8 or 24 channels of (128, 14, 14) images took 1.7-2.3x longer on 2 threads than on one; on 16, 32 or 48
    channels they gained 1.1-1.7x from the second thread."""
    return channels % 16 != 0


class _OneThreadBatchNorm(torch.autograd.Function):
    """Training-mode batch normalization (torch's kernels) run on one intra-op thread, forward and
    backward, for the channel counts whose kernels false-share (``_shares_cache_lines``). The running
    statistics are updated in place as ``F.batch_norm`` does; the backward is torch's own op, so a
    double backward (``create_graph=True``) still works."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        with _one_thread():
            y, save_mean, save_invstd = torch.ops.aten.native_batch_norm(
                x, weight, bias, running_mean, running_var, True, momentum, eps)
        ctx.save_for_backward(x, weight, running_mean, running_var, save_mean, save_invstd)
        ctx.eps = eps
        ctx.has = (weight is not None, bias is not None)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, running_mean, running_var, save_mean, save_invstd = ctx.saved_tensors
        need_w, need_b = ctx.has
        with _one_thread():
            dx, dw, db = torch.ops.aten.native_batch_norm_backward(
                dy, x, weight, running_mean, running_var, save_mean, save_invstd, True, ctx.eps,
                [ctx.needs_input_grad[0], need_w and ctx.needs_input_grad[1], need_b and ctx.needs_input_grad[2]])
        return dx, dw, db, None, None, None, None


class _one_thread:
    """Runs the block on one intra-op thread (this thread's count; restored after, however it ends)."""

    def __enter__(self):
        self.threads = torch.get_num_threads()
        if self.threads > 1:
            torch.set_num_threads(1)

    def __exit__(self, *exc):
        if self.threads > 1:
            torch.set_num_threads(self.threads)


def batch_norm_train(x, running_mean, running_var, weight, bias, momentum, eps):
    """``F.batch_norm(x, running_mean, running_var, weight, bias, True, momentum, eps)`` on (N, C, ...)
    ``x``; on a CPU with several threads and a channel count whose kernels false-share between threads,
    torch's same kernels run on one thread (same results, up to the summation order). Not under
    ``torch.compile`` (``jit_compile``): it makes kernels of its own."""
    if (x.device.type == "cpu" and not torch.compiler.is_compiling() and torch.get_num_threads() > 1
            and _shares_cache_lines(x.shape[1])):
        return _OneThreadBatchNorm.apply(x, weight, bias, running_mean, running_var, momentum, eps)
    return F.batch_norm(x, running_mean, running_var, weight, bias, True, momentum, eps)


@register("Normalization")
class BatchNormalization(Layer):
    """Normalizes its inputs with batch statistics in training and moving statistics in inference.

    In training (``training=True`` and the layer trainable) it returns
    ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta`` over the batch (and every axis except
    ``axis``), with the *biased* batch variance, and updates
    ``moving = moving * momentum + batch_stat * (1 - momentum)``. In inference it uses the moving
    statistics. Setting ``trainable = False`` freezes the layer into inference mode, as in Keras.

    Args:
        axis: the features axis that keeps its own statistics (``-1``: channels of NHWC images).
        momentum: momentum of the moving averages (Keras's 0.99; torch's equivalent is ``1 - momentum``).
        epsilon: small float added to the variance (1e-3).
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        beta_initializer, gamma_initializer: initializers of ``beta`` (zeros) and ``gamma`` (ones).
        moving_mean_initializer, moving_variance_initializer: zeros and ones.
        beta_regularizer, gamma_regularizer: optional weight regularizers.
        beta_constraint, gamma_constraint: optional weight constraints.
        synchronized: only meaningful on TensorFlow; must be False.
        renorm, renorm_clipping, renorm_momentum: batch renormalization is not supported; ``renorm``
            must be False (the other two are kept for configs).

    Weights: ``gamma``, ``beta`` (trainable), ``moving_mean``, ``moving_variance`` (non-trainable).

    Input shape:
        Any shape; the size along ``axis`` must be known.

    Output shape:
        Same as the input.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        # Keras 2 configs store the axis as a one-element list ([3]).
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"BatchNormalization: axis must be a single int (the features axis). "
                             f"Received: axis={axis!r}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1] (Keras uses 0.99). "
                             f"Received: momentum={momentum}")
        if float(epsilon) <= 0.0:
            raise ValueError(f"BatchNormalization: epsilon must be positive. Received: epsilon={epsilon}")
        if synchronized:
            raise ValueError("Argument synchronized=True is only supported with the TensorFlow backend. "
                             "Received: synchronized=True")
        if renorm:
            raise ValueError("BatchNormalization(renorm=True) is not supported by the engine. "
                             "Received: renorm=True. Use renorm=False.")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = bool(synchronized)
        self.renorm = bool(renorm)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.supports_masking = True

    def build(self, input_shape):
        (axis,) = _check_axes(self, [self.axis], input_shape)
        channels = input_shape[axis]
        if channels is None:
            raise _error(self, f"the size of axis {self.axis} must be known to create the weights. "
                               f"Received an input of shape {tuple(input_shape)}")
        shape = (channels,)
        # add_weight registers each weight on the module under its name (self.gamma etc.); an absent one
        # becomes a plain None attribute.
        if self.scale:
            self.add_weight(shape, self.gamma_initializer, name="gamma", trainable=True,
                            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight(shape, self.beta_initializer, name="beta", trainable=True,
                            regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        else:
            self.beta = None
        self.add_weight(shape, self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.add_weight(shape, self.moving_variance_initializer, name="moving_variance", trainable=False)
        self.built = True

    def compute_output_shape(self, input_shape):
        _check_axes(self, [self.axis], input_shape)
        if self.built:
            channels = input_shape[self.axis]
            if channels is not None and channels != self.moving_mean.shape[0]:
                raise _error(self, f"it was built for {self.moving_mean.shape[0]} features on axis {self.axis}, "
                                   f"but received an input of shape {tuple(input_shape)}")
        return tuple(input_shape)

    def call(self, inputs, training=False):
        x = inputs if inputs.is_floating_point() else inputs.float()
        ndim = x.dim()
        axis = self.axis % ndim
        # torch's kernels want (N, C, ...). NHWC images become an NCHW view in channels_last memory
        # (no copy); any other contiguous channels-last tensor is (N*..., C) without a copy.
        if axis == 1:
            view, restore = x, None
        elif ndim == 4 and axis == 3:
            view, restore = x.permute(0, 3, 1, 2), "permute"
        elif axis == ndim - 1 and x.is_contiguous():
            view, restore = x.reshape(-1, x.shape[-1]), "reshape"
        else:
            view, restore = x.movedim(axis, 1), "movedim"

        if training and self.trainable:
            y = self._train_forward(view)
        else:
            y = F.batch_norm(view, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                             False, 0.0, self.epsilon)

        if restore == "permute":
            return y.permute(0, 2, 3, 1)
        if restore == "reshape":
            return y.reshape(x.shape)
        if restore == "movedim":
            return y.movedim(1, axis)
        return y

    def _train_forward(self, view):
        """Normalize with batch statistics and update the moving ones as Keras does."""
        sync = distribute.batch_statistics_sync()
        if sync is not None:
            return self._synced_train_forward(view, sync.weight)
        n = view.numel() // max(view.shape[1], 1)
        if n == 0:
            return view.clone()  # an empty batch has no statistics to learn from
        if n < 2:
            # torch refuses batch statistics over a single value; Keras gives variance 0.
            dims = [d for d in range(view.dim()) if d != 1]
            var, mean = torch.var_mean(view, dim=dims, correction=0)
            self._update_moving(mean.detach(), var.detach())
            shape = [1] * view.dim()
            shape[1] = -1
            inv = torch.rsqrt(var + self.epsilon)
            if self.gamma is not None:
                inv = inv * self.gamma
            y = (view - mean.reshape(shape)) * inv.reshape(shape)
            return y + self.beta.reshape(shape) if self.beta is not None else y
        # torch updates its running variance with the *unbiased* batch variance; Keras uses the biased
        # one. Running the update on moving_variance * n/(n-1) and scaling back by (n-1)/n gives exactly
        # moving*m + biased*(1-m), without a second pass over the data to compute the statistics.
        bessel = n / (n - 1)
        running_var = self.moving_variance.detach() * bessel
        y = batch_norm_train(view, self.moving_mean, running_var, self.gamma, self.beta,
                             1.0 - self.momentum, self.epsilon)
        with torch.no_grad():
            self.moving_variance.copy_(running_var * (1.0 / bessel))
        return y

    def _synced_train_forward(self, view, weight):
        """Batch statistics over the global batch of a distributed step (every process calls this
        in the same order). ``weight`` 0 marks a process whose stand-in sample must not count."""
        dims = [d for d in range(view.dim()) if d != 1]
        shape = [1] * view.dim()
        shape[1] = -1
        count = view.numel() // max(view.shape[1], 1) * weight
        local = torch.cat([view.sum(dim=dims) * weight,
                           torch.tensor([count], dtype=view.dtype, device=view.device)])
        total = distribute.all_reduce_with_grad(local)
        n = total[-1].detach().clamp_min(1.0)
        mean = total[:-1] / n
        centered = view - mean.reshape(shape)
        var = distribute.all_reduce_with_grad((centered * centered).sum(dim=dims) * weight) / n
        self._update_moving(mean.detach(), var.detach())
        inv = torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma
        y = centered * inv.reshape(shape)
        return y + self.beta.reshape(shape) if self.beta is not None else y

    @torch.no_grad()
    def _update_moving(self, mean, var):
        m = self.momentum
        self.moving_mean.mul_(m).add_(mean.to(self.moving_mean.dtype), alpha=1.0 - m)
        self.moving_variance.mul_(m).add_(var.to(self.moving_variance.dtype), alpha=1.0 - m)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        })
        return config


@register("Normalization")
class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (the features), independently of the batch.

    Returns ``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the mean and (biased) variance
    taken over ``axis`` for each sample.

    Args:
        axis: an int or a list of ints: the axes to normalize over (``-1``: the last axis).
        epsilon: small float added to the variance (1e-3).
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        rms_scaling: Keras's deprecated flag: multiply by ``gamma / sqrt(var + epsilon)`` without
            centering (and no ``beta``).
        beta_initializer, gamma_initializer: initializers of ``beta`` (zeros) and ``gamma`` (ones).
        beta_regularizer, gamma_regularizer: optional weight regularizers.
        beta_constraint, gamma_constraint: optional weight constraints.

    Weights: ``gamma`` and ``beta``, each of the input's shape on ``axis``.

    Input shape:
        Any shape; the sizes along ``axis`` must be known.

    Output shape:
        Same as the input.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
            if not axis or not all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
                raise TypeError(f"LayerNormalization: axis must be an int or a non-empty list of ints. "
                                f"Received: axis={axis!r}")
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"LayerNormalization: axis must be an int or a list of ints. Received: axis={axis!r}")
        if float(epsilon) <= 0.0:
            raise ValueError(f"LayerNormalization: epsilon must be positive. Received: epsilon={epsilon}")
        self.axis = axis
        self.epsilon = epsilon
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self._axes = self._rank = None  # positive sorted axes and the input rank; set by build

    def build(self, input_shape):
        raw = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = sorted(_check_axes(self, raw, input_shape))
        if len(set(axes)) != len(axes):
            raise _error(self, f"axis lists the same axis twice. Received: axis={self.axis!r}")
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise _error(self, f"the sizes of the normalized axes {self.axis!r} must be known. "
                               f"Received an input of shape {tuple(input_shape)}")
        # Keras keeps the axis as a sorted list once built (its config then says [-1]).
        self.axis = sorted(raw)
        self._axes = axes
        self._rank = len(input_shape)
        if self.scale or self.rms_scaling:
            self.add_weight(shape, self.gamma_initializer, name="gamma", trainable=True,
                            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        else:
            self.gamma = None
        if self.center and not self.rms_scaling:
            self.add_weight(shape, self.beta_initializer, name="beta", trainable=True,
                            regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        else:
            self.beta = None
        self.built = True

    def compute_output_shape(self, input_shape):
        raw = self.axis if isinstance(self.axis, list) else [self.axis]
        _check_axes(self, raw, input_shape)
        return tuple(input_shape)

    def call(self, inputs):
        x = inputs if inputs.is_floating_point() else inputs.float()
        rank = x.dim()
        # Keras keeps the (possibly negative) axes, so an input of another rank still works.
        axes = self._axes if rank == self._rank else sorted(a % rank for a in self.axis)
        if not self.rms_scaling and axes[0] == rank - len(axes) and axes[-1] == rank - 1:
            # Trailing axes (axes are sorted and distinct): torch's fused kernel, as Keras on torch does.
            return F.layer_norm(x, x.shape[axes[0]:], self.gamma, self.beta, self.epsilon)
        var, mean = torch.var_mean(x, dim=axes, keepdim=True, correction=0)
        inv = torch.rsqrt(var + self.epsilon)
        bshape = [1] * x.dim()
        for a in axes:
            bshape[a] = x.shape[a]
        if self.gamma is not None:
            inv = inv * self.gamma.reshape(bshape)
        if self.rms_scaling:
            return x * inv
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self.beta.reshape(bshape)
        return x * inv + shift

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        })
        return config


@register("Normalization")
class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels (Wu & He, 2018): the channels on ``axis`` are
    split into ``groups`` groups, and each group is normalized over its channels and every other
    non-batch axis. ``groups=1`` is layer normalization over all axes; ``groups=-1`` (one channel per
    group) is instance normalization.

    Args:
        groups: the number of groups (default 32); must divide the channel count. -1: one per channel.
        axis: the channel axis (-1).
        epsilon: small float added to the variance (1e-3).
        center, scale: whether to learn ``beta`` and ``gamma`` (one per channel).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
        gamma_constraint: as in BatchNormalization.

    Input shape:
        Any shape of rank >= 2 with a known channel axis.

    Output shape:
        Same as the input.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization: `groups` must be a positive integer or -1. Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"GroupNormalization: `axis` must be an int. Received: axis={axis!r}")
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def _channels(self, input_shape):
        (axis,) = _check_axes(self, [self.axis], input_shape)
        dim = input_shape[axis]
        if dim is None:
            raise _error(self, f"axis {self.axis} of the input should have a defined dimension, but the layer "
                               f"received an input with shape {tuple(input_shape)}.")
        groups = dim if self.groups == -1 else self.groups
        if dim < groups:
            raise _error(self, f"the number of groups ({groups}) cannot be more than the number of channels ({dim}).")
        if dim % groups:
            raise _error(self, f"the number of groups ({groups}) must divide the number of channels ({dim}).")
        return axis, dim

    def build(self, input_shape):
        _, dim = self._channels(input_shape)
        if self.groups == -1:
            self.groups = dim  # as Keras, which then writes the channel count in its config
        if self.scale:
            self.add_weight((dim,), self.gamma_initializer, name="gamma", regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight((dim,), self.beta_initializer, name="beta", regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint)
        else:
            self.beta = None
        self.built = True

    def call(self, inputs):
        dtype = inputs.dtype
        x = inputs.float() if dtype in (torch.float16, torch.bfloat16) or not inputs.is_floating_point() else inputs
        axis = self.axis % x.dim()
        dim = x.shape[axis]
        # (..., C, ...) -> (..., G, C/G, ...): statistics over everything but the batch and G axes.
        grouped = x.reshape(*x.shape[:axis], self.groups, dim // self.groups, *x.shape[axis + 1:])
        axes = [d for d in range(1, grouped.dim()) if d != axis]
        var, mean = torch.var_mean(grouped, dim=axes, keepdim=True, correction=0)
        inv = torch.rsqrt(var + self.epsilon)
        bshape = [1] * grouped.dim()
        bshape[axis], bshape[axis + 1] = self.groups, dim // self.groups
        if self.gamma is not None:
            inv = inv * self.gamma.reshape(bshape).to(grouped.dtype)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self.beta.reshape(bshape).to(grouped.dtype)
        return (grouped * inv + shift).reshape(x.shape).to(backend.torch_dtype(self._dtype))

    def compute_output_shape(self, input_shape):
        self._channels(input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        })
        return config


def _axis_list(layer, axis):
    if isinstance(axis, (list, tuple)):
        if not axis or not all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            raise TypeError(f"{type(layer).__name__}: axis must be an int or a non-empty list of ints. "
                            f"Received: axis={axis!r}")
        return list(axis)
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{type(layer).__name__}: axis must be an int or a list of ints. Received: axis={axis!r}")
    return [axis]


@register("Normalization")
class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-6)``.

    Args:
        axis: an int or a list of ints, the axes the norm is taken over (-1).

    Input shape:
        Any.

    Output shape:
        Same as the input.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        _axis_list(self, axis)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        x = inputs if inputs.is_floating_point() else inputs.to(backend.torch_dtype(self._dtype))
        dims = _axis_list(self, self.axis)
        square_sum = (x * x).sum(dim=dims, keepdim=True)
        return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))  # Keras: ops.normalize(epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        _check_axes(self, _axis_list(self, self.axis), input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


@register("Normalization")
class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019):
    ``x * rsqrt(mean(x**2 over axis) + epsilon) * scale``, without centering.

    Args:
        axis: an int or a list of ints, the axes normalized over (-1).
        epsilon: small float added to the mean square (1e-6).

    Weights: ``scale`` (ones), of the input's shape on ``axis``.

    Input shape:
        Any.

    Output shape:
        Same as the input.
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        _axis_list(self, axis)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = epsilon
        self.supports_masking = True

    def build(self, input_shape):
        axes = sorted(_axis_list(self, self.axis))
        _check_axes(self, axes, input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise _error(self, f"the sizes of the normalized axes {self.axis!r} must be known. "
                               f"Received an input of shape {tuple(input_shape)}")
        self.add_weight(shape, "ones", name="scale")
        self.built = True

    def call(self, inputs):
        x = inputs if inputs.is_floating_point() else inputs.to(backend.torch_dtype(self._dtype))
        axes = sorted(a % x.dim() for a in _axis_list(self, self.axis))
        y = x * torch.rsqrt((x * x).mean(dim=axes, keepdim=True) + self.epsilon)
        bshape = [1] * x.dim()
        for a in axes:
            bshape[a] = x.shape[a]
        return y * self.scale.reshape(bshape)

    def compute_output_shape(self, input_shape):
        _check_axes(self, _axis_list(self, self.axis), input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config


@register("Normalization")
class SpectralNormalization(Layer):
    """Spectral normalization of a layer's kernel (Miyato et al., 2018), as Keras: in training, one
    or more power iterations estimate the kernel's largest singular value ``sigma`` and the kernel is
    replaced by ``kernel / sigma`` (an all-zero kernel is left alone); at inference the layer runs as is.

    Args:
        layer: a layer with a ``kernel`` (Dense, Conv...) or ``embeddings`` (Embedding).
        power_iterations: iterations per training call (1).

    Weights: the wrapped kernel, ``vector_u`` (non-trainable, ``(1, kernel.shape[-1])``), then the wrapped
    layer's other weights (Keras's order).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        if isinstance(layer, dict):
            layer = registry.deserialize(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"SpectralNormalization wraps a layer instance. Received: layer={layer!r}")
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        super().__init__(**kwargs)
        self.layer = layer
        self.power_iterations = power_iterations

    def _kernel(self):
        for attr in ("kernel", "embeddings"):
            w = getattr(self.layer, attr, None)
            if isinstance(w, torch.Tensor):
                return w
        raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        kernel = self._kernel()
        # Keras tracks the wrapped kernel as the wrapper's own weight too: weights come out as
        # [kernel, vector_u, the layer's others] and files store the kernel under the wrapper as well.
        self._own_weights.append(kernel)
        self._own_weight_trainable.append(True)
        self.add_weight(shape=(1, kernel.shape[-1]), initializer=initializers.TruncatedNormal(stddev=0.02),
                        trainable=False, name="vector_u")
        self.built = True

    @staticmethod
    def _l2_normalize(x):
        return x * torch.rsqrt(torch.clamp((x * x).sum(), min=backend.epsilon()))

    def call(self, inputs, training=False):
        if training:
            kernel = self._kernel()
            with torch.no_grad():
                if not torch.all(kernel == 0):
                    weights = kernel.reshape(-1, kernel.shape[-1])
                    u = self.vector_u
                    for _ in range(self.power_iterations):
                        v = self._l2_normalize(u @ weights.t())
                        u = self._l2_normalize(v @ weights)
                    sigma = (v @ weights) @ u.t()
                    self.vector_u.copy_(u)
                    kernel.copy_(kernel / sigma)
        return self.layer(inputs).to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["layer"] = {"module": "keras.layers", "class_name": type(self.layer).__name__,
                           "config": self.layer.get_config(), "registered_name": None}
        config["power_iterations"] = self.power_iterations
        return config
