"""Finding, downloading, checking and parsing the files behind ``mnist`` and ``fashion_mnist``.

A data set is looked for, in order:

1. under the folder named by ``$VISUALKERAS_DATA``: ``<dir>/<name>/`` holding the four IDX
   files (``train-images-idx3-ubyte.gz``...), or Keras's single ``<name>.npz`` at
   ``<dir>/<name>.npz`` or ``<dir>/<name>/<name>.npz``;
2. the copy shipped inside the package (MNIST only), each file checked against its SHA-256
   the first time a process reads it;
3. in Keras's own download cache (``$KERAS_HOME`` or ``~/.keras``, then ``datasets/``);
4. in this app's cache (``$VISUALKERAS_CACHE`` or ``~/.cache/visualkeras-app``, then
   ``datasets/``), where downloads go;
5. in folders that operating-system packages install (Debian's ``dataset-fashion-mnist``
   puts Fashion-MNIST in ``/usr/share/datasets/fashion-mnist/``);
6. on public mirrors: each file is streamed into a temporary file in the cache, checked
   against its SHA-256 and only then renamed into place, so an interrupted or corrupted
   download never leaves a file that looks complete.

Setting ``VISUALKERAS_OFFLINE=1`` skips step 6.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import sys
import threading
import urllib.error
import urllib.request
import zlib

import numpy as np

from engine.utils import io_utils
from engine.utils.file_utils import MAX_DATA_BYTES_ENV, atomic_write, max_data_bytes, read_regular, sha256_file
from engine.utils.progbar import Progbar

DATA_ENV = "VISUALKERAS_DATA"
CACHE_ENV = "VISUALKERAS_CACHE"
OFFLINE_ENV = "VISUALKERAS_OFFLINE"

IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_DOWNLOAD_TIMEOUT_S = 30
_CHUNK = 1 << 16


class DatasetNotFoundError(FileNotFoundError):
    """The data set is on none of the local paths and could not be downloaded."""


class DownloadError(OSError):
    """A download failed: no connection, an HTTP error or a file cut short."""


class ChecksumError(DownloadError):
    """A downloaded file's SHA-256 is not the published one."""


class IDXFormatError(ValueError):
    """A file is not a valid IDX (or Keras ``.npz``) file of the expected shape."""


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: its name in the cache, its mirrors (tried in order) and its digest."""

    name: str
    urls: tuple
    sha256: str
    size: int | None = None


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where a data set may be found and how to fetch it.

    Args:
        name: Canonical folder/file stem, e.g. ``"mnist"``.
        title: Name for messages, e.g. ``"MNIST"``.
        folders: Folder names accepted under ``$VISUALKERAS_DATA`` and the app cache.
        keras_npz: Keras's cache file under ``~/.keras/datasets`` (or ``None``).
        keras_folder: Keras's cache folder of IDX files under ``~/.keras/datasets`` (or ``None``).
        downloads: Alternatives, tried in order; each is a tuple of ``RemoteFile``: either one
            ``.npz`` or the four IDX files.
        image_shape: Shape of one image, checked when loading.
        packaged: The folder of the copy shipped inside the package (or ``None``); its four
            IDX files must have the SHA-256 digests of the IDX alternative in ``downloads``.
        system_folders: ``(folder, how the files get there)`` pairs: folders that operating-system
            packages install the IDX files in.
    """

    name: str
    title: str
    folders: tuple
    keras_npz: str | None
    keras_folder: str | None
    downloads: tuple
    image_shape: tuple = (28, 28)
    packaged: str | None = None
    system_folders: tuple = ()

    def idx_sha256(self):
        """``{file name: SHA-256}`` of the published IDX files (from the IDX download alternative)."""
        for files in self.downloads:
            names = {f.name: f.sha256 for f in files}
            if set(names) == set(IDX_FILES):
                return names
        return {}


# --------------------------------------------------------------------------------------------
# Paths


def _home():
    return os.path.expanduser("~")


def keras_datasets_dir():
    """Keras's download cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    base = os.environ.get("KERAS_HOME") or os.path.join(_home(), ".keras")
    return os.path.join(base, "datasets")


def cache_dir():
    """This app's dataset cache: ``$VISUALKERAS_CACHE/datasets``, else
    ``$XDG_CACHE_HOME/visualkeras-app/datasets`` (``~/.cache/visualkeras-app/datasets``)."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(_home(), ".cache")
        root = os.path.join(xdg, "visualkeras-app")
    return os.path.join(root, "datasets")


def offline():
    """Whether downloads are turned off (``$VISUALKERAS_OFFLINE`` set to 1, true, yes or on)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------------------------
# Parsing

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtypes.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"

_arrays = {}  # (path, mtime_ns, size) -> parsed array, so a second load_data() skips gunzip
_arrays_lock = threading.Lock()


class _TooLarge(Exception):
    pass


def _gunzip(data, limit):
    """The decompressed bytes of gzip ``data``; ``_TooLarge`` past ``limit`` bytes (a decompression bomb
    stops there, before taking the memory)."""
    # zlib directly is about twice as fast as gzip.decompress; the loop handles multi-member files.
    out, total = [], 0
    while data:
        d = zlib.decompressobj(wbits=31)
        part = d.decompress(data, limit - total + 1)
        total += len(part)
        if total > limit:
            raise _TooLarge
        out.append(part)
        if not d.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        data = d.unused_data
        if data[:2] != _GZIP_MAGIC:  # trailing padding after the last member
            break
    return out[0] if len(out) == 1 else b"".join(out)


def parse_idx(data, source="<bytes>"):
    """Parses the bytes of an IDX file (gzip-compressed or not) into a NumPy array.

    Args:
        data: The file's bytes.
        source: A name for error messages (usually the path).

    Returns:
        A read-only array in native byte order with the shape the header gives.

    Raises:
        IDXFormatError: Bad magic number, unknown type code, or a size that does not match
            the header.
    """
    if data[:2] == _GZIP_MAGIC:
        limit = max_data_bytes()
        try:
            data = _gunzip(data, limit)
        except _TooLarge:
            raise IDXFormatError(f"{source}: the file unpacks to more than {limit:,} bytes; it is not an MNIST-sized "
                                 f"IDX file ({MAX_DATA_BYTES_ENV} raises the limit).") from None
        except (OSError, EOFError, zlib.error) as e:
            raise IDXFormatError(f"{source}: the gzip data is corrupt or cut short ({e}). Replace the file.") from None
    if len(data) < 4:
        raise IDXFormatError(f"{source}: not an IDX file: only {len(data)} bytes long.")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(
            f"{source}: not an IDX file: the magic number must start with two zero bytes, "
            f"found 0x{data[0]:02x}{data[1]:02x}."
        )
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise IDXFormatError(f"{source}: unknown IDX data type code 0x{type_code:02x} in the magic number.")
    if ndim == 0:
        raise IDXFormatError(f"{source}: the IDX header declares 0 dimensions.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{source}: the IDX header is cut short ({len(data)} bytes, need {header}).")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    count = int(np.prod(dims, dtype=np.int64))
    expected = count * dtype.itemsize
    found = len(data) - header
    if found != expected:
        raise IDXFormatError(
            f"{source}: the header declares shape {tuple(dims)} ({expected} bytes of data) but the file holds "
            f"{found} bytes{' (truncated)' if found < expected else ''}. Replace the file."
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    if dtype.byteorder == ">" and dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(path, sha256=None):
    """Reads an IDX file (``.gz`` or not, told apart by content) into a NumPy array.

    Parsed arrays are kept for the life of the process, keyed by path, size and modification
    time; the returned array is read-only and shared, so copy it before changing it.

    Args:
        path: The file.
        sha256: When given, the file's bytes must have this SHA-256 digest (checked once per
            process and file version).

    Raises:
        ChecksumError: The file's digest is not ``sha256``.
        IDXFormatError: The file is not a valid IDX file.
    """
    path = os.path.abspath(path)
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    with _arrays_lock:
        arr, verified = _arrays.get(key, (None, None))
    if arr is None or (sha256 is not None and verified != sha256):
        try:
            data = read_regular(path, max_data_bytes())  # not a FIFO or device; not more than the limit
        except OSError as e:
            raise IDXFormatError(f"{path}: cannot be read as a data file: {e.strerror or e}.") from None
        if sha256 is not None:
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha256:
                raise ChecksumError(
                    f"{path}: the file's SHA-256 is {digest}, expected {sha256}: it is damaged or not the "
                    "published file. Reinstall visualkeras-app (or replace the file)."
                )
        if arr is None:
            arr = parse_idx(data, source=path)
        with _arrays_lock:
            _arrays[key] = (arr, sha256 if sha256 is not None else verified)
    return arr


def _as_uint8(a, what, source):
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind in "iu" and (a.size == 0 or (a.min() >= 0 and a.max() <= 255)):
        return a.astype(np.uint8)
    raise IDXFormatError(f"{source}: expected uint8 {what} (values 0-255), found dtype {a.dtype}.")


def _check_split(x, y, split, source, image_shape):
    if x.ndim != 3 or tuple(x.shape[1:]) != tuple(image_shape):
        raise IDXFormatError(
            f"{source}: {split} images have shape {x.shape}; expected (N, {image_shape[0]}, {image_shape[1]})."
        )
    if y.ndim != 1:
        raise IDXFormatError(f"{source}: {split} labels have shape {y.shape}; expected (N,).")
    if len(x) != len(y):
        raise IDXFormatError(
            f"{source}: {len(x)} {split} images but {len(y)} {split} labels; the files do not belong together."
        )
    return _as_uint8(x, f"{split} images", source), _as_uint8(y, f"{split} labels", source)


def load_idx_folder(paths, image_shape=(28, 28), sha256=None):
    """Loads ``((x_train, y_train), (x_test, y_test))`` from the four IDX files.

    Args:
        paths: The four paths in ``IDX_FILES`` order (train images, train labels, test images,
            test labels).
        image_shape: Expected shape of one image.
        sha256: Optional ``{file name: SHA-256}``; each file's digest is checked against the
            entry for its name.

    Returns:
        Fresh writable uint8 arrays: x of shape (N, 28, 28), y of shape (N,).
    """
    sha256 = sha256 or {}
    x_train, y_train, x_test, y_test = (read_idx(p, sha256.get(os.path.basename(p))) for p in paths)
    folder = os.path.dirname(paths[0])
    x_train, y_train = _check_split(x_train, y_train, "training", folder, image_shape)
    x_test, y_test = _check_split(x_test, y_test, "test", folder, image_shape)
    # Copies: the parsed arrays are shared and read-only; callers get their own, as from Keras.
    return (x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy())


def load_npz(path, image_shape=(28, 28)):
    """Loads Keras's ``.npz`` layout (arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
            if missing:
                raise IDXFormatError(
                    f"{path}: the .npz file lacks the arrays {missing}; Keras's layout has x_train, y_train, "
                    f"x_test and y_test. Found: {sorted(f.files)}."
                )
            x_train, y_train, x_test, y_test = (f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except IDXFormatError:
        raise
    except (ValueError, OSError, EOFError, zlib.error) as e:  # not a zip, a pickled array, a bad member
        raise IDXFormatError(f"{path}: not a readable Keras .npz file ({e}). Replace the file.") from None
    x_train, y_train = _check_split(x_train, y_train, "training", path, image_shape)
    x_test, y_test = _check_split(x_test, y_test, "test", path, image_shape)
    return (x_train, y_train), (x_test, y_test)


# --------------------------------------------------------------------------------------------
# Local sources


def _find_idx_files(folder):
    """The four IDX paths in ``folder`` (``.gz`` or uncompressed), and the names it lacks."""
    found, missing = [], []
    for name in IDX_FILES:
        plain = name[:-3]
        for candidate in (name, plain, plain.replace("-idx", ".idx")):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                found.append(path)
                break
        else:
            missing.append(name)
    return found, missing


class _Search:
    """Walks the local sources in order, remembering what it saw for the final error message."""

    def __init__(self, spec):
        self.spec = spec
        self.notes = []

    def try_folder(self, folder):
        if not os.path.isdir(folder):
            return None
        found, missing = _find_idx_files(folder)
        if not missing:
            return load_idx_folder(found, self.spec.image_shape)
        if found:
            self.notes.append(f"{folder} has only some of the IDX files; missing: {', '.join(missing)}")
        return None

    def try_npz(self, path):
        if os.path.isfile(path):
            return load_npz(path, self.spec.image_shape)
        return None

    def try_packaged(self):
        """The copy shipped inside the package, its files checked against the published digests."""
        folder = self.spec.packaged
        found, missing = _find_idx_files(folder)
        if missing:
            self.notes.append(f"the copy shipped with visualkeras-app ({folder}) lacks {', '.join(missing)}; "
                              "reinstall visualkeras-app")
            return None
        try:
            return load_idx_folder(found, self.spec.image_shape, sha256=self.spec.idx_sha256())
        except (ChecksumError, IDXFormatError) as e:
            self.notes.append(str(e))
            return None

    def in_root(self, root):
        """``<root>/<folder>/`` with the IDX files, or ``<root>/<name>.npz``/``<root>/<folder>/<name>.npz``."""
        spec = self.spec
        for folder in spec.folders:
            result = self.try_folder(os.path.join(root, folder))
            if result is not None:
                return result
        for path in [os.path.join(root, f"{spec.name}.npz")] + [
            os.path.join(root, folder, f"{spec.name}.npz") for folder in spec.folders
        ]:
            result = self.try_npz(path)
            if result is not None:
                return result
        return None

    def sources(self, keras_npz=None):
        """Zero-argument loaders for each local source, in the documented order."""
        spec = self.spec
        data_root = os.environ.get(DATA_ENV)
        if data_root:
            yield lambda: self.in_root(data_root)
        if spec.packaged:
            yield self.try_packaged
        keras_dir = keras_datasets_dir()
        npz_name = keras_npz or spec.keras_npz
        if npz_name:
            yield lambda: self.try_npz(os.path.join(keras_dir, npz_name))
        if spec.keras_folder:
            yield lambda: self.try_folder(os.path.join(keras_dir, spec.keras_folder))
        yield lambda: self.in_root(cache_dir())
        for folder, _how in spec.system_folders:
            yield lambda folder=folder: self.try_folder(folder)


# --------------------------------------------------------------------------------------------
# Downloads


def _urlopen(url, timeout):
    """Opens ``url``; tests replace this to serve local bytes."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (https and file URLs only)


def fetch(url, dest, sha256, expected_size=None):
    """Downloads ``url`` to ``dest`` atomically, checking its SHA-256 (unless ``sha256`` is None).

    The bytes go to a temporary file beside ``dest`` (``engine.utils.file_utils.atomic_write``)
    which takes ``dest``'s name only once the digest matches; on any failure it is removed. A
    progress bar goes to stderr.

    Raises:
        DownloadError: The transfer failed or was cut short.
        ChecksumError: The bytes are not the published file.
    """
    io_utils.print_msg(f"Downloading data from {url}", file=sys.stderr)

    def download(tmp):
        h = hashlib.sha256()
        done = 0
        total = expected_size
        with open(tmp, "wb") as out:
            try:
                with _urlopen(url, _DOWNLOAD_TIMEOUT_S) as resp:
                    length = resp.headers.get("Content-Length") if getattr(resp, "headers", None) else None
                    total = int(length) if length else expected_size
                    bar = Progbar(total, file=sys.stderr)
                    while True:
                        chunk = resp.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        h.update(chunk)
                        done += len(chunk)
                        bar.update(done, finalize=False)
                    bar.update(done, finalize=True)
            except (urllib.error.URLError, OSError, ValueError) as e:
                raise DownloadError(f"{url}: {getattr(e, 'reason', None) or e}") from e
        if total is not None and done != total:
            raise DownloadError(f"{url}: the download stopped after {done} of {total} bytes.")
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256:  # None: the caller checks another hash (get_file's md5)
            raise ChecksumError(
                f"{url}: the downloaded file's SHA-256 is {digest}, expected {sha256}. "
                "The mirror serves a different or damaged file; nothing was saved."
            )

    atomic_write(dest, download)
    return dest


def _download_alternative(files, folder, errors):
    """Downloads every file of one alternative into ``folder``; the paths, or None on failure."""
    paths = []
    for remote in files:
        dest = os.path.join(folder, remote.name)
        if os.path.isfile(dest) and sha256_file(dest) == remote.sha256:
            paths.append(dest)  # left by an earlier, partly failed attempt
            continue
        for url in remote.urls:
            try:
                paths.append(fetch(url, dest, remote.sha256, remote.size))
                break
            except DownloadError as e:
                errors.append(str(e))
        else:
            return None
    return paths


def _download(spec, errors):
    cache = cache_dir()
    for files in spec.downloads:
        if len(files) == 1 and files[0].name.endswith(".npz"):
            paths = _download_alternative(files, cache, errors)
            if paths:
                return load_npz(paths[0], spec.image_shape)
        else:
            paths = _download_alternative(files, os.path.join(cache, spec.folders[0]), errors)
            if paths:
                by_name = dict(zip((f.name for f in files), paths))
                return load_idx_folder([by_name[n] for n in IDX_FILES], spec.image_shape)
    return None


# --------------------------------------------------------------------------------------------
# Entry point


def load(spec, keras_npz=None):
    """Returns ``((x_train, y_train), (x_test, y_test))`` for ``spec`` from the first source that has it.

    Args:
        spec: The ``DatasetSpec``.
        keras_npz: Name of the ``.npz`` in Keras's cache to use instead of ``spec.keras_npz``
            (the ``path`` argument of ``keras.datasets.mnist.load_data``).

    Raises:
        DatasetNotFoundError: Nothing local and the download failed or is disabled; the
            message lists where to put the files.
        IDXFormatError: A file was found but is not valid.
    """
    search = _Search(spec)
    for loader in search.sources(keras_npz):
        result = loader()
        if result is not None:
            return result
    errors = []
    if not offline():
        result = _download(spec, errors)
        if result is not None:
            return result
    else:
        errors.append(f"downloads are turned off ({OFFLINE_ENV}={os.environ.get(OFFLINE_ENV)})")
    raise DatasetNotFoundError(_not_found_message(spec, keras_npz, errors, search.notes))


def _not_found_message(spec, keras_npz, errors, notes):
    data_root = os.environ.get(DATA_ENV)
    root_text = "$" + DATA_ENV
    folder = spec.folders[0]
    lines = [f"The {spec.title} data set is not on this computer and could not be downloaded."]
    if errors:
        lines.append("Download errors:")
        lines += [f"  - {e}" for e in errors]
    if notes:
        lines.append("Incomplete or damaged copies found:")
        lines += [f"  - {n}" for n in notes]
    lines += [
        "To use it offline, put the files in one of these places:",
        f"  1. The folder named by the {DATA_ENV} environment variable "
        f"({'now: ' + data_root if data_root else 'not set now; e.g. export ' + DATA_ENV + '=$HOME/data'}), "
        "as the four IDX files",
    ]
    lines += [f"       {root_text}/{folder}/{name}" for name in IDX_FILES]
    lines.append(
        f"     or Keras's single file {root_text}/{spec.name}.npz (arrays x_train, y_train, x_test, y_test)."
    )
    keras_dir = keras_datasets_dir()
    keras_places = []
    if keras_npz or spec.keras_npz:
        keras_places.append(os.path.join(keras_dir, keras_npz or spec.keras_npz))
    if spec.keras_folder:
        keras_places.append(os.path.join(keras_dir, spec.keras_folder) + os.sep + " (the four IDX files)")
    lines.append(f"  2. Keras's download cache: {' or '.join(keras_places)}")
    ours = cache_dir()
    lines.append(
        f"  3. This app's cache ({CACHE_ENV} changes it): {os.path.join(ours, folder)}{os.sep} (the four IDX files)"
        f" or {os.path.join(ours, spec.name + '.npz')}"
    )
    for place, how in spec.system_folders:
        lines.append(f"  4. {place}{os.sep} (the four IDX files; {how})")
    lines.append("The files can be downloaded from:")
    for files in spec.downloads:
        lines += [f"  {f.urls[0]}" for f in files]
    return "\n".join(lines)
