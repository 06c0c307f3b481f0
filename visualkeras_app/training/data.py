"""Data sets for training and the preprocessing a model needs, done for the user and described.

``load_dataset`` reads MNIST, Fashion-MNIST or a user's ``.npz``/``.csv`` file into a ``Dataset``;
``prepare`` turns it into arrays the model takes (pixels scaled to [0, 1], a channel axis added or the
images flattened, labels sparse or one-hot as the loss wants) and lists what it did in ``steps``, or
raises ``DatasetMismatch`` with a message and a ``fix`` when the model cannot take this data.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field

import numpy as np

from engine.utils.file_utils import max_data_bytes

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
BUILTIN = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
_LABEL_COLUMNS = ("label", "labels", "class", "target", "y")
# Without a companion test file, the last part of a CSV is held out as its test set.
CSV_TEST_FRACTION = 0.1
# Limits on a user's data file, checked before the memory is taken: the arrays it unpacks to
# (engine.utils.file_utils.max_data_bytes(), VISUALKERAS_MAX_DATA_BYTES), the columns of a CSV, the
# classes its labels name.
MAX_CSV_COLUMNS = 65536
MAX_CLASSES = 100_000


class DatasetError(ValueError):
    """A data file that cannot be read; the message says what is wrong with it."""


class DatasetMismatch(ValueError):
    """The data does not fit the model. ``str(e)`` says how; ``e.fix`` says what to change."""

    def __init__(self, message, fix=""):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self):
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


@dataclass
class Dataset:
    """Raw data as loaded: images (N, H, W) or (N, H, W, C) or feature rows (N, D), integer labels (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list = field(default_factory=list)

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def sample_shape(self):
        return tuple(self.x_train.shape[1:])


@dataclass
class Prepared:
    """Arrays ready for ``fit``: float32 inputs shaped as the model's input, labels as the loss wants.

    ``loss`` is a Keras loss name, ``from_logits`` whether the model outputs logits (no softmax), and
    ``steps`` lists, for a person, what was done to the data.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    loss: str
    steps: list = field(default_factory=list)
    from_logits: bool = False
    class_names: list = field(default_factory=list)
    test_images: np.ndarray | None = None  # the test set as images (N, H, W[, C]) in [0, 1], for display

    @property
    def sparse_labels(self):
        return self.y_test.ndim == 1 or (self.y_test.ndim == 2 and self.y_test.shape[1] == 1)

    def test_labels(self):
        """The test labels as class indices (N,), whatever their encoding."""
        y = self.y_test
        if y.ndim == 2 and y.shape[1] > 1:
            return y.argmax(axis=1)
        return y.reshape(len(y)).astype(np.int64)


# ------------------------------------------------------------------------------------------ loading
def load_dataset(name_or_path) -> Dataset:
    """A ``Dataset`` for "mnist", "fashion_mnist", a folder of images, or the path of a ``.npz``/``.csv`` file.

    Args:
        name_or_path: A built-in name, or a ``.npz`` with the arrays x_train, y_train, x_test, y_test
            (Keras's layout; an optional ``class_names`` array), or a ``.csv`` with one sample per row:
            the label in a column named label/class/target/y, else in the first column, and the
            pixels or features in the others. A CSV's test set is the file beside it with "train" in
            the name changed to "test" (``mnist_train.csv`` -> ``mnist_test.csv``) when there is one,
            else its last 10% of rows. A folder holds one subfolder of images per class (or train/ and
            test/ holding them); without test/, 20% of each class is held out as the test set
            (``folder_data.load_folder``).

    Raises:
        DatasetError: The file cannot be read or lacks what is needed.
        FileNotFoundError: A built-in data set is not on this computer and cannot be downloaded.
    """
    return check_dataset(_load(name_or_path))


def check_dataset(ds: Dataset) -> Dataset:
    """``ds`` when it can be trained and evaluated on; else a ``DatasetError`` saying why: no training or
    no test samples (an empty test set printed ``test_accuracy: 0.0000`` as a result), samples without
    features, features that are NaN or infinite, or labels of a single class."""
    where = ds.name
    for x, y, split in ((ds.x_train, ds.y_train, "training"), (ds.x_test, ds.y_test, "test")):
        if len(x) == 0:
            raise DatasetError(f"{where}: the {split} set is empty; it needs at least one sample.")
        if x.ndim < 2 or math.prod(x.shape[1:]) == 0:
            raise DatasetError(f"{where}: the {split} samples have shape {tuple(x.shape[1:])}; each needs at least "
                               "one feature or pixel.")
        if x.dtype.kind not in "fiub":
            raise DatasetError(f"{where}: the {split} samples hold {x.dtype} values; they must be numbers.")
        if x.dtype.kind == "f":
            bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
            if bad.any():
                raise DatasetError(f"{where}: {split} sample {int(np.flatnonzero(bad)[0])} holds a NaN or infinite "
                                   f"value ({int(bad.sum())} samples do); remove or fix them.")
    if len(np.unique(np.concatenate([ds.y_train.reshape(-1), ds.y_test.reshape(-1)]))) < 2:
        raise DatasetError(f"{where}: every label is the same class; a classifier needs at least two.")
    return ds


def _load(name_or_path) -> Dataset:
    key = str(name_or_path)
    norm = key.lower().replace("-", "_").replace(" ", "_")
    if norm in BUILTIN:
        from engine import datasets

        (x_train, y_train), (x_test, y_test) = getattr(datasets, norm).load_data()
        names = MNIST_CLASSES if norm == "mnist" else FASHION_CLASSES
        return Dataset(norm, x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), list(names))
    if os.path.isdir(key):
        from visualkeras_app.training.folder_data import FolderError, load_folder

        try:
            return load_folder(key)
        except FolderError as e:
            raise DatasetError(str(e)) from None
    if os.path.exists(key) and not os.path.isfile(key):
        raise DatasetError(f"{key}: not a regular file (a pipe or a device); a data set is a folder of images, "
                           "a .npz or a .csv file.")
    if not os.path.isfile(key):
        raise DatasetError(f"No data set {key!r}: use 'mnist', 'fashion_mnist', a folder of images (one "
                           "subfolder per class), or the path of an existing .npz or .csv file.")
    ext = os.path.splitext(key)[1].lower()
    if ext == ".npz":
        return _load_npz(key)
    if ext == ".csv":
        return _load_csv(key)
    raise DatasetError(f"{key}: unknown data file type {ext!r}; use a .npz (x_train, y_train, x_test, y_test) "
                       "or a .csv (a label column and one column per pixel or feature).")


def _labels_to_ints(y_train, y_test, names=None):
    """Integer labels 0..k-1 and class names; string or non-contiguous labels are mapped in sorted order."""
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test)
    for y, split in ((y_train, "training"), (y_test, "test")):
        if y.ndim == 2 and y.shape[1] == 1:
            continue
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot on disk
            continue
        if y.ndim != 1:
            raise DatasetError(f"The {split} labels have shape {y.shape}; expected one label per sample (N,).")
    if y_train.ndim == 2 and y_train.shape[1] > 1:
        y_train = y_train.argmax(axis=1)
        y_test = y_test.argmax(axis=1) if y_test.ndim == 2 and y_test.shape[1] > 1 else y_test
    y_train = y_train.reshape(len(y_train))
    y_test = y_test.reshape(len(y_test))
    for y, split in ((y_train, "training"), (y_test, "test")):
        if y.dtype.kind not in "iufbUSO":
            raise DatasetError(f"The {split} labels hold {y.dtype} values; labels are class numbers or names.")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            row = int(np.flatnonzero(~np.isfinite(y))[0])
            raise DatasetError(f"The {split} label of sample {row} is {float(y[row])}; every label must be a "
                               "class number or name.")
    if y_train.dtype.kind in "iu" and y_test.dtype.kind in "iu":
        lo = min(int(y_train.min(initial=0)), int(y_test.min(initial=0)))
        if lo >= 0:
            k = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
            if k > MAX_CLASSES:
                raise DatasetError(f"A label is {k - 1}: classes are numbered from 0, and at most {MAX_CLASSES:,} "
                                   "classes are supported. Check the label column.")
            if names is None or len(names) != k:
                names = [str(i) for i in range(k)]
            return y_train.astype(np.int64), y_test.astype(np.int64), list(names)
    if y_train.dtype.kind == "f" and np.all(np.mod(y_train, 1) == 0) and np.all(np.mod(y_test, 1) == 0) \
            and max(np.abs(y_train).max(initial=0), np.abs(y_test).max(initial=0)) < 2**62:
        return _labels_to_ints(y_train.astype(np.int64), y_test.astype(np.int64), names)
    values = sorted(set(y_train.tolist()) | set(y_test.tolist()), key=str)
    if len(values) > MAX_CLASSES:
        raise DatasetError(f"The labels name {len(values):,} different classes, more than the {MAX_CLASSES:,} "
                           "supported. Check the label column.")
    index = {v: i for i, v in enumerate(values)}
    to_int = np.vectorize(index.__getitem__, otypes=[np.int64])
    return to_int(y_train), to_int(y_test), [str(v) for v in values]


def _check_npz_sizes(path, handle):
    """Refuse a .npz whose arrays unpack to more than ``max_data_bytes()`` before any is read (the
    zip's declared sizes bound what can come out: a 2 MB file must not become 2 GB)."""
    import zipfile

    limit = max_data_bytes()
    try:
        with zipfile.ZipFile(handle) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DatasetError(f"{path}: not a readable .npz file ({e}).") from None
    if total > limit:
        raise DatasetError(f"{path}: its arrays unpack to {total:,} bytes, over the limit of {limit:,} "
                           "(VISUALKERAS_MAX_DATA_BYTES raises it).")
    handle.seek(0)


def _load_npz(path):
    from engine.utils.file_utils import open_regular

    try:
        with open_regular(path) as handle:
            _check_npz_sizes(path, handle)
            return _read_npz(path, handle)
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e}).") from None


def _read_npz(path, handle):
    try:
        with np.load(handle, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
            if missing:
                raise DatasetError(f"{path}: the file lacks the arrays {missing}. A data set .npz holds x_train, "
                                   f"y_train, x_test and y_test (found: {sorted(f.files)}).")
            arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            names = [str(n) for n in f["class_names"]] if "class_names" in f.files else None
    except DatasetError:
        raise
    except (ValueError, OSError, EOFError, KeyError) as e:
        raise DatasetError(f"{path}: not a readable .npz file ({e}).") from None
    x_train, y_train, x_test, y_test = arrays
    for a, key in zip(arrays, ("x_train", "y_train", "x_test", "y_test")):
        if a.ndim == 0:
            raise DatasetError(f"{path}: {key} is a single value, not an array of samples.")
    for x, y, split in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise DatasetError(f"{path}: {len(x)} {split} samples but {len(y)} {split} labels.")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(f"{path}: training samples have shape {x_train.shape[1:]} but test samples "
                           f"{x_test.shape[1:]}; they must agree.")
    y_train, y_test, names = _labels_to_ints(y_train, y_test, names)
    name = os.path.splitext(os.path.basename(path))[0]
    return Dataset(name, x_train, y_train, x_test, y_test, names)


def _read_csv(path):
    """(labels, features) of a CSV; the label column chosen by name, else the first. Only a regular
    file of at most ``MAX_CSV_COLUMNS`` columns is read; the features are parsed straight to float32
    (np.loadtxt's text arrays took rows x columns of objects: 11 GB for a 10 MB file of 30,000 columns)."""
    from engine.utils.file_utils import open_regular

    try:
        with open_regular(path) as raw:
            size = os.fstat(raw.fileno()).st_size
            import io

            with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
                first = f.readline(16 << 20)
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e}).") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text (UTF-8) CSV file.") from None
    if not first.strip():
        raise DatasetError(f"{path}: the file is empty.")
    if first.count(",") + 1 > MAX_CSV_COLUMNS:
        raise DatasetError(f"{path}: the first row has {first.count(',') + 1:,} columns, more than the "
                           f"{MAX_CSV_COLUMNS:,} supported.")
    # Each value takes at least two characters ("0,"): the float32 features take at most twice the file.
    if 2 * size > max_data_bytes():
        raise DatasetError(f"{path}: the file is {size:,} bytes, over the limit of {max_data_bytes() // 2:,} "
                           "(VISUALKERAS_MAX_DATA_BYTES raises it).")
    cells = next(csv.reader([first]))
    header = None
    try:
        [float(c) for c in cells[1:]]
    except ValueError:
        header = [c.strip() for c in cells]
    label_col = 0
    if header is not None:
        lowered = [h.lower() for h in header]
        for name in _LABEL_COLUMNS:
            if name in lowered:
                label_col = lowered.index(name)
                break
    if len(cells) < 2:
        raise DatasetError(f"{path}: expected rows with a label and at least one feature; found "
                           f"{len(cells)} column.")
    features = [i for i in range(len(cells)) if i != label_col]
    common = dict(delimiter=",", skiprows=1 if header else 0, ndmin=2, encoding="utf-8-sig")
    try:
        with open_regular(path) as f:
            labels = np.loadtxt(f, dtype=str, usecols=[label_col], **common)[:, 0]
    except (ValueError, IndexError) as e:
        raise DatasetError(f"{path}: not a readable CSV ({e}); every row needs the same number of columns.") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e}).") from None
    if labels.shape[0] == 0:
        raise DatasetError(f"{path}: expected rows with a label and at least one feature; found no rows.")
    try:
        with open_regular(path) as f:
            x = np.loadtxt(f, dtype=np.float32, usecols=features, **common)
    except (ValueError, IndexError):
        raise DatasetError(f"{path}: the pixel/feature columns must hold numbers (only the label column may hold "
                           "text), and every row needs the same number of columns.") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e}).") from None
    try:
        y = labels.astype(np.float64)
    except ValueError:
        y = labels
    return y, x


def _as_images(x):
    """Rows of a square number of pixels become square images (N, s, s), as uint8 when they are 0-255."""
    d = x.shape[1]
    side = math.isqrt(d)
    if side * side == d and side >= 4:
        x = x.reshape(len(x), side, side)
    if x.size and np.all(np.mod(x, 1) == 0) and x.min() >= 0 and x.max() <= 255 and x.max() > 1:
        x = x.astype(np.uint8)
    return x


def _load_csv(path):
    y, x = _read_csv(path)
    folder, base = os.path.split(path)
    test_path = None
    if "train" in base:
        candidate = os.path.join(folder, base.replace("train", "test"))
        if os.path.isfile(candidate):
            test_path = candidate
    if test_path is not None:
        y_test, x_test = _read_csv(test_path)
        if x_test.shape[1] != x.shape[1]:
            raise DatasetError(f"{test_path} has {x_test.shape[1]} feature columns but {path} has {x.shape[1]}.")
        x_train, y_train = x, y
    else:
        n_test = max(1, int(round(len(x) * CSV_TEST_FRACTION))) if len(x) > 1 else 0
        if n_test == 0:
            raise DatasetError(f"{path}: a CSV needs at least 2 rows (some are held out to test).")
        x_train, y_train, x_test, y_test = x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:]
    y_train, y_test, names = _labels_to_ints(y_train, y_test)
    return Dataset(os.path.splitext(base)[0], _as_images(x_train), y_train, _as_images(x_test), y_test, names)


# ------------------------------------------------------------------------------------------ the model side
def model_io(model):
    """(input shape, output shape, output activation name or None) of a single-input, single-output model."""
    in_shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    out_shape = model.output_shape
    if in_shape is None or isinstance(out_shape, list):
        raise DatasetMismatch("The model has several inputs or outputs; training on an image data set needs one "
                              "input and one output.", "Train a model with a single Input and a single output "
                              "layer.")
    return in_shape, tuple(out_shape), output_activation(model)


def output_activation(model):
    """The name of the activation applied last ("softmax", "sigmoid", "linear"...), or None if unknown."""
    try:
        layer = model.outputs[0].keras_history.operation
    except (AttributeError, IndexError, TypeError):
        layer = model.layers[-1] if getattr(model, "layers", None) else None
    if layer is None:
        return None
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    cfg = layer.get_config()
    act = cfg.get("activation")
    if isinstance(act, dict):
        act = act.get("config", {}).get("name") or act.get("class_name")
    if act is None:
        return "linear" if kind == "Dense" else None
    return str(act).lower()


def prepare_for_model(dataset: Dataset, model, loss="auto", max_train_samples=None) -> Prepared:
    """``prepare`` with the shapes and the output activation read off ``model``."""
    in_shape, out_shape, act = model_io(model)
    return prepare(dataset, in_shape, out_shape, loss, output_activation=act, max_train_samples=max_train_samples)


_SPARSE = "sparse_categorical_crossentropy"
_CATEGORICAL = "categorical_crossentropy"
_BINARY = "binary_crossentropy"


def _describe_images(shape):
    """'28x28 grayscale images' / '32x32 color (3-channel) images' / 'rows of 784 values'."""
    if len(shape) == 2 or (len(shape) == 3 and shape[2] == 1):
        return f"{shape[0]}x{shape[1]} grayscale images"
    if len(shape) == 3:
        return f"{shape[0]}x{shape[1]} images with {shape[2]} channels"
    if len(shape) == 1:
        return f"rows of {shape[0]} values"
    return f"samples of shape {shape}"


def _fit_inputs(x, want, name, steps):
    """``x`` reshaped to the model's input ``want`` (no batch axis), or DatasetMismatch."""
    have = tuple(x.shape[1:])
    n = len(x)
    if len(want) == len(have) and all(w is None or w == h for w, h in zip(want, have)):
        return x
    if None not in want and math.prod(want) == math.prod(have):
        if want == have + (1,):
            steps.append(f"added the channel axis: (N, {', '.join(map(str, have))}) -> "
                         f"(N, {', '.join(map(str, want))})")
            return x.reshape((n,) + want)
        if len(want) == 1:
            steps.append(f"flattened the images: (N, {', '.join(map(str, have))}) -> (N, {want[0]})")
            return x.reshape(n, want[0])
        if len(have) == 3 and have[-1] == 1 and want == have[:-1]:
            steps.append(f"dropped the channel axis: (N, {', '.join(map(str, have))}) -> "
                         f"(N, {', '.join(map(str, want))})")
            return x.reshape((n,) + want)
        target = have if len(have) >= 2 else want
        raise DatasetMismatch(
            f"The model's input expects samples of shape {want} but {name} has {_describe_images(have)} "
            f"{have}; the sizes agree ({math.prod(have)} values) but the layout differs.",
            f"set the Input's shape to {target + (1,) if len(target) == 2 else target}, or add "
            f"Reshape({want}) right after the Input, or Flatten() if the next layer is a Dense.")
    # Sizes differ: say what the model wants and what the data is.
    img_have = have + (1,) if len(have) == 2 else have
    if len(want) == 3 and len(img_have) == 3 and None not in want:
        if want[:2] != img_have[:2] and want[2] == img_have[2]:
            problem = f"{want[0]}x{want[1]} images but {name} has {_describe_images(have)}"
        elif want[:2] == img_have[:2]:
            problem = (f"images with {want[2]} channel(s) but {name} has {_describe_images(have)} "
                       f"with {img_have[2]}")
        else:
            problem = (f"{_describe_images(want)} but {name} has {_describe_images(have)}")
    else:
        problem = f"samples of shape {want} but {name} has {_describe_images(have)} {have}"
    if len(want) == 1 and len(have) >= 2:
        fix = f"set the Input's shape to ({math.prod(have)},) (the images flattened) or to {img_have}."
    else:
        fix = f"set the Input's shape to {img_have if len(have) >= 2 else have}."
    raise DatasetMismatch(f"The model's input expects {problem}.", fix)


def _scale(x, name, steps):
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


def prepare(dataset: Dataset, input_shape, output_shape, loss="auto", output_activation=None,
            max_train_samples=None) -> Prepared:
    """Arrays for a model with ``input_shape``/``output_shape`` (batch axis first, None) and ``loss``.

    Args:
        dataset: The loaded data.
        input_shape: The model's input shape, e.g. (None, 28, 28, 1).
        output_shape: The model's output shape, e.g. (None, 10).
        loss: A Keras loss name, or "auto": sparse categorical crossentropy for a softmax (or, with
            ``from_logits``, a linear) output of one unit per class; binary crossentropy for one sigmoid
            unit and two classes.
        output_activation: The last activation ("softmax", "sigmoid", "linear"); None when unknown
            (taken as probabilities).
        max_train_samples: Keep only the first N training samples.

    Returns:
        A ``Prepared`` whose ``steps`` says what was done.

    Raises:
        DatasetMismatch: The data cannot fit the model; ``.fix`` says what to change.
    """
    want_in = tuple(input_shape)[1:]
    out = tuple(output_shape)
    name = BUILTIN.get(dataset.name, dataset.name)
    steps = []
    x_train, y_train = dataset.x_train, dataset.y_train
    if max_train_samples is not None and max_train_samples < len(x_train):
        x_train, y_train = x_train[:max_train_samples], y_train[:max_train_samples]
        steps.append(f"used the first {max_train_samples} of {len(dataset.x_train)} training samples")

    # Check the cheap things (shapes) before converting 60,000 images.
    k = dataset.num_classes
    _check_outputs(out, k, output_activation)
    probe = _fit_inputs(dataset.x_test[:1], want_in, name, [])
    del probe
    x_test_img = _scale(dataset.x_test, name, [])
    x_train = _scale(x_train, name, steps)
    x_train = _fit_inputs(x_train, want_in, name, steps)
    x_test = _fit_inputs(x_test_img, want_in, name, [])

    units = out[-1]
    loss_name, from_logits = _pick_loss(loss, units, output_activation)
    y_train, y_test = _encode_labels(dataset.y_train[:len(x_train)], dataset.y_test, loss_name, units, k, steps)
    return Prepared(x_train, y_train, x_test, y_test, loss_name, steps, from_logits,
                    list(dataset.class_names), test_images=x_test_img)


def _check_outputs(out, k, activation):
    if len(out) > 2:
        raise DatasetMismatch(
            f"The model's output has shape {out}: a prediction per position, but the data set has one label "
            "per sample.",
            f"add Flatten() (or GlobalAveragePooling2D()) before the last Dense, so that the output is (None, {k}).")
    if len(out) < 2:
        raise DatasetMismatch(f"The model's output has shape {out}; a classifier needs (None, {k}).",
                              f"end the model with Dense({k}, activation='softmax').")
    units = out[-1]
    if units == k:
        return
    if units == 1 and k == 2:
        return
    raise DatasetMismatch(f"The last Dense has {units} units but the data set has {k} classes.",
                          f"set units={k}.")


def _pick_loss(loss, units, activation):
    if loss not in (None, "auto"):
        return loss, False
    if units == 1:
        return _BINARY, activation not in (None, "sigmoid")
    return _SPARSE, activation in ("linear",)


def _encode_labels(y_train, y_test, loss, units, k, steps):
    if loss == _SPARSE:
        return y_train.astype(np.int64), y_test.astype(np.int64)
    if units == 1:
        steps.append("labels as floats (N, 1) for a single output unit")
        return y_train.astype(np.float32).reshape(-1, 1), y_test.astype(np.float32).reshape(-1, 1)
    eye = np.eye(units, dtype=np.float32)
    steps.append(f"one-hot encoded the labels: (N,) -> (N, {units})")
    return eye[y_train], eye[y_test]
