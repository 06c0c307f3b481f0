"""Training without Qt: settings, data sets and their preprocessing, a controllable training session,
results (confusion matrix, feature maps), the run list, and the one-click MNIST recipe.

The Qt panel (``visualkeras_app.training_ui``) and the ``visualkeras-app train`` command build on it.
"""
from engine.optimizers.schedules import OneCycle  # noqa: F401 (the engine's one-cycle schedule)
from visualkeras_app.training.data import (Dataset, DatasetError, DatasetMismatch, Prepared,  # noqa: F401
                                           load_dataset, prepare, prepare_for_model)
from visualkeras_app.training.runs import BatchCurve, RunList, RunRecord  # noqa: F401
from visualkeras_app.training.session import BatchPoint, Progress, TrainingSession  # noqa: F401
from visualkeras_app.training.settings import TrainSettings  # noqa: F401
