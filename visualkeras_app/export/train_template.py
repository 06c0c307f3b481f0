"""Train a model with engine: the template of the exported training script.

visualkeras-app writes this file with its docstring, settings and ``build_model`` replaced (the parts
between the ``# ----`` marker lines); the rest is copied as it is. It must keep running on its own:
import only the standard library, numpy and engine, never visualkeras_app. The data preparation
repeats ``visualkeras_app/training/data.py`` and the compile and fit steps ``training/session.py``,
so that the script trains as the app does; tests/visualkeras_app/export/test_training_script.py checks
that they agree.
"""
# ---- end of docstring
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys

import numpy as np

from engine import backend, distribute, losses, mixed_precision, optimizers
from engine.optimizers.schedules import OneCycle

# ---- settings
DATASET = "mnist"
LOSS = "auto"
OPTIMIZER = "adam"
LEARNING_RATE = 0.001
SCHEDULE = "one_cycle"
EPOCHS = 1
BATCH_SIZE = 64
VALIDATION_SPLIT = 0.1
SEED = 0
MAX_TRAIN_SAMPLES = None
DEVICE = None
PRECISION = "float32"
OUTPUT = "model.keras"
# ---- end of settings


def build_model():
    """The model, with fresh weights drawn from the current seed."""
    # ---- model
    import engine
    from engine import layers

    model = engine.Sequential([engine.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    # ---- end of model
    return model


# ------------------------------------------------------------------------------------------ processes
def is_chief():
    """True in the process that prints and writes files: rank 0 under torchrun, else the only one."""
    return distribute.is_chief()


def world_size():
    return distribute.world_size()


def say(*args):
    if is_chief():
        print(*args, flush=True)


class DataProblem(Exception):
    """The data cannot be read, or does not fit the model; the message says how to fix it."""


# ------------------------------------------------------------------------------------------ loading
MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
LABEL_COLUMNS = ("label", "labels", "class", "target", "y")
CSV_TEST_FRACTION = 0.1  # without a companion test file, the last 10% of a CSV's rows test
# Limits on a data file, checked before memory is taken (VISUALKERAS_MAX_DATA_BYTES raises the first).
MAX_DATA_BYTES = int(os.environ.get("VISUALKERAS_MAX_DATA_BYTES") or 4 << 30)
MAX_CSV_COLUMNS = 65536
MAX_CLASSES = 100_000


def load_dataset(name_or_path):
    """(x_train, y_train, x_test, y_test, class_names): "mnist", "fashion_mnist", or a .npz/.csv path.

    A .npz holds x_train, y_train, x_test, y_test (Keras's layout; optionally class_names). A .csv has
    one sample per row, the label in a column named label/class/target/y (else the first column); its
    test set is the file with "train" in the name changed to "test" when there is one, else its last
    10% of rows. A folder holds one subfolder of images per class, or train/ and test/ holding them;
    without test/, 20% of each class is held out to test (load_folder). MNIST and Fashion-MNIST are read
    from $VISUALKERAS_DATA, Keras's cache or downloaded.
    """
    key = str(name_or_path)
    norm = key.lower().replace("-", "_").replace(" ", "_")
    if norm in ("mnist", "fashion_mnist"):
        from engine import datasets

        (x_train, y_train), (x_test, y_test) = getattr(datasets, norm).load_data()
        names = MNIST_CLASSES if norm == "mnist" else FASHION_CLASSES
        return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), list(names)
    if os.path.isdir(key):
        return check_data(key, *load_folder(key))
    if os.path.exists(key) and not os.path.isfile(key):
        raise DataProblem(f"{key}: not a regular file (a pipe or a device); a data set is a folder of images, a "
                          ".npz or a .csv file.")
    if not os.path.isfile(key):
        raise DataProblem(f"No data set {key!r}: set DATASET (or --dataset) to 'mnist', 'fashion_mnist', a folder "
                          "of images (one subfolder per class), or the path of an existing .npz or .csv file.")
    ext = os.path.splitext(key)[1].lower()
    if ext == ".npz":
        return check_data(key, *load_npz(key))
    if ext == ".csv":
        return check_data(key, *load_csv(key))
    raise DataProblem(f"{key}: unknown data file type {ext!r}; use a .npz (x_train, y_train, x_test, y_test) or "
                      "a .csv (a label column and one column per pixel or feature).")


def check_data(where, x_train, y_train, x_test, y_test, names):
    """The data when it can be trained and evaluated on; else DataProblem saying why (as the app)."""
    for x, y, split in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if len(x) == 0:
            raise DataProblem(f"{where}: the {split} set is empty; it needs at least one sample.")
        if x.ndim < 2 or math.prod(x.shape[1:]) == 0:
            raise DataProblem(f"{where}: the {split} samples have shape {tuple(x.shape[1:])}; each needs at least "
                              "one feature or pixel.")
        if x.dtype.kind not in "fiub":
            raise DataProblem(f"{where}: the {split} samples hold {x.dtype} values; they must be numbers.")
        if x.dtype.kind == "f":
            bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
            if bad.any():
                raise DataProblem(f"{where}: {split} sample {int(np.flatnonzero(bad)[0])} holds a NaN or infinite "
                                  f"value ({int(bad.sum())} samples do); remove or fix them.")
    if len(np.unique(np.concatenate([y_train.reshape(-1), y_test.reshape(-1)]))) < 2:
        raise DataProblem(f"{where}: every label is the same class; a classifier needs at least two.")
    return x_train, y_train, x_test, y_test, names


def labels_to_ints(y_train, y_test, names=None):
    """Integer labels 0..k-1 and class names; text or non-contiguous labels are numbered in sorted order."""
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    for y, split in ((y_train, "training"), (y_test, "test")):
        if y.ndim != 1 and y.ndim != 2:
            raise DataProblem(f"The {split} labels have shape {y.shape}; expected one label per sample (N,).")
    if y_train.ndim == 2 and y_train.shape[1] > 1:  # one-hot on disk
        y_train = y_train.argmax(axis=1)
        y_test = y_test.argmax(axis=1) if y_test.ndim == 2 and y_test.shape[1] > 1 else y_test
    y_train, y_test = y_train.reshape(len(y_train)), y_test.reshape(len(y_test))
    for y, split in ((y_train, "training"), (y_test, "test")):
        if y.dtype.kind not in "iufbUSO":
            raise DataProblem(f"The {split} labels hold {y.dtype} values; labels are class numbers or names.")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            row = int(np.flatnonzero(~np.isfinite(y))[0])
            raise DataProblem(f"The {split} label of sample {row} is {float(y[row])}; every label must be a "
                              "class number or name.")
    if y_train.dtype.kind in "iu" and y_test.dtype.kind in "iu":
        if min(int(y_train.min(initial=0)), int(y_test.min(initial=0))) >= 0:
            k = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
            if k > MAX_CLASSES:
                raise DataProblem(f"A label is {k - 1}: classes are numbered from 0, and at most {MAX_CLASSES:,} "
                                  "classes are supported. Check the label column.")
            if names is None or len(names) != k:
                names = [str(i) for i in range(k)]
            return y_train.astype(np.int64), y_test.astype(np.int64), list(names)
    if y_train.dtype.kind == "f" and np.all(np.mod(y_train, 1) == 0) and np.all(np.mod(y_test, 1) == 0) \
            and max(np.abs(y_train).max(initial=0), np.abs(y_test).max(initial=0)) < 2**62:
        return labels_to_ints(y_train.astype(np.int64), y_test.astype(np.int64), names)
    values = sorted(set(y_train.tolist()) | set(y_test.tolist()), key=str)
    if len(values) > MAX_CLASSES:
        raise DataProblem(f"The labels name {len(values):,} different classes, more than the {MAX_CLASSES:,} "
                          "supported. Check the label column.")
    index = {v: i for i, v in enumerate(values)}
    to_int = np.vectorize(index.__getitem__, otypes=[np.int64])
    return to_int(y_train), to_int(y_test), [str(v) for v in values]


def load_npz(path):
    import zipfile

    from engine.utils.file_utils import open_regular

    try:
        handle = open_regular(path)
    except OSError as e:
        raise DataProblem(f"{path}: cannot be read ({e.strerror or e}).") from None
    try:
        with handle, zipfile.ZipFile(handle) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataProblem(f"{path}: not a readable .npz file ({e}).") from None
    if total > MAX_DATA_BYTES:
        raise DataProblem(f"{path}: its arrays unpack to {total:,} bytes, over the limit of {MAX_DATA_BYTES:,} "
                          "(VISUALKERAS_MAX_DATA_BYTES raises it).")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
            if missing:
                raise DataProblem(f"{path}: the file lacks the arrays {missing}. A data set .npz holds x_train, "
                                  f"y_train, x_test and y_test (found: {sorted(f.files)}).")
            x_train, y_train, x_test, y_test = (f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
            names = [str(n) for n in f["class_names"]] if "class_names" in f.files else None
    except (ValueError, OSError, EOFError, KeyError) as e:
        raise DataProblem(f"{path}: not a readable .npz file ({e}).") from None
    for x, y, split in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if x.ndim == 0 or y.ndim == 0:
            raise DataProblem(f"{path}: the {split} data is a single value, not an array of samples.")
        if len(x) != len(y):
            raise DataProblem(f"{path}: {len(x)} {split} samples but {len(y)} {split} labels.")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataProblem(f"{path}: training samples have shape {x_train.shape[1:]} but test samples "
                          f"{x_test.shape[1:]}; they must agree.")
    y_train, y_test, names = labels_to_ints(y_train, y_test, names)
    return x_train, y_train, x_test, y_test, names


def read_csv(path):
    """(labels, features) of a CSV; the label column chosen by name, else the first. The features are
    parsed straight to float32, a regular file of at most MAX_CSV_COLUMNS columns only."""
    from engine.utils.file_utils import open_regular

    try:
        with open_regular(path) as raw:
            size = os.fstat(raw.fileno()).st_size
            import io

            with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
                first = f.readline(16 << 20)
    except OSError as e:
        raise DataProblem(f"{path}: cannot be read ({e.strerror or e}).") from None
    except UnicodeDecodeError:
        raise DataProblem(f"{path}: not a text (UTF-8) CSV file.") from None
    if not first.strip():
        raise DataProblem(f"{path}: the file is empty.")
    if first.count(",") + 1 > MAX_CSV_COLUMNS:
        raise DataProblem(f"{path}: the first row has {first.count(',') + 1:,} columns, more than the "
                          f"{MAX_CSV_COLUMNS:,} supported.")
    if 2 * size > MAX_DATA_BYTES:
        raise DataProblem(f"{path}: the file is {size:,} bytes, over the limit of {MAX_DATA_BYTES // 2:,} "
                          "(VISUALKERAS_MAX_DATA_BYTES raises it).")
    cells = next(csv.reader([first]))
    header = None
    try:
        [float(c) for c in cells[1:]]
    except ValueError:
        header = [c.strip().lower() for c in cells]
    label_col = 0
    if header is not None:
        label_col = next((header.index(n) for n in LABEL_COLUMNS if n in header), 0)
    if len(cells) < 2:
        raise DataProblem(f"{path}: expected rows with a label and at least one feature; found {len(cells)} column.")
    features = [i for i in range(len(cells)) if i != label_col]
    common = dict(delimiter=",", skiprows=1 if header else 0, ndmin=2, encoding="utf-8-sig")
    try:
        with open_regular(path) as f:
            labels = np.loadtxt(f, dtype=str, usecols=[label_col], **common)[:, 0]
    except (ValueError, IndexError) as e:
        raise DataProblem(f"{path}: not a readable CSV ({e}); every row needs the same number of columns.") from None
    if labels.shape[0] == 0:
        raise DataProblem(f"{path}: expected rows with a label and at least one feature; found no rows.")
    try:
        with open_regular(path) as f:
            x = np.loadtxt(f, dtype=np.float32, usecols=features, **common)
    except (ValueError, IndexError):
        raise DataProblem(f"{path}: the pixel/feature columns must hold numbers (only the label column may hold "
                          "text), and every row needs the same number of columns.") from None
    try:
        y = labels.astype(np.float64)
    except ValueError:
        y = labels
    return y, x


def rows_as_images(x):
    """Rows of a square number of pixels become square images (N, s, s), as uint8 when they are 0-255."""
    side = math.isqrt(x.shape[1])
    if side * side == x.shape[1] and side >= 4:
        x = x.reshape(len(x), side, side)
    if x.size and np.all(np.mod(x, 1) == 0) and x.min() >= 0 and x.max() <= 255 and x.max() > 1:
        x = x.astype(np.uint8)
    return x


def load_csv(path):
    y, x = read_csv(path)
    folder, base = os.path.split(path)
    test_path = os.path.join(folder, base.replace("train", "test")) if "train" in base else None
    if test_path is not None and os.path.isfile(test_path):
        y_test, x_test = read_csv(test_path)
        if x_test.shape[1] != x.shape[1]:
            raise DataProblem(f"{test_path} has {x_test.shape[1]} feature columns but {path} has {x.shape[1]}.")
        x_train, y_train = x, y
    else:
        n_test = max(1, int(round(len(x) * CSV_TEST_FRACTION))) if len(x) > 1 else 0
        if n_test == 0:
            raise DataProblem(f"{path}: a CSV needs at least 2 rows (some are held out to test).")
        x_train, y_train, x_test, y_test = x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:]
    y_train, y_test, names = labels_to_ints(y_train, y_test)
    return rows_as_images(x_train), y_train, rows_as_images(x_test), y_test, names


# A folder of images, read as the app reads it (its training/folder_data.py).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
FOLDER_TEST_FRACTION = 0.2  # held out of each class when the folder has no test/ subfolder
FOLDER_SEED = 1337
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def class_dirs(folder):
    return sorted(d for d in os.listdir(folder) if not d.startswith(".") and os.path.isdir(os.path.join(folder, d)))


def load_folder(path):
    """(x_train, y_train, x_test, y_test, class_names) of a folder of images, one subfolder per class.
    Every image is read at the most common size, in grayscale when all are gray (else RGB), as uint8."""
    from PIL import Image

    from engine.utils import image_dataset_from_directory

    subdirs = class_dirs(path)
    lowered = {d.lower(): d for d in subdirs}
    train = next((lowered[n] for n in ("train", "training") if n in lowered), None)
    test = next((lowered[n] for n in ("test", "val", "validation", "valid") if n in lowered), None)
    parts = [os.path.join(path, train), os.path.join(path, test)] if train and test and len(subdirs) == 2 else [path]
    classes = sorted(set().union(*(class_dirs(p) for p in parts)))
    if len(classes) < 2:
        raise DataProblem(f"{path}: an image data set needs one subfolder per class, at least two (e.g. cats/ "
                          "and dogs/ holding .png or .jpg files).")
    sizes, modes = {}, set()
    for part in parts:
        for name in classes:
            for root, _, files in sorted(os.walk(os.path.join(part, name)), key=lambda t: t[0]):
                for f in sorted(files):
                    if f.lower().endswith(IMAGE_EXTENSIONS):
                        try:
                            with Image.open(os.path.join(root, f)) as img:
                                size = (img.size[1], img.size[0])
                                modes.add(img.mode)
                        except Exception:  # not an image: left out, as the app does
                            continue
                        sizes[size] = sizes.get(size, 0) + 1
    if not sizes:
        raise DataProblem(f"{path}: no readable images in its class subfolders; put .png or .jpg files in them.")
    size = max(sizes, key=lambda s: (sizes[s], -list(sizes).index(s)))
    color_mode = "grayscale" if modes <= GRAY_MODES else "rgb"
    channels = 1 if color_mode == "grayscale" else 3
    arrays = []
    for part in parts:
        import warnings

        present = [c for c in classes if os.path.isdir(os.path.join(part, c))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = image_dataset_from_directory(part, class_names=present, color_mode=color_mode, image_size=size,
                                              batch_size=256, shuffle=False, verbose=False)
            if len(ds.file_paths) * size[0] * size[1] * channels > MAX_DATA_BYTES:
                raise DataProblem(f"{path}: the images take more than {MAX_DATA_BYTES:,} bytes "
                                  "(VISUALKERAS_MAX_DATA_BYTES raises the limit).")
            xs, ys = zip(*((np.clip(np.rint(x), 0, 255).astype(np.uint8), np.asarray(y, np.int64)) for x, y in ds))
        x = np.concatenate(xs)
        arrays.append((x[..., 0] if channels == 1 else x, np.asarray([classes.index(c) for c in present])[
            np.concatenate(ys)]))
    rng = np.random.default_rng(FOLDER_SEED)
    x, y = arrays[0]
    if len(arrays) == 2:
        order = rng.permutation(len(x))
        return x[order], y[order], arrays[1][0], arrays[1][1], classes
    test_idx = []
    for k in range(len(classes)):
        idx = np.flatnonzero(y == k)
        if len(idx) >= 2:
            test_idx.append(rng.permutation(idx)[:max(1, int(round(len(idx) * FOLDER_TEST_FRACTION)))])
    test_idx = np.sort(np.concatenate(test_idx)) if test_idx else np.zeros(0, np.int64)
    keep = np.ones(len(x), bool)
    keep[test_idx] = False
    train_idx = rng.permutation(np.flatnonzero(keep))
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx], classes


# ------------------------------------------------------------------------------------------ preparing
def output_activation(model):
    """The name of the activation applied last ("softmax", "sigmoid", "linear"...), or None if unknown."""
    try:
        layer = model.outputs[0].keras_history.operation
    except (AttributeError, IndexError, TypeError):
        layer = model.layers[-1] if getattr(model, "layers", None) else None
    if layer is None:
        return None
    if type(layer).__name__ == "Softmax":
        return "softmax"
    act = layer.get_config().get("activation")
    if isinstance(act, dict):
        act = act.get("config", {}).get("name") or act.get("class_name")
    if act is None:
        return "linear" if type(layer).__name__ == "Dense" else None
    return str(act).lower()


def scale(x, steps):
    """Float32 inputs; pixels 0-255 scaled to 0-1."""
    if x.dtype == np.uint8:
        steps.append("scaled pixels 0-255 to 0-1")
        out = x.astype(np.float32)
        out *= np.float32(1.0 / 255.0)
        return out
    x = np.asarray(x, dtype=np.float32)
    if x.size and float(x.max()) > 1.5 and float(x.min()) >= 0 and float(x.max()) <= 255:
        steps.append("scaled pixels 0-255 to 0-1")
        return x / np.float32(255.0)
    return x


def fit_inputs(x, want, steps):
    """``x`` reshaped to the model's input shape ``want`` (no batch axis): a channel axis added or
    dropped, or the images flattened."""
    have = tuple(x.shape[1:])
    shapes = f"(N, {', '.join(map(str, have))}) -> (N, {', '.join(map(str, want))})"
    if len(want) == len(have) and all(w is None or w == h for w, h in zip(want, have)):
        return x
    if None not in want and math.prod(want) == math.prod(have):
        if want == have + (1,):
            steps.append(f"added the channel axis: {shapes}")
            return x.reshape((len(x),) + want)
        if len(want) == 1:
            steps.append(f"flattened the images: (N, {', '.join(map(str, have))}) -> (N, {want[0]})")
            return x.reshape(len(x), want[0])
        if len(have) == 3 and have[-1] == 1 and want == have[:-1]:
            steps.append(f"dropped the channel axis: {shapes}")
            return x.reshape((len(x),) + want)
    raise DataProblem(f"The model's input expects samples of shape {want} but the data set's samples have shape "
                      f"{have}. Change the model's Input (in the app) or the data set.")


def pick_loss(loss, units, activation):
    """(loss name, from_logits): "auto" is sparse categorical crossentropy for one unit per class (from
    logits when the last activation is linear), binary crossentropy for a single unit."""
    if loss not in (None, "auto"):
        return loss, False
    if units == 1:
        return "binary_crossentropy", activation not in (None, "sigmoid")
    return "sparse_categorical_crossentropy", activation in ("linear",)


def encode_labels(y_train, y_test, loss, units, steps):
    if loss == "sparse_categorical_crossentropy":
        return y_train.astype(np.int64), y_test.astype(np.int64)
    if units == 1:
        steps.append("labels as floats (N, 1) for a single output unit")
        return y_train.astype(np.float32).reshape(-1, 1), y_test.astype(np.float32).reshape(-1, 1)
    steps.append(f"one-hot encoded the labels: (N,) -> (N, {units})")
    eye = np.eye(units, dtype=np.float32)
    return eye[y_train], eye[y_test]


def prepare(data, model, loss="auto", max_train_samples=None):
    """Arrays the model takes, as the app prepares them: (x_train, y_train, x_test, y_test, loss name,
    from_logits, steps), ``steps`` saying what was done."""
    x_train, y_train, x_test, y_test, names = data
    if isinstance(model.input_shape, list) or isinstance(model.output_shape, list):
        raise DataProblem("The model has several inputs or outputs; this script trains a model with one input "
                          "and one output.")
    want, out = tuple(model.input_shape)[1:], tuple(model.output_shape)
    steps = []
    if max_train_samples is not None and max_train_samples < len(x_train):
        steps.append(f"used the first {max_train_samples} of {len(x_train)} training samples")
        x_train, y_train = x_train[:max_train_samples], y_train[:max_train_samples]
    k, units = len(names), out[-1]
    if len(out) != 2:
        raise DataProblem(f"The model's output has shape {out}; a classifier of {k} classes needs (None, {k}): "
                          "add Flatten() or GlobalAveragePooling2D() before the last Dense.")
    if units != k and not (units == 1 and k == 2):
        raise DataProblem(f"The last Dense has {units} units but the data set has {k} classes: set units={k}.")
    x_train = fit_inputs(scale(x_train, steps), want, steps)
    x_test = fit_inputs(scale(x_test, []), want, [])
    activation = output_activation(model)
    loss_name, from_logits = pick_loss(loss, units, activation)
    y_train, y_test = encode_labels(y_train, y_test, loss_name, units, steps)
    return x_train, y_train, x_test, y_test, loss_name, from_logits, steps


# ------------------------------------------------------------------------------------------ training
def compile_model(model, args, loss_name, from_logits, total_steps):
    """Compile as the app does: the optimizer class of ``args.optimizer`` at the schedule's rate."""
    rate = OneCycle(args.learning_rate, max(1, total_steps)) if args.schedule == "one_cycle" else args.learning_rate
    optimizer = type(optimizers.get(args.optimizer))(learning_rate=rate)
    loss = loss_name
    if from_logits:
        cls = {"sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
               "categorical_crossentropy": losses.CategoricalCrossentropy,
               "binary_crossentropy": losses.BinaryCrossentropy}.get(loss_name)
        loss = cls(from_logits=True) if cls is not None else loss_name
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def save_model(model, path):
    """Write the ``.keras`` file. The one-cycle schedule is the engine's own, unknown to Keras: the file
    records the rate the optimizer ended with instead, so that Keras (and the app) load it compiled."""
    with model.optimizer.frozen_learning_rate():
        model.save(path)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, received {text}")
    return value


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Train the model and save it as a .keras file. Run as 'python train.py' (one process) or "
                    "'torchrun --nproc_per_node=N train.py' (N processes: the batch is split across them; "
                    "only the first process prints and writes files). Options override the settings at the "
                    "top of this file.")
    p.add_argument("--dataset", default=DATASET, help="mnist, fashion_mnist, a .npz/.csv file or a folder of images "
                   "(default %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=EPOCHS, help="default %(default)s")
    p.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                   help="the global batch, split across the processes (default %(default)s)")
    p.add_argument("--learning-rate", "--lr", type=float, default=LEARNING_RATE,
                   help="the peak rate with the one-cycle schedule (default %(default)g)")
    p.add_argument("--optimizer", default=OPTIMIZER, help="adam, sgd, rmsprop, ... (default %(default)s)")
    p.add_argument("--loss", default=LOSS, help="a Keras loss name, or auto (default %(default)s)")
    p.add_argument("--schedule", choices=("one_cycle", "constant"), default=SCHEDULE)
    p.add_argument("--validation-split", type=float, default=VALIDATION_SPLIT,
                   help="the fraction of the training samples held out to validate (default %(default)g)")
    p.add_argument("--seed", type=int, default=SEED, help="seeds the weights and the shuffling (default %(default)s)")
    p.add_argument("--max-train-samples", type=positive_int, default=MAX_TRAIN_SAMPLES,
                   help="train on only the first N samples (a quick try)")
    p.add_argument("--device", default=DEVICE, help="cpu, cuda or mps (default: a GPU when there is one)")
    p.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"), default=PRECISION,
                   help="float32, or a Keras mixed policy for the run (the weights stay float32); auto: "
                        "mixed_bfloat16 where the device multiplies bfloat16 in hardware (default %(default)s)")
    p.add_argument("--output", default=OUTPUT, help="the .keras file to write (default %(default)s)")
    p.add_argument("--history", metavar="JSON", default=None,
                   help="also write the per-epoch History and the test results to this JSON file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if not 0 <= args.validation_split < 1:
        p.error(f"--validation-split must be in [0, 1), received {args.validation_split}")
    if not args.learning_rate > 0:
        p.error(f"--learning-rate must be > 0, received {args.learning_rate}")
    if not args.output.lower().endswith((".keras", ".h5")):
        p.error(f"--output must end in .keras or .h5, received {args.output}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.device:
        device = args.device
        if device == "cuda" and world_size() > 1:  # one GPU per process, as torchrun numbers them
            device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
        try:
            backend.set_device(device)
        except ValueError as e:
            print(f"{os.path.basename(sys.argv[0])}: {e}", file=sys.stderr)
            return 2
    backend.set_seed(args.seed)  # the same seed in every process: they all build the same weights
    model = build_model()
    try:
        x_train, y_train, x_test, y_test, loss_name, from_logits, steps = prepare(
            load_dataset(args.dataset), model, args.loss, args.max_train_samples)
    except (DataProblem, FileNotFoundError) as e:
        print(f"{os.path.basename(sys.argv[0])}: {e}", file=sys.stderr)
        return 2
    # Keras's validation_split: the last fraction of the samples, before shuffling.
    x_val = y_val = None
    split_at = int(math.floor(len(x_train) * (1.0 - args.validation_split)))
    if args.validation_split and 0 < split_at < len(x_train):
        x_val, y_val = x_train[split_at:], y_train[split_at:]
        x_train, y_train = x_train[:split_at], y_train[:split_at]
    n = world_size()
    say(f"Training {model.name} on {args.dataset}: {len(x_train)} samples, {args.epochs} epoch(s), batch "
        f"{args.batch_size}" + (f" ({n} processes)" if n > 1 else "") + f", {args.optimizer} "
        f"lr={args.learning_rate:g} ({args.schedule}), loss {loss_name}.")
    for step in steps:
        say(f"  preprocessing: {step}")

    policy = args.precision
    if policy == "auto":
        policy = mixed_precision.fast_policy(backend.get_device())
    if policy != "float32":
        say(f"  computing in {policy}; the weights stay float32")

    backend.set_seed(args.seed)  # again, as the app does before training: the shuffling follows the seed
    eval_batch = max(256, args.batch_size)
    # The precision is the training's: the test evaluation and the saved model use the layers' own policies.
    with mixed_precision.policy_scope(model, policy):
        compile_model(model, args, loss_name, from_logits, args.epochs * math.ceil(len(x_train) / args.batch_size))
        history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                            validation_data=(x_val, y_val) if x_val is not None else None,
                            validation_batch_size=eval_batch, verbose=0 if args.quiet else 1)
    test = model.evaluate(x_test, y_test, batch_size=eval_batch, verbose=0, return_dict=True)  # as it is saved
    if is_chief():
        folder = os.path.dirname(os.path.abspath(args.output))
        os.makedirs(folder, exist_ok=True)
        save_model(model, args.output)
        print(f"Saved {args.output}")
        if args.history:
            record = {"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
                      "test_loss": float(test["loss"]), "test_accuracy": float(test.get("accuracy", math.nan)),
                      "processes": n}
            with open(args.history, "w", encoding="utf-8") as f:
                json.dump(record, f, indent=2)
        print(f"test_loss: {test['loss']:.4f}")
        if "accuracy" in test:
            print(f"test_accuracy: {test['accuracy']:.4f}")
    distribute.shutdown()  # close the process group that fit started (nothing with one process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
