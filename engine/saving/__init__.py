"""Saving and loading: configs and JSON, ``.keras`` archives, legacy ``.h5`` files and weights files.

A model file is untrusted input: classes come only from the layer registry (or ``custom_objects``),
nothing named in a file is imported or run, and every problem ends in ``ModelFileError``.
"""
from engine.saving.serialization import (ConfigError, ModelFileError, deserialize_layer,  # noqa: F401
                                         model_from_config, model_from_json, serialize_layer, serialize_model)
from engine.saving.saving_api import load_model, load_weights, save_model, save_weights  # noqa: F401

__all__ = ["ConfigError", "ModelFileError", "deserialize_layer", "model_from_config", "model_from_json",
           "serialize_layer", "serialize_model", "load_model", "save_model", "load_weights", "save_weights"]
