"""``_torch.py`` export: a standalone PyTorch ``nn.Module`` with the model's forward, no ``engine``.

The generated file needs only torch (and ``safetensors`` when the weights were written that way). Its
``forward`` takes and returns channels_last tensors like the Keras model, pads ``"same"`` the Keras
way (the extra pixel at the end, also for strides > 1, which torch's own ``padding="same"`` refuses),
and uses torch's native weight layouts (``nn.Linear``, ``nn.Conv2d``, ``nn.LSTM``...), converted from
Keras's at export. The module is left in the module-level variable ``model``, weights loaded, in
eval mode.

Each supported layer class has an emitter below (the wrappers Bidirectional and TimeDistributed reuse
those of the layers they wrap); a model with another layer is refused with an ``ExportError`` naming
it.
"""
from __future__ import annotations

import keyword
import os

import numpy as np

from visualkeras_app.document.pysource import as_identifier, doc_text, literal
from engine.layers.convolution import transpose_crops
from visualkeras_app.export.core import ExportError, atomic_write_text

_HELPERS = '''
def _same_pad(x, kernel, strides, dilation, value=0.0):
    """Keras's "same" padding of a channels-first tensor: the extra pixel goes at the end."""
    pads = []
    for n, k, s, d in reversed(list(zip(x.shape[2:], kernel, strides, dilation))):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


def _avg_pool_same(x, pool, strides):
    """Average pooling with "same" padding as Keras on torch: an even padding is left out of the
    averages; an uneven one repeats the edge values."""
    pool_fn = F.avg_pool1d if x.dim() == 3 else F.avg_pool2d
    pads = []
    for n, k, s in zip(x.shape[2:], pool, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    if all(lo == hi for lo, hi in pads):
        return pool_fn(x, pool, strides, tuple(lo for lo, _ in pads), count_include_pad=False)
    flat = [v for lo_hi in reversed(pads) for v in lo_hi]
    return pool_fn(F.pad(x, flat, mode="replicate"), pool, strides, count_include_pad=False)


def _relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's ReLU with its options."""
    y = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    if threshold != 0.0 and negative_slope == 0.0:
        y = torch.where(x > threshold, x, torch.zeros_like(x))
    return y if max_value is None else torch.clamp(y, max=max_value)


def _dot(x, y, axis_x, axis_y, eps=None):
    """Keras's Dot: per-sample dot products along one axis of each input (L2-normalized first when
    ``eps`` is given), the other axes of x then of y kept; (batch, 1) if none remain."""
    if eps is not None:
        x, y = F.normalize(x, dim=axis_x, eps=eps), F.normalize(y, dim=axis_y, eps=eps)
    x, y = x.movedim(axis_x, -1), y.movedim(axis_y, 1)
    batch, n = x.shape[0], x.shape[-1]
    out = torch.bmm(x.reshape(batch, -1, n), y.reshape(batch, n, -1))  # (B, rest_x, rest_y)
    shape = (batch,) + tuple(x.shape[1:-1]) + tuple(y.shape[2:])
    return out.reshape(shape if len(shape) > 1 else (batch, 1))


class _BatchNorm(nn.Module):
    """Keras BatchNormalization over ``axis`` (inference uses the moving statistics, as Keras)."""

    def __init__(self, features, axis, momentum, eps, center, scale):
        super().__init__()
        self.axis, self.momentum, self.eps = axis, momentum, eps
        self.weight = nn.Parameter(torch.ones(features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(features)) if center else None
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def forward(self, x):
        y = F.batch_norm(x.movedim(self.axis, 1), self.running_mean, self.running_var, self.weight, self.bias,
                         self.training, 1.0 - self.momentum, self.eps)
        return y.movedim(1, self.axis)


class _LayerNorm(nn.Module):
    """Keras LayerNormalization over the last axis."""

    def __init__(self, features, eps, center, scale):
        super().__init__()
        self.features, self.eps = features, eps
        self.weight = nn.Parameter(torch.ones(features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(features)) if center else None

    def forward(self, x):
        return F.layer_norm(x, (self.features,), self.weight, self.bias, self.eps)
'''

# Keras activation names -> an expression of ``{x}``.
_ACTIVATIONS = {
    "linear": "{x}", None: "{x}", "relu": "torch.relu({x})", "relu6": "F.relu6({x})",
    "sigmoid": "torch.sigmoid({x})", "hard_sigmoid": "F.hardsigmoid({x})", "tanh": "torch.tanh({x})",
    "softmax": "torch.softmax({x}, dim=-1)", "log_softmax": "torch.log_softmax({x}, dim=-1)",
    "softplus": "F.softplus({x})", "softsign": "F.softsign({x})", "elu": "F.elu({x})", "selu": "F.selu({x})",
    "gelu": "F.gelu({x})", "silu": "F.silu({x})", "swish": "F.silu({x})", "exponential": "torch.exp({x})",
    "leaky_relu": "F.leaky_relu({x}, 0.2)", "mish": "F.mish({x})", "hard_silu": "F.hardswish({x})",
    "hard_swish": "F.hardswish({x})",
}

_RESERVED = {"self", "torch", "nn", "F", "math", "os", "model", "Model", "x", "y"} | set(dir(__import__("torch").nn.Module))


class _Namer:
    def __init__(self):
        self.used = set()

    def __call__(self, name):
        base = as_identifier(name, prefix="l_")
        if keyword.iskeyword(base) or base in _RESERVED or base.startswith("__"):
            base = as_identifier(base.strip("_") + "_layer", prefix="l_")  # "__0" must not become "0_layer"
        out, i = base, 1
        while out in self.used:
            out, i = f"{base}_{i}", i + 1
        self.used.add(out)
        return out


class _Unsupported(ExportError):
    pass


def _act(name, x, where):
    if isinstance(name, dict):
        name = name.get("config", {}).get("name") if name.get("class_name") == "function" else name.get("class_name")
    if name not in _ACTIVATIONS:
        raise _Unsupported(f"{where}: the activation {name!r} has no PyTorch translation here.")
    return _ACTIVATIONS[name].format(x=x)


def _int(v):
    """An int (or None) from a config, as it will be written into the script; nothing else gets there."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise _Unsupported(f"the value {v!r:.80} is not an integer")
    return int(v)


def _tuple(v, n):
    return tuple(_int(x) for x in v) if isinstance(v, (list, tuple)) else (_int(v),) * n


class _Layer:
    """What one layer contributes: ``init`` lines (``self.attr = ...``), ``forward`` lines computing
    ``out`` from ``ins``, and state-dict entries (NumPy arrays in torch layout)."""

    def __init__(self, attr):
        self.attr = attr
        self.init = []
        self.state = {}


class _Call:
    """One layer being emitted: its class, config, weights and variables (``x`` the first input, ``ins``
    all of them, ``out`` the result), ``where`` (the layer named, for errors), and what the emitter adds:
    ``L`` (a _Layer) and ``fw`` (forward lines)."""

    def __init__(self, cls, config, weights, attr, ins, out, in_shapes, out_shape):
        self.cls, self.config, self.weights, self.attr = cls, config, weights, attr
        self.ins, self.out, self.in_shapes, self.out_shape = ins, out, in_shapes, out_shape
        self.x = ins[0] if ins else None
        self.where = f"layer {config.get('name')!r:.80} ({cls})"
        self.act = config.get("activation", "linear")
        self.L = _Layer(attr)
        self.fw = []

    def finish(self, expr):
        """``out = activation(expr)`` with the layer's own activation."""
        self.fw.append(f"{self.out} = {_act(self.act, expr, self.where)}")

    def channels_last(self):
        if self.config.get("data_format", "channels_last") != "channels_last":
            raise _Unsupported(f"{self.where}: only data_format='channels_last' is exported.")


def _permutes(nd):
    """(to channels-first, back to channels-last) permutations of a rank-``nd`` spatial tensor."""
    return ("(0, 2, 1)", "(0, 2, 1)") if nd == 1 else ("(0, 3, 1, 2)", "(0, 2, 3, 1)")


def _dense(c):
    w = c.weights
    c.L.init.append(f"self.{c.attr} = nn.Linear({w[0].shape[0]}, {w[0].shape[1]}, bias={bool(c.config['use_bias'])})")
    c.L.state[f"{c.attr}.weight"] = w[0].T
    if c.config["use_bias"]:
        c.L.state[f"{c.attr}.bias"] = w[1]
    c.finish(f"self.{c.attr}({c.x})")


def _conv(c):
    """Conv1D, Conv2D, DepthwiseConv2D."""
    config, attr = c.config, c.attr
    nd = 1 if c.cls == "Conv1D" else 2
    c.channels_last()
    k = c.weights[0]
    kernel = tuple(k.shape[:nd])
    strides, dil = _tuple(config["strides"], nd), _tuple(config["dilation_rate"], nd)
    use_bias = bool(config["use_bias"])
    if c.cls == "DepthwiseConv2D":
        cin, mult = k.shape[2], k.shape[3]
        cout, groups = cin * mult, cin
        tk = k.reshape(kernel + (1, cout)).transpose(3, 2, 0, 1)
    else:
        groups = int(config.get("groups", 1))
        cin, cout = k.shape[-2] * groups, k.shape[-1]
        tk = k.transpose((2, 1, 0) if nd == 1 else (3, 2, 0, 1))
    c.L.init.append(f"self.{attr} = nn.Conv{nd}d({cin}, {cout}, {kernel}, stride={strides}, dilation={dil}, "
                    f"groups={groups}, bias={use_bias})")
    c.L.state[f"{attr}.weight"] = tk
    if use_bias:
        c.L.state[f"{attr}.bias"] = c.weights[1].reshape(-1)
    to_cf, to_cl = _permutes(nd)
    y = f"{c.x}.permute{to_cf}"
    if config["padding"] == "same":
        y = f"_same_pad({y}, {kernel}, {strides}, {dil})"
    elif config["padding"] == "causal":
        y = f"F.pad({y}, ({(kernel[0] - 1) * dil[0]}, 0))"
    c.finish(f"self.{attr}({y}).permute{to_cl}")


def _separable_conv(c):
    config, attr, weights = c.config, c.attr, c.weights
    c.channels_last()
    dk, pk = weights[0], weights[1]  # (kh, kw, C, M), (1, 1, C*M, filters)
    kernel = tuple(dk.shape[:2])
    cin, mult = dk.shape[2], dk.shape[3]
    filters = pk.shape[-1]
    strides, dil = _tuple(config["strides"], 2), _tuple(config["dilation_rate"], 2)
    use_bias = bool(config["use_bias"])
    # Depthwise output channel c*M + m, as Keras orders them, then a 1x1 convolution mixing them.
    c.L.init.append(f"self.{attr} = nn.Sequential(nn.Conv2d({cin}, {cin * mult}, {kernel}, stride={strides}, "
                    f"dilation={dil}, groups={cin}, bias=False), nn.Conv2d({cin * mult}, {filters}, 1, "
                    f"bias={use_bias}))")
    c.L.state[f"{attr}.0.weight"] = dk.reshape(kernel + (1, cin * mult)).transpose(3, 2, 0, 1)
    c.L.state[f"{attr}.1.weight"] = pk.transpose(3, 2, 0, 1)
    if use_bias:
        c.L.state[f"{attr}.1.bias"] = weights[2]
    y = f"{c.x}.permute(0, 3, 1, 2)"
    if config["padding"] == "same":
        y = f"_same_pad({y}, {kernel}, {strides}, {dil})"
    c.finish(f"self.{attr}({y}).permute(0, 2, 3, 1)")


def _conv_transpose(c):
    config, attr = c.config, c.attr
    c.channels_last()
    k = c.weights[0]  # (kh, kw, filters, in)
    kernel, cout, cin = tuple(k.shape[:2]), k.shape[2], k.shape[3]
    strides, dil = _tuple(config["strides"], 2), _tuple(config["dilation_rate"], 2)
    ops = _tuple(config.get("output_padding") or (None, None), 2)
    use_bias = bool(config["use_bias"])
    # As the engine: torch's full output (length (n-1)*s + (k-1)*d + 1) is cut by Keras's crops;
    # torch's ``padding`` cuts min(start, end) from both sides, ``output_padding`` adds computed rows
    # at the end, and a slice takes what remains.
    padding, out_padding, crop = [], [], []
    for ks, s, d, op in zip(kernel, strides, dil, ops):
        lo, hi = transpose_crops(ks, s, d, config["padding"], op)
        p = max(0, min(lo, hi))
        lo, hi = lo - p, hi - p
        extra = 0
        if hi < 0 and -hi < max(s, d):
            extra, hi = -hi, 0
        if lo < 0 or hi < 0:  # the engine then pads zeros plus bias; no valid Keras setting gets here
            raise _Unsupported(f"{c.where}: this kernel/strides/output_padding combination is not exported.")
        padding.append(p)
        out_padding.append(extra)
        crop.append(f"{lo or ''}:{-hi if hi else ''}")
    c.L.init.append(f"self.{attr} = nn.ConvTranspose2d({cin}, {cout}, {kernel}, stride={strides}, "
                    f"padding={tuple(padding)}, output_padding={tuple(out_padding)}, dilation={dil}, "
                    f"bias={use_bias})")
    c.L.state[f"{attr}.weight"] = k.transpose(3, 2, 0, 1)
    if use_bias:
        c.L.state[f"{attr}.bias"] = c.weights[1]
    y = f"self.{attr}({c.x}.permute(0, 3, 1, 2))"
    if crop != [":", ":"]:
        y += f"[:, :, {crop[0]}, {crop[1]}]"
    c.finish(f"{y}.permute(0, 2, 3, 1)")


def _pooling(c):
    """MaxPooling1D/2D, AveragePooling1D/2D."""
    config = c.config
    nd = 1 if c.cls.endswith("1D") else 2
    c.channels_last()
    pool = _tuple(config["pool_size"], nd)
    strides = _tuple(config["strides"] if config.get("strides") is not None else pool, nd)
    to_cf, to_cl = _permutes(nd)
    y = f"{c.x}.permute{to_cf}"
    if c.cls.startswith("Max"):
        if config["padding"] == "same":
            y = f"_same_pad({y}, {pool}, {strides}, {(1,) * nd}, value=float('-inf'))"
        y = f"F.max_pool{nd}d({y}, {pool}, {strides})"
    elif config["padding"] == "same":
        y = f"_avg_pool_same({y}, {pool}, {strides})"
    else:
        y = f"F.avg_pool{nd}d({y}, {pool}, {strides})"
    c.fw.append(f"{c.out} = {y}.permute{to_cl}")


def _global_pooling(c):
    """GlobalAveragePooling1D/2D, GlobalMaxPooling1D/2D."""
    c.channels_last()
    dims = "1" if c.cls.endswith("1D") else "(1, 2)"
    keep = bool(c.config.get("keepdims", False))
    reduce = "mean" if "Average" in c.cls else "amax"
    c.fw.append(f"{c.out} = {c.x}.{reduce}(dim={dims}, keepdim={keep})")


def _flatten(c):
    c.fw.append(f"{c.out} = {c.x}.reshape({c.x}.shape[0], -1)")


def _reshape(c):
    c.fw.append(f"{c.out} = {c.x}.reshape({c.x}.shape[0], *{_tuple(c.config['target_shape'], 1)})")


def _permute(c):
    c.fw.append(f"{c.out} = {c.x}.permute(0, *{_tuple(c.config['dims'], 1)})")


def _repeat_vector(c):
    c.fw.append(f"{c.out} = {c.x}.unsqueeze(1).expand(-1, {int(c.config['n'])}, -1)")


def _rescaling(c):
    scale, offset, x = c.config["scale"], c.config["offset"], c.x
    if isinstance(scale, (list, tuple)) or isinstance(offset, (list, tuple)):
        c.fw.append(f"{c.out} = {x} * torch.tensor({list(np.ravel(scale))}) + torch.tensor({list(np.ravel(offset))})")
    else:
        c.fw.append(f"{c.out} = {x} * {float(scale)!r} + {float(offset)!r}")


def _activation(c):
    c.finish(c.x)


def _relu_layer(c):
    config, x = c.config, c.x
    ms, mv, th = float(config.get("negative_slope") or 0.0), config.get("max_value"), float(config.get("threshold") or 0.0)
    if ms == 0.0 and mv is None and th == 0.0:
        c.fw.append(f"{c.out} = torch.relu({x})")
    else:
        c.fw.append(f"{c.out} = _relu({x}, {ms!r}, {None if mv is None else float(mv)!r}, {th!r})")


def _leaky_relu(c):
    c.fw.append(f"{c.out} = F.leaky_relu({c.x}, {float(c.config.get('negative_slope', 0.3))!r})")


def _elu(c):
    c.fw.append(f"{c.out} = F.elu({c.x}, {float(c.config.get('alpha', 1.0))!r})")


def _softmax(c):
    axis = c.config.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise _Unsupported(f"{c.where}: a softmax over several axes is not exported.")
        axis = axis[0]
    c.fw.append(f"{c.out} = torch.softmax({c.x}, dim={int(axis)})")


def _prelu(c):
    attr, x = c.attr, c.x
    c.L.init.append(f"self.{attr} = nn.ParameterDict({{'alpha': nn.Parameter(torch.zeros({tuple(c.weights[0].shape)}))}})")
    c.L.state[f"{attr}.alpha"] = c.weights[0]
    c.fw.append(f"{c.out} = torch.relu({x}) - self.{attr}['alpha'] * torch.relu(-{x})")


def _dropout(c):
    """Dropout, SpatialDropout1D/2D."""
    if c.config.get("noise_shape") is not None:
        raise _Unsupported(f"{c.where}: Dropout with a noise_shape is not exported.")
    rate = float(c.config["rate"])
    if c.cls == "Dropout":
        c.L.init.append(f"self.{c.attr} = nn.Dropout({rate!r})")
        c.fw.append(f"{c.out} = self.{c.attr}({c.x})")
    else:
        nd = 1 if c.cls.endswith("1D") else 2
        to_cf, to_cl = _permutes(nd)
        c.L.init.append(f"self.{c.attr} = nn.Dropout{nd}d({rate!r})")
        c.fw.append(f"{c.out} = self.{c.attr}({c.x}.permute{to_cf}).permute{to_cl}")


def _identity_at_inference(c):
    """GaussianNoise, GaussianDropout, ActivityRegularization."""
    c.fw.append(f"{c.out} = {c.x}  # {c.cls}: identity at inference")


def _single_axis(axis):
    return axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis


def _batch_norm(c):
    config, attr = c.config, c.attr
    axis = _single_axis(config["axis"])
    if not isinstance(axis, int):
        raise _Unsupported(f"{c.where}: BatchNormalization over several axes is not exported.")
    axis = axis % len(c.out_shape)
    scale, center = bool(config["scale"]), bool(config["center"])
    n = c.weights[-1].shape[0]
    c.L.init.append(f"self.{attr} = _BatchNorm({n}, {axis}, {float(config['momentum'])!r}, "
                    f"{float(config['epsilon'])!r}, center={center}, scale={scale})")
    w = list(c.weights)
    if scale:
        c.L.state[f"{attr}.weight"] = w.pop(0)
    if center:
        c.L.state[f"{attr}.bias"] = w.pop(0)
    c.L.state[f"{attr}.running_mean"], c.L.state[f"{attr}.running_var"] = w
    c.fw.append(f"{c.out} = self.{attr}({c.x})")


def _layer_norm(c):
    config, attr, rank = c.config, c.attr, len(c.out_shape)
    axis = _single_axis(config["axis"])
    if not isinstance(axis, int) or axis % rank != rank - 1 or config.get("rms_scaling"):
        raise _Unsupported(f"{c.where}: only LayerNormalization over the last axis is exported.")
    scale, center = bool(config["scale"]), bool(config["center"])
    c.L.init.append(f"self.{attr} = _LayerNorm({c.out_shape[-1]}, {float(config['epsilon'])!r}, center={center}, "
                    f"scale={scale})")
    w = list(c.weights)
    if scale:
        c.L.state[f"{attr}.weight"] = w.pop(0)
    if center:
        c.L.state[f"{attr}.bias"] = w.pop(0)
    c.fw.append(f"{c.out} = self.{attr}({c.x})")


def _embedding(c):
    if c.config.get("mask_zero"):
        raise _Unsupported(f"{c.where}: Embedding(mask_zero=True) masks later layers, which the PyTorch export "
                           "does not reproduce. Use mask_zero=False to export.")
    e = c.weights[0]
    c.L.init.append(f"self.{c.attr} = nn.Embedding({e.shape[0]}, {e.shape[1]})")
    c.L.state[f"{c.attr}.weight"] = e
    c.fw.append(f"{c.out} = self.{c.attr}({c.x}.long())")


def _recurrent(c):
    """LSTM, GRU, SimpleRNN."""
    c.fw.append(f"{c.out} = {_rnn(c.L, c.cls, c.config, c.weights, c.attr, c.x, c.where)}")


def _bidirectional(c):
    config, attr, weights, where, x = c.config, c.attr, c.weights, c.where, c.x
    if config.get("merge_mode") not in ("concat", "sum", "mul", "ave"):
        raise _Unsupported(f"{where}: merge_mode={config.get('merge_mode')!r} gives two outputs; the PyTorch "
                           "export takes one output per layer. Use 'concat', 'sum', 'mul' or 'ave'.")
    forward_spec = config["layer"]
    backward_spec = config.get("backward_layer")
    if backward_spec is None:  # Keras's default: a copy of ``layer`` running the other way
        backward_spec = {"class_name": forward_spec["class_name"],
                         "config": {**forward_spec["config"],
                                    "go_backwards": not forward_spec["config"].get("go_backwards", False)}}
    n_forward = 3 if forward_spec["config"].get("use_bias", True) else 2
    c.L.init.append(f"self.{attr} = nn.ModuleDict()")
    y_f, y_b = (_rnn(c.L, spec["class_name"], spec["config"], w, f"{attr}.{key}", x,
                     f"{where}, its {spec['class_name']} {spec['config'].get('name')!r}")
                for spec, w, key in ((forward_spec, weights[:n_forward], "fw"),
                                     (backward_spec, weights[n_forward:], "bw")))
    if config["layer"]["config"].get("return_sequences"):
        y_b = f"{y_b}.flip(1)"  # the backward layer's steps back in input order, as Keras
    c.fw.append(f"{c.out} = " + {"concat": f"torch.cat([{y_f}, {y_b}], dim=-1)", "sum": f"{y_f} + {y_b}",
                                 "mul": f"{y_f} * {y_b}", "ave": f"({y_f} + {y_b}) / 2"}[config["merge_mode"]])


def _time_distributed(c):
    x, out = c.x, c.out
    inner_cls, inner_config = c.config["layer"]["class_name"], c.config["layer"]["config"]
    if inner_cls == "TimeDistributed":
        raise _Unsupported(f"{c.where}: a TimeDistributed inside a TimeDistributed is not exported.")
    # The inner layer's own code on (B*T, ...), with ``out`` as its input and output variable.
    fold = [None if s is None else (s[0],) + tuple(s[2:]) for s in (c.in_shapes[0], c.out_shape)]
    try:
        inner, lines = _emit(inner_cls, inner_config, c.weights, c.attr, [out], out, [fold[0]], fold[1])
    except _Unsupported as e:
        raise _Unsupported(f"{c.where} wraps {e}") from None
    c.L.init, c.L.state = inner.init, inner.state
    c.fw.append(f"{out} = {x}.reshape(-1, *{x}.shape[2:])  # (B, T, ...) -> (B*T, ...)")
    c.fw += lines
    c.fw.append(f"{out} = {out}.reshape({x}.shape[0], {x}.shape[1], *{out}.shape[1:])")


def _dot_layer(c):
    ranks = [len(shape) for shape in c.in_shapes]
    axes = c.config["axes"]
    axes = _int(axes) if not isinstance(axes, (list, tuple)) else list(_tuple(axes, 2))
    if isinstance(axes, int):
        axes = [axes % ranks[0], axes % ranks[1]] if axes < 0 else [axes, axes]
    else:
        axes = [a % r if a < 0 else a for a, r in zip(axes, ranks)]
    eps = _epsilon() if c.config.get("normalize") else None
    c.fw.append(f"{c.out} = _dot({c.ins[0]}, {c.ins[1]}, {axes[0]}, {axes[1]}, {eps!r})")


def _add(c):
    c.fw.append(f"{c.out} = {' + '.join(c.ins)}")


def _subtract(c):
    c.fw.append(f"{c.out} = {c.ins[0]} - {c.ins[1]}")


def _multiply(c):
    c.fw.append(f"{c.out} = {' * '.join(c.ins)}")


def _average(c):
    c.fw.append(f"{c.out} = ({' + '.join(c.ins)}) / {len(c.ins)}")


def _extremum(c):
    """Maximum, Minimum."""
    fn = "torch.maximum" if c.cls == "Maximum" else "torch.minimum"
    expr = c.ins[0]
    for other in c.ins[1:]:
        expr = f"{fn}({expr}, {other})"
    c.fw.append(f"{c.out} = {expr}")


def _concatenate(c):
    c.fw.append(f"{c.out} = torch.cat([{', '.join(c.ins)}], dim={int(c.config.get('axis', -1))})")


def _zero_padding(c):
    (t, b), (l, r) = (_tuple(p, 2) for p in c.config["padding"])
    c.fw.append(f"{c.out} = F.pad({c.x}, (0, 0, {l}, {r}, {t}, {b}))")


def _cropping(c):
    x = c.x
    (t, b), (l, r) = (_tuple(p, 2) for p in c.config["cropping"])
    c.fw.append(f"{c.out} = {x}[:, {t}:{x}.shape[1] - {b}, {l}:{x}.shape[2] - {r}, :]")


def _upsampling(c):
    if c.config.get("interpolation", "nearest") != "nearest":
        raise _Unsupported(f"{c.where}: only interpolation='nearest' is exported.")
    sh, sw = _tuple(c.config["size"], 2)
    c.fw.append(f"{c.out} = {c.x}.repeat_interleave({sh}, dim=1).repeat_interleave({sw}, dim=2)")


# Keras layer class name -> its emitter; a class not here is refused, naming the layer.
EMITTERS = {
    "Dense": _dense,
    "Conv1D": _conv, "Conv2D": _conv, "DepthwiseConv2D": _conv,
    "SeparableConv2D": _separable_conv,
    "Conv2DTranspose": _conv_transpose,
    "MaxPooling1D": _pooling, "MaxPooling2D": _pooling, "AveragePooling1D": _pooling, "AveragePooling2D": _pooling,
    "GlobalAveragePooling1D": _global_pooling, "GlobalAveragePooling2D": _global_pooling,
    "GlobalMaxPooling1D": _global_pooling, "GlobalMaxPooling2D": _global_pooling,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "RepeatVector": _repeat_vector,
    "Rescaling": _rescaling,
    "Activation": _activation,
    "ReLU": _relu_layer,
    "LeakyReLU": _leaky_relu,
    "ELU": _elu,
    "Softmax": _softmax,
    "PReLU": _prelu,
    "Dropout": _dropout, "SpatialDropout1D": _dropout, "SpatialDropout2D": _dropout,
    "GaussianNoise": _identity_at_inference, "GaussianDropout": _identity_at_inference,
    "ActivityRegularization": _identity_at_inference,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Embedding": _embedding,
    "LSTM": _recurrent, "GRU": _recurrent, "SimpleRNN": _recurrent,
    "Bidirectional": _bidirectional,
    "TimeDistributed": _time_distributed,
    "Dot": _dot_layer,
    "Add": _add,
    "Subtract": _subtract,
    "Multiply": _multiply,
    "Average": _average,
    "Maximum": _extremum, "Minimum": _extremum,
    "Concatenate": _concatenate,
    "ZeroPadding2D": _zero_padding,
    "Cropping2D": _cropping,
    "UpSampling2D": _upsampling,
}


def _emit(cls, config, weights, attr, ins, out, in_shapes, out_shape):
    """(_Layer, forward lines) for one layer; raises _Unsupported."""
    call = _Call(cls, config, weights, attr, ins, out, in_shapes, out_shape)
    emitter = EMITTERS.get(cls)
    if emitter is None:
        raise _Unsupported(f"{call.where}: no PyTorch translation for {cls} layers yet.")
    emitter(call)
    return call.L, call.fw


def _epsilon():
    from engine import backend

    return float(backend.epsilon())


def _rnn(L, cls, config, weights, attr, x, where):
    """Add an LSTM/GRU/SimpleRNN module ``self.<attr>`` to ``L`` and return the expression of its output."""
    if cls not in ("LSTM", "GRU", "SimpleRNN"):
        raise _Unsupported(f"{where}: no PyTorch translation for a wrapped {cls} layer.")
    for key in ("return_state", "stateful"):
        if config.get(key):
            raise _Unsupported(f"{where}: {key}=True is not exported.")
    acts = (config.get("activation"), config.get("recurrent_activation", "sigmoid"))
    if cls == "SimpleRNN":
        if acts[0] not in ("tanh", "relu"):
            raise _Unsupported(f"{where}: SimpleRNN exports with activation 'tanh' or 'relu' only.")
    elif acts != ("tanh", "sigmoid"):
        raise _Unsupported(f"{where}: torch's {cls} uses tanh and sigmoid; received activation={acts[0]!r}, "
                           f"recurrent_activation={acts[1]!r}.")
    if cls == "GRU" and not config.get("reset_after", True):
        raise _Unsupported(f"{where}: GRU(reset_after=False) has no torch equivalent.")
    kernel, rec = weights[0], weights[1]
    units = rec.shape[0]
    use_bias = bool(config["use_bias"])
    extra = f", nonlinearity={acts[0]!r}" if cls == "SimpleRNN" else ""
    torch_cls = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}[cls]
    L.init.append(f"self.{attr} = nn.{torch_cls}({kernel.shape[0]}, {units}, batch_first=True, bias={use_bias}{extra})")
    if cls == "GRU":  # Keras gates z, r, h; torch r, z, n
        def reorder(a):
            z, r, h = np.split(a, 3, axis=-1)
            return np.concatenate([r, z, h], axis=-1)
        kernel, rec = reorder(kernel), reorder(rec)
    L.state[f"{attr}.weight_ih_l0"] = kernel.T
    L.state[f"{attr}.weight_hh_l0"] = rec.T
    if use_bias:
        b = weights[2]
        if cls == "GRU":
            b = reorder(b.reshape(2, -1))
            L.state[f"{attr}.bias_ih_l0"], L.state[f"{attr}.bias_hh_l0"] = b[0], b[1]
        else:
            L.state[f"{attr}.bias_ih_l0"] = b
            L.state[f"{attr}.bias_hh_l0"] = np.zeros_like(b)
    # go_backwards: Keras runs the reversed sequence and returns its outputs in that (reversed) order.
    y = f"self.{attr}({x}.flip(1))[0]" if config.get("go_backwards") else f"self.{attr}({x})[0]"
    return y if config.get("return_sequences") else f"{y}[:, -1]"


def build_torch_source(model):
    """(source text without the weights-loading tail, state dict of NumPy arrays, input names)."""
    from visualkeras_app.document.convert import model_to_document

    doc = model_to_document(model, with_weights=False)
    result = doc.result if doc.result is not None else doc.infer()
    layers = {layer.name: layer for layer in _all_layers(model)}
    namer = _Namer()
    var = {}
    inits, forward, state = [], [], {}
    inputs = []
    problems = []
    for nid in result.order:
        node = doc.nodes[nid]
        name = namer(node.name)
        var[nid] = name
        if node.is_input:
            inputs.append(name)
            continue
        layer = layers[node.name]
        ins = [var[e.src] for e in doc.inputs_of(nid)]
        in_shapes = [result.shapes.get(e.src) for e in doc.inputs_of(nid)]
        try:
            emitted, lines = _emit(node.class_name, layer.get_config(), [np.asarray(w) for w in layer.get_weights()],
                                   name, ins, name, in_shapes, result.shapes.get(nid))
        except _Unsupported as e:
            problems.append(str(e))
            continue
        inits += emitted.init
        forward += lines
        state.update(emitted.state)
    if problems:
        raise ExportError("The model cannot be exported as a PyTorch script:\n" + "\n".join(f"  - {p}" for p in problems))
    from visualkeras_app.document.convert import output_nodes

    outs = [var[nid] for nid in output_nodes(doc)]
    out_expr = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ",)"
    lines = ["class Model(nn.Module):",
             f'    """{doc_text(model.name)}: channels_last inputs ({", ".join(inputs)}) as in Keras."""',
             "",
             "    def __init__(self):",
             "        super().__init__()"]
    lines += [f"        {line}" for line in inits] or ["        pass"]
    lines += ["", f"    def forward(self, {', '.join(inputs)}):"]
    lines += [f"        {line}" for line in forward]
    lines += [f"        return {out_expr}", ""]
    return "\n".join(lines), state, inputs


def _all_layers(model):
    out = list(model.layers)
    for attr in ("_input_layer",):
        layer = getattr(model, attr, None)
        if layer is not None:
            out.append(layer)
    return out


def export_torch_script(model, path, report, weights_format="auto"):
    import torch

    from engine.utils.file_utils import atomic_write

    if weights_format not in ("auto", "safetensors", "pt"):
        raise ExportError(f"weights_format must be 'auto', 'safetensors' or 'pt'. Received: {weights_format!r}")
    source, state, inputs = build_torch_source(model)
    if weights_format == "auto":
        try:
            import safetensors.torch  # noqa: F401

            weights_format = "safetensors"
        except ImportError:
            weights_format = "pt"
    stem = os.path.basename(path)[:-3]
    weights_name = f"{stem}.{weights_format}"
    weights_path = os.path.join(os.path.dirname(path), weights_name)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=v.dtype)).contiguous() for k, v in state.items()}
    if weights_format == "safetensors":
        try:
            from safetensors.torch import save_file
        except ImportError:
            raise ExportError('Writing .safetensors needs the safetensors package: pip install safetensors') from None
        atomic_write(weights_path, lambda tmp: save_file(tensors, tmp))
        load = ["from safetensors.torch import load_file", "", "_state = load_file(_WEIGHTS)"]
    else:
        atomic_write(weights_path, lambda tmp: torch.save(tensors, tmp))
        load = ["_state = torch.load(_WEIGHTS, map_location=\"cpu\", weights_only=True)"]
    head = [
        f'"""The model \'{doc_text(model.name)}\' as a standalone PyTorch module, exported by visualkeras-app.',
        "",
        "Inputs and outputs are channels_last (batch, ..., channels), as in Keras. The weights are read",
        f"from {doc_text(weights_name)} beside this file. The module is in the module-level variable ``model``",
        "(eval mode); run this file to print it and its parameter count.",
        '"""',
        "import os",
        "",
        "import torch",
        "import torch.nn.functional as F",
        "from torch import nn",
        "",
    ]
    tail = [
        "",
        f"_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), {literal(weights_name)})",
        "model = Model()",
        *load,
        "model.load_state_dict(_state, strict=True)",
        "model.eval()",
        "",
        'if __name__ == "__main__":',
        "    print(model)",
        '    print(f"Total params: {sum(p.numel() for p in model.parameters()):,}")',
        "",
    ]
    text = "\n".join(head) + _HELPERS.lstrip("\n") + "\n\n" + source + "\n" + "\n".join(tail)
    atomic_write_text(path, text)
    report.extra_files.append(weights_path)
    report.notes.append(f"Keep {weights_name} beside the script: it holds the weights.")
