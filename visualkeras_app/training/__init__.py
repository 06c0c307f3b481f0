"""Training without Qt: settings, data sets and their preprocessing, a controllable training session,
results (confusion matrix, feature maps), the run list, and the one-click MNIST recipe.

The Qt panel (``visualkeras_app.training_ui``) and the ``visualkeras-app train`` command build on it.
The names below are imported when first used: the panel reads the settings' choices (a torch-free
module) while the window starts, before the engine (torch) has loaded.
"""
import importlib

_EXPORTS = {
    "OneCycle": "engine.optimizers.schedules",  # the engine's one-cycle schedule
    "Dataset": "visualkeras_app.training.data", "DatasetError": "visualkeras_app.training.data",
    "DatasetMismatch": "visualkeras_app.training.data", "Prepared": "visualkeras_app.training.data",
    "load_dataset": "visualkeras_app.training.data", "prepare": "visualkeras_app.training.data",
    "prepare_for_model": "visualkeras_app.training.data",
    "BatchCurve": "visualkeras_app.training.runs", "RunList": "visualkeras_app.training.runs",
    "RunRecord": "visualkeras_app.training.runs",
    "BatchPoint": "visualkeras_app.training.session", "Progress": "visualkeras_app.training.session",
    "TrainingSession": "visualkeras_app.training.session",
    "TrainSettings": "visualkeras_app.training.settings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
