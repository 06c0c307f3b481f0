"""Neural-network ops (``keras.ops.nn``): activations, convolutions and pooling on channels_last
tensors with Keras kernel layouts, normalization, losses, attention."""
from __future__ import annotations

import builtins
import math

import torch
import torch.nn.functional as F

from engine import backend
from engine.ops._dispatch import dtype_name, keras_op, result_type, standardize_dtype
from engine.ops.core import cast, convert_to_tensor
from engine.ops.operation_utils import same_padding, transpose_crops

_t = convert_to_tensor


def _act(torch_fn, name):
    def fn(x):
        return torch_fn(_t(x))

    fn.__name__ = fn.__qualname__ = name
    return keras_op(fn)


relu = _act(F.relu, "relu")
relu6 = _act(F.relu6, "relu6")
sigmoid = _act(torch.sigmoid, "sigmoid")
tanh_shrink = _act(F.tanhshrink, "tanh_shrink")
softplus = _act(F.softplus, "softplus")
softsign = _act(F.softsign, "softsign")
silu = _act(F.silu, "silu")
swish = silu
log_sigmoid = _act(F.logsigmoid, "log_sigmoid")
hard_sigmoid = _act(F.hardsigmoid, "hard_sigmoid")
hard_silu = _act(F.hardswish, "hard_silu")
hard_swish = hard_silu
selu = _act(F.selu, "selu")


@keras_op
def sparse_sigmoid(x):
    x = _t(x)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    one = torch.ones((), dtype=x.dtype, device=x.device)
    return torch.where(x <= -1, zero, torch.where(x >= 1, one, 0.5 * (x + 1)))


@keras_op
def sparse_plus(x):
    x = _t(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


@keras_op
def squareplus(x, b=4):
    x = _t(x)
    return (x + torch.sqrt(x * x + _t(b))) / 2


@keras_op
def soft_shrink(x, threshold=0.5):
    return F.softshrink(_t(x), lambd=threshold)


@keras_op
def hard_shrink(x, threshold=0.5):
    return F.hardshrink(_t(x), lambd=threshold)


@keras_op
def hard_tanh(x):
    return F.hardtanh(_t(x), -1.0, 1.0)


@keras_op
def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(_t(x), negative_slope=negative_slope)


@keras_op
def elu(x, alpha=1.0):
    return F.elu(_t(x), alpha)


@keras_op
def celu(x, alpha=1.0):
    return F.celu(_t(x), alpha=alpha)


@keras_op
def gelu(x, approximate=True):
    return F.gelu(_t(x), approximate="tanh" if approximate else "none")


@keras_op
def glu(x, axis=-1):
    return F.glu(_t(x), dim=axis)


@keras_op
def threshold(x, threshold, default_value):
    return F.threshold(_t(x), threshold, default_value)


def _softmax_like(x, axis, fn):
    x = _t(x)
    dt = x.dtype
    if dt == torch.float16 and x.device.type == "cpu":
        x = x.float()
    if axis is None:
        out = fn(x.reshape(-1), dim=-1).reshape(x.shape)
    elif isinstance(axis, (list, tuple)):
        axes = [a % x.ndim for a in axis]
        rest = [i for i in range(x.ndim) if i not in axes]
        perm = rest + axes
        y = x.permute(perm)
        lead = y.shape[:len(rest)]
        y = fn(y.reshape(tuple(lead) + (-1,)), dim=-1).reshape(y.shape)
        inv = sorted(range(x.ndim), key=lambda i: perm[i])
        out = y.permute(inv)
    else:
        out = fn(x, dim=axis)
    return out.to(dt)


@keras_op
def softmax(x, axis=-1):
    return _softmax_like(x, axis, F.softmax)


@keras_op
def log_softmax(x, axis=-1):
    return _softmax_like(x, axis, F.log_softmax)


@keras_op
def sparsemax(x, axis=-1):
    x = _t(x)
    z, _ = torch.sort(x, dim=axis, descending=True)
    cs = torch.cumsum(z, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(shape)
    support = z - (cs - 1) / k > 0
    kz = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, cs, torch.zeros((), dtype=x.dtype, device=x.device)).sum(dim=axis, keepdim=True)
           - 1) / kz
    return torch.clamp(x - tau, min=0.0)


# ------------------------------------------------------------------------------ convolution & pooling
def _tuple(v, n, name):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(i) for i in v)
    if len(v) != n:
        raise ValueError(f"`{name}` must have {n} values. Received: {name}={v}")
    return v


def _check_format(data_format):
    return backend.standardize_data_format(data_format)


def _to_channels_first(x):
    return x.movedim(-1, 1)


def _to_channels_last(x):
    return x.movedim(1, -1)


def _same_pad(x_cf, kernel, strides, dilation, mode="constant"):
    """Pad a channels-first tensor for 'same'; returns (tensor, symmetric padding or 0)."""
    pads = [same_padding(n, k, s, d) for n, k, s, d in zip(x_cf.shape[2:], kernel, strides, dilation)]
    if builtins.all(lo == hi for lo, hi in pads):
        return x_cf, [lo for lo, _ in pads]
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return F.pad(x_cf, flat, mode=mode), 0


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAXP = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGP = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-d convolution; ``kernel`` in Keras layout ``(*spatial, in_channels / groups, out_channels)``."""
    _check_format(data_format)
    x, k = _t(inputs), _t(kernel)
    n = x.ndim - 2
    if n not in _CONV:
        raise ValueError(f"Inputs to conv should have ndim 3, 4 or 5. Received input shape: {tuple(x.shape)}")
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    x = _to_channels_first(x)
    k = k.permute(n + 1, n, *range(n))  # (out, in/groups, *spatial)
    if x.shape[1] % k.shape[1]:
        raise ValueError(f"Input channels ({x.shape[1]}) must be divisible by kernel input channels ({k.shape[1]})")
    groups = x.shape[1] // k.shape[1]
    pad = 0
    if padding == "same":
        x, pad = _same_pad(x, k.shape[2:], strides, dilation)
    elif padding == "causal":
        x = F.pad(x, [(k.shape[2] - 1) * dilation[0], 0])
    y = _CONV[n](x, k, stride=strides, padding=pad, dilation=dilation, groups=groups)
    return _to_channels_last(y)


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; ``kernel`` is ``(*spatial, in_channels, depth_multiplier)``."""
    k = _t(kernel)
    k = k.reshape(tuple(k.shape[:-2]) + (1, k.shape[-2] * k.shape[-1]))
    return conv.__wrapped_op__(inputs, k, strides, padding, data_format, dilation_rate)


@keras_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    y = depthwise_conv.__wrapped_op__(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv.__wrapped_op__(y, pointwise_kernel, 1, "valid", data_format, dilation_rate)


@keras_op
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """Transposed convolution; ``kernel`` is ``(*spatial, out_channels, in_channels)`` as in Keras."""
    _check_format(data_format)
    x, k = _t(inputs), _t(kernel)
    n = x.ndim - 2
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    ops = [output_padding] * n if output_padding is None or isinstance(output_padding, int) else list(output_padding)
    crops = [transpose_crops(kk, s, d, padding, op) for kk, s, d, op in zip(k.shape[:n], strides, dilation, ops)]
    x = _to_channels_first(x)
    k = k.permute(n + 1, n, *range(n))  # (in, out, *spatial)
    y = _CONV_T[n](x, k, stride=strides, dilation=dilation)
    y = y[(slice(None), slice(None)) + tuple(slice(builtins.max(lo, 0), -hi if hi > 0 else None) for lo, hi in crops)]
    if builtins.any(lo < 0 or hi < 0 for lo, hi in crops):
        flat = []
        for lo, hi in reversed(crops):
            flat += [builtins.max(-lo, 0), builtins.max(-hi, 0)]
        y = F.pad(y, flat)
    return _to_channels_last(y)


def _pool(inputs, pool_size, strides, padding, data_format, table, extra):
    _check_format(data_format)
    x = _t(inputs)
    n = x.ndim - 2
    if n not in table:
        raise ValueError(f"Inputs to pooling must have ndim 3, 4 or 5. Received input shape: {tuple(x.shape)}")
    pool_size = _tuple(pool_size, n, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, n, "strides")
    x = _to_channels_first(x)
    pad = 0
    if padding == "same":
        x, pad = _same_pad(x, pool_size, strides, (1,) * n, mode="replicate")
    return _to_channels_last(table[n](x, pool_size, strides, pad, **extra))


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, data_format, _MAXP, {})


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, data_format, _AVGP, {"count_include_pad": False})


def _adaptive(inputs, output_size, data_format, fns):
    _check_format(data_format)
    x = _t(inputs)
    n = x.ndim - 2
    size = output_size if isinstance(output_size, int) and n == 1 else _tuple(output_size, n, "output_size")
    y = fns[n](_to_channels_first(x), size)
    y = y[0] if isinstance(y, tuple) else y
    return _to_channels_last(y)


@keras_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    return _adaptive(inputs, output_size, data_format,
                     {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d})


@keras_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    return _adaptive(inputs, output_size, data_format,
                     {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d})


@keras_op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an NCHW tensor (``torch.nn.functional.unfold``)."""
    return F.unfold(_t(x), kernel_size, dilation=dilation, padding=padding, stride=stride)


@keras_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an NCHW tensor (``torch.nn.functional.fold``)."""
    return F.fold(_t(x), output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Move depth into blocks of space; depth is read in (block row, block column, channel) order."""
    x = _t(x)
    if data_format != "channels_last":
        x = _to_channels_last(x)
    b, h, w, c = x.shape
    bs = int(block_size)
    y = x.reshape(b, h, w, bs, bs, c // (bs * bs)).permute(0, 1, 3, 2, 4, 5).reshape(b, h * bs, w * bs, -1)
    return y if data_format == "channels_last" else _to_channels_first(y)


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Move blocks of space into depth, in (block row, block column, channel) order."""
    x = _t(x)
    if data_format != "channels_last":
        x = _to_channels_last(x)
    b, h, w, c = x.shape
    bs = int(block_size)
    y = x.reshape(b, h // bs, bs, w // bs, bs, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h // bs, w // bs, -1)
    return y if data_format == "channels_last" else _to_channels_first(y)


# ------------------------------------------------------------------------------ encodings
@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    if sparse:
        raise ValueError("sparse=True is not supported by the engine (torch). Received: sparse=True")
    x = _t(x).long()
    out = F.one_hot(torch.clamp(x, min=0), num_classes)
    out = torch.where((x >= 0).unsqueeze(-1), out, torch.zeros((), dtype=out.dtype, device=out.device))
    out = out.to(backend.torch_dtype(standardize_dtype(dtype)))
    if axis != -1 and axis != out.ndim - 1:
        out = out.movedim(-1, axis)
    return out


@keras_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be set.")
    x = _t(inputs)
    red = 1 if x.ndim > 1 else 0
    return torch.amax(one_hot.__wrapped_op__(cast(x, "int32"), num_classes, axis=axis, dtype=dtype), dim=red)


# ------------------------------------------------------------------------------ losses
@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")
    if from_logits:
        logp = F.log_softmax(output, dim=axis)
    else:
        output = output / output.sum(dim=axis, keepdim=True)
        logp = torch.log(torch.clip(output, backend.epsilon(), 1.0 - backend.epsilon()))
    return -(target * logp).sum(dim=axis)


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = _t(target).long(), _t(output)
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(f"Arguments `target` and `output` must have the same shape up until the last dimension: "
                         f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")
    output = output.movedim(axis, -1)
    if from_logits:
        logp = F.log_softmax(output, dim=-1)
    else:
        output = output / output.sum(dim=-1, keepdim=True)
        logp = torch.log(torch.clip(output, backend.epsilon(), 1.0 - backend.epsilon()))
    return -torch.gather(logp, -1, target.unsqueeze(-1)).squeeze(-1)


@keras_op
def binary_crossentropy(target, output, from_logits=False):
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clip(output, backend.epsilon(), 1.0 - backend.epsilon())
    return F.binary_cross_entropy(output, target, reduction="none")


@keras_op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    target, output = _t(target), _t(output)
    output = cast(output, result_type(output.dtype, "float32"))
    logp = F.log_softmax(output.transpose(0, 1), dim=-1)
    return F.ctc_loss(logp, target.long(), _t(output_length).long(), _t(target_length).long(), blank=mask_index,
                      reduction="none")


def _ctc_beam_search(logp, lengths, beam_width, top_paths, blank):
    """Prefix beam search over log-probabilities ``(batch, time, classes)``; returns
    ``(paths (top_paths, batch, time) padded with -1, scores (batch, top_paths))``."""
    batch, steps, classes = logp.shape
    neg = float("-inf")
    lp = logp.detach().cpu().double().numpy()
    paths = torch.full((top_paths, batch, steps), -1, dtype=torch.int32)
    scores = torch.full((batch, top_paths), neg, dtype=torch.float64)

    def lse(*v):
        m = builtins.max(v)
        return m if m == neg else m + math.log(builtins.sum(math.exp(a - m) for a in v))

    for b in range(batch):
        beams = {(): (0.0, neg)}  # prefix -> (log p ending in blank, log p ending in a label)
        for t in range(int(lengths[b])):
            nxt = {}

            def add(prefix, pb=neg, pl=neg):
                ob, ol = nxt.get(prefix, (neg, neg))
                nxt[prefix] = (lse(ob, pb), lse(ol, pl))

            for prefix, (pb, pl) in beams.items():
                for c in range(classes):
                    p = lp[b, t, c]
                    if c == blank:
                        add(prefix, pb=lse(pb, pl) + p)
                    elif prefix and prefix[-1] == c:
                        add(prefix + (c,), pl=pb + p)  # a repeated label needs a blank in between
                        add(prefix, pl=pl + p)  # else it merges with the previous one
                    else:
                        add(prefix + (c,), pl=lse(pb, pl) + p)
            ranked = sorted(nxt.items(), key=lambda kv: lse(*kv[1]), reverse=True)
            beams = dict(ranked[:beam_width])
        best = sorted(beams.items(), key=lambda kv: lse(*kv[1]), reverse=True)[:top_paths]
        for k, (prefix, probs) in enumerate(best):
            if prefix:
                paths[k, b, :len(prefix)] = torch.tensor(prefix, dtype=torch.int32)
            scores[b, k] = lse(*probs)
    return paths.to(logp.device), scores.to(logp.dtype).to(logp.device)


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """CTC decoding of logits ``(batch, time, classes)``: ``strategy="greedy"`` (best class per step) or
    ``"beam_search"`` (prefix beam search keeping ``beam_width`` prefixes). Returns the decoded
    label sequences ``(top_paths, batch, time)`` padded with -1, and their scores."""
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")
    x = _t(inputs)
    x = cast(x, result_type(x.dtype, "float32"))
    if strategy == "beam_search":
        blank = x.shape[-1] - 1 if mask_index is None else int(mask_index)
        return _ctc_beam_search(F.log_softmax(x, dim=-1), _t(sequence_lengths, "int32").tolist(), beam_width,
                                top_paths, blank)
    lengths = _t(sequence_lengths, "int32")
    batch, steps, classes = x.shape
    if mask_index is None:
        mask_index = classes - 1
    idx = torch.argmax(x, dim=-1).to(torch.int32)
    scores = torch.amax(x, dim=-1)
    beyond = torch.arange(steps, device=x.device)[None, :] >= lengths[:, None]
    idx = torch.where(beyond, torch.tensor(mask_index, dtype=torch.int32, device=x.device), idx)
    scores = torch.where(beyond, torch.zeros((), dtype=x.dtype, device=x.device), scores)
    if merge_repeated:
        rep = F.pad(idx[:, 1:] == idx[:, :-1], (1, 0))
        idx = torch.where(rep, torch.tensor(mask_index, dtype=torch.int32, device=x.device), idx)
    invalid = idx == mask_index
    idx = torch.where(invalid, torch.tensor(-1, dtype=torch.int32, device=x.device), idx)
    order = torch.arange(steps, device=x.device)[None, :].expand(batch, steps)
    order = torch.argsort(torch.where(invalid, steps, order), dim=-1, stable=True)
    idx = torch.take_along_dim(idx, order, dim=-1)
    return idx[None], -scores.sum(dim=1)[:, None]


# ------------------------------------------------------------------------------ normalization
@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    if synchronized:
        raise NotImplementedError("synchronized=True is not supported by the engine.")
    x = _t(x)
    dt = x.dtype
    if dt == torch.float16:
        x = x.float()
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    mean = x.mean(dim=axes, keepdim=True)
    variance = (x * x).mean(dim=axes, keepdim=True) - mean * mean
    if not keepdims:
        mean, variance = mean.squeeze(axes), variance.squeeze(axes)
    if dt == torch.float16:
        lim = torch.finfo(torch.float16).max
        mean, variance = mean.clamp(-lim, lim).to(dt), variance.clamp(-lim, lim).to(dt)
    return mean, variance


@keras_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    x = _t(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    mean, variance = _t(mean).reshape(shape), _t(variance).reshape(shape)
    inv = torch.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * _t(scale).reshape(shape)
    y = (x - mean) * inv
    if offset is not None:
        y = y + _t(offset).reshape(shape)
    return y


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    x = _t(x)
    eps = backend.epsilon() if epsilon is None else epsilon
    if order == 2:
        sq = (x * x).sum(dim=axis, keepdim=True)
        return x * torch.rsqrt(torch.clamp(sq, min=eps))
    n = torch.linalg.norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(n, min=eps)


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    x = _t(x)
    eps = backend.epsilon() if epsilon is None else epsilon
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = [a % x.ndim for a in axes]
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    dt = x.dtype
    xf = x.float() if dt in (torch.float16, torch.bfloat16) else x
    if rms_scaling:
        var = (xf * xf).mean(dim=axes, keepdim=True)
        y = xf * torch.rsqrt(var + eps)
        if gamma is not None:
            y = y * _t(gamma).reshape(shape).to(y.dtype)
        return y.to(dt)
    mean = xf.mean(dim=axes, keepdim=True)
    var = ((xf - mean) ** 2).mean(dim=axes, keepdim=True)
    y = (xf - mean) * torch.rsqrt(var + eps)
    if gamma is not None:
        y = y * _t(gamma).reshape(shape).to(y.dtype)
    if beta is not None:
        y = y + _t(beta).reshape(shape).to(y.dtype)
    return y.to(dt)


@keras_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = _t(x)
    eps = backend.epsilon() if epsilon is None else epsilon
    axes = [axis] if isinstance(axis, int) else list(axis)
    y = x * torch.rsqrt((x * x).mean(dim=axes, keepdim=True) + eps)
    if scale is not None:
        shape = [1] * x.ndim
        for a in axes:
            shape[a] = x.shape[a]
        y = y * _t(scale).reshape(shape)
    return y


# ------------------------------------------------------------------------------ misc
@keras_op
def psnr(x1, x2, max_val):
    x1, x2 = _t(x1), _t(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"Input shapes {tuple(x1.shape)} and {tuple(x2.shape)} must match for PSNR calculation.")
    max_val = _t(max_val, dtype_name(x1.dtype))
    mse = torch.mean((x1 - x2) ** 2)
    return 20 * torch.log10(max_val) - 10 * torch.log10(mse)


@keras_op
def polar(abs_, angle):
    abs_, angle = _t(abs_), _t(angle)
    return torch.polar(abs_, angle)


@keras_op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """Scaled dot-product attention on ``(batch, seq, heads, dim)`` tensors (Keras's layout)."""
    q, k, v = _t(query), _t(key), _t(value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"`dot_product_attention` only supports 4D inputs. Received: query.shape={tuple(q.shape)}, "
                         f"key.shape={tuple(k.shape)}, value.shape={tuple(v.shape)}.")
    if bias is not None and mask is not None:
        raise ValueError("Only one of `bias` and `mask` can be provided. Received both.")
    dt = result_type(q.dtype, k.dtype, v.dtype)
    q, k, v = cast(q, dt), cast(k, dt), cast(v, dt)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, T, D)
    if q.shape[1] > k.shape[1] > 1:
        g = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if attn_logits_soft_cap is not None:
        logits = torch.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + _t(bias, dt)
    neg = torch.finfo(logits.dtype).min
    if mask is not None:
        logits = torch.where(_t(mask, "bool"), logits, torch.tensor(neg, dtype=logits.dtype, device=logits.device))
    if is_causal:
        causal = torch.ones((q.shape[2], k.shape[2]), dtype=torch.bool, device=q.device).tril()
        logits = torch.where(causal, logits, torch.tensor(neg, dtype=logits.dtype, device=logits.device))
    probs = torch.softmax(logits.float(), dim=-1).to(v.dtype)
    return torch.matmul(probs, v).transpose(1, 2)


__all__ = [n for n in list(globals()) if not n.startswith("_") and callable(globals()[n]) and n not in (
    "cast", "convert_to_tensor", "keras_op", "result_type", "standardize_dtype", "same_padding", "dtype_name")
    and getattr(globals()[n], "__module__", "").startswith("engine.ops")]
