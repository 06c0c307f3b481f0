"""HDF5: guarded reading for every format, and the legacy ``.h5`` layout of Keras 2 and Keras 3.

A model file is untrusted input. Every group and dataset is reached through ``get_group`` /
``read_dataset``, which refuse soft and external links, external and virtual datasets, unusual filters,
non-numeric data and datasets whose declared size does not fit what the model expects, before any
data is read. Attributes are size-checked before they are read.

Legacy layout (``legacy/saving/legacy_h5_format.py`` in Keras): root attributes ``keras_version``,
``backend``, ``model_config`` and ``training_config``; a ``model_weights`` group with the attribute
``layer_names`` and one group per layer holding ``weight_names`` and the datasets. Keras pairs the
file's layers-with-weights with the model's by position, so we write ``model.layers`` order.
"""
from __future__ import annotations

import ctypes
import io
import json
import math
import mmap
import os
import warnings
import zlib

import h5py
import numpy as np
import torch

from engine.saving import saving_api
from engine.saving.serialization import loads_config, model_from_config, ModelFileError, serialize_model
from engine.utils.file_utils import open_regular

# The Keras release whose file layout we write; Keras reads it back as one of its own files.
KERAS_VERSION = "3.15.1"
BACKEND = "torch"

# HDF5 object headers hold at most 64 KiB: longer name lists are split as Keras splits them.
HDF5_OBJECT_HEADER_LIMIT = 64512
# Filters that only decode data (no plugins): deflate, shuffle, fletcher32, szip, nbit, scaleoffset, lzf.
_SAFE_FILTERS = {1, 2, 3, 4, 5, 6, 32000}
# A dataset that declares more than this many bytes must store at least 1/_MAX_EXPANSION of them.
_BOMB_FLOOR_BYTES = 1 << 20
_MAX_EXPANSION = 1000
MAX_ATTR_BYTES = 64 * 1024 * 1024
_PLAIN_TYPES = (h5py.h5t.TypeStringID, h5py.h5t.TypeIntegerID, h5py.h5t.TypeFloatID)
MAX_ATTR_ITEMS = 1_000_000


# ---------------------------------------------------------------------------------------------- file structure
_SUPERBLOCK = b"\x89HDF\r\n\x1a\n"
_GCOL = b"GCOL"


def check_file_structure(buf, checksum=False, stop=None, step=None):
    """Refuse HDF5 bytes whose global heaps would send the HDF5 library into an endless loop.

    Variable-length strings (Keras 3 writes its attributes so) live in "global heap collections".
    HDF5 walks a collection's objects by their declared sizes; a zero or misaligned size makes that
    walk never end, inside the C library where no timeout can reach. So every collection in the file
    (every ``GCOL`` signature, wherever it is, datasets' raw data included: HDF5 loads a collection at
    whatever address a heap ID gives, and only checks that it starts with one) is walked here first,
    and any that HDF5 could not walk to its end is refused.

    Args:
        buf: the whole file: bytes, an mmap, or a :class:`FileRange` (read a slice at a time).
        checksum: also return the CRC-32 of all of ``buf``, computed in the same pass.
        stop: a ``threading.Event``; once it is set, the pass ends with ``ModelFileError``.
        step: the bytes read, checksummed and searched at a time (``_FIND_STEP`` when None).

    Returns:
        the CRC-32 of ``buf`` when ``checksum``, else None.
    """
    base = None
    for offset in (0, 512, 1024, 2048, 4096, 8192, 16384):
        if buf[offset:offset + 8] == _SUPERBLOCK:
            base = offset
            break
    if base is None:
        raise ModelFileError("not an HDF5 file (no HDF5 signature)")
    version = buf[base + 8]
    sizes = (buf[base + 13], buf[base + 14]) if version in (0, 1) else (buf[base + 9], buf[base + 10])
    if version > 3 or sizes != (8, 8):
        raise ModelFileError(f"unusual HDF5 layout (superblock version {version}, sizes {sizes}); Keras files "
                             "use 8-byte offsets and lengths")
    n = len(buf)
    step = step or _FIND_STEP
    crc, block = 0, None
    blocks = _blocks(buf, n, step, len(_GCOL) - 1)
    try:
        for start, block in blocks:
            if stop is not None and stop.is_set():
                raise ModelFileError("the check was stopped")
            own = min(step, n - start)  # the bytes after that are the next block's first ones
            if checksum:
                crc = zlib.crc32(block[:own], crc)
            for pos in _find_all(block, _GCOL, own):
                pos += start
                if pos + 16 <= n and buf[pos + 4] == 1:
                    _walk_collection(buf, pos, n)
    finally:
        block = None  # views of an mmap: it cannot close while one lives (a traceback keeps this frame)
        blocks.close()
    return crc if checksum else None


# Bytes checked at a time: a block is read, checksummed and searched while it is in the processor's cache
# (1 MiB blocks: 0.22-0.25 s for NASNetLarge's 356 MB, 4 MiB: 0.26-0.28 s). Where no C library's memmem runs
# the search without the interpreter lock, a search holds that lock: over a whole 356 MB file it took 0.2 s,
# during which a window reading the file on a worker thread could not answer.
_FIND_STEP = 1 << 20


def _blocks(buf, n, step, overlap):
    """``(start, block)`` for each ``step`` bytes of ``buf``, the block holding ``overlap`` more bytes (so that
    a signature across two blocks' border is in the first): NumPy views of bytes or an mmap, or a reused
    buffer filled from a :class:`FileRange`."""
    if isinstance(buf, FileRange):
        block = np.empty(min(n, step + overlap), np.uint8)
        for start in range(0, n, step):
            got = buf.readinto_at(start, block[:min(step + overlap, n - start)])
            yield start, block[:got]
        return
    whole = np.frombuffer(buf, np.uint8)  # a view: nothing is copied
    try:
        for start in range(0, n, step):
            yield start, whole[start:start + step + overlap]
    finally:
        del whole  # an mmap cannot close while a view of it lives


def _memmem():
    """The C library's ``memmem`` (it searches without holding the interpreter lock, and ~1.5x faster than
    ``bytes.find``), or None where there is none (Windows)."""
    global _MEMMEM
    if _MEMMEM is None:
        try:
            fn = ctypes.CDLL(None).memmem
            fn.restype = ctypes.c_void_p
            fn.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
            _MEMMEM = fn
        except (OSError, TypeError, AttributeError):
            _MEMMEM = False
    return _MEMMEM or None


_MEMMEM = None


def _find_all(block, needle, limit):
    """Offsets in ``block`` (a 1-D uint8 array) where ``needle`` starts, those below ``limit``."""
    size = len(block)
    if size < len(needle):
        return
    memmem = _memmem()
    if memmem is None:
        data = block.tobytes()
        pos = data.find(needle, 0, min(size, limit + len(needle) - 1))
        while pos != -1:
            yield pos
            pos = data.find(needle, pos + 1, min(size, limit + len(needle) - 1))
        return
    address = block.ctypes.data
    pos = 0
    while pos < limit:
        found = memmem(address + pos, size - pos, needle, len(needle))
        if not found or found - address >= limit:
            return
        pos = found - address
        yield pos
        pos += 1


class FileRange:
    """Bytes ``[start, start + size)`` of a binary file, read when asked for: what ``h5py.File`` opens (a
    read-only file object: ``seek``, ``tell``, ``readinto``, ``read``) and what :func:`check_file_structure`
    checks (``len``, indexing and slicing, as bytes). Reads at the range's end are short, as a file's; a
    file that ends before the range does is refused (it was cut short, or changed while it was read).
    """

    # Small reads (the structure check's, HDF5's of its metadata: object headers, B-tree nodes and heaps, at
    # most a few KiB each and near each other) come from one read of a window of this many bytes: NASNetLarge's
    # 7,541 small reads took 601 file reads instead.
    _WINDOW = 1 << 16
    _SMALL = 1 << 12

    def __init__(self, fileobj, start, size):
        self._f, self._start, self._size = fileobj, int(start), int(size)
        self._pos = 0
        self._cache_at, self._cache = 0, bytearray()

    def _cached(self, start, stop):
        """Bytes ``[start, stop)``, from the window (read anew when it does not hold them)."""
        if not (self._cache_at <= start and stop <= self._cache_at + len(self._cache)):
            window = bytearray(min(max(stop - start, self._WINDOW), self._size - start))
            self.readinto_at(start, window)
            self._cache_at, self._cache = start, window
        return self._cache[start - self._cache_at:stop - self._cache_at]

    def __len__(self):
        return self._size

    def readinto_at(self, offset, buf):
        """Fill ``buf`` (any writable buffer) from ``offset``; the bytes read (fewer only at the range's end)."""
        view = memoryview(buf).cast("B")
        want = max(0, min(len(view), self._size - offset))
        got = 0
        self._f.seek(self._start + offset)
        while got < want:
            n = self._f.readinto(view[got:want])
            if not n:
                raise ModelFileError(f"the file ends {want - got} bytes early (at byte {self._start + offset + got}); "
                                     "it was cut short, or changed while it was read")
            got += n
        view.release()
        return got

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._size)
            if step != 1:
                raise ValueError("FileRange slices take no step")
            return bytes(self._cached(start, max(start, stop)))
        if key < 0:
            key += self._size
        if not 0 <= key < self._size:
            raise IndexError("FileRange index out of range")
        return self[key:key + 1][0]

    # ------------------------------------------------------------------ the file object h5py reads
    def seek(self, offset, whence=0):
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self):
        return self._pos

    def readinto(self, buf):
        if self._pos >= self._size:
            return 0
        view = memoryview(buf).cast("B")
        n = min(len(view), self._size - self._pos)
        if n <= self._SMALL:
            view[:n] = self._cached(self._pos, self._pos + n)
        else:
            n = self.readinto_at(self._pos, view)
        view.release()
        self._pos += n
        return n

    def read(self, size=-1):
        if size is None or size < 0:
            size = self._size - self._pos
        out = bytearray(max(0, min(size, self._size - self._pos)))
        return bytes(out[:self.readinto(out)])

    def readable(self):
        return True

    def seekable(self):
        return True

    def writable(self):
        return False

    def flush(self):
        pass


def open_h5(source):
    """Open HDF5 ``source`` (a path or the file's bytes) read-only, after ``check_file_structure``."""
    try:
        if isinstance(source, (bytes, bytearray)):
            check_file_structure(source)
            return h5py.File(io.BytesIO(source), "r")

        with open_regular(source) as f:
            if os.fstat(f.fileno()).st_size < 8:
                raise ModelFileError("not an HDF5 file (too short)")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                check_file_structure(buf)
        return h5py.File(source, "r")
    except ModelFileError:
        raise
    except (OSError, ValueError) as e:
        raise ModelFileError(f"not a readable HDF5 file: {e}") from None


def _walk_collection(buf, start, n):
    size = int.from_bytes(buf[start + 8:start + 16], "little")
    end = start + size
    if size < 16 or end > n:
        raise ModelFileError(f"corrupt HDF5 global heap at byte {start}: declared size {size}")
    p = start + 16
    while p < end:
        if p + 16 > end:
            break  # a tail too small for an object header is free space, as HDF5 reads it
        index = int.from_bytes(buf[p:p + 2], "little")
        obj_size = int.from_bytes(buf[p + 8:p + 16], "little")
        need = obj_size if index == 0 else 16 + ((obj_size + 7) & ~7)
        if need <= 0 or need % 8 or p + need > end:
            raise ModelFileError(f"corrupt HDF5 global heap at byte {start}: object {index} at byte {p} declares "
                                 f"{obj_size} bytes")
        p += need


# ---------------------------------------------------------------------------------------------- guarded access
def _is_hard_link(group, name):
    """Whether ``name`` (one step of a path) is a plain (hard) link in ``group``: one low-level call, a third of
    ``group.get(name, getlink=True)``'s time. False for anything else, which the callers then ask h5py about."""
    if "/" in name:
        return False
    try:
        return group.id.links.get_info(name.encode("utf-8")).type == h5py.h5l.TYPE_HARD
    except (KeyError, ValueError, OSError, RuntimeError, UnicodeError):
        return False


_KIND_NAMES = {h5py.h5i.GROUP: "Group", h5py.h5i.DATASET: "Dataset", h5py.h5i.DATATYPE: "Datatype"}


def _check_link(group, name, path):
    if _is_hard_link(group, name):
        return
    try:
        link = group.get(name, getlink=True)
    except (KeyError, ValueError, OSError, RuntimeError) as e:
        raise ModelFileError(f"cannot read HDF5 entry {path!r}: {e}") from None
    if link is None:
        raise ModelFileError(f"the HDF5 entry {path!r} is missing")
    if isinstance(link, h5py.SoftLink):
        raise ModelFileError(f"the HDF5 entry {path!r} is a soft link; links are not allowed in model files")
    if isinstance(link, h5py.ExternalLink):
        raise ModelFileError(f"the HDF5 entry {path!r} is an external link to {link.filename!r}; links to other "
                             "files are not allowed in model files")
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(f"the HDF5 entry {path!r} is a {type(link).__name__}; only plain entries are allowed")


def _parts(path):
    parts = [p for p in str(path).split("/")]
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise ModelFileError(f"invalid HDF5 path {path!r}")
    return parts


def has_entry(group, name):
    if _is_hard_link(group, name):
        return True
    try:
        return group.get(name, getlink=True) is not None
    except (KeyError, ValueError, OSError, RuntimeError):
        return False


def get_group(root, path):
    """The group at ``path`` (``a/b/c``) under ``root``, each step checked to be a plain hard link."""
    current, walked = root, []
    for part in _parts(path):
        walked.append(part)
        _check_link(current, part, "/".join(walked))
        oid = h5py.h5o.open(current.id, part.encode("utf-8"))  # as in checked_dataset: current[part], faster
        kind = h5py.h5i.get_type(oid)
        if kind != h5py.h5i.GROUP:
            raise ModelFileError(f"the HDF5 entry {'/'.join(walked)!r} should be a group but is a "
                                 f"{_KIND_NAMES.get(kind, 'HDF5 object')}")
        current = h5py.Group(oid)
    return current


def _check_dataset(ds, path):
    # The dataset's own creation list, type and dtype, each fetched once (h5py's properties fetch them anew).
    plist, tid, dtype = ds.id.get_create_plist(), ds.id.get_type(), ds.dtype
    if plist.get_external_count() > 0:
        raise ModelFileError(f"the dataset {path!r} stores its data in external files {ds.external!r}; "
                             "external datasets are not allowed in model files")
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        raise ModelFileError(f"the dataset {path!r} is a virtual dataset; virtual datasets are not allowed in "
                             "model files")
    if (not isinstance(tid, (h5py.h5t.TypeIntegerID, h5py.h5t.TypeFloatID, h5py.h5t.TypeEnumID))
            or dtype.kind not in "fiub" or dtype.fields is not None or dtype.subdtype is not None):
        raise ModelFileError(f"the dataset {path!r} holds {dtype} data; weights must be numbers")
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _SAFE_FILTERS:
            raise ModelFileError(f"the dataset {path!r} uses HDF5 filter {code}, which may need a plugin "
                                 "library; only the standard filters are allowed")


def read_dataset(group, path, expected_shape=None, max_bytes=None):
    """Read the numeric dataset at ``path`` under ``group`` after checking its declared shape and size.

    Args:
        expected_shape: when given, a dataset of any other shape is refused before it is read.
        max_bytes: when given (and no expected shape), a larger declared size is refused.
    """
    return np.asarray(checked_dataset(group, path, expected_shape, max_bytes)[()])


def read_dataset_into(ds, path, param):
    """Read the dataset ``ds`` (from :func:`checked_dataset`, with ``param``'s shape as the expected one)
    straight into the CPU tensor ``param``: one copy, from the file into the weight. A value of another
    dtype (or a weight NumPy cannot view) is read and converted as :func:`assign` does."""
    if tuple(ds.shape) != tuple(param.shape):
        raise ModelFileError(f"the dataset {path!r} has shape {tuple(ds.shape)} but the model's weight has shape "
                             f"{tuple(param.shape)}")
    target = param.detach()
    if (target.device.type == "cpu" and target.is_contiguous() and target.numel() > 0
            and target.dtype in _NUMPY_VIEWABLE and np.dtype(ds.dtype) == _NUMPY_VIEWABLE[target.dtype]):
        try:  # the whole dataset into the whole weight: their shapes and dtypes are the same (checked above)
            ds.id.read(h5py.h5s.ALL, h5py.h5s.ALL, target.numpy())
        except (OSError, ValueError, TypeError, RuntimeError) as e:
            raise ModelFileError(f"cannot read the dataset {path!r}: {e}") from None
    else:
        assign([(param, np.asarray(ds[()]))])


_NUMPY_VIEWABLE = {torch.float32: np.dtype("float32"), torch.float64: np.dtype("float64"),
                   torch.float16: np.dtype("float16"), torch.int32: np.dtype("int32"),
                   torch.int64: np.dtype("int64"), torch.uint8: np.dtype("uint8"), torch.int8: np.dtype("int8"),
                   torch.int16: np.dtype("int16"), torch.bool: np.dtype("bool")}


def checked_dataset(group, path, expected_shape=None, max_bytes=None):
    """The ``h5py.Dataset`` at ``path`` under ``group``, unread, after every check of :func:`read_dataset`."""
    parts = _parts(path)
    parent = get_group(group, "/".join(parts[:-1])) if len(parts) > 1 else group
    _check_link(parent, parts[-1], path)
    # h5py's low-level calls: parent[name] took 42 us a dataset, 2.5 times these (NASNetLarge has 1,546).
    oid = h5py.h5o.open(parent.id, parts[-1].encode("utf-8"))
    kind = h5py.h5i.get_type(oid)
    if kind != h5py.h5i.DATASET:
        raise ModelFileError(f"the HDF5 entry {path!r} should be a dataset but is a "
                             f"{_KIND_NAMES.get(kind, 'HDF5 object')}")
    ds = h5py.Dataset(oid)
    _check_dataset(ds, path)
    shape = oid.shape
    if shape is None:
        raise ModelFileError(f"the dataset {path!r} is empty (null dataspace)")
    shape = tuple(int(d) for d in shape)
    if expected_shape is not None and shape != tuple(expected_shape):
        raise ModelFileError(f"the dataset {path!r} has shape {shape} but the model's weight has shape "
                             f"{tuple(expected_shape)}")
    declared = math.prod(shape) * ds.dtype.itemsize
    if max_bytes is not None and declared > max_bytes:
        raise ModelFileError(f"the dataset {path!r} declares {declared} bytes, more than {max_bytes} allowed here")
    if declared > _BOMB_FLOOR_BYTES and declared > _MAX_EXPANSION * ds.id.get_storage_size():
        raise ModelFileError(f"the dataset {path!r} declares {declared} bytes but stores only "
                             f"{ds.id.get_storage_size()}: refused as a decompression/shape bomb")
    return ds


def _attr(obj, name):
    """The raw value of attribute ``name`` (None when absent), size-checked before reading."""
    try:
        if name not in obj.attrs:
            return None
        aid = obj.attrs.get_id(name)
        # Only strings and plain numbers: converting other types (variable-length sequences,
        # references, compounds) from a corrupt file can crash the HDF5 library itself.
        if not isinstance(aid.get_type(), _PLAIN_TYPES):
            raise ModelFileError(f"the attribute {name!r} has an unexpected HDF5 type "
                                 f"({type(aid.get_type()).__name__}); Keras writes strings and numbers")
        shape = aid.shape or ()
        try:
            stored = aid.get_storage_size()
        except RuntimeError:  # HDF5 reports an error for empty attributes
            stored = 0
        if math.prod(shape) > MAX_ATTR_ITEMS or stored > MAX_ATTR_BYTES:
            raise ModelFileError(f"the attribute {name!r} is too large ({math.prod(shape)} items, {stored} bytes)")
        return obj.attrs[name]
    except ModelFileError:
        raise
    except (KeyError, ValueError, OSError, RuntimeError, TypeError) as e:
        raise ModelFileError(f"cannot read the attribute {name!r}: {e}") from None


def _to_str(value, what):
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"{what} is not UTF-8 text") from None
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.shape == ():
        return _to_str(value[()], what)
    raise ModelFileError(f"{what} should be text but is {type(value).__name__}")


def read_str_attr(obj, name):
    """A text attribute (str, bytes or fixed-length byte string) as str; None when absent."""
    value = _attr(obj, name)
    return None if value is None else _to_str(value, f"the attribute {name!r}")


def read_str_list_attr(obj, name):
    """A list-of-names attribute, joined from ``name0``, ``name1``... chunks when Keras split it."""
    chunks = []
    value = _attr(obj, name)
    if value is not None:
        chunks.append(value)
    else:
        i = 0
        while True:
            value = _attr(obj, f"{name}{i}")
            if value is None:
                break
            chunks.append(value)
            i += 1
    out = []
    for chunk in chunks:
        arr = np.asarray(chunk)
        if arr.ndim > 1:
            raise ModelFileError(f"the attribute {name!r} should be a list of names")
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.size and arr.dtype.kind not in "SUO":
            raise ModelFileError(f"the attribute {name!r} should hold names, not {arr.dtype} values")
        out.extend(_to_str(v, f"an entry of the attribute {name!r}") for v in arr)
    return out


def write_str_list_attr(obj, name, values):
    """Write a list of names as fixed-length byte strings, split in chunks as Keras does."""
    data = np.array([v.encode("utf-8") for v in values]) if values else np.zeros((0,), dtype="float64")
    if data.nbytes <= HDF5_OBJECT_HEADER_LIMIT:
        obj.attrs[name] = data
        return
    n = 2
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in np.array_split(data, n)):
        n += 1
    for i, chunk in enumerate(np.array_split(data, n)):
        obj.attrs[f"{name}{i}"] = chunk


# ---------------------------------------------------------------------------------------------- weights, legacy
def legacy_weights(layer):
    """Keras's legacy weight order of a layer: trainable weights, then non-trainable ones."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _weight_paths(layer, prefix=""):
    """``{id(param): "prefix/layer/sub/kernel"}``: the names Keras 3 gives the variables (``w.path``)."""
    out = {}
    base = f"{prefix}{layer.name}/"
    for p in layer.own_variables():
        out.setdefault(id(p), base + getattr(p, "keras_name", "variable"))
    for sub in layer.sublayers():
        for k, v in _weight_paths(sub, base).items():
            out.setdefault(k, v)
    return out


def write_layer_weights(group, model):
    """Write ``model.layers``' weights into ``group`` in the legacy layout (``layer_names``...)."""
    layers = model.layers
    write_str_list_attr(group, "layer_names", [l.name for l in layers])
    group.attrs["backend"] = BACKEND.encode("utf-8")
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf-8")
    prefix = model.variable_path_prefix
    for layer in sorted(layers, key=lambda l: l.name):
        _write_subset(group.create_group(layer.name), legacy_weights(layer), _weight_paths(layer, prefix))
    _write_subset(group.create_group("top_level_model_weights"), [], {})


def _unique(names):
    out, used = [], set()
    for name in names:
        base, k = name, 1
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        out.append(name)
    return out


def _write_subset(group, weights, paths):
    names = _unique([paths.get(id(w), f"variable_{i}") for i, w in enumerate(weights)])
    write_str_list_attr(group, "weight_names", names)
    for name, w in zip(names, weights):
        group.create_dataset(name, data=w.detach().cpu().numpy())


def read_layer_weights(group, model, skip_mismatch=False):
    """Read legacy-layout weights from ``group`` into ``model``, pairing layers by position as Keras does.

    Everything is read and checked first; the model changes only when the whole file fits.
    """
    names = read_str_list_attr(group, "layer_names")
    saved = []
    for name in names:
        weight_names = read_str_list_attr(get_group(group, name), "weight_names")
        if weight_names:
            saved.append((name, weight_names))
    layers = [l for l in model.layers if legacy_weights(l)]
    if len(saved) != len(layers):
        raise ModelFileError(f"layer count mismatch: the model has {len(layers)} layers with weights "
                             f"{[l.name for l in layers]}, the file has {len(saved)} {[n for n, _ in saved]}")
    pairs = []
    for k, ((name, weight_names), layer) in enumerate(zip(saved, layers)):
        params = legacy_weights(layer)
        if len(weight_names) != len(params):
            raise ModelFileError(f"weight count mismatch for layer #{k} (named {layer.name!r} in the model, "
                                 f"{name!r} in the file): the layer has {len(params)} weights, the file "
                                 f"{len(weight_names)}")
        layer_group = get_group(group, name)
        for wname, p in zip(weight_names, params):
            try:
                value = read_dataset(layer_group, wname, expected_shape=tuple(p.shape))
            except ModelFileError as e:
                if skip_mismatch and "has shape" in str(e):
                    warnings.warn(f"Skipping weight {wname!r} of layer {layer.name!r}: {e}", stacklevel=3)
                    continue
                raise ModelFileError(f"layer {name!r}: {e}") from None
            pairs.append((p, value))
    assign(pairs)


def assign(pairs):
    """Copy numpy values into parameters (after every value was checked)."""
    with torch.no_grad():
        for p, value in pairs:
            # ascontiguousarray turns a 0-d value (a scalar weight such as Normalization's count) into 1-d.
            value = np.ascontiguousarray(value).reshape(np.shape(value))
            p.copy_(torch.as_tensor(value).to(dtype=p.dtype, device=p.device))


# ---------------------------------------------------------------------------------------------- whole model
def save_model_h5(model, h5file, include_optimizer=True):
    """Write ``model`` into the open ``h5py.File`` in Keras's legacy ``.h5`` layout."""
    config = serialize_model(model)
    config.pop("build_config", None)
    h5file.attrs["keras_version"] = KERAS_VERSION
    h5file.attrs["backend"] = BACKEND
    h5file.attrs["model_config"] = json.dumps(config).encode("utf-8")
    compiled = getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None
    if compiled and include_optimizer:
        training = model.get_compile_config()
        optimizer = training.pop("optimizer")
        training["optimizer_config"] = {"class_name": optimizer["class_name"], "config": optimizer["config"]}
        h5file.attrs["training_config"] = json.dumps(training).encode("utf-8")
    write_layer_weights(h5file.create_group("model_weights"), model)
    if compiled and include_optimizer:
        opt = model.optimizer
        state = opt.get_state()
        group = h5file.create_group("optimizer_weights")
        names = _unique([f"{opt.name}/{n}" for n in opt.variable_names])
        write_str_list_attr(group, "weight_names", names)
        for name, value in zip(names, state):
            group.create_dataset(name, data=value)


def load_model_h5(h5file, custom_objects=None, compile=True):
    """Build, fill and (when it was saved compiled) compile a model from an open legacy ``.h5`` file."""
    text = read_str_attr(h5file, "model_config")
    if text is None:
        hint = (" It holds only weights: build the model and call model.load_weights(path)."
                if _attr(h5file, "layer_names") is not None or has_entry(h5file, "layers") else "")
        raise ModelFileError(f"no model config found in the file.{hint}")
    model = model_from_config(loads_config(text), custom_objects=custom_objects)
    read_layer_weights(get_group(h5file, "model_weights"), model)
    if not compile:
        return model
    training_text = read_str_attr(h5file, "training_config")
    if training_text is None:
        return model
    training = loads_config(training_text, "training config")
    if not isinstance(training, dict):
        raise ModelFileError("the training config should be a JSON object")
    training = dict(training)
    if "optimizer_config" not in training:
        raise ModelFileError("the training config has no 'optimizer_config'")
    training["optimizer"] = training.pop("optimizer_config")
    saving_api.compile_from_config(model, training, custom_objects)
    version = read_str_attr(h5file, "keras_version") or ""
    # Keras 2 ordered optimizer slots differently (all m, then all v): only Keras 3 state is restored.
    if has_entry(h5file, "optimizer_weights") and version.startswith("3"):
        group = get_group(h5file, "optimizer_weights")
        names = read_str_list_attr(group, "weight_names")
        saving_api.restore_optimizer(model, len(names), lambda i, shape: read_dataset(group, names[i], shape))
    return model
