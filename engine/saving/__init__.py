"""Saving and loading: configs and JSON, ``.keras`` archives, legacy ``.h5`` files and weights files.

A model file is untrusted input: classes come only from the layer registry (or ``custom_objects``),
nothing named in a file is imported or run, and every problem ends in ``ModelFileError``.
"""
from engine.saving.serialization import (ConfigError, ModelFileError, deserialize_layer,  # noqa: F401
                                         model_from_config, model_from_json, serialize_layer, serialize_model)
from engine.saving.saving_api import load_model, load_weights, save_model, save_weights  # noqa: F401
from engine.saving.object_registration import (CustomObjectScope, custom_object_scope,  # noqa: F401
                                               get_custom_objects, get_registered_name, get_registered_object,
                                               register_keras_serializable)
from engine.saving.serialization_lib import deserialize_keras_object, serialize_keras_object  # noqa: F401

__all__ = ["ConfigError", "ModelFileError", "deserialize_layer", "model_from_config", "model_from_json",
           "serialize_layer", "serialize_model", "load_model", "save_model", "load_weights", "save_weights",
           "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable", "serialize_keras_object",
           "deserialize_keras_object"]
