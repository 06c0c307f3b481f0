"""What a new layer from the palette looks like, and how the inspector edits its hyperparameters.

``default_config`` is the layer's own ``get_config()`` (without ``name``) after filling the arguments
Keras requires (a Dense needs ``units``...) with values a beginner can start from. ``param_spec``
describes each editable key for the inspector's typed widgets; ``validate_param`` says whether a value
is acceptable and, if not, why (the engine's own constructor has the last word).

Configs in a document are *canonical*: what the engine's ``get_config()`` returns, minus ``name``,
JSON-shaped (lists, not tuples). ``normalize_config`` turns an edited config (``"he_normal"`` typed in
a field, a tuple from a widget) into that form, so that a document, the model made from it and the
document made back from that model are equal.
"""
from __future__ import annotations

import copy
import functools
import json
import math
from dataclasses import dataclass

# Values for the arguments Keras requires, and a few friendlier starting points than Keras's defaults.
_FILL = {
    "InputLayer": {"batch_shape": [None, 28, 28, 1]},
    "Dense": {"units": 64},
    "Activation": {"activation": "relu"},
    "Embedding": {"input_dim": 10000, "output_dim": 64},
    "Reshape": {"target_shape": [-1]},
    "Permute": {"dims": [2, 1]},
    "RepeatVector": {"n": 3},
    "Rescaling": {"scale": 1.0 / 255},
    "Conv1D": {"filters": 32, "kernel_size": 3},
    "Conv2D": {"filters": 32, "kernel_size": [3, 3]},
    "Conv2DTranspose": {"filters": 32, "kernel_size": [3, 3]},
    "SeparableConv2D": {"filters": 32, "kernel_size": [3, 3]},
    "DepthwiseConv2D": {"kernel_size": [3, 3]},
    "SimpleRNN": {"units": 64},
    "LSTM": {"units": 64},
    "GRU": {"units": 64},
    "SimpleRNNCell": {"units": 64},
    "LSTMCell": {"units": 64},
    "GRUCell": {"units": 64},
    "Dot": {"axes": 1},
    "Dropout": {"rate": 0.5},
    "SpatialDropout2D": {"rate": 0.2},
    "GaussianDropout": {"rate": 0.1},
    "GaussianNoise": {"stddev": 0.1},
    "AlphaDropout": {"rate": 0.1},
    "SpatialDropout1D": {"rate": 0.2},
    "SpatialDropout3D": {"rate": 0.2},
    "Resizing": {"height": 224, "width": 224},
    "CenterCrop": {"height": 224, "width": 224},
    "LayerScale": {"init_values": 1e-6, "projection_dim": 64},
    "CustomScaleLayer": {"scale": 0.1},
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 32},
    "EinsumDense": {"equation": "ab,bc->ac", "output_shape": [64], "bias_axes": "c"},
    "Conv3D": {"filters": 32, "kernel_size": [3, 3, 3]},
    "Conv1DTranspose": {"filters": 32, "kernel_size": 3},
    "Conv3DTranspose": {"filters": 32, "kernel_size": [3, 3, 3]},
    "SeparableConv1D": {"filters": 32, "kernel_size": 3},
    "DepthwiseConv1D": {"kernel_size": 3},
    "RandomRotation": {"factor": 0.1},
    "RandomZoom": {"height_factor": 0.1},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1},
    "RandomContrast": {"factor": 0.2},
    "RandomBrightness": {"factor": 0.2},
    "RandomCrop": {"height": 224, "width": 224, "seed": 1337},
    "CategoryEncoding": {"num_tokens": 10},
    "Discretization": {"bin_boundaries": [0.0, 1.0]},
    "GroupedQueryAttention": {"head_dim": 16, "num_query_heads": 4, "num_key_value_heads": 2},
    "ConvLSTM1D": {"filters": 16, "kernel_size": 3},
    "ConvLSTM2D": {"filters": 16, "kernel_size": [3, 3]},
    "ConvLSTM3D": {"filters": 16, "kernel_size": [3, 3, 3]},
    "AdaptiveAveragePooling1D": {"output_size": 4},
    "AdaptiveAveragePooling2D": {"output_size": [4, 4]},
    "AdaptiveAveragePooling3D": {"output_size": [4, 4, 4]},
    "AdaptiveMaxPooling1D": {"output_size": 4},
    "AdaptiveMaxPooling2D": {"output_size": [4, 4]},
    "AdaptiveMaxPooling3D": {"output_size": [4, 4, 4]},
    "ReversibleEmbedding": {"input_dim": 10000, "output_dim": 64},
    "RandomPosterization": {"factor": 4},
    "RandomColorDegeneration": {"factor": 0.5},
    "RandomHue": {"factor": 0.1},
    "RandomSaturation": {"factor": [0.4, 0.6]},  # 0.5 keeps the saturation
    "RandomSharpness": {"factor": [0.4, 0.6]},  # 0.5 keeps the image
    "MaxNumBoundingBoxes": {"max_number": 100},
    "Hashing": {"num_bins": 16},
    "HashedCrossing": {"num_bins": 16},
}
# Wrappers take a layer instance: the palette wraps a small one, named as Keras would.
_WRAPPED = {"Bidirectional": ("LSTM", {"units": 64}, "lstm"), "TimeDistributed": ("Dense", {"units": 64}, "dense"),
            "SpectralNormalization": ("Dense", {"units": 64}, "dense"), "Wrapper": ("Dense", {"units": 64}, "dense")}

# Layers built on cells: (argument, number of LSTMCell(64) cells).
_CELLS = {"RNN": ("cell", 1), "StackedRNNCells": ("cells", 2)}

# Config keys that are not hyperparameters a user edits (the dtype policy, quantization, LoRA, flags
# that must keep their value for Keras 3 to read the file).
_HIDDEN = {"name", "quantization_config", "lora_rank", "lora_alpha", "sparse", "ragged", "optional",
           "zero_output_for_mask", "synchronized", "renorm", "renorm_clipping", "renorm_momentum",
           "backward_layer"}

_INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                 "orthogonal", "random_normal", "random_uniform", "truncated_normal", "zeros", "ones", "identity"]
_REGULARIZERS = [None, "l1", "l2", "l1_l2"]
_CONSTRAINTS = [None, "max_norm", "non_neg", "unit_norm", "min_max_norm"]
# The output modes of the layers that encode ids (the rest are typed as text).
_OUTPUT_MODES = {"Hashing": ("int", "one_hot", "multi_hot", "count"), "HashedCrossing": ("int", "one_hot")}
_DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "bool"]

_TOOLTIPS = {
    "units": "Number of output features (neurons).",
    "filters": "Number of output channels (convolution kernels).",
    "kernel_size": "Height and width of the convolution window.",
    "strides": "Step of the window along each spatial axis.",
    "pool_size": "Size of the pooling window.",
    "padding": "'valid': no padding (the output shrinks); 'same': pad so that stride 1 keeps the size.",
    "activation": "Function applied to the output ('linear' means none).",
    "recurrent_activation": "Activation of the recurrent gates.",
    "use_bias": "Whether the layer adds a learned bias.",
    "rate": "Fraction of the inputs dropped during training (0 to <1).",
    "dropout": "Fraction of the inputs dropped during training (0 to <1).",
    "recurrent_dropout": "Fraction of the recurrent state dropped during training (0 to <1).",
    "return_sequences": "Output the whole sequence (batch, timesteps, units) instead of the last step.",
    "return_state": "Also output the final state tensors (more output ports).",
    "go_backwards": "Process the sequence backwards.",
    "input_dim": "Vocabulary size: the largest token id + 1.",
    "output_dim": "Size of each embedding vector.",
    "mask_zero": "Treat token 0 as padding: later layers skip it.",
    "batch_shape": "Input shape including the batch axis (None: any batch size), e.g. (None, 28, 28, 1).",
    "dtype": "Type of the input data (int32 for token ids).",
    "target_shape": "Output shape without the batch axis; one dimension may be -1.",
    "axis": "The axis the layer acts on (-1: the last, channels).",
    "momentum": "Momentum of the moving averages (close to 1).",
    "epsilon": "Small number added to the variance to avoid dividing by zero.",
    "data_format": "Layout of image tensors: channels_last (NHWC, Keras's default) or channels_first.",
    "dilation_rate": "Spacing between the kernel's taps.",
    "trainable": "Whether training updates this layer's weights.",
    "seed": "Random seed (empty: random).",
    "merge_mode": "How the forward and backward outputs combine.",
    "layer": "The wrapped layer.",
    "keepdims": "Keep the pooled axes with size 1.",
    "stddev": "Standard deviation of the added noise.",
    "depth_multiplier": "Output channels per input channel.",
    "n": "How many times the input vector is repeated.",
    "dims": "New order of the axes (1-based, without the batch axis), e.g. (2, 1).",
}


@dataclass
class ParamSpec:
    """One editable hyperparameter of a layer, for the inspector.

    ``kind`` is one of ``int``, ``optional_int``, ``float``, ``optional_float``, ``bool``, ``choice``,
    ``tuple`` (``length`` ints, each at least ``minimum``), ``shape`` (a list of ints or None; with
    ``batch=True`` its first entry is the batch size, usually None), ``activation``, ``initializer``,
    ``regularizer``, ``constraint`` (a name from ``choices``, or a Keras config dict), ``str``,
    ``layer`` (a wrapped layer's config) and ``json`` (anything else, edited as JSON text).
    """

    name: str
    kind: str
    default: object = None
    choices: list | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: bool = False
    length: int | None = None
    batch: bool = False
    tooltip: str = ""
    advanced: bool = False  # initializers, regularizers, constraints: shown folded


def _engine():
    import engine  # noqa: F401 - registers every layer class

    from engine.layers import registry

    return registry


def clean_config(config: dict) -> dict:
    """A layer's ``get_config()`` as a document stores it: no ``name``, JSON-shaped, and no
    ``build_config`` inside wrapped layers (they depend on the input, which the graph already says)."""
    out = json.loads(json.dumps(config, default=_json_default))
    out.pop("name", None)
    _strip_build_configs(out)
    return out


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Cannot store {type(value).__name__} in a layer config: {value!r:.80}")


def _strip_build_configs(obj):
    if isinstance(obj, dict):
        if "class_name" in obj and isinstance(obj.get("config"), dict):
            obj.pop("build_config", None)
        for v in obj.values():
            _strip_build_configs(v)
    elif isinstance(obj, list):
        for v in obj:
            _strip_build_configs(v)


def build_layer(class_name, config, name=None):
    """An unbuilt engine layer for ``config`` (``name`` defaults to Keras's snake case of the class)."""
    registry = _engine()
    from engine import backend

    cls = registry.get_class(class_name)
    cfg = dict(config)
    cfg["name"] = name or backend.to_snake_case(class_name)
    return cls.from_config(cfg)


@functools.lru_cache(maxsize=None)
def _default_config_json(class_name):
    registry = _engine()
    cls = registry.get_class(class_name)  # a ValueError listing the known names for a typo
    from engine import backend

    name = backend.to_snake_case(class_name)
    kwargs = dict(_FILL.get(class_name, {}))
    if class_name in _WRAPPED:
        inner_cls, inner_kwargs, inner_name = _WRAPPED[class_name]
        kwargs["layer"] = registry.get_class(inner_cls)(name=inner_name, **inner_kwargs)
    if class_name in _CELLS:  # RNN(cell) and StackedRNNCells(cells) start from LSTM cells
        arg, count = _CELLS[class_name]
        cells = [registry.get_class("LSTMCell")(64, name="lstm_cell" + (f"_{i}" if i else "")) for i in range(count)]
        kwargs[arg] = cells[0] if arg == "cell" else cells
    if class_name == "Pipeline":  # a list of layers: the palette's starts as a flip and a rescaling
        kwargs["layers"] = [registry.get_class("RandomFlip")(name="random_flip"),
                            registry.get_class("Rescaling")(1.0 / 255, name="rescaling")]
    layer = cls(name=name, **kwargs)
    return json.dumps(clean_config(layer.get_config()))


def default_config(class_name: str) -> dict:
    """The config a new ``class_name`` layer gets on the canvas (Keras's defaults, required ones filled)."""
    return json.loads(_default_config_json(class_name))


def normalize_config(class_name: str, config: dict) -> dict:
    """``config`` in canonical form (see the module docstring); unchanged if the layer refuses it."""
    try:
        return clean_config(build_layer(class_name, config).get_config())
    except Exception:  # an invalid config stays as typed; inference reports why
        return copy.deepcopy(config)


# ---------------------------------------------------------------------------------------------- specs
def _spec_for(class_name, key, value):
    tip = _TOOLTIPS.get(key, "")
    adv = key.endswith(("_initializer", "_regularizer", "_constraint"))
    if key.endswith("_initializer"):
        return ParamSpec(key, "initializer", value, choices=list(_INITIALIZERS), tooltip=tip or
                         "How the weights start before training.", advanced=True)
    if key.endswith("_regularizer"):
        return ParamSpec(key, "regularizer", value, choices=list(_REGULARIZERS), tooltip=tip or
                         "A penalty added to the loss to keep the weights small.", advanced=adv)
    if key.endswith("_constraint"):
        return ParamSpec(key, "constraint", value, choices=list(_CONSTRAINTS), tooltip=tip or
                         "A limit applied to the weights after each update.", advanced=adv)
    if key in ("activation", "recurrent_activation"):
        from engine import activations

        return ParamSpec(key, "activation", value, choices=activations.names(), tooltip=tip)
    if class_name == "InputLayer":
        if key == "batch_shape":
            return ParamSpec(key, "shape", value, minimum=1, batch=True, tooltip=tip)
        if key == "dtype":
            return ParamSpec(key, "choice", value, choices=list(_DTYPES), tooltip=tip)
    if key == "padding" and isinstance(value, str):
        choices = ["valid", "same", "causal"] if class_name == "Conv1D" else ["valid", "same"]
        return ParamSpec(key, "choice", value, choices=choices, tooltip=tip)
    if key == "data_format":
        return ParamSpec(key, "choice", value, choices=["channels_last", "channels_first"], tooltip=tip)
    if key == "interpolation":
        return ParamSpec(key, "choice", value, choices=["nearest", "bilinear"], tooltip="How pixels are filled in.")
    if key == "output_mode" and class_name in _OUTPUT_MODES:
        return ParamSpec(key, "choice", value, choices=list(_OUTPUT_MODES[class_name]), tooltip=tip)
    if key == "num_bins" and class_name in _OUTPUT_MODES:
        return ParamSpec(key, "int", value, minimum=1, tooltip=tip)
    if key == "merge_mode":
        return ParamSpec(key, "choice", value, choices=["concat", "sum", "mul", "ave", None], tooltip=tip)
    if key == "layer":
        return ParamSpec(key, "layer", value, tooltip=tip)
    if key in ("units", "filters", "input_dim", "output_dim", "n", "depth_multiplier", "groups"):
        return ParamSpec(key, "int", value, minimum=1, tooltip=tip)
    if key in ("rate", "dropout", "recurrent_dropout"):
        return ParamSpec(key, "float", value, minimum=0.0, maximum=1.0, exclusive_maximum=True, tooltip=tip)
    if key == "momentum":
        return ParamSpec(key, "float", value, minimum=0.0, maximum=1.0, tooltip=tip)
    if key in ("epsilon",):
        return ParamSpec(key, "float", value, minimum=0.0, tooltip=tip)
    if key in ("stddev", "l1", "l2"):
        return ParamSpec(key, "float", value, minimum=0.0, tooltip=tip)
    if key in ("kernel_size", "strides", "pool_size", "dilation_rate", "size"):
        if isinstance(value, int):
            return ParamSpec(key, "tuple", [value], minimum=1, length=1, tooltip=tip)
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            return ParamSpec(key, "tuple", value, minimum=1, length=len(value), tooltip=tip)
    if key == "dims":
        return ParamSpec(key, "tuple", value, minimum=1, length=None, tooltip=tip)
    if key == "target_shape":
        return ParamSpec(key, "shape", value, minimum=-1, tooltip=tip)
    if key == "seed":
        return ParamSpec(key, "optional_int", value, minimum=0, tooltip=tip)
    if key == "max_value":
        return ParamSpec(key, "optional_float", value, minimum=0.0, tooltip="Upper bound of the output (empty: none).")
    if isinstance(value, bool):
        return ParamSpec(key, "bool", value, tooltip=tip)
    if isinstance(value, int):
        return ParamSpec(key, "int", value, tooltip=tip)
    if isinstance(value, float):
        return ParamSpec(key, "float", value, tooltip=tip)
    if isinstance(value, str):
        return ParamSpec(key, "str", value, tooltip=tip)
    return ParamSpec(key, "json", value, tooltip=tip)


def param_spec(class_name: str) -> list[ParamSpec]:
    """The editable hyperparameters of ``class_name``, in the order of its config."""
    config = default_config(class_name)
    specs = []
    for key, value in config.items():
        if key in _HIDDEN or (key == "dtype" and class_name != "InputLayer"):
            continue
        specs.append(_spec_for(class_name, key, value))
    # The layer's own hyperparameters first; the trainable flag and weight details after them.
    return sorted(specs, key=lambda s: (s.advanced, s.name == "trainable"))


def spec_of(class_name, key):
    for s in param_spec(class_name):
        if s.name == key:
            return s
    return None


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_kind(spec, key, value):
    """None when ``value`` fits ``spec``'s kind and range, else the reason."""
    kind = spec.kind
    got = f"Received: {key}={value!r}"
    if kind == "int" or (kind == "optional_int" and value is not None):
        if not _is_int(value):
            return f"{key} must be an integer. {got}"
        if spec.minimum is not None and value < spec.minimum:
            what = "a positive integer" if spec.minimum == 1 else f"an integer >= {spec.minimum:g}"
            return f"{key} must be {what}. {got}"
    elif kind == "float" or (kind == "optional_float" and value is not None):
        if not _is_number(value):
            return f"{key} must be a number. {got}"
        if spec.minimum is not None and value < spec.minimum:
            return f"{key} must be at least {spec.minimum:g}. {got}"
        if spec.maximum is not None:
            if spec.exclusive_maximum and value >= spec.maximum:
                return f"{key} must be in [{spec.minimum:g}, {spec.maximum:g}). {got}"
            if value > spec.maximum:
                return f"{key} must be at most {spec.maximum:g}. {got}"
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"{key} must be true or false. {got}"
    elif kind == "choice":
        if value not in spec.choices:
            return f"{key} must be one of {spec.choices}. {got}"
    elif kind == "activation":
        if not (isinstance(value, str) and value in spec.choices) and not isinstance(value, dict):
            return f"Unknown activation. {got}. Choose one of: {', '.join(spec.choices)}."
    elif kind == "tuple":
        seq = [value] if _is_int(value) else value
        if not isinstance(seq, (list, tuple)) or not seq or not all(_is_int(v) for v in seq):
            return f"{key} must be a tuple of integers such as (3, 3). {got}"
        if spec.length is not None and len(seq) not in (1, spec.length):
            return f"{key} must have {spec.length} values. {got}"
        if spec.minimum is not None and any(v < spec.minimum for v in seq):
            return f"Every value of {key} must be at least {spec.minimum:g}. {got}"
    elif kind == "shape":
        if not isinstance(value, (list, tuple)) or not all(v is None or _is_int(v) for v in value):
            return f"{key} must be a shape such as (None, 28, 28, 1). {got}"
        dims = list(value[1:]) if spec.batch else list(value)
        if spec.batch and not value:
            return f"{key} needs at least the batch axis. {got}"
        if spec.batch and value[0] is not None and value[0] < 1:
            return f"The batch size in {key} must be None or positive. {got}"
        if any(v is None for v in dims) and not spec.batch:
            return f"{key} cannot have unknown (None) sizes; use -1 for one inferred size. {got}"
        if any(v is not None and v < (spec.minimum if spec.minimum is not None else 1) or v == 0 for v in dims):
            return f"Every size in {key} must be positive. {got}"
    elif kind == "str":
        if not isinstance(value, str):
            return f"{key} must be text. {got}"
    return None


def validate_param(class_name: str, key: str, value, config: dict | None = None) -> tuple[bool, str]:
    """``(True, "")`` when ``value`` is acceptable for ``key``, else ``(False, reason)``.

    ``config`` is the node's current config (its other values can make a value invalid); the default
    config is used without it. The layer's own constructor is the final judge.
    """
    try:
        spec = spec_of(class_name, key)
    except ValueError as e:
        return False, str(e)
    base = default_config(class_name) if config is None else copy.deepcopy(config)
    if spec is None and key not in base:
        return False, f"{class_name} has no parameter {key!r}."
    if spec is not None:
        reason = _check_kind(spec, key, value)
        if reason:
            return False, reason
    base[key] = value
    try:
        build_layer(class_name, base)
    except Exception as e:  # the engine's reason is the message the user needs
        return False, str(e) or type(e).__name__
    return True, ""
