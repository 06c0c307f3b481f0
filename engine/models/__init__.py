"""Models: ``Sequential``, functional ``Model``, and loading/saving entry points."""
from engine.models.model import Model
from engine.models.functional import Functional
from engine.models.sequential import Sequential

__all__ = ["Model", "Functional", "Sequential"]

from engine.saving.serialization import model_from_config, model_from_json  # noqa: E402,F401
from engine.saving.saving_api import load_model, save_model  # noqa: E402,F401
from engine.models.cloning import clone_model  # noqa: E402,F401
