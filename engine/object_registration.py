"""The registry of the user's own serializable classes and functions (Keras's ``object_registration``).

Objects get here only from the user's code: ``@register_keras_serializable()``, assignments into
``get_custom_objects()``, a ``custom_object_scope(...)`` or ``custom_objects=`` arguments. A name found
in a file is only ever looked up in these dicts (and in the engine's own registries); nothing is
imported because a file names it.

A leaf module (Keras's ``saving/object_registration.py``): the activations, regularizers, constraints,
layers and the saving code all import it; it imports nothing of the engine. ``engine.saving``
re-exports it (``engine.saving.object_registration``).
"""
from __future__ import annotations

import contextlib
import contextvars
import inspect

# Registered name ("package>Name", or any key the user sets) -> class or function.
_GLOBAL_CUSTOM_OBJECTS: dict = {}
# Class or function -> its registered name.
_GLOBAL_CUSTOM_NAMES: dict = {}
# The dicts of the custom_object_scope blocks now open, outermost first.
_SCOPES: contextvars.ContextVar = contextvars.ContextVar("engine_custom_object_scopes", default=())
# The custom_objects the caller passed to the load in progress (load_model, model_from_config): their own
# code, never the file's.
_LOADING: contextvars.ContextVar = contextvars.ContextVar("engine_custom_objects", default=None)


def loading_custom_objects():
    """The ``custom_objects`` of the load in progress (a dict), or None outside a load."""
    return _LOADING.get()


@contextlib.contextmanager
def loading_with_custom_objects(custom_objects):
    """Inside the block, ``loading_custom_objects()`` is (a copy of) ``custom_objects``."""
    token = _LOADING.set(dict(custom_objects))
    try:
        yield
    finally:
        _LOADING.reset(token)


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` makes those names loadable inside the block.

    Args:
        custom_objects: dicts (or ``None``) of ``{name: class or function}``; later ones win.
    """

    def __init__(self, *custom_objects):
        merged = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"custom_object_scope takes dicts of {{name: object}}. Received: {objects!r}")
            merged.update(objects)
        self.custom_objects = merged
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_SCOPES.set(_SCOPES.get() + (self.custom_objects,)))
        return self

    def __exit__(self, *exc):
        _SCOPES.reset(self._tokens.pop())


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The global dict of registered objects; adding to it registers an object, as in Keras."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class (with ``get_config``) or function as ``"package>name"``.

    Args:
        package: the package part of the registered name.
        name: the name part; the class's or function's ``__name__`` when omitted.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"The package of a registered object must be a string without '>'. "
                         f"Received: package={package!r}")

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not isinstance(class_name, str):
            raise ValueError(f"Cannot register {arg!r}: it has no __name__; pass name=...")
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        registered_name = f"{package}>{class_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under, else its ``__name__``."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered under ``name``: the open scopes first (innermost wins), then the global
    registry, then ``custom_objects``, then ``module_objects``; ``None`` when none has it."""
    if not isinstance(name, str):
        return None
    for scope in reversed(_SCOPES.get()):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def visible_custom_objects(custom_objects=None) -> dict:
    """Every name the user's code made loadable here, as one dict: the global registry (by registered
    name, "package>Name"), then ``custom_objects``, then the open scopes (the innermost wins)."""
    out = dict(_GLOBAL_CUSTOM_OBJECTS)
    out.update(custom_objects or {})
    for scope in _SCOPES.get():
        out.update(scope)
    return out


__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable"]
