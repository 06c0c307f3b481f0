"""Checks on layer configs read from a file, before they reach a document (and so generated code).

A project keeps each layer's config as a dict that the code dock and the exports write as Python.
``check_layer_config`` accepts a config only when every key is an argument the layer class takes (its
``__init__`` signature and the base ``Layer`` arguments), every value is plain JSON data (None, bool,
int, float, str, lists and string-keyed dicts, not nested absurdly deep), ``dtype`` names one of
``DTYPES``, and every nested object (an initializer, regularizer, constraint, a wrapped layer) names a
class that exists with arguments that class takes. Anything else is refused with a ``ValueError``
naming the layer and the key.
"""
from __future__ import annotations

import functools
import inspect

from visualkeras_app.document.pysource import MAX_DEPTH, is_identifier

# The dtype names a file may give a layer (Keras's names; mixed precision policies included).
DTYPES = frozenset({"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8",
                    "bool", "mixed_float16", "mixed_bfloat16"})
# Arguments Keras 3.15 writes that the engine's initializers drop (they only matter for EinsumDense).
_DROPPED = frozenset({"input_axes", "output_axes"})
_OBJECT_FAMILIES = ("keras.initializers", "keras.regularizers", "keras.constraints")


@functools.lru_cache(maxsize=None)
def accepted_keys(cls) -> frozenset:
    """The keyword arguments ``cls(**config)`` accepts: its ``__init__``'s, and while an ``__init__``
    takes ``**kwargs`` (passed on to its base class), the base classes' too."""
    from engine.layers.layer import BASE_KWARGS, Layer

    named = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        named |= {p for p, v in params.items() if p != "self" and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)}
        if klass is Layer:
            named |= BASE_KWARGS
        if not any(v.kind == v.VAR_KEYWORD for v in params.values()):
            break
    return frozenset(named)


def _object_class(module, class_name):
    """The engine class a nested ``{"module", "class_name"}`` dict names, or None when not one of the
    initializer/regularizer/constraint families."""
    import importlib

    if module not in _OBJECT_FAMILIES:
        return None
    mod = importlib.import_module("engine." + module.split(".", 1)[1])
    return mod.class_named(class_name)


def check_layer_config(class_name, config, name=None):
    """Refuse (``ValueError``, naming the layer) a config that is not one ``class_name`` takes."""
    from engine.layers import registry

    where = f"layer {name!r} ({class_name})" if name is not None else f"a {class_name} layer"
    if not isinstance(class_name, str) or not registry.is_registered(class_name):
        raise ValueError(f"{where}: unknown layer class {class_name!r:.80}.")
    if not isinstance(config, dict):
        raise ValueError(f"{where}: its config is not an object.")
    keys = accepted_keys(registry.get_class(class_name))
    for key, value in config.items():
        if key not in keys:
            raise ValueError(f"{where}: unknown config key {key!r:.80}; a {class_name} takes "
                             f"{', '.join(sorted(keys))}.")
        if key == "dtype":
            _check_dtype(value, where)
        elif key in ("layer", "backward_layer") and isinstance(value, dict):
            inner = value.get("config")
            if not isinstance(inner, dict):
                raise ValueError(f"{where}: its {key!r} has no config object.")
            check_layer_config(value.get("class_name"), inner, inner.get("name"))
            _check_plain({k: v for k, v in value.items() if k != "config"}, where, key, 1)
        else:
            _check_plain(value, where, key, 1)


def _check_dtype(value, where):
    if isinstance(value, dict):
        cfg = value.get("config")
        if not isinstance(cfg, dict) or set(cfg) - {"name"}:
            raise ValueError(f"{where}: its dtype policy is malformed: {value!r:.120}")
        value = cfg.get("name", "float32")
    if value is not None and value not in DTYPES:
        raise ValueError(f"{where}: unknown dtype {value!r:.80}; one of {', '.join(sorted(DTYPES))}.")


def _check_plain(value, where, key, depth):
    """Plain JSON data only; nested objects name a class that exists, with keys that class takes."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: the value of {key!r} nests too deeply.")
    if value is None or isinstance(value, (bool, int, float, str)):
        if type(value) not in (type(None), bool, int, float, str):
            raise ValueError(f"{where}: the value of {key!r} is not plain data.")
        if type(value) is int and not -2**63 <= value < 2**63:
            raise ValueError(f"{where}: the value of {key!r} is an integer beyond 64 bits.")
        return
    if type(value) in (list, tuple):  # tuples: a config pasted from the clipboard keeps them
        for v in value:
            _check_plain(v, where, key, depth + 1)
        return
    if type(value) is not dict:
        raise ValueError(f"{where}: the value of {key!r} is not plain data ({type(value).__name__}).")
    for k, v in value.items():
        if type(k) is not str:
            raise ValueError(f"{where}: the value of {key!r} has a key that is not text.")
        _check_plain(v, where, key, depth + 1)
    if "class_name" in value:
        cls_name = value["class_name"]
        if not is_identifier(cls_name):
            raise ValueError(f"{where}: the value of {key!r} names the class {cls_name!r:.80}, which is not a "
                             "class name.")
        cfg = value.get("config")
        if not isinstance(cfg, dict):  # e.g. an activation function's config is its name
            return
        cls = _object_class(value.get("module"), cls_name)
        allowed = accepted_keys(cls) if cls is not None else None
        for k in cfg:
            if not is_identifier(k) or (allowed is not None and k not in allowed and k not in _DROPPED):
                raise ValueError(f"{where}: {key!r} ({cls_name}) has the unknown argument {k!r:.80}.")
