"""The registry of the user's own serializable classes and functions: it lives in the leaf module
``engine.object_registration`` (which everything that registers or looks up imports); this is its old
name, kept for the code that imports it from here."""
from engine.object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,  # noqa: F401
                                        get_registered_name, get_registered_object, loading_custom_objects,
                                        loading_with_custom_objects, register_keras_serializable,
                                        visible_custom_objects)

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable"]
