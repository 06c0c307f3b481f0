"""Saving and loading: configs and JSON now; ``.h5``/``.keras`` files come with the saving work."""
from engine.saving.serialization import (ConfigError, deserialize_layer, model_from_config,  # noqa: F401
                                         model_from_json, serialize_layer, serialize_model)
