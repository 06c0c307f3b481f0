"""Utilities (``keras.utils``): one-hot labels, batch datasets, image and text folders, image files, the
progress bar, seeding."""
from engine.utils.image_dataset_utils import image_dataset_from_directory
from engine.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from engine.utils.io_utils import (  # noqa: F401
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from engine.utils.numerical_utils import normalize, to_categorical
from engine.utils.progbar import Progbar
from engine.utils.rng_utils import set_random_seed
from engine.utils.sequence import PyDataset, Sequence
from engine.utils.text_dataset_utils import text_dataset_from_directory

__all__ = ["to_categorical", "normalize", "Sequence", "PyDataset", "Progbar", "set_random_seed",
           "enable_interactive_logging", "disable_interactive_logging", "is_interactive_logging_enabled",
           "image_dataset_from_directory", "text_dataset_from_directory", "load_img", "img_to_array",
           "array_to_img", "save_img"]
