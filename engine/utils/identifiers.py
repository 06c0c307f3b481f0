"""Resolving Keras identifiers (a name, a ``{"class_name", "config"}`` dict, an instance or a callable)
to objects, for the small families that share the same rules (regularizers, constraints)."""
from __future__ import annotations


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
