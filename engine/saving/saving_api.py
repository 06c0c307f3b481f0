"""``save_model``/``load_model`` and the weights-only entry points, chosen by file extension.

- ``.keras``: Keras 3's zip (config, compile config, weights, optimizer state).
- ``.h5``/``.hdf5``: Keras's legacy HDF5 (``model_config``, ``training_config``, ``model_weights``).
- ``.weights.h5``: the Keras 3 weights tree (``save_weights``/``load_weights``); a plain ``.h5`` given
  to ``save_weights`` gets the legacy weights layout that Keras 2 wrote.

Writes are atomic: the file is written beside the target under a temporary name and moved into place
with ``os.replace``, so a failure or a kill mid-save leaves any previous file intact. Every problem
while reading a file raises ``ModelFileError`` (a ``ValueError``) naming the file and the problem.
"""
from __future__ import annotations

import contextlib
import gc
import os
import warnings

import numpy as np
import torch

from engine import distribute, losses, metrics, optimizers
from engine.saving.object_registration import visible_custom_objects
from engine.saving.serialization import ConfigError, ModelFileError  # noqa: F401 - re-exported
from engine.saving.serialization import MAX_JSON_BYTES, config_kind, model_from_json
from engine.utils.file_utils import atomic_write, open_regular, read_regular

_H5_EXTENSIONS = (".h5", ".hdf5")
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------- writing
def _atomic_write(path, write):
    """Run ``write(tmp_path)`` on a temporary file beside ``path``, then move it over ``path``
    (``engine.utils.file_utils.atomic_write``: unique temporary, permissions kept, cleanup on failure)."""
    atomic_write(path, write)


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False. Pass overwrite=True to replace it.")


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Save a Sequential or functional model to ``.keras`` (Keras 3 zip) or ``.h5`` (legacy HDF5).

    Args:
        model: the model to save.
        filepath: a path ending in ``.keras`` or ``.h5``/``.hdf5``.
        overwrite: whether to replace an existing file (otherwise ``FileExistsError``).
        include_optimizer: whether to save the compile configuration and the optimizer's state.

    Under torchrun only rank 0 writes; the other processes return at once (their models are equal).
    """
    import h5py  # start-up time: h5py takes ~0.25 s, loaded on the first save or load

    from engine.saving import h5_format, keras_zip  # start-up time: they import h5py

    if not distribute.is_chief():
        return

    unknown = set(kwargs) - {"zipped", "save_format", "signatures", "options", "save_traces"}
    if unknown:
        raise TypeError(f"save_model() got unexpected keyword argument(s) {sorted(unknown)}.")
    path = os.fspath(filepath)
    _require_config(model)
    if path.endswith(".keras"):
        def write(tmp):
            with open(tmp, "wb") as f:
                keras_zip.save_keras(model, f, include_optimizer=include_optimizer)
    elif path.endswith(_H5_EXTENSIONS) and not path.endswith(".weights.h5"):
        def write(tmp):
            with h5py.File(tmp, "w") as f:
                h5_format.save_model_h5(model, f, include_optimizer=include_optimizer)
    else:
        raise ValueError("Invalid filepath extension for saving. Please add either a `.keras` extension for the "
                         f"native Keras format (recommended) or a `.h5` extension. Received: filepath={path}"
                         + (" (a .weights.h5 file holds weights only: use model.save_weights)."
                            if path.endswith(".weights.h5") else ""))
    _check_overwrite(path, overwrite)
    _atomic_write(path, write)


def _require_config(model):
    if config_kind(model) is None:
        raise NotImplementedError(
            f"Model {model.name!r} is a subclassed Model: its architecture is Python code and cannot be saved "
            "in a file. Use model.save_weights('x.weights.h5'), or build it as Sequential/functional.")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built yet, so it has no weights to save. Call it on data "
                         "or give it an input shape (Input(...) or model.build(...)) first.")


def save_weights(model, filepath, overwrite=True):
    """Save only the weights: ``.weights.h5`` (Keras 3 tree) or ``.h5`` (legacy layout)."""
    if not distribute.is_chief():  # under torchrun only rank 0 writes
        return
    import h5py  # start-up time: h5py takes ~0.25 s, loaded on the first save or load

    from engine.saving import h5_format, keras_zip  # start-up time: they import h5py

    path = os.fspath(filepath)
    if path.endswith(".weights.h5"):
        def write(tmp):
            with h5py.File(tmp, "w") as f:
                keras_zip.write_weights(model, f)
    elif path.endswith(_H5_EXTENSIONS):
        def write(tmp):
            with h5py.File(tmp, "w") as f:
                h5_format.write_layer_weights(f, model)
    else:
        raise ValueError("The filename must end in `.weights.h5` (or `.h5` for the legacy layout). "
                         f"Received: filepath={path}")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built yet, so it has no weights to save.")
    _check_overwrite(path, overwrite)
    _atomic_write(path, write)


# ---------------------------------------------------------------------------------------------- reading
def _kind(path):
    try:
        with open_regular(path) as f:  # a FIFO or a device is refused, never read (it would block)
            head = f.read(8)
    except FileNotFoundError:
        raise ModelFileError("the file does not exist") from None
    except IsADirectoryError:
        raise ModelFileError("the path is a directory, not a model file") from None
    except OSError as e:
        raise ModelFileError(f"the file cannot be opened: {e.strerror or e}") from None
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "keras"
    import h5py  # start-up time: h5py takes ~0.25 s, loaded on the first save or load

    if head == _HDF5_MAGIC or (not path.endswith(".keras") and _is_hdf5(h5py, path)):
        return "h5"
    if path.endswith(".keras"):
        raise ModelFileError("not a .keras file: it does not start like a zip archive")
    if path.endswith(_H5_EXTENSIONS):
        raise ModelFileError("not an HDF5 file")
    if path.endswith(".json"):
        return "json"
    raise ModelFileError("unknown file format: expected a .keras (zip) or .h5 (HDF5) model file")


def _is_hdf5(h5py, path):
    try:
        return bool(h5py.is_hdf5(path))
    except Exception:  # any failure means "not HDF5"
        return False


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector held off while a model is read, and let run again after (unless it
    was off already). A read makes some 10^5 objects that all stay (configs, layers, weights), and every
    collection their making sets off walks every object of the program: 0.1-0.25 s of NASNetLarge's first
    load in a fresh interpreter, more in the window, which holds many more objects. Garbage in reference
    cycles made during the read waits for the first collection after it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _guard(path, fn):
    """Run ``fn()``; any failure becomes ``ModelFileError`` naming ``path`` and the problem."""
    try:
        with collector_paused():
            return fn()
    except ModelFileError as e:
        raise ModelFileError(f"Cannot load {path!r}: {e}") from e
    except Exception as e:  # a hostile file must end in the one documented exception
        raise ModelFileError(f"Cannot load {path!r}: {type(e).__name__}: {e}") from e


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by Keras 3, Keras 2 (tf.keras ``.h5``) or the engine.

    Args:
        filepath: a ``.keras`` archive, a legacy ``.h5`` file or a ``.json`` architecture file.
        custom_objects: optional ``{name: class or function}`` for your own layers, losses and metrics.
            Nothing named in the file is ever imported: classes come from the engine's registry or
            from this dict.
        compile: whether to compile the model with the saved training configuration (and restore the
            optimizer's state) when the file has one.
        safe_mode: accepted for Keras compatibility. Loading is always safe: code stored in a file
            (``Lambda`` layers) is refused whatever this says.

    Raises:
        ModelFileError: the file is missing, malformed, truncated, hostile or holds something the engine
            cannot build; the message names the file and the problem.
    """
    from engine.saving import h5_format, keras_zip  # start-up time: they import h5py

    path = os.fspath(filepath)

    def load():
        kind = _kind(path)
        if kind == "keras":
            with open_regular(path) as f:
                return keras_zip.load_keras(f, custom_objects=custom_objects, compile=compile)
        if kind == "json":
            return model_from_json(read_regular(path, MAX_JSON_BYTES), custom_objects=custom_objects)
        with h5_format.open_h5(path) as f:
            return h5_format.load_model_h5(f, custom_objects=custom_objects, compile=compile)

    return _guard(path, load)


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights into ``model`` from ``.weights.h5``, a full ``.h5`` model file or a ``.keras`` archive."""
    from engine.saving import h5_format, keras_zip  # start-up time: they import h5py

    path = os.fspath(filepath)

    def from_h5(f):
        if h5_format._attr(f, "layer_names") is not None or h5_format._attr(f, "layer_names0") is not None:
            h5_format.read_layer_weights(f, model, skip_mismatch=skip_mismatch)
        elif h5_format.has_entry(f, "model_weights"):
            h5_format.read_layer_weights(h5_format.get_group(f, "model_weights"), model, skip_mismatch)
        elif h5_format.has_entry(f, "layers") or h5_format.has_entry(f, "vars"):
            keras_zip.read_weights(model, f, skip_mismatch=skip_mismatch, optimizer="built")
        else:
            raise ModelFileError("the HDF5 file holds no Keras weights (no 'layers', 'vars', 'layer_names' or "
                                 "'model_weights')")

    def load():
        kind = _kind(path)
        if kind == "keras":
            with open(path, "rb") as raw, keras_zip.open_archive(raw) as zf, keras_zip.weights_file(zf, raw, model) as f:
                return from_h5(f)
        if kind != "h5":
            raise ModelFileError("load_weights reads .weights.h5, .h5 and .keras files")
        with h5_format.open_h5(path) as f:
            from_h5(f)

    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built yet: build it (call it on data, or give it an Input) "
                         "before loading weights, so that its weights exist.")
    _guard(path, load)


# ---------------------------------------------------------------------------------------------- compile config
def map_nested(fn, value):
    """``fn`` over the leaves of nested lists and dicts (a dict with a 'class_name' is a leaf)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [map_nested(fn, v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: map_nested(fn, v) for k, v in value.items()}
    return fn(value)


def serialize_metric(metric):
    """A metric as a compile config holds it (the names resolved from the data's shapes stay names)."""
    if isinstance(metric, str) and metric.lower() in ("accuracy", "acc", "crossentropy", "ce"):
        return metric  # resolved from the data's shapes when compiled
    return metrics.serialize(metric)


def _optimizer_from_config(config, custom_objects):
    if isinstance(config, str):
        return optimizers.get(config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ModelFileError(f"the optimizer config should be an object with a 'class_name'. Received: {config!r:.120}")
    config = dict(config)
    # tf.keras wrote "Custom>Adam" and dotted names for some optimizers: the class name is the last part.
    config["class_name"] = config["class_name"].split(">")[-1].split(".")[-1]
    inner = config.get("config")
    if inner is not None and not isinstance(inner, dict):
        raise ModelFileError("the optimizer's 'config' should be an object")
    return optimizers.deserialize(config, custom_objects=custom_objects)


def compile_from_config(model, config, custom_objects=None):
    """Compile ``model`` from a Keras ``compile_config`` (or a legacy ``training_config``)."""
    if not isinstance(config, dict):
        raise ModelFileError(f"the compile config should be a JSON object. Received: {type(config).__name__}")
    # The user's registered losses and metrics too (by "package>name", and by their own name, which is
    # how the engine writes a custom loss), then custom_objects and the open custom_object_scopes.
    visible = visible_custom_objects(custom_objects)
    for key, obj in list(visible.items()):
        if ">" in key:
            visible.setdefault(key.split(">", 1)[1], obj)
    custom_objects = visible

    def loss_of(spec):
        if isinstance(spec, (str, dict)):
            return losses.deserialize(spec, custom_objects=custom_objects)
        raise ModelFileError(f"unreadable loss {spec!r:.80}")

    def metric_of(spec):
        if isinstance(spec, str) and spec.lower() in ("accuracy", "acc", "crossentropy", "ce"):
            return spec
        if isinstance(spec, str):
            if custom_objects and spec in custom_objects:
                return custom_objects[spec]
            metrics.get(spec)  # fail now on an unknown name
            return spec
        if isinstance(spec, dict):
            return metrics.deserialize(spec, custom_objects=custom_objects)
        raise ModelFileError(f"unreadable metric {spec!r:.80}")

    try:
        optimizer = _optimizer_from_config(config.get("optimizer"), custom_objects)
        loss = map_nested(loss_of, config.get("loss"))
        metric_specs = map_nested(metric_of, config.get("metrics"))
        weighted = map_nested(metric_of, config.get("weighted_metrics"))
        loss_weights = config.get("loss_weights")
        if loss_weights is not None and not isinstance(loss_weights, (list, dict, int, float)):
            raise ModelFileError(f"unreadable loss_weights {loss_weights!r:.80}")
        run = {}  # Keras's execution settings, where the file has them (compile refuses bad values)
        for key, default in (("run_eagerly", False), ("steps_per_execution", 1), ("jit_compile", False)):
            value = config.get(key, default)
            if value is not None and key != "steps_per_execution" and not isinstance(value, bool):
                raise ModelFileError(f"{key} should be true or false. Received: {value!r:.80}")
            run[key] = default if value is None else value
        model.compile(optimizer=optimizer, loss=loss, metrics=metric_specs, weighted_metrics=weighted,
                      loss_weights=loss_weights, **run)
    except ModelFileError as e:
        raise ModelFileError(f"cannot compile the model from its saved training configuration: {e}. Pass "
                             "compile=False to load it uncompiled.") from None
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ModelFileError(f"cannot compile the model from its saved training configuration: {e}. Pass "
                             "compile=False to load it uncompiled, or custom_objects for your own losses, "
                             "metrics or optimizer.") from None


def restore_optimizer(model, count, read):
    """Build ``model.optimizer`` on the model's weights and restore ``count`` saved values.

    ``read(i, expected_shape)`` returns the i-th saved value. A file whose state does not fit the
    optimizer (another optimizer, Keras 2's slot order...) is skipped with a warning, as Keras does.
    """
    opt = model.optimizer
    if opt is None:
        return
    if not opt.built:
        if count <= len(opt.variable_names):  # only the iteration (and learning rate): saved before a first step
            return
        model.build_optimizer()  # on the device training will use: the optimizer's slots live beside the weights
    expected = opt.get_state()
    if count != len(expected):
        warnings.warn(f"Skipping the optimizer state in the file: optimizer {opt.name!r} has {len(expected)} "
                      f"variables, the file {count}. Training restarts with a fresh optimizer state.",
                      stacklevel=3)
        return
    values = [read(i, tuple(np.shape(e))) for i, e in enumerate(expected)]
    with torch.no_grad():
        opt.set_state(values)


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "ModelFileError", "ConfigError"]
