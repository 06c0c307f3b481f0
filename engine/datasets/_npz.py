"""The ``.npz`` data sets of ``keras.datasets`` (IMDB, Reuters, Boston and California housing): found
under ``$VISUALKERAS_DATA`` or in Keras's cache, else downloaded by ``engine.utils.get_file`` from
Keras's URL and checked against Keras's SHA-256 (``VISUALKERAS_OFFLINE=1`` turns downloads off).

IMDB and Reuters store ragged word-index sequences as ``dtype=object`` arrays, which NumPy can only
save as pickles; a pickle can run code while loading, so they are read with an unpickler that rebuilds
NumPy arrays of plain Python lists and refuses every other global. Numeric arrays load with pickles
turned off.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np

from engine.datasets import _loader

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# The globals a pickled NumPy object array needs (``numpy.core`` from NumPy 1, ``numpy._core`` from 2).
_ALLOWED_GLOBALS = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                              ("numpy", "ndarray"), ("numpy", "dtype")})


class NpzFormatError(_loader.IDXFormatError):
    """A data set's ``.npz`` file is damaged, lacks an array, or holds something other than arrays."""


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load the global '{module}.{name}' (only NumPy arrays are allowed)")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent id (only NumPy arrays are allowed)")


def _read_npy(data, source):
    fp = io.BytesIO(data)
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise NpzFormatError(f"{source}: .npy format version {version} is not supported.")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    array = _ArraysOnly(fp).load()
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise NpzFormatError(f"{source}: the pickled member is not an array of shape {tuple(shape)}.")
    return array


def read_npz(path, keys):
    """The arrays ``keys`` of the ``.npz`` at ``path``, read without running code stored in it."""
    out = {}
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            for key in keys:
                member = key + ".npy"
                if member not in names:
                    raise NpzFormatError(f"{path}: has no array {key!r} (it holds {sorted(names)}).")
                out[key] = _read_npy(z.read(member), f"{path}:{member}")
    except (zipfile.BadZipFile, pickle.UnpicklingError, ValueError, EOFError) as e:
        if isinstance(e, NpzFormatError):
            raise
        raise NpzFormatError(f"{path}: not a readable data set file ({type(e).__name__}: {e}). Delete it "
                             "to download it again.") from e
    return out


def find_or_download(path, remote_name, file_hash, data_name):
    """A local path for the file Keras downloads as ``ORIGIN + remote_name``: ``path`` under
    ``$VISUALKERAS_DATA/<data_name>/`` or ``$VISUALKERAS_DATA/`` when there, else ``engine.utils.get_file``'s
    copy named ``path`` in Keras's cache (downloaded once, checked against ``file_hash``)."""
    from engine.utils.download_utils import get_file  # start-up time: import engine does not load it otherwise

    root = os.environ.get(_loader.DATA_ENV)
    if root:
        for candidate in (os.path.join(root, data_name, path), os.path.join(root, path)):
            if os.path.isfile(candidate):
                return candidate
    try:
        return get_file(path, origin=ORIGIN + remote_name, file_hash=file_hash)
    except (OSError, ValueError) as e:
        kind = "SHA-256" if len(file_hash) == 64 else "MD5"
        raise _loader.DatasetNotFoundError(
            f"The {data_name} data set's {path} is not on this computer and could not be downloaded: {e}\n"
            f"To use it offline, download {ORIGIN}{remote_name} ({kind} {file_hash}) and put it, named {path}, "
            f"in ${_loader.DATA_ENV}/{data_name}/ or in Keras's cache ({_loader.keras_datasets_dir()}).") from e


def shuffled(rng, *arrays):
    """The arrays in the order of a shuffle drawn from ``rng`` (a NumPy RandomState, or a seed for a new
    one): Keras's order for the same seed."""
    if not isinstance(rng, np.random.RandomState):
        rng = np.random.RandomState(rng)
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return [a[indices] for a in arrays]


def split(test_split, *arrays):
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be between 0 and 1 (1 excluded). Received: test_split={test_split}")
    cut = int(len(arrays[0]) * (1 - test_split))
    return [np.array(a[:cut]) for a in arrays], [np.array(a[cut:]) for a in arrays]


def index_words(sequences, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in seq] for seq in sequences]
    if index_from:
        return [[w + index_from for w in seq] for seq in sequences]
    return [list(seq) for seq in sequences]


def drop_long(maxlen, sequences, labels):
    kept = [(s, l) for s, l in zip(sequences, labels) if len(s) < maxlen]
    return [s for s, _ in kept], [l for _, l in kept]


def cap_vocabulary(sequences, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(seq) for seq in sequences if len(seq))
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in seq] for seq in sequences]
    return [[w for w in seq if skip_top <= w < num_words] for seq in sequences]


def ragged(sequences):
    out = np.empty(len(sequences), dtype=object)
    out[:] = [list(s) for s in sequences]
    return out


def word_index(path, remote_name, md5, data_name):
    """The JSON word -> index dict Keras's ``get_word_index`` returns."""
    with open(find_or_download(path, remote_name, md5, data_name), encoding="utf-8") as f:
        return json.load(f)
