"""The Keras 3 ``.keras`` zip (``metadata.json``, ``config.json``, ``model.weights.h5``) and the
``.weights.h5`` tree it shares with ``save_weights``.

Weights tree (``saving/saving_lib.py`` in Keras): each object's own variables go to ``<path>/vars/0, 1...``
with the attribute ``name``; a model's layers sit under ``layers/<snake_case(ClassName)>[_1, _2...]``
numbered in ``model.layers`` order, and a layer's sub-layers under their attribute name
(``layers/lstm/cell``, ``layers/bidirectional/forward_layer/cell``). The layer's own name is not in the
path, so a model pairs with a file by position. The optimizer's state is ``optimizer/vars/N``.

Reading never extracts the archive, so a member named ``../x`` or a zip bomb cannot touch the disk: the config
is read into memory after its declared size and compression ratio were checked; the weights member, when
stored uncompressed (Keras stores it so), is checked where it lies in the file (CRC-32, HDF5 global heaps)
and read by HDF5 from there (:func:`weights_file`), and a compressed one is unpacked into memory first.
"""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import struct
import threading
import warnings
import zipfile

import h5py
import torch

from engine import backend
from engine.layers.layer import weights_from_file
from engine.saving import h5_format, saving_api
from engine.saving.saving_api import restore_optimizer
from engine.saving.serialization import loads_config, model_from_config, ModelFileError, serialize_model

CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
WEIGHTS_NAME = "model.weights.h5"

MAX_MEMBERS = 1000
MAX_JSON_MEMBER_BYTES = 64 * 1024 * 1024
MAX_WEIGHTS_BYTES = 1 << 37  # 128 GiB: larger than any model this engine trains, far below a bomb
# Keras writes members stored (ratio 1); deflate cannot pass ~1032:1. More than this is a bomb.
_MAX_RATIO = 100
_RATIO_FLOOR_BYTES = 1 << 20


# ---------------------------------------------------------------------------------------------- the tree
def walk(model):
    """``[(path, layer)]`` for the model and every layer inside it, in Keras's order and with its paths
    (each object names its children: ``saveable_children``)."""
    out, visited = [], set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj))
        for attr, child in obj.saveable_children():
            if isinstance(child, list):
                used = {}
                for layer in child:
                    name = backend.to_snake_case(type(layer).__name__)
                    if name in used:
                        used[name] += 1
                        name = f"{name}_{used[name]}"
                    else:
                        used[name] = 0
                    visit(layer, _join(path, attr, name))
            else:
                visit(child, _join(path, attr))

    visit(model, "")
    return out


def _join(*parts):
    return "/".join(p for p in parts if p)


def write_weights(model, h5file, include_optimizer=True):
    """Write the weights tree (and the optimizer's state when compiled) into an open ``h5py.File``."""
    for path, layer in walk(model):
        group = h5file.create_group(_join(path, "vars"))
        group.attrs["name"] = layer.name
        store = {}
        layer.save_own_variables(store)
        for key, value in store.items():
            group.create_dataset(key, data=value)
    opt = getattr(model, "optimizer", None)
    if include_optimizer and opt is not None and getattr(model, "compiled", False):
        group = h5file.create_group("optimizer/vars")
        group.attrs["name"] = opt.name
        for i, value in enumerate(opt.get_state()):
            group.create_dataset(str(i), data=value)
        inner = getattr(opt, "inner_optimizer", None)
        if inner is not None:  # LossScaleOptimizer: Keras also writes the wrapped optimizer's own state
            group = h5file.create_group("optimizer/inner_optimizer/vars")
            group.attrs["name"] = inner.name
            for i, value in enumerate(inner.get_state()):
                group.create_dataset(str(i), data=value)


def read_weights(model, h5file, skip_mismatch=False, optimizer="built", direct=False):
    """Read a weights tree into ``model``; every value is checked before any weight changes.

    Args:
        optimizer: ``"build"`` builds the model's optimizer to restore its saved state, ``"built"``
            restores it only into an optimizer that is already built, ``None`` ignores it.
        direct: read each value straight into its weight's memory (one copy, no value held in between)
            once every dataset's shape, type and size was checked. Only for a model just built for this
            file (``load_keras``), which is dropped when a read fails halfway.

    Returns:
        the weights that were written.
    """
    pairs, groups = [], {}
    for path, layer in walk(model):
        params = layer.own_variables()
        if not params:
            continue
        vars_path = _join(path, "vars")
        where = f"layer {layer.name!r} ({type(layer).__name__}, at {vars_path!r})"
        group = _find_group(h5file, vars_path, groups)
        if group is None:
            if skip_mismatch:
                warnings.warn(f"Skipping {where}: the file has no weights for it.", stacklevel=3)
                continue
            raise ModelFileError(f"the file has no weights for {where}; the model expects {len(params)}")
        keys = list(group.keys())
        if sorted(keys) != sorted(str(i) for i in range(len(params))):
            msg = f"{where} expects {len(params)} variables, the file has {len(keys)}"
            if skip_mismatch:
                warnings.warn(f"Skipping {msg}.", stacklevel=3)
                continue
            raise ModelFileError(msg)
        values = []
        for i, p in enumerate(params):
            try:
                if direct:  # checked now, read below
                    ds = h5_format.checked_dataset(group, str(i), expected_shape=tuple(p.shape))
                    values.append((p, (ds, str(i), where)))
                    continue
                values.append((p, h5_format.read_dataset(group, str(i), expected_shape=tuple(p.shape))))
            except ModelFileError as e:
                if skip_mismatch and "has shape" in str(e):
                    warnings.warn(f"Skipping {where}: {e}", stacklevel=3)
                    values = None
                    break
                raise ModelFileError(f"{where}: {e}") from None
        if values:
            pairs.extend(values)
    opt = getattr(model, "optimizer", None)
    restore = (optimizer == "build" or (optimizer == "built" and opt is not None and opt.built))
    state_reader = None
    if restore and opt is not None and _has_path(h5file, "optimizer/vars"):
        group = h5_format.get_group(h5file, "optimizer/vars")
        n = len(group.keys())
        state_reader = (n, lambda i, shape: h5_format.read_dataset(group, str(i), expected_shape=shape))
    if direct:
        for p, (ds, key, where) in pairs:
            try:
                h5_format.read_dataset_into(ds, key, p)
            except ModelFileError as e:
                raise ModelFileError(f"{where}: {e}") from None
    else:
        h5_format.assign(pairs)
    if state_reader is not None:
        restore_optimizer(model, *state_reader)
    return [p for p, _ in pairs]


def _has_path(h5file, path):
    return _find_group(h5file, path, {}) is not None


def _find_group(h5file, path, cache):
    """The group at ``path`` (each step checked by ``h5_format.get_group``), or None when an entry on the
    way is missing. ``cache`` keeps the groups met on the way for the next paths (``layers``, ...)."""
    current, walked = h5file, ""
    for part in path.split("/"):
        walked = f"{walked}/{part}" if walked else part
        found = cache.get(walked)
        if found is None:
            if not h5_format.has_entry(current, part):
                return None
            found = cache[walked] = h5_format.get_group(current, part)
        current = found
    return current


# ---------------------------------------------------------------------------------------------- the zip
def save_keras(model, fileobj, include_optimizer=True):
    """Write ``model`` as a ``.keras`` archive into the binary file object ``fileobj``."""
    config = serialize_model(model)
    compile_config = model.get_compile_config()
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {"keras_version": h5_format.KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        write_weights(model, f, include_optimizer=include_optimizer)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA_NAME, json.dumps(metadata))
        zf.writestr(CONFIG_NAME, json.dumps(config))
        zf.writestr(WEIGHTS_NAME, weights.getvalue())


def check_archive(zf):
    """Refuse archives with unsafe member names, encryption or members that would decompress to a bomb."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"the archive has {len(infos)} members; a .keras file has a handful")
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (name.startswith(("/", "\\")) or ".." in parts or "\x00" in name
                or (len(name) > 1 and name[1] == ":")):
            raise ModelFileError(f"the archive member {name!r} points outside the archive; refused")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"the archive member {name!r} is encrypted")
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
            raise ModelFileError(f"the archive member {name!r} declares {info.file_size} bytes but stores only "
                                 f"{info.compress_size}: refused as a decompression bomb")


def read_member(zf, name, max_bytes):
    """Read one archive member into memory, refusing it when it declares or yields more than ``max_bytes``."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError(f"the archive has no {name!r}; a .keras file holds {CONFIG_NAME}, "
                             f"{METADATA_NAME} and {WEIGHTS_NAME}") from None
    if info.file_size > max_bytes:
        raise ModelFileError(f"the archive member {name!r} declares {info.file_size} bytes, over the limit "
                             f"of {max_bytes}")
    with zf.open(info) as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ModelFileError(f"the archive member {name!r} holds more than {max_bytes} bytes")
    return data


def open_archive(fileobj):
    try:
        zf = zipfile.ZipFile(fileobj, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as e:
        raise ModelFileError(f"not a readable .keras (zip) archive: {e}") from None
    check_archive(zf)
    return zf


def weights_limit(zf, model=None):
    """The most bytes the archive's weights member may hold. With ``model``, at most what that model's weights
    can honestly take: each weight in float64 with three optimizer slots (32 bytes a weight) plus 64 MiB of
    HDF5 structure; a member that declares more is refused before it is unpacked, whatever its compression
    ratio (a 50 MB archive unpacking to 3 GiB passed the ratio check alone)."""
    limit = MAX_WEIGHTS_BYTES
    if model is not None:
        count = sum(int(w.numel()) for w in model.weights)
        limit = min(MAX_WEIGHTS_BYTES, 32 * count + (64 << 20))
        declared = zf.getinfo(WEIGHTS_NAME).file_size if WEIGHTS_NAME in zf.namelist() else 0
        if declared > limit:
            raise ModelFileError(f"{WEIGHTS_NAME} declares {declared:,} bytes, but the model has {count:,} weights "
                                 f"(at most {limit:,} bytes); refused before unpacking")
    return limit


def open_weights_member(zf, model=None):
    """The archive's weights, unpacked into memory, as an open HDF5 file (see :func:`weights_limit` for the
    size allowed with ``model``); :class:`WeightsMember` reads a stored member where it lies instead."""
    data = read_member(zf, WEIGHTS_NAME, weights_limit(zf, model))
    try:
        return h5_format.open_h5(data)
    except ModelFileError as e:
        raise ModelFileError(f"{WEIGHTS_NAME} in the archive: {e}") from None


# The local file header before each member's bytes (APPNOTE 4.3.7): signature, versions, flags, method, time,
# date, CRC-32, sizes, then the lengths of the name and the extra field that follow it.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"


def stored_range(zf, fileobj, name):
    """Where the member ``name``'s bytes lie in the archive's file ``fileobj``, as an ``h5_format.FileRange``:
    only for a member stored uncompressed (Keras stores them so) in a file that can seek; None for any other
    (it is read through ``zipfile``). The member's local header is checked as ``zipfile`` checks it before
    reading: its signature, its name against the central directory's, no patched or strongly encrypted
    data; and the bytes it declares must be in the file."""
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED or not getattr(fileobj, "seekable", lambda: False)():
        return None
    if info.file_size != info.compress_size:
        raise ModelFileError(f"the archive member {name!r} is stored uncompressed but declares {info.file_size} "
                             f"bytes and stores {info.compress_size}; the archive is damaged")
    fileobj.seek(info.header_offset)
    header = fileobj.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        raise ModelFileError(f"the archive's local header of {name!r} is damaged (no header signature at byte "
                             f"{info.header_offset})")
    fields = _LOCAL_HEADER.unpack(header)
    flags, name_length, extra_length = fields[3], fields[10], fields[11]
    if flags & 0x60:  # patched data, strong encryption: zipfile refuses them, with its own messages
        return None
    raw_name = fileobj.read(name_length)
    encoding = "utf-8" if flags & 0x800 else (getattr(zf, "metadata_encoding", None) or "cp437")
    if raw_name.decode(encoding, errors="replace") != info.orig_filename:
        raise ModelFileError(f"the archive's local header of {name!r} names {raw_name!r}; the archive is damaged")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    end = fileobj.seek(0, io.SEEK_END)
    if start + info.file_size > end:
        raise ModelFileError(f"the archive is cut short: {name!r} should end at byte {start + info.file_size:,}, "
                             f"the file has {end:,}")
    return h5_format.FileRange(fileobj, start, info.file_size)


def check_stored_weights(zf, fileobj, stop=None, step=None):
    """The weights member as an ``h5_format.FileRange`` over ``fileobj`` after its CRC-32 and its HDF5 global
    heaps (``h5_format.check_file_structure``) were checked, in one pass over its bytes; None when it is not
    stored (or declares more than any model may hold): it is then unpacked into memory and checked there.

    Args:
        stop: a ``threading.Event`` that ends the pass early (``ModelFileError``).
        step: the bytes read, checksummed and searched at a time (``h5_format._FIND_STEP`` when None).
    """
    info = zf.getinfo(WEIGHTS_NAME)
    if info.file_size > MAX_WEIGHTS_BYTES:
        return None  # refused by read_member, before anything is read
    try:
        found = stored_range(zf, fileobj, WEIGHTS_NAME)
        if found is not None:
            crc = h5_format.check_file_structure(found, checksum=True, stop=stop, step=step)
            if crc != info.CRC:
                raise ModelFileError(f"its CRC-32 is {crc:08x}, the archive says {info.CRC:08x}: the file is damaged")
    except ModelFileError as e:
        raise ModelFileError(f"{WEIGHTS_NAME} in the archive: {e}") from None
    return found


# Bytes a background check handles at a time: each block costs the thread the interpreter lock a few times,
# and on busy cores every hand-over of the lock can stall the thread that builds the model (with 1 MiB
# blocks the load took longer than without the thread).
_BACKGROUND_STEP = 16 << 20


class WeightsCheck:
    """:func:`check_stored_weights` on a thread of its own, from the moment this is made: it reads, checksums
    and searches the member (the reads, ``zlib.crc32`` and ``memmem`` run without the interpreter lock) while
    the model is built. Nothing else may read ``fileobj`` until :meth:`result` returned. :meth:`stop` ends
    it early, for a load that failed meanwhile."""

    def __init__(self, zf, fileobj):
        self.identity = _identity(fileobj)
        self._stop = threading.Event()
        self._outcome = (None, None)
        self._thread = threading.Thread(target=self._run, args=(zf, fileobj), name="keras-weights-check",
                                        daemon=True)
        self._thread.start()

    def _run(self, zf, fileobj):
        try:
            self._outcome = (check_stored_weights(zf, fileobj, self._stop, _BACKGROUND_STEP), None)
        except BaseException as e:  # noqa: BLE001 - raised again by result(), on the caller's thread
            self._outcome = (None, e)

    def result(self):
        """What :func:`check_stored_weights` returned, once it has; what it raised is raised here."""
        self._thread.join()
        found, error = self._outcome
        if error is not None:
            raise error
        return found

    def stop(self):
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def weights_file(zf, fileobj, model=None, check=None):
    """The archive's weights as an open ``h5py.File``, checked first: the size allowed with ``model``
    (:func:`weights_limit`), then the member's CRC-32 and its HDF5 global heaps
    (:func:`check_stored_weights`, or the :class:`WeightsCheck` ``check`` that runs it already).

    A stored member (Keras stores them) is not read into memory: the check reads it a block at a time (reused),
    and HDF5 then reads the weights from where they lie in ``fileobj`` straight into the model's memory. As
    its bytes are read twice, the file must not change in between: its size and times are compared when the
    ``with`` block ends, and a file that changed is refused. A compressed member is unpacked into memory and
    checked there (:func:`open_weights_member`).
    """
    before = check.identity if check is not None else _identity(fileobj)
    try:
        weights_limit(zf, model)
    except ModelFileError:
        if check is not None:
            check.stop()
        raise
    found = check.result() if check is not None else check_stored_weights(zf, fileobj)
    if found is None:
        with open_weights_member(zf, model) as f:
            yield f
        return
    try:
        f = h5py.File(found, "r")
    except (OSError, ValueError, RuntimeError) as e:
        raise ModelFileError(f"{WEIGHTS_NAME} in the archive: not a readable HDF5 file: {e}") from None
    with f:
        yield f
    if _identity(fileobj) != before:
        raise ModelFileError("the file changed while it was read (was it being saved?); open it again")


def _identity(fileobj):
    """What changes when the open file is written to or truncated: its size and times (a file replaced by
    renaming another over it leaves the open one as it was)."""
    try:
        st = os.fstat(fileobj.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def load_keras(fileobj, custom_objects=None, compile=True):
    """Build, fill and (when it was saved compiled) compile a model from a ``.keras`` archive."""
    with open_archive(fileobj) as zf:
        config = loads_config(read_member(zf, CONFIG_NAME, MAX_JSON_MEMBER_BYTES))
        if not isinstance(config, dict):
            raise ModelFileError(f"{CONFIG_NAME} should hold a JSON object")
        check = WeightsCheck(zf, fileobj) if WEIGHTS_NAME in zf.namelist() else None
        try:
            if check is not None:
                # read_weights below fills every weight or refuses the file: no initializer need run, and no
                # memory is written before the file's values are (those it lacks are zeroed below).
                with weights_from_file(empty=True):
                    model = model_from_config(config, custom_objects=custom_objects)
            else:
                model = model_from_config(config, custom_objects=custom_objects)
            compile_cfg = config.get("compile_config") if compile else None
            if compile_cfg:
                saving_api.compile_from_config(model, compile_cfg, custom_objects)
        except BaseException:
            if check is not None:
                check.stop()
            raise
        if check is not None:
            with weights_file(zf, fileobj, model, check) as f:
                written = {id(p) for p in read_weights(model, f, optimizer="build" if compile_cfg else None,
                                                       direct=True)}
            with torch.no_grad():
                for w in model.weights:  # a weight outside the weights tree (none today) is never left unset
                    if id(w) not in written:
                        w.zero_()
        elif any(True for _ in model.weights):
            raise ModelFileError(f"the archive has no {WEIGHTS_NAME}, but the model has weights")
    return model
