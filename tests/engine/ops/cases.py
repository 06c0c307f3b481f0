"""The op list of the harness: each ``keras.ops`` function with inputs that exercise it."""
from __future__ import annotations

import numpy as np
import torch

from tests.engine.ops.harness import A, Case

x23 = A(2, 3)
x234 = A(2, 3, 4)
pos = A(2, 3, kind="positive")
unit = A(2, 3, kind="unit")
i23 = A(2, 3, dtype="int32", low=-4, high=5)
b23 = A(2, 3, dtype="bool")

UNARY_FLOAT = ["abs", "absolute", "fabs", "arctan", "arcsinh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "exp",
               "exp2", "expm1", "sign", "signbit", "negative", "isfinite", "isinf", "isnan", "isneginf", "isposinf",
               "isreal", "logical_not", "ravel", "copy", "fliplr", "flipud", "ceil", "floor", "trunc", "round",
               "deg2rad", "rad2deg", "square", "cbrt", "sinc", "real", "angle",
               "nan_to_num", "i0", "erf", "erfc", "relu", "relu6", "sigmoid", "tanh_shrink", "softplus", "softsign",
               "silu", "swish", "log_sigmoid", "hard_sigmoid", "hard_silu", "hard_swish", "selu", "sparse_sigmoid",
               "sparse_plus", "squareplus", "soft_shrink", "hard_shrink", "hard_tanh", "leaky_relu", "elu", "celu",
               "gelu", "softmax", "log_softmax", "sparsemax", "transpose", "ones_like", "zeros_like",
               "stop_gradient", "argsort", "sort", "diff", "cumsum", "cumprod", "nancumsum", "nancumprod"]
UNARY_POSITIVE = ["log", "log10", "log1p", "log2", "sqrt", "reciprocal", "rsqrt", "arccosh"]
UNARY_UNIT = ["arccos", "arcsin", "arctanh", "erfinv"]
UNARY_INT = ["abs", "square", "sign", "negative", "exp", "sqrt", "ceil", "floor", "round", "sin", "cumsum", "argsort",
             "bitwise_invert", "bitwise_not", "fabs", "log1p", "deg2rad", "cbrt", "i0", "trunc"]
BINARY_FLOAT = ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "fmax", "fmin",
                "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "arctan2", "hypot", "mod",
                "fmod", "floor_divide", "logaddexp", "logaddexp2", "divide_no_nan", "heaviside", "nextafter",
                "isclose", "allclose", "logical_and", "logical_or", "logical_xor", "append", "outer", "kron"]
BINARY_INT = ["add", "subtract", "multiply", "maximum", "minimum", "mod", "floor_divide", "divide", "equal",
              "bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm", "greater"]
REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "all", "any", "argmax", "argmin",
              "logsumexp", "ptp", "median", "nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd",
              "nanmedian", "nanargmax", "nanargmin", "count_nonzero"]


def _blank(t):
    """Uninitialized memory (empty, empty_like): compare only shape and dtype."""
    return torch.zeros(t.shape, dtype=t.dtype)


def _cases():
    out = []
    for n in UNARY_FLOAT:
        out.append(Case(n, x23, id=f"{n}-float"))
    for n in ("conj", "conjugate", "real", "imag", "angle", "abs"):
        out.append(Case(n, A(2, 3, dtype="complex64"), id=f"{n}-complex"))
    for n in UNARY_POSITIVE:
        out.append(Case(n, A(2, 3, kind="positive"), id=f"{n}-pos"))
    for n in UNARY_UNIT:
        out.append(Case(n, unit, id=f"{n}-unit"))
    for n in UNARY_INT:
        out.append(Case(n, A(2, 3, dtype="int32", low=0 if n in ("sqrt", "log1p") else -4, high=5), id=f"{n}-int32"))
    for n in BINARY_FLOAT:
        out.append(Case(n, x23, A(3, kind="positive") if n in ("power", "mod", "fmod", "floor_divide") else A(3),
                        id=f"{n}-float-broadcast"))
    for n in ("add", "multiply", "maximum", "divide", "power", "subtract", "greater"):
        out.append(Case(n, x23, 2, id=f"{n}-pyint"))
        out.append(Case(n, i23, 1.5, id=f"{n}-int-pyfloat"))
        out.append(Case(n, i23, x23, id=f"{n}-int-float"))
    for n in BINARY_INT:
        out.append(Case(n, A(2, 3, dtype="int32", low=1, high=9), A(2, 3, dtype="int32", low=1, high=9),
                        id=f"{n}-int"))
    out += [Case("bitwise_left_shift", A(4, dtype="int32", low=0, high=8), A(4, dtype="int32", low=0, high=3)),
            Case("left_shift", A(4, dtype="int32", low=0, high=8), 2),
            Case("bitwise_right_shift", A(4, dtype="int32", low=0, high=64), A(4, dtype="int32", low=0, high=3)),
            Case("right_shift", A(4, dtype="int32", low=0, high=64), 1),
            Case("ldexp", x23, A(3, dtype="int32", low=-2, high=3))]
    for n in REDUCTIONS:
        out.append(Case(n, x234, id=f"{n}-all"))
        # (count_nonzero with an axis on 3-d input: Keras's torch backend transposes the result; not compared)
        out.append(Case(n, x234 if n != "count_nonzero" else x23, axis=1, id=f"{n}-axis1"))
        if n not in ("argmax", "argmin", "nanargmax", "nanargmin", "count_nonzero", "logsumexp"):
            out.append(Case(n, x234, axis=(0, 2), keepdims=True, id=f"{n}-axes-keepdims"))
    for n in ("sum", "mean", "max", "prod", "var", "argmax"):
        out.append(Case(n, A(2, 3, 4, dtype="int32", low=-3, high=4), axis=-1, id=f"{n}-int32"))
    for n in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nanargmax", "nanargmin",
              "nancumsum", "nancumprod", "nanmedian", "nan_to_num", "isnan"):
        out.append(Case(n, A(3, 4, kind="nan"), id=f"{n}-nan"))
    out += [
        Case("max", x23, axis=0, initial=0.5), Case("min", x23, initial=-0.5, id="min-initial"),
        Case("sum", b23, id="sum-bool"), Case("mean", b23, axis=0, id="mean-bool"),
        Case("cumsum", x234, axis=1, id="cumsum-axis"),
        Case("cumprod", x23, axis=0, dtype="float64", id="cumprod-dtype"),
        Case("cumsum", b23, axis=1, id="cumsum-bool"),
        Case("quantile", x234, 0.3), Case("quantile", x234, A(2, kind="fraction"), axis=1, id="quantile-q-axis"),
        Case("quantile", x234, 0.7, axis=(0, 2), keepdims=True, method="nearest", id="quantile-nearest"),
        Case("percentile", x234, 30.0, axis=-1), Case("nanquantile", A(3, 4, kind="nan"), 0.4, axis=1),
        Case("nanpercentile", A(3, 4, kind="nan"), 40.0), Case("median", x234, axis=-1, keepdims=True, id="median-k"),
        Case("average", x234), Case("average", x23, axis=1, weights=A(3, kind="positive"), id="average-w"),
        Case("average", x23, axis=1, weights=A(2, 3, kind="positive"), id="average-w-full"),
        # creation
        Case("zeros", (2, 3)), Case("ones", (2, 3), dtype="int32"), Case("full", (2, 3), 7.0),
        Case("full", (2, 3), 7, dtype="int32", id="full-int"), Case("full_like", x23, 2.5),
        Case("ones_like", x23, dtype="int32", id="ones_like-dtype"), Case("empty", (2, 2), compare=_blank),
        Case("empty_like", x23, compare=_blank),
        Case("arange", 5), Case("arange", 1, 7, 2, id="arange-step"), Case("arange", 0.5, 3.0, 0.5, id="arange-float"),
        Case("arange", 2, 10, dtype="float32", id="arange-dtype"),
        Case("eye", 3), Case("eye", 3, 4, k=1, id="eye-k"), Case("eye", 4, 3, k=-1, dtype="int32", id="eye-kneg"),
        Case("identity", 3), Case("tri", 3, 4, k=1), Case("tri", 3),
        Case("linspace", 0.0, 1.0, 5), Case("linspace", 0, 10, 6, endpoint=False, id="linspace-noend"),
        Case("linspace", 0.0, 2.0, 5, retstep=True, id="linspace-retstep"),
        Case("logspace", 0.0, 2.0, 5), Case("logspace", 0.0, 3.0, 4, base=2, endpoint=False, id="logspace-b2"),
        Case("geomspace", 1.0, 100.0, 5), Case("array", [[1, 2], [3, 4]]), Case("array", [1.5, 2.0], dtype="float64",
                                                                              id="array-dtype"),
        Case("bartlett", 6), Case("blackman", 6), Case("hamming", 6), Case("hanning", 6), Case("kaiser", 6, 2.5),
        # shapes
        Case("reshape", x234, (6, 4)), Case("reshape", x234, (-1, 12), id="reshape-neg"),
        Case("transpose", x234, (2, 0, 1), id="transpose-axes"), Case("expand_dims", x23, 1),
        Case("expand_dims", x23, (0, 3), id="expand_dims-multi"), Case("squeeze", A(2, 1, 3)),
        Case("squeeze", A(1, 2, 1), axis=-1, id="squeeze-axis"), Case("moveaxis", x234, 0, -1),
        Case("moveaxis", x234, (0, 1), (2, 0), id="moveaxis-multi"), Case("swapaxes", x234, 0, 2),
        Case("broadcast_to", A(3), (2, 3)), Case("flip", x234), Case("flip", x234, axis=(0, 2), id="flip-axes"),
        Case("rot90", x23), Case("rot90", x234, k=3, axes=(1, 2), id="rot90-k3"),
        Case("roll", x234, 2), Case("roll", x234, 1, axis=1, id="roll-axis"),
        Case("roll", x234, (1, -1), axis=(0, 2), id="roll-multi"),
        Case("tile", x23, 2), Case("tile", x23, (2, 1, 2), id="tile-multi"),
        Case("repeat", x23, 2), Case("repeat", x23, 3, axis=1, id="repeat-axis"),
        Case("concatenate", [x23, A(4, 3)]), Case("concatenate", [x23, A(2, 2)], axis=-1, id="concatenate-axis"),
        Case("concatenate", [x23, i23], axis=1, id="concatenate-mixed"),
        Case("append", x23, A(2, 3), axis=0, id="append-axis"),
        Case("stack", [x23, A(2, 3)]), Case("stack", [x23, A(2, 3)], axis=-1, id="stack-axis"),
        Case("hstack", [x23, A(2, 2)]), Case("vstack", [x23, A(1, 3)]), Case("dstack", [x23, A(2, 3)]),
        Case("split", A(6, 2), 3), Case("split", A(2, 7), [2, 5], axis=1, id="split-indices"),
        Case("array_split", A(7, 2), 3), Case("hsplit", A(2, 4), 2), Case("vsplit", A(4, 2), 2),
        Case("dsplit", A(2, 2, 4), 2), Case("unstack", x234), Case("unstack", x234, axis=1, id="unstack-axis"),
        Case("pad", x23, ((1, 2), (0, 1))), Case("pad", x23, ((1, 1), (2, 0)), constant_values=3.0, id="pad-value"),
        Case("pad", x234, ((0, 0), (1, 2), (2, 1)), mode="reflect", id="pad-reflect"),
        Case("diag", A(3)), Case("diag", A(3, 4), k=1, id="diag-2d"), Case("diagflat", A(2, 2)),
        Case("diagonal", x234), Case("diagonal", x234, offset=1, axis1=1, axis2=2, id="diagonal-axes"),
        Case("trace", A(3, 3)), Case("trace", x234, offset=-1, axis1=1, axis2=2, id="trace-axes"),
        Case("trace", A(3, 3, dtype="int32"), id="trace-int"),
        Case("tril", A(3, 4)), Case("triu", A(3, 4), k=1), Case("diff", x234, n=2, axis=1, id="diff-n2"),
        Case("meshgrid", A(3), A(2)), Case("meshgrid", A(3), A(2), indexing="ij", id="meshgrid-ij"),
        Case("vander", A(4)), Case("vander", A(3), N=4, increasing=True, id="vander-inc"),
        Case("ndim", x234, symbolic=False), Case("size", x234, symbolic=False), Case("shape", x234, symbolic=False),
        # products
        Case("matmul", x23, A(3, 4)), Case("matmul", x234, A(4, 5), id="matmul-batched"),
        Case("matmul", A(3), A(3, 2), id="matmul-vec"), Case("matmul", i23, A(3, 2, dtype="int32"), id="matmul-int"),
        Case("dot", x23, A(3, 4)), Case("dot", A(3), A(3), id="dot-vec"), Case("dot", x23, 2.0, id="dot-scalar"),
        Case("dot", x23, A(4, 3, 2), id="dot-nd"),
        Case("tensordot", x234, A(3, 4, 5)), Case("tensordot", x234, A(4, 2), axes=1, id="tensordot-1"),
        Case("tensordot", x234, A(3, 2), axes=([1], [0]), id="tensordot-lists"),
        Case("vdot", A(4), A(4)), Case("inner", x23, A(4, 3)), Case("outer", A(3), A(4), id="outer-vec"),
        Case("cross", A(4, 3), A(4, 3)),
        Case("einsum", "ij,jk->ik", x23, A(3, 4)), Case("einsum", "bij->bji", x234, id="einsum-transpose"),
        Case("einsum", "i,i->", A(3), A(3), id="einsum-dot"),
        Case("correlate", A(5), A(3)), Case("correlate", A(5), A(3), mode="same", id="correlate-same"),
        Case("correlate", A(5), A(3), mode="full", id="correlate-full"),
        Case("corrcoef", A(3, 5)), Case("trapezoid", x23), Case("trapezoid", x23, dx=0.5, axis=0, id="trapz-dx"),
        Case("trapezoid", A(4), x=A(4, kind="sorted"), id="trapz-x"),
        # sorting / indexing
        Case("sort", x234, axis=1, id="sort-axis"), Case("sort", x234, axis=None, id="sort-none"),
        Case("argsort", x234, axis=0, id="argsort-axis"),
        Case("argpartition", A(6, dtype="int32", low=0, high=100), 2,
             compare=lambda out: np.sort(np.asarray(out)[:3])),
        Case("searchsorted", A(6, kind="sorted"), A(4)), Case("searchsorted", A(6, kind="sorted"), A(4), side="right",
                                                              id="searchsorted-right"),
        Case("digitize", A(5), np.array([-1.0, 0.0, 1.0], dtype="float32")),
        Case("take", x234, A(2, 2, dtype="int32", low=-3, high=3), axis=1, id="take-axis"),
        Case("take", x234, A(5, dtype="int32", low=0, high=24), id="take-flat"),
        Case("take", x23, A(4, dtype="int32", low=0, high=2), axis=0, id="take-embedding"),
        Case("take_along_axis", x234, A(2, 3, 2, dtype="int32", low=0, high=4), axis=-1),
        Case("take_along_axis", x234, A(2, 1, 4, dtype="int32", low=0, high=3), axis=1, id="take_along-bcast"),
        Case("nonzero", A(3, 4, dtype="int32", low=0, high=2), symbolic=False),
        Case("where", b23, x23, A(2, 3)), Case("where", b23, x23, 0.0, id="where-scalar"),
        Case("where", b23, symbolic=False, id="where-indices"),
        Case("select", [A(4, dtype="bool"), A(4, dtype="bool")], [A(4), A(4)], 0.5),
        Case("clip", x23, -0.5, 0.5), Case("clip", i23, 0, 3, id="clip-int"), Case("clip", b23, 0, 1, id="clip-bool"),
        Case("isin", A(5, dtype="int32", low=0, high=6), A(3, dtype="int32", low=0, high=6)),
        Case("isin", A(5, dtype="int32", low=0, high=6), A(3, dtype="int32", low=0, high=6), invert=True,
             id="isin-invert"),
        Case("unravel_index", A(4, dtype="int32", low=0, high=12), (3, 4), symbolic=True),
        Case("bincount", A(6, dtype="int32", low=0, high=4), symbolic=False),
        Case("bincount", A(6, dtype="int32", low=0, high=4), weights=A(6), minlength=6, id="bincount-w",
             symbolic=False),
        Case("histogram", A(20), bins=5, symbolic=False),
        Case("unique", A(8, dtype="int32", low=0, high=4), symbolic=False),
        Case("unique", A(8, dtype="int32", low=0, high=4), return_counts=True, return_inverse=True,
             id="unique-counts", symbolic=False),
        Case("unique", A(8, dtype="int32", low=0, high=4), size=6, fill_value=-1, id="unique-size", symbolic=False),
        Case("get_item", x234, (slice(None), 1)), Case("get_item", x234, (0, slice(1, 3), -1), id="get_item-mixed"),
        Case("get_item", x234, (Ellipsis, None, 2), id="get_item-ellipsis"),
        Case("view", x23, "int32"), Case("slogdet", A(2, 3, 3, kind="spd")),
        # core
        Case("cast", x23, "int32"), Case("cast", i23, "float16", id="cast-f16"),
        Case("saturate_cast", A(2, 3, kind="normal") , "uint8"),
        Case("convert_to_tensor", [1, 2, 3], symbolic=False), Case("convert_to_tensor", 1.5, symbolic=False,
                                                                   id="convert-float"),
        Case("convert_to_tensor", [1, 2.5], symbolic=False, id="convert-mixed"),
        Case("convert_to_tensor", np.arange(3), symbolic=False, id="convert-np-int64"),
        Case("convert_to_numpy", x23, symbolic=False), Case("dtype", i23, symbolic=False),
        Case("is_tensor", x23, symbolic=False),
        Case("slice", x234, (0, 1, 1), (2, 2, 2)),
        Case("slice_update", x234, (0, 1, 1), A(2, 2, 2)),
        Case("scatter", np.array([[0, 1], [1, 2]], dtype="int32"), A(2), (2, 3)),
        Case("scatter", np.array([[0], [1], [0]], dtype="int32"), A(3, 4), (2, 4), id="scatter-rows"),
        Case("scatter_update", x23, np.array([[0, 1], [1, 2]], dtype="int32"), A(2)),
        Case("scatter_update", x23, np.array([[0, 1], [0, 1]], dtype="int32"), A(2), reduction="add",
             id="scatter_update-add"),
        # nn
        Case("leaky_relu", x23, negative_slope=0.1, id="leaky-0.1"), Case("elu", x23, alpha=0.5, id="elu-alpha"),
        Case("celu", x23, alpha=2.0, id="celu-alpha"), Case("gelu", x23, approximate=False, id="gelu-exact"),
        Case("glu", A(2, 4)), Case("threshold", x23, 0.1, -1.0), Case("squareplus", x23, b=2, id="squareplus-b"),
        Case("soft_shrink", x23, threshold=0.3, id="soft_shrink-t"), Case("softmax", x234, axis=1, id="softmax-1"),
        Case("softmax", x234, axis=(1, 2), id="softmax-tuple"), Case("log_softmax", x234, axis=0, id="log_softmax-0"),
        Case("softmax", x234, axis=None, id="softmax-none"),
        Case("conv", A(2, 7, 7, 3), A(3, 3, 3, 4)),
        Case("conv", A(2, 8, 8, 3), A(3, 3, 3, 4), strides=2, padding="same", id="conv-same-s2"),
        Case("conv", A(2, 9, 3), A(3, 3, 5), dilation_rate=2, padding="same", id="conv1d-dil"),
        Case("conv", A(1, 5, 5, 5, 2), A(2, 2, 2, 2, 3), id="conv3d"),
        Case("conv", A(2, 7, 7, 4), A(3, 3, 2, 6), id="conv-groups"),
        Case("depthwise_conv", A(2, 7, 7, 3), A(3, 3, 3, 2)),
        Case("depthwise_conv", A(2, 8, 8, 3), A(3, 3, 3, 1), strides=2, padding="same", id="depthwise-same"),
        Case("separable_conv", A(2, 7, 7, 3), A(3, 3, 3, 2), A(1, 1, 6, 4)),
        Case("conv_transpose", A(2, 5, 5, 3), A(3, 3, 4, 3)),
        Case("conv_transpose", A(2, 5, 5, 3), A(3, 3, 4, 3), strides=2, padding="same", id="convT-same-s2"),
        Case("conv_transpose", A(2, 5, 3), A(4, 2, 3), strides=2, output_padding=1, id="convT1d-op"),
        Case("max_pool", A(2, 6, 6, 3), 2), Case("max_pool", A(2, 7, 7, 3), 3, strides=2, padding="same",
                                                 id="max_pool-same"),
        Case("average_pool", A(2, 6, 6, 3), 2), Case("average_pool", A(2, 7, 7, 3), 3, strides=2, padding="same",
                                                     id="average_pool-same"),
        Case("average_pool", A(2, 8, 3), 2, id="average_pool-1d"),
        Case("adaptive_average_pool", A(2, 7, 7, 3), (3, 2)), Case("adaptive_max_pool", A(2, 7, 7, 3), 3),
        Case("depth_to_space", A(2, 3, 3, 8), 2), Case("space_to_depth", A(2, 4, 4, 3), 2),
        Case("unfold", A(2, 3, 6, 6), 3), Case("fold", A(2, 12, 9), (4, 4), 2),
        Case("one_hot", A(2, 3, dtype="int32", low=-1, high=4), 4),
        Case("one_hot", A(2, 3, dtype="int32", low=0, high=4), 4, axis=0, dtype="int32", id="one_hot-axis"),
        Case("multi_hot", A(2, 3, dtype="int32", low=0, high=5), 5),
        Case("categorical_crossentropy", A(4, 5, kind="probs"), A(4, 5, kind="probs")),
        Case("categorical_crossentropy", A(4, 5, kind="probs"), A(4, 5), from_logits=True, id="cce-logits"),
        Case("sparse_categorical_crossentropy", A(4, dtype="int32", low=0, high=5), A(4, 5, kind="probs")),
        Case("sparse_categorical_crossentropy", A(4, dtype="int32", low=0, high=5), A(4, 5), from_logits=True,
             id="scce-logits"),
        Case("binary_crossentropy", A(4, 3, kind="probs"), A(4, 3, kind="probs")),
        Case("binary_crossentropy", A(4, 3, kind="probs"), A(4, 3), from_logits=True, id="bce-logits"),
        Case("ctc_loss", A(2, 3, dtype="int32", low=1, high=5), A(2, 8, 5), np.array([3, 2], dtype="int32"),
             np.array([8, 6], dtype="int32"), atol=1e-4),
        Case("ctc_decode", A(2, 6, 5), np.array([6, 4], dtype="int32"), symbolic=False),
        Case("ctc_decode", A(2, 6, 5), np.array([6, 4], dtype="int32"), merge_repeated=False, mask_index=4,
             symbolic=False, id="ctc_decode-nomerge"),
        Case("ctc_decode", A(2, 5, 4), np.array([5, 3], dtype="int32"), strategy="beam_search", top_paths=3,
             symbolic=False, id="ctc_decode-beam"),
        Case("ctc_decode", A(3, 6, 4), np.array([6, 5, 2], dtype="int32"), strategy="beam_search", beam_width=3,
             top_paths=2, mask_index=3, symbolic=False, id="ctc_decode-beam-narrow"),
        Case("moments", x234, (0, 1)), Case("moments", x234, [2], keepdims=True, id="moments-keep"),
        Case("batch_normalization", x234, A(4), A(4, kind="positive"), -1, offset=A(4), scale=A(4)),
        Case("normalize", x23), Case("normalize", x23, axis=0, order=1, id="normalize-l1"),
        Case("layer_normalization", x234, gamma=A(4), beta=A(4)), Case("rms_normalization", x234, scale=A(4)),
        Case("psnr", A(2, 4, 4, 1, kind="positive"), A(2, 4, 4, 1, kind="positive"), 2.0),
        Case("polar", A(3, kind="positive"), A(3), symbolic=False),
        Case("dot_product_attention", A(2, 5, 2, 4), A(2, 6, 2, 4), A(2, 6, 2, 4)),
        Case("dot_product_attention", A(2, 5, 2, 4), A(2, 5, 2, 4), A(2, 5, 2, 4), is_causal=True,
             id="attention-causal"),
        Case("dot_product_attention", A(2, 5, 4, 4), A(2, 6, 2, 4), A(2, 6, 2, 4), mask=A(2, 4, 5, 6, dtype="bool"),
             scale=0.3, id="attention-gqa-mask"),
        # math
        Case("segment_sum", A(6, 2), np.array([0, 0, 1, 2, 2, 2], dtype="int32"), num_segments=3),
        Case("segment_max", A(6, 2), np.array([0, 0, 1, 2, 2, 2], dtype="int32"), num_segments=4, id="segment_max"),
        Case("segment_min", A(6), np.array([0, 1, 1, 0, 2, 2], dtype="int32"), num_segments=3),
        Case("segment_prod", A(6), np.array([0, 1, 1, 0, 2, 2], dtype="int32"), num_segments=3),
        Case("top_k", x234, 2), Case("in_top_k", A(4, dtype="int32", low=0, high=5), A(4, 5), 2),
        Case("logsumexp", x234, axis=(0, 2), keepdims=True, id="logsumexp-axes"),
        Case("cdist", A(2, 4, 3), A(2, 5, 3)), Case("extract_sequences", A(2, 10), 4, 3),
        Case("fft", (A(2, 8), A(2, 8)), atol=1e-4), Case("fft2", (A(2, 4, 4), A(2, 4, 4)), atol=1e-4),
        Case("ifft2", (A(2, 4, 4), A(2, 4, 4)), atol=1e-5), Case("rfft", A(2, 8), atol=1e-4),
        Case("rfft", A(2, 8), fft_length=6, id="rfft-len", atol=1e-4), Case("irfft", (A(2, 5), A(2, 5)), atol=1e-5),
        Case("stft", A(2, 32), 8, 4, 16, atol=1e-4),
        Case("stft", A(2, 32), 8, 4, 8, window="hamming", center=False, id="stft-hamming", atol=1e-4),
        Case("istft", (A(2, 9, 5), A(2, 9, 5)), 8, 4, 8, atol=1e-4),
        Case("istft", (A(2, 9, 9), A(2, 9, 9)), 8, 4, 16, id="istft-pad", atol=1e-4),
        Case("logdet", A(2, 3, 3, kind="spd")), Case("view_as_real", A(3, dtype="complex64")),
        Case("view_as_complex", A(3, 2)),
        # linalg
        Case("linalg.cholesky", A(2, 3, 3, kind="spd"), atol=1e-4), Case("linalg.det", A(2, 3, 3, kind="spd"),
                                                                          atol=1e-3, rtol=1e-4),
        Case("linalg.inv", A(3, 3, kind="spd")), Case("linalg.cholesky_inverse", A(3, 3, kind="triangular")),
        Case("linalg.eigh", A(3, 3, kind="spd"), compare=lambda out: out[0], atol=1e-4),
        Case("linalg.lu_factor", A(3, 3, kind="spd")),
        Case("linalg.norm", x23), Case("linalg.norm", x234, ord=2, axis=-1, id="norm-ord2"),
        Case("linalg.norm", x23, ord="fro", axis=(0, 1), keepdims=True, id="norm-fro"),
        Case("linalg.norm", x234, ord=1, axis=(1, 2), id="norm-matrix1"),
        Case("linalg.qr", A(4, 3), atol=1e-4), Case("linalg.qr", A(4, 3), mode="complete", id="qr-complete",
                                                    atol=1e-4),
        Case("linalg.solve", A(3, 3, kind="spd"), A(3, 2)), Case("linalg.solve_triangular", A(3, 3, kind="triangular"),
                                                                 A(3), lower=True),
        Case("linalg.svd", A(4, 3), compute_uv=False, atol=1e-4),
        Case("linalg.lstsq", A(5, 3), A(5, 2), atol=1e-4), Case("linalg.matrix_rank", A(4, 3)),
        Case("linalg.pinv", A(4, 3), atol=1e-4),
        # einops
        Case("rearrange", x234, "b c h -> b h c"), Case("rearrange", A(6, 4), "(h w) c -> h w c", h=2, w=3,
                                                             id="rearrange-merge"),
        Case("rearrange", A(2, 6, 4), "b (h w) c -> (b h) w c", w=2, id="rearrange-split-merge"),
        Case("rearrange", A(2, 3, 4, 5), "b h w c -> b (c h w)", id="rearrange-flatten"),
        # image
        Case("image.resize", A(2, 6, 6, 3), (3, 4)), Case("image.resize", A(6, 6, 3), (9, 12), interpolation="nearest",
                                                          id="resize-nearest"),
        Case("image.resize", A(2, 8, 8, 1), (4, 4), interpolation="bicubic", antialias=True, id="resize-bicubic-aa"),
        Case("image.resize", A(2, 6, 4, 3), (4, 4), crop_to_aspect_ratio=True, id="resize-crop"),
        Case("image.resize", A(2, 6, 4, 3), (4, 4), pad_to_aspect_ratio=True, fill_value=1.0, id="resize-pad"),
        Case("image.rgb_to_grayscale", A(2, 4, 4, 3)), Case("image.rgb_to_hsv", A(2, 4, 4, 3, kind="positive")),
        Case("image.hsv_to_rgb", A(2, 4, 4, 3, kind="positive")),
        Case("image.pad_images", A(2, 4, 4, 3), 1, 2, target_height=7, target_width=8),
        Case("image.pad_images", A(4, 4, 3), top_padding=1, bottom_padding=0, left_padding=2, right_padding=1,
             id="pad_images-explicit"),
        Case("image.crop_images", A(2, 6, 6, 3), 1, 2, target_height=3, target_width=4),
        Case("image.crop_images", A(6, 6, 3), top_cropping=1, bottom_cropping=2, left_cropping=0, right_cropping=1,
             id="crop_images-explicit"),
        Case("image.extract_patches_3d", A(2, 4, 4, 4, 2), 2),
        Case("image.extract_patches_3d", A(5, 5, 5, 1), (2, 3, 2), strides=1, padding="same", id="patches3d-same"),
        Case("image.map_coordinates", A(5, 6), A(2, 3, 4, kind="normal"), 1, fill_mode="constant", fill_value=0.5,
             id="map_coordinates-linear"),
        Case("image.map_coordinates", A(5, 6), A(2, 7), 0, fill_mode="nearest", id="map_coordinates-nearest"),
        Case("image.map_coordinates", A(5, 6), A(2, 7), 1, fill_mode="reflect", id="map_coordinates-reflect"),
        Case("image.map_coordinates", A(5, 6), A(2, 7), 1, fill_mode="mirror", id="map_coordinates-mirror"),
        Case("image.map_coordinates", A(5, 6), A(2, 7), 1, fill_mode="wrap", id="map_coordinates-wrap"),
        Case("image.affine_transform", A(2, 6, 5, 3), np.array([[1.1, 0.2, -0.5, -0.1, 0.9, 0.7, 0, 0],
                                                                [0.8, 0.0, 1.0, 0.3, 1.2, -1.0, 0, 0]], "float32")),
        Case("image.affine_transform", A(6, 5, 2), np.array([1.1, 0.2, -0.5, -0.1, 0.9, 0.7, 0, 0], "float32"),
             interpolation="nearest", fill_mode="reflect", id="affine-nearest-reflect"),
        # data_format given: with None, Keras 3.15's torch backend blurs a channels_last batch as if it
        # were channels_first (over width and channels); the engine always treats images as channels_last.
        Case("image.perspective_transform", A(2, 8, 7, 3), np.array([[0, 0], [6, 0], [0, 7], [6, 7]], "float32"),
             np.array([[1, 0], [5, 1], [0, 6], [6, 7]], "float32"), atol=1e-4),
        Case("image.perspective_transform", A(8, 7, 1), np.array([[0, 0], [6, 0], [0, 7], [6, 7]], "float32"),
             np.array([[0.5, 0.2], [6, 0], [0.3, 6.5], [5.5, 7]], "float32"), interpolation="nearest",
             fill_value=1.0, id="perspective-nearest"),
        Case("image.gaussian_blur", A(2, 6, 6, 3), data_format="channels_last"),
        Case("image.gaussian_blur", A(7, 7, 2), kernel_size=(5, 5), sigma=(1.5, 1.5), data_format="channels_last",
             id="gaussian_blur-5"),
        Case("image.sobel_edges", A(2, 5, 6, 3)),
        Case("image.scale_and_translate", A(2, 6, 5, 3), (2, 9, 4, 3), np.array([1.5, 0.8], "float32"),
             np.array([0.5, -0.2], "float32"), (1, 2), "linear", atol=1e-5),
        Case("image.scale_and_translate", A(2, 6, 5, 3), (2, 4, 7, 3), np.array([0.6, 1.4], "float32"),
             np.array([0.0, 0.3], "float32"), (1, 2), "bicubic", antialias=False, id="scale_translate-cubic"),
        Case("image.scale_and_translate", A(8, 8, 1), (5, 5, 1), np.array([0.6, 0.6], "float32"),
             np.array([0.0, 0.0], "float32"), (0, 1), "lanczos3", id="scale_translate-lanczos"),
        Case("image.scale_and_translate", A(6, 6, 1, dtype="uint8", low=0, high=255), (9, 9, 1),
             np.array([1.5, 1.5], "float32"), np.array([0.0, 0.0], "float32"), (0, 1), "linear",
             id="scale_translate-uint8"),
        Case("image.ssim", A(2, 16, 16, 3, kind="fraction"), A(2, 16, 16, 3, kind="fraction")),
        Case("image.ssim", A(12, 13, 1, kind="fraction"), A(12, 13, 1, kind="fraction"), max_val=2.0, filter_size=5,
             filter_sigma=1.0, id="ssim-single"),
        Case("image.extract_patches", A(2, 6, 6, 3), 2), Case("image.extract_patches", A(2, 7, 7, 2), (3, 3),
                                                               strides=(2, 2), padding="same", id="patches-same"),
    ]
    return out


DTYPES = ["bool", "uint8", "int8", "int16", "int64", "float16", "bfloat16", "float64"]


def _dtype_cases():
    """Result dtypes across input dtypes (Keras raises for some pairs; those cases are skipped)."""
    out = []
    for n in sorted(set(UNARY_FLOAT + UNARY_POSITIVE + REDUCTIONS)):
        for dt in DTYPES:
            out.append(Case(n, A(2, 3, dtype=dt, kind="positive" if "float" in dt else None, low=1, high=5),
                            id=f"{n}-{dt}", atol=1e-2 if dt in ("float16", "bfloat16") else 1e-5,
                            rtol=1e-2 if dt in ("float16", "bfloat16") else 1e-5, keras_may_fail=True))
    for n in sorted(set(BINARY_FLOAT)):
        for d1 in ("bool", "int8", "int32", "float16", "float64"):
            for d2 in ("bool", "int32", "int64", "float32"):
                out.append(Case(n, A(2, 3, dtype=d1, kind="positive" if "float" in d1 else None, low=1, high=5),
                                A(3, dtype=d2, kind="positive" if "float" in d2 else None, low=1, high=5),
                                id=f"{n}-{d1}-{d2}", atol=1e-2, rtol=1e-2, keras_may_fail=True))
    return out


# Cases whose leading axis must be known: reshape/split/unstack to fixed sizes, square matrices, inputs
# given as fixed arrays that share the batch (segment ids, lengths, transforms), diagonal over the batch.
FIXED_LEADING_AXIS = {"reshape", "broadcast_to", "split", "vsplit", "unstack", "diagonal", "ctc_loss", "segment_sum",
                      "segment_max", "segment_min", "segment_prod", "linalg.inv", "linalg.cholesky_inverse",
                      "linalg.eigh", "linalg.solve", "linalg.solve_triangular", "rearrange-merge",
                      "image.affine_transform"}


def _with_unknown_batch(cases):
    for c in cases:
        c.batch_none = c.id not in FIXED_LEADING_AXIS
    return cases


CASES = _with_unknown_batch(_cases())
DTYPE_CASES = _dtype_cases()
