"""Utilities (``keras.utils``): one-hot labels, batch datasets, image and text folders, image files, the
progress bar, seeding."""
import importlib

from engine.utils.io_utils import (  # noqa: F401
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from engine.utils.numerical_utils import normalize, to_categorical
from engine.utils.progbar import Progbar
from engine.utils.rng_utils import set_random_seed
from engine.utils.sequence import PyDataset, Sequence

__all__ = ["to_categorical", "normalize", "Sequence", "PyDataset", "Progbar", "set_random_seed",
           "enable_interactive_logging", "disable_interactive_logging", "is_interactive_logging_enabled",
           "image_dataset_from_directory", "text_dataset_from_directory", "load_img", "img_to_array",
           "array_to_img", "save_img", "get_file", "plot_model", "model_to_dot", "pad_sequences", "split_dataset",
           "timeseries_dataset_from_array", "register_keras_serializable", "get_custom_objects",
           "custom_object_scope", "CustomObjectScope", "get_registered_name", "get_registered_object",
           "serialize_keras_object", "deserialize_keras_object", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "clear_session", "is_keras_tensor", "standardize_dtype", "get_source_inputs"]

# Image and text folders load on first use (Pillow takes ~0.1 s to import; most engine users never need it).
_LAZY = {
    "image_dataset_from_directory": "image_dataset_utils",
    "text_dataset_from_directory": "text_dataset_utils",
    "load_img": "image_utils",
    "img_to_array": "image_utils",
    "array_to_img": "image_utils",
    "save_img": "image_utils",
    "get_file": "download_utils",
    "plot_model": "model_visualization",
    "model_to_dot": "model_dot",
    "pad_sequences": "sequence_utils",
    "split_dataset": "split_utils",
    "timeseries_dataset_from_array": "timeseries_dataset_utils",
}
# keras.utils also has the saving registry's functions (from engine.saving) and clear_session.
_LAZY.update({name: "engine.saving" for name in __all__[-14:-6]})
_LAZY.update({"pack_x_y_sample_weight": "data_adapter_utils", "unpack_x_y_sample_weight": "data_adapter_utils",
              "clear_session": "engine.backend", "is_keras_tensor": "engine.backend",
              "standardize_dtype": "engine.backend", "get_source_inputs": "data_adapter_utils"})


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.utils' has no attribute {name!r}")

    value = getattr(importlib.import_module(module if "." in module else f"engine.utils.{module}"), name)
    globals()[name] = value
    return value
