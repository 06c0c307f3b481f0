"""Resolving Keras identifiers (a name, a ``{"class_name", "config"}`` dict, an instance or a callable)
to objects, for the small families that share the same rules (regularizers, constraints)."""
from __future__ import annotations

from engine.object_registration import get_registered_object


def resolve(identifier, *, kind, base, classes, names, module):
    """The object ``identifier`` names. ``classes`` maps class names, ``names`` snake_case names."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        cls = names.get(identifier) or classes.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown {kind}: {identifier!r}. Valid names: {sorted(names)}")
        return cls()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = classes.get(name) or names.get(name)
        if cls is None:
            raise ValueError(f"Unknown {kind}: {name!r}. Valid names: {sorted(classes)}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serialize(obj, module):
    if obj is None:
        return None
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(), "registered_name": None}


def deserialize(config, custom_objects, get):
    """Keras's ``<family>.deserialize``: the user's own class or function (registered, in a
    custom_object_scope, or in ``custom_objects``; by registered name, then class name) when the config
    names one, else the engine's own through ``get``."""
    keys = [config] if isinstance(config, str) else \
        [config.get("registered_name"), config.get("class_name")] if isinstance(config, dict) else []
    for key in keys:
        obj = get_registered_object(key, custom_objects) if isinstance(key, str) else None
        if obj is None:
            continue
        if isinstance(obj, type):
            inner = config.get("config") if isinstance(config, dict) else None
            return obj.from_config(dict(inner or {})) if isinstance(config, dict) else obj()
        return obj
    return get(config)
