"""Finding, downloading and safely parsing the CIFAR-10/100 "python version" archives.

The batches inside the archives are Python pickles. A pickle can name any importable callable
and have it called while loading, so they are read with an unpickler that resolves only the
three NumPy names that rebuild an array (``_reconstruct``, ``ndarray``, ``dtype``) and refuses
every other global; the result must then be a dict of plain data with a uint8 image array of the
expected shape. The archive is read in place (members by name, no extraction), so a tarball's
member paths never reach the file system.

A data set is looked for, in order: under ``$VISUALKERAS_DATA``; in Keras's cache (Keras 3's
``<name>-target/`` folder and ``_archive`` file, Keras 2's extracted folder and ``.tar.gz``); in
this app's cache; then downloaded from Keras's URL into this app's cache, checked against
Keras's published SHA-256 (``VISUALKERAS_OFFLINE=1`` turns downloads off).
"""
from __future__ import annotations

import dataclasses
import io
import os
import pickle
import tarfile

import numpy as np

from engine.datasets import _loader
from engine.datasets._loader import DATA_ENV, DownloadError, DatasetNotFoundError, IDXFormatError


class CIFARFormatError(IDXFormatError):
    """A CIFAR archive or batch file is damaged, not the published layout, or refused as unsafe."""


@dataclasses.dataclass(frozen=True)
class CifarSpec:
    """One CIFAR data set.

    Args:
        name: Folder name under ``$VISUALKERAS_DATA`` and the app cache (``"cifar10"``).
        title: For messages.
        archive: The published archive's file name.
        inner: The folder inside the archive that holds the batches.
        keras_name: Keras's ``get_file`` name (its cache keeps ``<keras_name>/<inner>/`` and
            ``<keras_name>_archive``).
        url: Keras's download URL.
        sha256: Keras's published SHA-256 of the archive.
        train: Batch files of the training set, in order.
        test: Batch files of the test set.
    """

    name: str
    title: str
    archive: str
    inner: str
    keras_name: str
    url: str
    sha256: str
    train: tuple
    test: tuple


# ------------------------------------------------------------------------------------------------
# Safe unpickling


# The globals a pickled NumPy array needs (``numpy.core`` in pickles from NumPy 1 and Python 2,
# ``numpy._core`` from NumPy 2). Nothing else: no builtins, no codecs, no callables with effects.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _Refused(pickle.UnpicklingError):
    """The pickle asks for something other than plain data and NumPy arrays."""


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain data (dicts, lists, bytes, numbers) and NumPy arrays; refuses everything else."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise _Refused(f"refused to load the global '{module}.{name}' (only NumPy arrays are allowed)")

    def persistent_load(self, pid):
        raise _Refused("refused a persistent id (only NumPy arrays are allowed)")


def parse_batch(data, label_key, num_classes, source="<bytes>"):
    """Parses one CIFAR batch (a pickled dict) into ``(images, labels)``.

    Args:
        data: The batch file's bytes.
        label_key: ``"labels"`` (CIFAR-10), ``"fine_labels"`` or ``"coarse_labels"`` (CIFAR-100).
        num_classes: Labels must be in ``range(num_classes)``.
        source: A name for error messages.

    Returns:
        ``images`` uint8 ``(N, 3, 32, 32)`` and ``labels`` a list of N ints.

    Raises:
        CIFARFormatError: Not a CIFAR batch, or a pickle that asks for anything but NumPy arrays.
    """
    try:
        d = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except _Refused as e:
        raise CIFARFormatError(f"{source}: not a CIFAR batch file: {e}. The file may be malicious; "
                               "delete it.") from None
    except Exception as e:  # a cut-short or garbled pickle raises many kinds of error
        raise CIFARFormatError(f"{source}: not a readable CIFAR batch file ({type(e).__name__}: {e}).") from None
    if not isinstance(d, dict):
        raise CIFARFormatError(f"{source}: a CIFAR batch holds a dict; found {type(d).__name__}.")
    d = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise CIFARFormatError(f"{source}: the batch lacks {sorted({'data', label_key} - set(d))}; "
                               f"found keys {sorted(map(str, d))}.")
    x, labels = d["data"], d[label_key]
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * 32 * 32:
        desc = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise CIFARFormatError(f"{source}: 'data' must be a uint8 array of shape (N, 3072); found {desc}.")
    if not isinstance(labels, (list, tuple, np.ndarray)) or len(labels) != len(x):
        raise CIFARFormatError(f"{source}: {len(x)} images but "
                               f"{len(labels) if hasattr(labels, '__len__') else 'no list of'} labels.")
    labels = [int(v) for v in labels]
    if labels and not 0 <= min(labels) <= max(labels) < num_classes:
        raise CIFARFormatError(f"{source}: labels must be in 0..{num_classes - 1}; found {min(labels)}..{max(labels)}.")
    return x.reshape(len(x), 3, 32, 32), labels


# ------------------------------------------------------------------------------------------------
# Reading a folder or an archive


def _read_folder(folder, names):
    out = {}
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            out[name] = (f.read(), path)
    return out


def _read_archive(path, inner, names):
    try:
        with tarfile.open(path, "r:*") as tar:
            out = {}
            for name in names:
                member = f"{inner}/{name}"
                try:
                    info = tar.getmember(member)
                except KeyError:
                    raise CIFARFormatError(f"{path}: the archive has no {member}; it is not the published "
                                           "CIFAR archive.") from None
                if not info.isfile():
                    raise CIFARFormatError(f"{path}: {member} is not a regular file.")
                out[name] = (tar.extractfile(info).read(), f"{path}:{member}")
            return out
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CIFARFormatError(f"{path}: not a readable .tar.gz archive ({e}). Delete it and try again.") from None


def _assemble(files, spec, label_key, num_classes):
    def split(names):
        xs, ys = [], []
        for name in names:
            data, source = files[name]
            x, y = parse_batch(data, label_key, num_classes, source)
            xs.append(x)
            ys += y
        return np.concatenate(xs), ys

    x_train, y_train = split(spec.train)
    x_test, y_test = split(spec.test)
    return (x_train, y_train), (x_test, y_test)


def _has_batches(folder, spec):
    return all(os.path.isfile(os.path.join(folder, n)) for n in spec.train + spec.test)


def _local_candidates(spec):
    """``(kind, path)`` for each place a copy may be, in the documented order."""
    roots = []
    data_root = os.environ.get(DATA_ENV)
    if data_root:
        roots.append(data_root)
    keras_dir = _loader.keras_datasets_dir()
    keras = [("folder", os.path.join(keras_dir, spec.keras_name, spec.inner)),        # Keras 3
             ("archive", os.path.join(keras_dir, spec.keras_name + "_archive")),
             ("folder", os.path.join(keras_dir, spec.inner)),                          # Keras 2
             ("archive", os.path.join(keras_dir, spec.inner + ".tar.gz"))]
    ours = _loader.cache_dir()

    def in_root(root):
        return [("folder", os.path.join(root, spec.name, spec.inner)), ("folder", os.path.join(root, spec.inner)),
                ("archive", os.path.join(root, spec.name, spec.archive)), ("archive", os.path.join(root, spec.archive))]

    out = []
    for root in roots:
        out += in_root(root)
    return out + keras + in_root(ours)


def load(spec, label_key, num_classes):
    """``((x_train, y_train), (x_test, y_test))`` from the first copy found (or downloaded):
    x uint8 ``(N, 3, 32, 32)``, y lists of ints."""
    names = spec.train + spec.test
    for kind, path in _local_candidates(spec):
        if kind == "folder" and _has_batches(path, spec):
            return _assemble(_read_folder(path, names), spec, label_key, num_classes)
        if kind == "archive" and os.path.isfile(path):
            return _assemble(_read_archive(path, spec.inner, names), spec, label_key, num_classes)
    errors = []
    if _loader.offline():
        errors.append(f"downloads are turned off ({_loader.OFFLINE_ENV}={os.environ.get(_loader.OFFLINE_ENV)})")
    else:
        dest = os.path.join(_loader.cache_dir(), spec.archive)
        try:
            _loader.fetch(spec.url, dest, spec.sha256)
            return _assemble(_read_archive(dest, spec.inner, names), spec, label_key, num_classes)
        except DownloadError as e:
            errors.append(str(e))
    raise DatasetNotFoundError(_not_found_message(spec, errors))


def _not_found_message(spec, errors):
    data_root = os.environ.get(DATA_ENV)
    ours = _loader.cache_dir()
    keras_dir = _loader.keras_datasets_dir()
    lines = [f"The {spec.title} data set is not on this computer and could not be downloaded."]
    if errors:
        lines.append("Download errors:")
        lines += [f"  - {e}" for e in errors]
    lines += [
        f"To use it offline, download {spec.url}",
        f"(SHA-256 {spec.sha256}) and put it, unchanged or extracted, in one of these places:",
        f"  1. The folder named by the {DATA_ENV} environment variable "
        f"({'now: ' + data_root if data_root else 'not set now; e.g. export ' + DATA_ENV + '=$HOME/data'}): "
        f"${DATA_ENV}/{spec.name}/{spec.archive} or ${DATA_ENV}/{spec.name}/{spec.inner}/",
        f"  2. Keras's download cache: {os.path.join(keras_dir, spec.keras_name, spec.inner)}{os.sep} "
        f"or {os.path.join(keras_dir, spec.inner)}{os.sep}",
        f"  3. This app's cache (_CACHE_ENV changes it): {os.path.join(ours, spec.archive)}".replace(
            "_CACHE_ENV", _loader.CACHE_ENV),
    ]
    return "\n".join(lines)
