"""The one registry of layer classes, by Keras class name.

The editor's palette, the loaders and ``deserialize`` all read this registry; nothing is ever
imported by a name found in a file. Each class registers with its palette category.
"""
from __future__ import annotations

# The editor's palette sections, in order.
CATEGORIES = ("Core", "Convolution", "Pooling", "Recurrent", "Attention", "Normalization", "Merge", "Activation",
              "Regularization", "Preprocessing", "Audio")

_LAYERS: dict[str, type] = {}
_CATEGORY: dict[str, str] = {}
_ALIASES: dict[str, str] = {}


# How a layer becomes Keras's config dict and back (engine.saving's ``serialize_keras_object`` and
# ``deserialize_layer``). The saving code lives above the layers (it walks models of them) and hands these
# over when it loads; the layers that hold other layers (Pipeline, Wrapper, RNN cells, SpectralNormalization)
# and ``engine.layers.serialize``/``deserialize`` call them here.
_CODEC: list = []


def use_codec(serialize, deserialize):
    """Called by ``engine.saving`` when it loads: ``serialize(layer)`` -> dict, ``deserialize(dict)`` -> layer."""
    _CODEC[:] = [serialize, deserialize]


def _codec():
    if not _CODEC:  # only while the engine itself loads
        raise RuntimeError("engine.saving has not loaded: a layer's config is read and written there.")
    return _CODEC


def serialize(layer) -> dict:
    """``layer`` as Keras's config dict (``{"module", "class_name", "config", "registered_name"}``)."""
    return _codec()[0](layer)


def deserialize(config):
    """A new layer from ``serialize``'s dict (your own classes from the registered custom objects)."""
    return _codec()[1](config)


def register(category: str, *aliases: str):
    """Class decorator: ``@register("Core")`` adds the class under its name (and aliases)."""
    if category not in CATEGORIES:
        raise ValueError(f"Unknown layer category {category!r}; expected one of {CATEGORIES}")

    def deco(cls):
        _LAYERS[cls.__name__] = cls
        _CATEGORY[cls.__name__] = category
        for a in aliases:
            _ALIASES[a] = cls.__name__
        return cls

    return deco


# Keras layers the engine does not implement on purpose, and what to use instead.
_STRINGS = ("the engine's tensors are torch tensors, which hold no strings; map text to integer ids before "
            "the model (e.g. with a Python vocabulary dict) and start the model with an Embedding or "
            "CategoryEncoding")
UNSUPPORTED = {
    "TextVectorization": _STRINGS,
    "StringLookup": _STRINGS,
    "JaxLayer": "it runs JAX code, and the engine runs on PyTorch; rewrite the layer as an engine Layer",
    "FlaxLayer": "it runs Flax (JAX) code, and the engine runs on PyTorch; rewrite the layer as an engine Layer",
    "TFSMLayer": "it runs a TensorFlow SavedModel, and the engine has no TensorFlow; export the model as .keras "
                 "or .h5 from Keras instead",
    "Lambda": "it stores a Python function, and loading it would run code stored in the file; "
              "engine.layers.Lambda works in code, and a Layer subclass (registered with "
              "engine.saving.register_keras_serializable) saves and loads",
    "TorchModuleWrapper": "it wraps a torch module, which is Python code and cannot come from a file; "
                          "engine.layers.TorchModuleWrapper works in code, and save_weights() keeps its weights",
}


def get_class(class_name: str) -> type:
    """The registered class for a Keras class name; a ValueError that lists the valid names otherwise."""
    name = _ALIASES.get(class_name, class_name)
    cls = _LAYERS.get(name)
    if cls is None and class_name in UNSUPPORTED:
        raise ValueError(f"The Keras layer {class_name!r} is not supported by the engine: "
                         f"{UNSUPPORTED[class_name]}.")
    if cls is None:
        raise ValueError(
            f"Unknown layer class {class_name!r}. Known layers: {', '.join(sorted(_LAYERS))}."
        )
    return cls


def is_registered(class_name: str) -> bool:
    return _ALIASES.get(class_name, class_name) in _LAYERS


def names() -> list[str]:
    return sorted(_LAYERS)


def category_of(class_name: str) -> str:
    return _CATEGORY[_ALIASES.get(class_name, class_name)]


# The palette's sections: the categories, with the layers for volumes and video (Conv3D, MaxPooling3D,
# ZeroPadding3D, ConvLSTM3D...) gathered in a "3D" section of their own after Pooling.
SECTIONS = CATEGORIES[:CATEGORIES.index("Pooling") + 1] + ("3D",) + CATEGORIES[CATEGORIES.index("Pooling") + 1:]


def section_of(class_name: str) -> str:
    """The palette section of a layer: "3D" for the 3-D variants, else its category."""
    name = _ALIASES.get(class_name, class_name)
    return "3D" if "3D" in name else _CATEGORY[name]


def by_section() -> dict[str, list[str]]:
    """``{section: [class names]}`` in palette order (see ``SECTIONS``); empty sections left out."""
    out: dict[str, list[str]] = {c: [] for c in SECTIONS}
    for name in _CATEGORY:
        out[section_of(name)].append(name)
    return {c: sorted(v) for c, v in out.items() if v}


def by_category() -> dict[str, list[str]]:
    """``{category: [class names]}`` in palette order; categories without layers are left out."""
    out: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for name, cat in _CATEGORY.items():
        out[cat].append(name)
    return {c: sorted(v) for c, v in out.items() if v}
