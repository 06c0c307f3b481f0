"""Utilities (``keras.utils``): one-hot labels, batch datasets, the progress bar, seeding."""
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
           "enable_interactive_logging", "disable_interactive_logging", "is_interactive_logging_enabled"]
