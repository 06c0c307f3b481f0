"""engine: a Keras-compatible deep learning library on PyTorch.

Tutorial code written for Keras runs with ``keras`` renamed ``engine``::

    from engine.models import Sequential
    from engine.layers import Dense
"""
import importlib

__version__ = "0.1.0"

from engine import backend, activations, initializers  # noqa: E402
from engine import layers  # noqa: E402
from engine.layers import Input, InputLayer, Layer  # noqa: E402
from engine.models import Model, Sequential  # noqa: E402
from engine import models, optimizers, losses, metrics, callbacks, utils, datasets, saving  # noqa: E402
from engine import distribute, mixed_precision, ops, random  # noqa: E402
from engine.variables import Variable  # noqa: E402

__all__ = ["Input", "InputLayer", "Layer", "Model", "Sequential", "backend", "activations", "initializers",
           "layers", "models", "optimizers", "losses", "metrics", "callbacks", "utils", "datasets", "saving",
           "distribute", "ops", "random", "applications", "Variable"]


def __getattr__(name):
    # engine.applications is loaded on first use: it is large and the app rarely needs it
    # (``engine.applications.ResNet50(...)`` works as ``keras.applications.ResNet50`` does). engine.ops and
    # engine.random load with the layers, which use them.
    if name == "applications":
        return importlib.import_module(f"engine.{name}")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
