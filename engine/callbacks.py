"""Callbacks: hooks that ``fit``/``evaluate``/``predict`` call at each stage (``keras.callbacks``).

The semantics follow ``keras/src/callbacks/*.py`` (Keras 3): the same hook names and arguments,
the same ``logs`` keys (``loss``, ``accuracy``, ``val_loss``...), the same console messages, and a
missing monitored metric gives a warning, not an error.
"""
from __future__ import annotations

import collections.abc
import csv
import importlib.util
import inspect
import json
import operator
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from numbers import Real

import numpy as np
import torch

from engine import distribute
from engine.saving import ModelFileError
from engine.utils import io_utils
from engine.utils.file_utils import atomic_write
from engine.utils.progbar import Progbar

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
    "CSVLogger", "ReduceLROnPlateau", "LearningRateScheduler", "LambdaCallback", "TerminateOnNaN",
    "RemoteMonitor", "SwapEMAWeights",
]

_TRAIN_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
# The base class's train batch hooks call Keras 2's names, so overriding those is listening too.
_BATCH_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
    "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
)


def _to_python(value):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.numel() == 1:
            return float(value.item())
        return value.cpu().numpy()
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _pythonify_logs(logs):
    """Sorted, flat copy of ``logs`` with scalars as Python floats (as Keras hands them on).

    Sorting is why Keras prints ``accuracy`` before ``loss``; nested dicts (multi-output
    models) are flattened into the top level.
    """
    if not logs:
        return {}
    out = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            out.update(_pythonify_logs(value))
        else:
            out[key] = _to_python(value)
    return out


class Callback:
    """Base class for callbacks.

    Subclass it and override the hooks you need. ``fit`` calls the train hooks, the epoch
    hooks and (with validation data) the test hooks; ``evaluate`` the test hooks; ``predict``
    the predict hooks. ``on_batch_begin``/``on_batch_end`` are Keras 2's names for the train
    batch hooks and are called for every training batch.

    Attributes:
        params: Dict of training parameters (``verbose``, ``epochs``, ``steps``).
        model: The model being trained (set by ``set_model``).

    Example:

    ```python
    class StopAtHalf(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["loss"] < 0.5:
                self.model.stop_training = True
    ```
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, model):
        # Keras 2 code assigns ``callback.model = ...`` directly.
        self._model = model

    def _needs_train_batch_logs(self):
        """Whether this callback reads the logs of training batches (see ``CallbackList.needs_batch_logs``)."""
        return any(_overrides(self, name) for name in _TRAIN_BATCH_HOOKS)

    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (``epoch`` counts from 0)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; ``logs`` holds the epoch's metrics, e.g.
        ``{"loss": 0.2, "accuracy": 0.9, "val_loss": 0.3}``."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called at the beginning of a training batch (``batch`` counts from 0 in each epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch; ``logs`` holds the running averages so far."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in ``evaluate`` and in validation."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch in ``evaluate`` and in validation."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch in ``predict``."""

    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    def on_train_end(self, logs=None):
        """Called at the end of training; ``logs`` are the last epoch's."""

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation."""

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""


def _overrides(callback, name):
    """Whether ``callback`` replaces the base class's do-nothing hook ``name``."""
    if name in getattr(callback, "__dict__", {}):  # LambdaCallback sets hooks on the instance
        return True
    return getattr(type(callback), name, None) is not getattr(Callback, name)


def _flatten_callbacks(callbacks):
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten_callbacks(cb))
        elif cb is not None:
            if not all(hasattr(cb, name) for name in ("set_model", "set_params", "on_epoch_end")):
                raise TypeError(
                    "Expected `callbacks` to be a list of `engine.callbacks.Callback` instances. "
                    f"Received an object of type {type(cb).__name__}: {cb!r}. Subclass Callback, or use "
                    "LambdaCallback to wrap functions."
                )
            out.append(cb)
    return out


class CallbackList(Callback):
    """Container that calls every hook on a list of callbacks in order.

    Args:
        callbacks: List of ``Callback`` instances (nested lists are flattened).
        add_history: Whether to append a ``History`` callback if there is none.
        add_progbar: Whether to append a ``ProgbarLogger`` callback if there is none.
        model: The model the callbacks are used with.
        **params: Parameters passed to each callback through ``set_params`` (``verbose``,
            ``epochs``, ``steps``).

    Every hook converts ``logs`` once (sorted keys; tensors to Python floats) and hands the
    same dict to each callback, so a value a callback adds (``learning_rate``) reaches the
    callbacks after it, ``History`` included.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        if isinstance(callbacks, Callback) and not isinstance(callbacks, CallbackList):
            callbacks = [callbacks]
        self.callbacks = _flatten_callbacks(callbacks) if callbacks else []
        self._listener_cache = {}
        self.params = None
        self._model = None
        self._history = None
        self._progbar = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        """Adds a callback at the end of the list."""
        self.callbacks.extend(_flatten_callbacks([callback]))
        self._listener_cache.clear()

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        self._model = model
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def needs_batch_logs(self):
        """Whether any callback reads per-batch training logs.

        True when some callback overrides ``on_train_batch_begin``/``on_train_batch_end`` or
        Keras 2's ``on_batch_begin``/``on_batch_end``. A ``ProgbarLogger`` counts only in
        verbose mode 1 (mode 2 prints once per epoch, and needs only to count the batches when
        ``steps`` is unknown), a ``ModelCheckpoint`` only with an integer ``save_freq``. When
        this is False the training loop may skip the train batch hooks and the per-batch logs
        (a device sync per batch).
        """
        for cb in self.callbacks:
            wants = getattr(cb, "_needs_train_batch_logs", None)
            if wants is None:  # a duck-typed callback: judge by its methods
                if any(_overrides(cb, name) for name in _TRAIN_BATCH_HOOKS):
                    return True
            elif wants():
                return True
        return False

    def _needs_train_batch_logs(self):
        return self.needs_batch_logs()

    def _dispatch(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(*args)

    def listeners(self, name):
        """The callbacks that override batch hook ``name`` (or its Keras 2 alias).

        Batch hooks run once per step: calling only these, and converting the logs only when
        there is one, keeps the per-step cost near zero in the common case.
        """
        key = (name, len(self.callbacks))
        found = self._listener_cache.get(key)
        if found is None:
            alias = _BATCH_ALIASES.get(name)
            found = [cb for cb in self.callbacks if _overrides(cb, name) or (alias and _overrides(cb, alias))]
            self._listener_cache[key] = found
        return found

    def _dispatch_batch(self, name, batch, logs):
        listeners = self.listeners(name)
        if listeners:
            logs = _pythonify_logs(logs)
            for cb in listeners:
                # As Keras: batch hooks get ``logs`` by keyword, the others by position.
                getattr(cb, name)(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._dispatch_batch("on_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, _pythonify_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, _pythonify_logs(logs))

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._dispatch_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._dispatch_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._dispatch_batch("on_predict_batch_end", batch, logs)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", _pythonify_logs(logs))

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", _pythonify_logs(logs))

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", _pythonify_logs(logs))

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", _pythonify_logs(logs))

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", _pythonify_logs(logs))

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", _pythonify_logs(logs))


class History(Callback):
    """Records the epoch logs; ``fit`` returns it and sets it as ``model.history``.

    Attributes:
        history: Dict mapping each log key (``loss``, ``val_loss``...) to its list of values,
            one per epoch.
        epoch: The list of epoch indices seen (from 0).
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # Set after each epoch so that a model stopped early still holds the latest state.
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar and metrics to stdout, as Keras 3's ``fit`` does.

    Reads ``params["verbose"]`` (1: a bar redrawn in place, 2: one line per epoch;
    ``"auto"`` means 1), ``params["epochs"]`` and ``params["steps"]`` (batches per epoch,
    ``None`` if unknown). Prints ``Epoch 1/10`` before each epoch when there is more than
    one. Validation inside ``fit`` is silent; ``evaluate`` and ``predict`` get their own bar.

    Args:
        count_mode: Keras 2's argument; only ``"steps"`` counting is done (as Keras 3).
        stateful_metrics: Keras 2's argument, accepted and ignored: the logs already hold
            running averages.
    """

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("steps", "samples"):
            raise ValueError(f'Unknown `count_mode`: {count_mode!r}. Expected "steps" or "samples".')
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        self.verbose = int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _needs_train_batch_logs(self):
        # Mode 2 draws nothing per batch, but with an unknown number of steps it must count them.
        return self.verbose == 1 or (self.verbose == 2 and self.target is None)

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            io_utils.print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # predictions are not metrics

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            # The logs are already running averages: show them as they are.
            self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step",
                                   stateless_metrics=set())

    def _update_progbar(self, batch, logs=None):
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


# Metric names whose best value is the highest, for mode="auto" when the model's metric
# objects do not say (Keras 3 reads ``metric._direction``; Keras 2 looked for "acc").
_MAXIMIZED = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "cosine_similarity",
              "true_positives", "true_negatives")
_MINIMIZED = ("loss", "error", "crossentropy", "hinge", "divergence", "poisson", "cosh", "false_")


def _metric_direction(model, name):
    """'up', 'down' or None for the metric called ``name`` (without any ``val_`` prefix)."""
    stack = list(getattr(model, "metrics", None) or [])
    while stack:
        m = stack.pop()
        inner = getattr(m, "metrics", None)
        if isinstance(inner, (list, tuple)):
            stack.extend(inner)
        # ``_direction`` is Keras's protocol: a user's metric class sets it too, so it is read as Keras reads it.
        if getattr(m, "name", None) == name and getattr(m, "_direction", None) in ("up", "down"):
            return m._direction
    lowered = name.lower()
    if lowered in ("mse", "mae", "mape", "msle") or any(s in lowered for s in _MINIMIZED):
        return "down"
    if any(s in lowered for s in _MAXIMIZED):
        return "up"
    return None


class MonitorCallback(Callback):
    """Base for callbacks that watch one metric and judge improvements.

    Args:
        monitor: Name of the quantity to monitor, e.g. ``"val_loss"``.
        mode: ``"auto"``, ``"min"`` or ``"max"``: whether lower or higher is better;
            ``"auto"`` infers it from the metric.
        baseline: Initial "best" value; ``None`` takes the first value seen.
        min_delta: Minimum change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
            mode = "auto"
        if not isinstance(monitor, str):
            raise ValueError(f"`monitor` must be the name of a logged metric. Received: monitor={monitor!r}")
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            name = self.monitor.removeprefix("val_")
            direction = "down" if name == "loss" else _metric_direction(self.model, name)
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but the direction of "
                    "that metric cannot be determined automatically. Pass `mode='max'` to monitor the highest "
                    "value, or `mode='min'` to monitor the lowest value."
                )
            self.monitor_op = operator.gt if direction == "up" else operator.lt
        if self.monitor_op is operator.lt:
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        return bool(self.monitor_op(value - self.min_delta, reference))


class EarlyStopping(MonitorCallback):
    """Stops training when a monitored metric has stopped improving.

    At the end of every epoch it compares the monitored value with the best so far; after
    ``patience`` epochs without an improvement it sets ``model.stop_training = True``.

    Args:
        monitor: Quantity to monitor. Defaults to ``"val_loss"``.
        min_delta: Minimum change in the monitored quantity to count as an improvement.
        patience: Number of epochs with no improvement after which training stops.
        verbose: 0 (silent) or 1 (prints a message when it stops or restores weights).
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: Value the monitored quantity must beat; training stops after ``patience``
            epochs that do not.
        restore_best_weights: Whether to restore the weights of the best epoch when training
            ends (uses ``model.get_weights``/``model.set_weights``).
        start_from_epoch: Number of warm-up epochs before monitoring starts.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`patience` must be a non-negative integer. Received: patience={patience!r}")
        if not isinstance(start_from_epoch, int) or start_from_epoch < 0:
            raise ValueError(
                f"`start_from_epoch` must be a non-negative integer. Received: start_from_epoch={start_from_epoch!r}"
            )
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        # Reset so that one instance can serve several fit() calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The wait restarts only when both the baseline and the previous best are beaten.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            io_utils.print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                io_utils.print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights at the end of every epoch (or every N batches).

    Args:
        filepath: Where to save. May hold format fields filled from ``epoch`` (counted from
            1) and the logs, e.g. ``"model-{epoch:02d}-{val_loss:.2f}.keras"``. Must end in
            ``.keras`` or ``.h5`` for a whole model, ``.weights.h5`` for weights
            (``.hdf5``, Keras 2's habit, is also accepted).
        monitor: The metric to judge "best" by, with ``save_best_only``.
        verbose: 0 (silent) or 1 (a message on each save).
        save_best_only: Save only when the monitored metric improves on the best so far.
        save_weights_only: Call ``model.save_weights(path)`` instead of ``model.save(path)``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"``, or an integer number of batches between saves.
        initial_value_threshold: Initial "best" value for ``save_best_only``.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or a positive integer.")
        if save_weights_only:
            if not self.filepath.endswith((".weights.h5", ".h5", ".hdf5")):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
                    f"`.weights.h5` (Keras weights format). Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5", ".hdf5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format) or `.h5`. "
                f"Received: filepath={self.filepath}"
            )

    def _needs_train_batch_logs(self):
        return self.save_freq != "epoch"

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1  # a new epoch: batches count from 0 again
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                io_utils.print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            return True
        if isinstance(current, (np.ndarray, torch.Tensor)) and current.ndim > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                "Falling back to `save_best_only=False`."
            )
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                io_utils.print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                    f"saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            io_utils.print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}. '
                f"Available keys: epoch, {', '.join(logs)}"
            ) from None

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        if not self._should_save_model(epoch, logs, filepath):
            return
        if not distribute.is_chief():  # under torchrun only rank 0 writes
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            io_utils.print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")


class CSVLogger(Callback):
    """Streams epoch results to a CSV file.

    The header is ``epoch`` then the sorted log keys (with ``val_`` columns added, left
    ``NA``, when the first epoch has no validation results, as Keras). One row per epoch.

    Args:
        filename: Path of the CSV file, e.g. ``"run/log.csv"``.
        separator: String used to separate elements in the CSV file.
        append: Whether to append to an existing file (continuing a training) rather than
            overwrite it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"`separator` must be a single character. Received: separator={separator!r}")
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if not distribute.is_chief():  # under torchrun only rank 0 writes
            return
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        # newline="" lets the csv module write its "\r\n" itself on every platform.
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        if not distribute.is_chief():
            return
        logs = logs or {}

        def handle_value(v):
            if isinstance(v, str):
                return v
            if isinstance(v, (np.ndarray, torch.Tensor)) and v.ndim == 0:
                return v.item()
            if isinstance(v, collections.abc.Iterable):
                return f'"[{", ".join(map(str, v))}]"'
            return v

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend(f"val_{k}" for k in list(self.keys))
        if self.writer is None:
            if self.csv_file is None or self.csv_file.closed:
                self.on_train_begin()  # used outside fit(): open the file now

            class Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _get_lr(optimizer):
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            'Optimizer must have a "learning_rate" attribute. '
            f"Received an optimizer of type {type(optimizer).__name__}."
        )
    lr = optimizer.learning_rate
    if isinstance(lr, torch.Tensor):
        return float(lr.item())
    return float(lr)


def _optimizers_of(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("The model has no optimizer. Compile the model before training with this callback.")
    inner = getattr(optimizer, "optimizers", None)
    return list(inner) if isinstance(inner, (list, tuple)) else [optimizer]


def _log_learning_rates(model, logs):
    optimizers = _optimizers_of(model)
    if len(optimizers) == 1 and optimizers[0] is model.optimizer:
        logs["learning_rate"] = _get_lr(model.optimizer)
    else:
        for opt in optimizers:
            logs[f"learning_rate_{opt.name}"] = _get_lr(opt)


class ReduceLROnPlateau(MonitorCallback):
    """Reduces the learning rate when a metric has stopped improving.

    After ``patience`` epochs without improvement the learning rate becomes
    ``max(lr * factor, min_lr)``. It also adds ``learning_rate`` to the epoch logs.

    Args:
        monitor: Quantity to monitor.
        factor: Factor by which the learning rate is reduced (``new_lr = lr * factor``); < 1.
        patience: Number of epochs with no improvement after which the rate is reduced.
        verbose: 0 (quiet) or 1 (prints a message on each reduction).
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: Threshold for measuring a new optimum.
        cooldown: Number of epochs to wait after a reduction before resuming normal operation.
        min_lr: Lower bound on the learning rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:  # Keras 2's name for min_delta
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated; use `min_delta` instead.", stacklevel=2)
        if kwargs:
            warnings.warn(f"ReduceLROnPlateau ignores unknown arguments: {sorted(kwargs)}", stacklevel=2)
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if factor <= 0:
            raise ValueError(f"ReduceLROnPlateau needs a factor > 0. Received factor={factor}")
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        old_lr = _get_lr(optimizer)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                name_str = f" {name}" if name else ""
                io_utils.print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name_str} learning rate to {new_lr}.")
            return True
        return False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        _log_learning_rates(self.model, logs)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                optimizers = _optimizers_of(self.model)
                several = len(optimizers) > 1 or optimizers[0] is not self.model.optimizer
                reduced = False
                for opt in optimizers:
                    if self._reduce_optimizer_lr(opt, epoch, getattr(opt, "name", "") if several else ""):
                        reduced = True
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


def _schedule_takes_lr(schedule):
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return True
    return len(positional) >= 2


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch from ``schedule``.

    Args:
        schedule: A function ``schedule(epoch, lr) -> new_lr`` (epoch counted from 0, lr the
            current rate as a float), or Keras 2's ``schedule(epoch) -> new_lr``.
        verbose: 0 (quiet) or 1 (prints each new rate).

    Example:

    ```python
    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * math.exp(-0.1)

    model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(scheduler)])
    ```
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                f"`schedule` must be a function schedule(epoch, lr) -> float. Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _schedule_takes_lr(schedule)

    def _update_optimizer_lr(self, optimizer, epoch):
        lr = _get_lr(optimizer)
        if self._takes_lr is None:
            try:
                new_lr = self.schedule(epoch, lr)
            except TypeError:  # Keras's fallback for one-argument schedules it cannot inspect
                new_lr = self.schedule(epoch)
        elif self._takes_lr:
            new_lr = self.schedule(epoch, lr)
        else:
            new_lr = self.schedule(epoch)
        if isinstance(new_lr, torch.Tensor) and new_lr.numel() == 1:
            new_lr = new_lr.item()
        elif isinstance(new_lr, np.ndarray) and new_lr.ndim == 0:
            new_lr = new_lr.item()
        if isinstance(new_lr, bool) or not isinstance(new_lr, Real):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {new_lr!r}")
        new_lr = float(new_lr)
        optimizer.learning_rate = new_lr
        return new_lr

    def on_epoch_begin(self, epoch, logs=None):
        optimizers = _optimizers_of(self.model)
        several = len(optimizers) > 1 or optimizers[0] is not self.model.optimizer
        for opt in optimizers:
            lr = self._update_optimizer_lr(opt, epoch)
            if self.verbose > 0:
                which = f"{opt.name} learning rate" if several else "learning rate"
                io_utils.print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting {which} to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            _log_learning_rates(self.model, logs)


class LambdaCallback(Callback):
    """Builds a callback from plain functions.

    Each argument replaces the hook of the same name; the functions take the hook's
    arguments: ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``. Any other
    hook (``on_batch_end``, ``on_test_end``...) can be given as a keyword argument.

    Example:

    ```python
    print_loss = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    ```
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_HOOKS))
        if unknown:
            raise ValueError(
                f"LambdaCallback received unknown hook names: {unknown}. Valid names: {', '.join(_HOOKS)}."
            )
        hooks = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise ValueError(f"LambdaCallback argument `{name}` must be callable. Received: {fn!r}")
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite.

    Args:
        raise_error: False (default) stops gracefully with ``model.stop_training = True``;
            True raises ``RuntimeError`` at once.
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = _to_python(loss)
        if np.isnan(loss) or np.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating training immediately."
                )
            io_utils.print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class RemoteMonitor(Callback):
    """Posts each epoch's logs to a server, as Keras's ``RemoteMonitor`` does (with ``urllib``, so no
    ``requests`` package is needed).

    At every epoch end it sends ``{"epoch": epoch, **logs}`` to ``root + path`` with an HTTP POST: as a
    JSON body when ``send_as_json``, else as a form with one field ``field`` holding that JSON text.
    A server that cannot be reached gives a warning and training goes on. Under ``torchrun`` only the
    first process posts.

    Args:
        root: the server's root URL.
        path: the path the events go to.
        field: the form field holding the JSON text (when ``send_as_json`` is False).
        headers: extra HTTP headers (a dict).
        send_as_json: send the logs as an ``application/json`` body.
        timeout: seconds to wait for the server before warning (not in Keras, which waits without limit).
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False, timeout=10.0):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        if not distribute.is_chief():
            return
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            value = _to_python(value)
            send[key] = value.tolist() if isinstance(value, np.ndarray) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn("Could not reach RemoteMonitor root server at " + str(self.root), stacklevel=2)


class SwapEMAWeights(Callback):
    """Evaluates (and predicts) with the optimizer's moving averages of the weights instead of the
    weights, as Keras's ``SwapEMAWeights`` does; use it with an optimizer made with ``use_ema=True``.

    The weights and their averages are swapped in place before evaluation and swapped back after it.

    Args:
        swap_on_epoch: also hold the averages in the model between the end of one epoch and the start of
            the next, so that other callbacks (e.g. ``ModelCheckpoint``) see them.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None or not getattr(optimizer, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. Received: "
                             f"use_ema={getattr(optimizer, 'use_ema', None)}")
        return optimizer

    def _swap_variables(self):
        optimizer = self._optimizer()
        if not optimizer.built:
            return
        with torch.no_grad():
            for var, average in optimizer.moving_average_pairs():
                kept = var.detach().clone()
                var.copy_(average)
                average.copy_(kept)

    def _finalize_ema_values(self):
        optimizer = self._optimizer()
        with torch.no_grad():
            for var, average in optimizer.moving_average_pairs():
                average.copy_(var)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # fit ends by copying the averages into the weights: after the last epoch they must be there.
            if epoch == (self.params or {}).get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        self.on_test_begin(logs)

    def on_predict_end(self, logs=None):
        self.on_test_end(logs)


class BackupAndRestore(Callback):
    """Backs up the weights, the optimizer's state and the epoch reached to ``backup_dir`` during
    ``fit``, so that a ``fit`` interrupted (a crash, a killed job) and started again with the same
    callback resumes from the last backup instead of from scratch, as Keras's callback does.

    The files are Keras's: ``latest.weights.h5`` and ``training_metadata.json`` (``{"epoch", "batch"}``);
    each is written to a temporary file first and renamed, so a kill never leaves a half-written backup.

    Args:
        backup_dir: the folder of the backup (created when missing).
        save_freq: ``"epoch"`` (after every epoch), an int (every that many batches) or False (only
            restore).
        delete_checkpoint: delete the backup when ``fit`` finishes normally.
        double_checkpoint: also keep the previous backup (``*.bkp``), used if the latest cannot be read.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, double_checkpoint=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and save_freq is not False and (not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                             "Expected either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.double_checkpoint = double_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0

    def _needs_train_batch_logs(self):
        return isinstance(self.save_freq, int) and self.save_freq is not False

    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except (OSError, ModelFileError):
            if not os.path.exists(self._prev_weights_path):
                raise
            # The latest backup cannot be read (a damaged disk...): fall back to the one before it.
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        model = self.model
        if not model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built before you call "
                             f"`fit()`. Model {model.name!r} is unbuilt. You can build it beforehand by calling it "
                             "on a batch of data.")
        if os.path.exists(self._weights_path):
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                model.build_optimizer()  # so that its saved state has somewhere to go
            model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path, encoding="utf-8") as f:
                metadata = json.loads(f.read())
            epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
            if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
                raise ValueError(f"{self._training_metadata_path}: 'epoch' must be a non-negative int. "
                                 f"Received: {epoch!r}")
            self._current_epoch = epoch
            model._initial_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch" or self.save_freq is False:
            return
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model()

    def _save_model(self):
        if not distribute.is_chief():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for src, dst in ((self._weights_path, self._prev_weights_path),
                             (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(src):
                    shutil.copyfile(src, dst)
        self.model.save_weights(self._weights_path, overwrite=True)
        text = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})

        def write(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)

        atomic_write(self._training_metadata_path, write)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and distribute.is_chief():
            for path in (self._weights_path, self._training_metadata_path, self._prev_weights_path,
                         self._prev_training_metadata_path):
                if os.path.exists(path):
                    os.remove(path)


def _summary_writer_class():
    """``torch.utils.tensorboard.SummaryWriter``; a clear message when the tensorboard package is missing."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError("The TensorBoard callback writes event files with torch.utils.tensorboard, which needs "
                          "the `tensorboard` package: pip install tensorboard")
    from torch.utils.tensorboard import SummaryWriter  # optional dependency: tensorboard

    return SummaryWriter


class TensorBoard(Callback):
    """Writes TensorBoard event files during training, as Keras's callback does: scalars per epoch
    (``epoch_loss``, ``epoch_<metric>``, ``epoch_learning_rate``) in ``log_dir/train`` and, for the
    validation logs, in ``log_dir/validation``; per batch (``batch_<name>``) with ``update_freq``;
    weight histograms (``<weight path>/histogram``) every ``histogram_freq`` epochs; the model's graph
    (traced by torch) with ``write_graph``; ``evaluation_<name>_vs_iterations`` after ``evaluate``.
    Written through ``torch.utils.tensorboard``: the ``tensorboard`` package must be installed.

    Args:
        log_dir: the folder of the event files.
        histogram_freq: epochs between weight histograms (0: none).
        write_graph: trace the model with torch and write its graph (a model torch cannot trace gets a
            warning and no graph).
        write_images: also write 1-D to 3-D weights as images with the histograms.
        write_steps_per_second: write training steps per second (per epoch, and per batch with
            ``update_freq``).
        update_freq: ``"epoch"``, ``"batch"`` or an int: write batch scalars every that many batches.
        profile_batch: only 0 (profiling is not supported: use torch.profiler).
        embeddings_freq: epochs between saves of the weights to ``train/keras_embedding.ckpt-<epoch>.weights.h5``.
        embeddings_metadata: accepted for Keras's signature (the projector config is not written).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        if profile_batch not in (0, None, (0, 0)):
            raise ValueError("TensorBoard(profile_batch=...) is not supported: profile with torch.profiler. "
                             f"Received: profile_batch={profile_batch!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq <= 0):
            raise ValueError(f"update_freq must be 'epoch', 'batch' or a positive int. Received: {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_start_batch = 0
        self._batch_start = None

    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = self._writer_class(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _needs_train_batch_logs(self):
        return self.update_freq != "epoch"

    def _scalars(self, which, prefix, logs, step):
        writer = self._writer(which)
        for name, value in logs.items():
            value = _to_python(value)
            if isinstance(value, (int, float)):
                writer.add_scalar(f"{prefix}{name}", value, global_step=step)

    def on_train_begin(self, logs=None):
        if not distribute.is_chief():
            return
        self._global_train_batch = 0
        if self.write_graph:
            self._write_graph()

    def _write_graph(self):
        model = self.model
        inputs = getattr(model, "inputs", None)
        if not inputs or any(d is None for t in inputs for d in t.shape[1:]):
            warnings.warn("TensorBoard: the model's graph is written only for models with known input shapes.",
                          stacklevel=3)
            return
        examples = [torch.zeros((1,) + tuple(t.shape[1:]), dtype=getattr(torch, t.dtype),
                                device=next((p.device for p in model.parameters()), "cpu")) for t in inputs]
        try:
            was_training = model.training
            model.eval()
            self._writer("train").add_graph(model, examples[0] if len(examples) == 1 else [examples])
            model.train(was_training)
        except Exception as e:  # torch cannot trace every model; training goes on
            warnings.warn(f"TensorBoard: torch could not trace model {model.name!r} to write its graph ({e}); "
                          "no graph is written.", stacklevel=3)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_start_batch = self._global_train_batch

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq or not distribute.is_chief():
            return
        scalars = dict(logs or {})
        if self.write_steps_per_second and self._batch_start is not None:
            scalars["steps_per_second"] = 1.0 / max(time.perf_counter() - self._batch_start, 1e-9)
        self._scalars("train", "batch_", scalars, self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        if not distribute.is_chief():
            return
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second and self._epoch_start is not None:
            train["steps_per_second"] = (self._global_train_batch - self._epoch_start_batch) / max(
                time.perf_counter() - self._epoch_start, 1e-9)
        self._scalars("train", "epoch_", train, epoch)
        if val:
            self._scalars("validation", "epoch_", val, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            os.makedirs(os.path.join(self.log_dir, "train"), exist_ok=True)
            self.model.save_weights(os.path.join(self.log_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5"))
        for writer in self._writers.values():
            writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = weight.detach().cpu().numpy()
                writer.add_histogram(f"{name}/histogram", values, global_step=epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_images(f"{name}/image", image, global_step=epoch, dataformats="NHWC")

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not distribute.is_chief() or optimizer is None or not logs:
            return
        self._scalars("validation", "evaluation_", {f"{k}_vs_iterations": v for k, v in logs.items()},
                      int(optimizer.iterations))
        self._writer("validation").flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _weight_image(w):
    """A weight as Keras draws it: a bias as one row, a kernel (wider than tall), conv kernels one image
    per output... ``(N, H, W, 1)``; None for shapes Keras does not draw."""
    w = np.squeeze(w)
    if w.ndim == 1:
        return w.reshape(1, w.shape[0], 1, 1)
    if w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        return w.reshape(1, w.shape[0], w.shape[1], 1)
    if w.ndim == 3:
        w = np.transpose(w, (2, 0, 1))  # channels last: one image per kernel
        return w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
    return None
