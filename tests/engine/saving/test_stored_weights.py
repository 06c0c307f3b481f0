"""A .keras archive's stored weights member is checked where it lies in the file (CRC-32 and HDF5 global
heaps in one pass, a block at a time) and read by HDF5 from there, never unpacked into memory; the guards are
those of a member read into memory: a corrupt heap anywhere in the member (datasets' raw data included), a
wrong checksum, a damaged local header or a file that changes during the load is refused."""
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest

import engine
from engine import layers
from engine.saving import h5_format, keras_zip, ModelFileError
from tests.engine.saving.test_hostile import _members
from tests.engine.saving.test_hostile import _write_zip as _write

WEIGHTS = "model.weights.h5"


def _model(kernel=None):
    model = engine.Sequential([engine.Input((3,)), layers.Dense(4, name="dense"), layers.Dense(2, name="out")])
    if kernel is not None:
        model.get_layer("dense").kernel.assign(kernel)
    return model


def _bad_heap(data):
    """``data`` with the first global heap collection's first object declaring more bytes than the collection
    holds (HDF5 would walk on past its end); zipfile writes the right CRC for it."""
    start = data.find(b"GCOL")
    assert start != -1 and data[start + 4] == 1
    obj = start + 16
    return data[:obj + 8] + (1 << 40).to_bytes(8, "little") + data[obj + 16:]


def _member_start(path, name=WEIGHTS):
    with open(path, "rb") as f, zipfile.ZipFile(f) as zf:
        info = zf.getinfo(name)
        f.seek(info.header_offset)
        header = f.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        return info.header_offset + 30 + name_length + extra_length, info


def test_stored_weights_are_read_in_place_not_unpacked(tmp_path, monkeypatch):
    model = _model()
    path = str(tmp_path / "m.keras")
    model.save(path)
    unpacked = []
    original = keras_zip.read_member
    monkeypatch.setattr(keras_zip, "read_member", lambda zf, name, limit: (unpacked.append(name),
                                                                           original(zf, name, limit))[1])
    loaded = engine.saving.load_model(path)
    assert unpacked == ["config.json"]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_corrupt_heap_in_a_stored_member_is_refused(tmp_path):
    path, bad = str(tmp_path / "m.keras"), str(tmp_path / "bad.keras")
    _model().save(path)
    members = _members(path)
    members[WEIGHTS] = _bad_heap(members[WEIGHTS])
    _write(bad, members)
    with pytest.raises(ModelFileError, match="corrupt HDF5 global heap"):
        engine.saving.load_model(bad)


def test_a_corrupt_heap_in_a_compressed_member_is_refused_and_a_sound_one_loads(tmp_path):
    path, good, bad = (str(tmp_path / n) for n in ("m.keras", "deflated.keras", "bad.keras"))
    model = _model()
    model.save(path)
    members = _members(path)
    _write(good, members, zipfile.ZIP_DEFLATED)
    np.testing.assert_array_equal(engine.saving.load_model(good).get_weights()[0], model.get_weights()[0])
    members[WEIGHTS] = _bad_heap(members[WEIGHTS])
    _write(bad, members, zipfile.ZIP_DEFLATED)
    with pytest.raises(ModelFileError, match="corrupt HDF5 global heap"):
        engine.saving.load_model(bad)


def test_a_corrupt_heap_signature_inside_a_datasets_values_is_refused_as_before(tmp_path):
    # The rule is unchanged: a collection is looked for in all of the member's bytes, weights' values
    # included, since HDF5 loads a collection wherever a heap ID points. These 16 bytes are a collection
    # header declaring 8 bytes (less than its own header).
    fake = np.frombuffer(b"GCOL\x01\x00\x00\x00" + (8).to_bytes(8, "little"), dtype="<f4")
    kernel = np.zeros((3, 4), "float32")
    kernel[0] = fake
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        _model(kernel).save(path)
        with pytest.raises(ModelFileError, match="corrupt HDF5 global heap"):
            engine.saving.load_model(path)


def test_a_wrong_checksum_is_refused(tmp_path):
    path = str(tmp_path / "m.keras")
    _model(np.ones((3, 4), "float32")).save(path)
    start, info = _member_start(path)
    with open(path, "rb") as f:
        data = f.read()
    one = np.ones(1, "float32").tobytes()
    at = data.index(one * 12, start)  # the kernel's values, in the member's raw data
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(np.full(1, 2.0, "float32").tobytes())
    with pytest.raises(ModelFileError, match="CRC-32"):
        engine.saving.load_model(path)


@pytest.mark.parametrize("damage", ["signature", "name"])
def test_a_damaged_local_header_is_refused(tmp_path, damage):
    path = str(tmp_path / "m.keras")
    _model().save(path)
    _, info = _member_start(path)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + (0 if damage == "signature" else 30))
        f.write(b"XX")
    with pytest.raises(ModelFileError, match="local header"):
        engine.saving.load_model(path)


def test_a_file_that_changes_during_the_load_is_refused(tmp_path, monkeypatch):
    path = str(tmp_path / "m.keras")
    _model().save(path)
    original = keras_zip.read_weights

    def read_then_append(*args, **kwargs):
        written = original(*args, **kwargs)
        with open(path, "ab") as f:  # as a program saving over the file would
            f.write(b"\0")
        return written

    monkeypatch.setattr(keras_zip, "read_weights", read_then_append)
    with pytest.raises(ModelFileError, match="changed while it was read"):
        engine.saving.load_model(path)


def test_a_range_past_the_files_end_is_refused_not_read_short(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(bytes(range(100)))
    with open(path, "rb") as f:
        part = h5_format.FileRange(f, 10, 50)
        assert len(part) == 50 and part[0] == 10 and part[-1] == 59 and part[5:8] == bytes([15, 16, 17])
        assert part.read(4) == bytes([10, 11, 12, 13]) and part.tell() == 4
        part.seek(0, io.SEEK_END)
        assert part.read(10) == b""  # a read at the range's end is short, as a file's
        beyond = h5_format.FileRange(f, 80, 50)
        with pytest.raises(ModelFileError, match="ends 30 bytes early"):
            beyond.readinto_at(0, bytearray(50))


@pytest.mark.parametrize("memmem", [True, False])
@pytest.mark.parametrize("step", [1 << 20, 7, 64])
def test_every_heap_is_found_in_a_file_range_in_any_block_size(tmp_path, monkeypatch, step, memmem):
    path = str(tmp_path / "m.keras")
    _model().save(path)
    data = _members(path)[WEIGHTS]
    bad = _bad_heap(data)
    monkeypatch.setattr(h5_format, "_FIND_STEP", step)
    if not memmem:  # as on Windows, which has no memmem
        monkeypatch.setattr(h5_format, "_MEMMEM", False)
    for payload, fails in ((data, False), (bad, True)):
        f = io.BytesIO(b"\0" * 13 + payload + b"\0" * 5)
        part = h5_format.FileRange(f, 13, len(payload))
        if fails:
            with pytest.raises(ModelFileError, match="corrupt HDF5 global heap"):
                h5_format.check_file_structure(part, checksum=True)
        else:
            assert h5_format.check_file_structure(part, checksum=True) == zlib.crc32(payload)
            assert h5_format.check_file_structure(payload) is None


def test_signatures_are_found_across_block_borders_with_and_without_memmem(monkeypatch):
    block = np.frombuffer(b"xxGCOLGCOLyGCOzGCOL", np.uint8)
    expected = [2, 6, 15]
    assert list(h5_format._find_all(block, b"GCOL", len(block))) == expected
    assert list(h5_format._find_all(block, b"GCOL", 6)) == [2]  # those starting before the limit only
    monkeypatch.setattr(h5_format, "_MEMMEM", False)
    assert list(h5_format._find_all(block, b"GCOL", len(block))) == expected
    assert list(h5_format._find_all(block, b"GCOL", 6)) == [2]


def test_a_corrupt_heap_in_an_mmapped_h5_file_is_refused_and_the_map_closes(tmp_path):
    path = str(tmp_path / "m.h5")
    _model().save(path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(_bad_heap(data))
    with pytest.raises(ModelFileError, match="corrupt HDF5 global heap") as info:
        engine.saving.load_model(path)
    # The map closed without a BufferError (a view of it outliving the check) taking the refusal's place.
    assert "BufferError" not in str(info.value)


def test_the_collector_is_off_during_a_load_and_back_on_after_even_when_it_fails(tmp_path, monkeypatch):
    import gc

    path = str(tmp_path / "m.keras")
    _model().save(path)
    seen = []
    original = keras_zip.read_weights
    monkeypatch.setattr(keras_zip, "read_weights", lambda *a, **k: (seen.append(gc.isenabled()), original(*a, **k))[1])
    assert gc.isenabled()
    engine.saving.load_model(path)
    assert seen == [False] and gc.isenabled()
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(ModelFileError):
        engine.saving.load_model(path)
    assert gc.isenabled()
    gc.disable()  # a program that keeps it off keeps it off
    try:
        with pytest.raises(ModelFileError):
            engine.saving.load_model(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_no_weight_is_read_before_every_dataset_was_checked(tmp_path, monkeypatch):
    # The last layer's kernel has the wrong shape: the file is refused before any value is read into a weight.
    path, bad = str(tmp_path / "m.keras"), str(tmp_path / "bad.keras")
    _model().save(path)
    members = _members(path)
    import h5py

    buf = io.BytesIO(members[WEIGHTS])
    with h5py.File(buf, "r+") as f:
        names = []
        f.visit(names.append)
        group = f[next(n for n in names if n.endswith("dense_1/vars"))]
        del group["0"]
        group.create_dataset("0", data=np.zeros((2, 4), "float32"))
    members[WEIGHTS] = buf.getvalue()
    _write(bad, members)
    reads = []
    original = h5_format.read_dataset_into
    monkeypatch.setattr(h5_format, "read_dataset_into", lambda ds, key, p: (reads.append(key), original(ds, key, p)))
    with pytest.raises(ModelFileError, match=r"'out'.*has shape \(2, 4\)"):
        engine.saving.load_model(bad)
    assert reads == []
    engine.saving.load_model(path)
    assert len(reads) == 4  # the spy sees the reads of a sound file


def _check_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "keras-weights-check"]


def test_a_config_error_comes_first_and_the_background_check_is_stopped(tmp_path):
    import json

    path, bad = str(tmp_path / "m.keras"), str(tmp_path / "bad.keras")
    _model().save(path)
    members = _members(path)
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["class_name"] = "NoSuchLayer"
    members["config.json"] = json.dumps(config).encode()
    members[WEIGHTS] = _bad_heap(members[WEIGHTS])
    _write(bad, members)
    with pytest.raises(ModelFileError, match="NoSuchLayer"):
        engine.saving.load_model(bad)
    assert _check_threads() == []


def test_a_member_over_the_models_limit_is_refused_and_its_check_stopped(tmp_path):
    path, big = str(tmp_path / "m.keras"), str(tmp_path / "big.keras")
    _model().save(path)
    members = _members(path)
    members[WEIGHTS] += bytes(65 << 20)  # more than 64 MiB over what 26 weights can take
    _write(big, members)
    with pytest.raises(ModelFileError, match="refused before unpacking"):
        engine.saving.load_model(big)
    assert _check_threads() == []


def test_a_stopped_check_ends_with_an_error():
    import threading

    stop = threading.Event()
    stop.set()
    data = io.BytesIO()
    import h5py

    with h5py.File(data, "w") as f:
        f.attrs["name"] = "x"
    with pytest.raises(ModelFileError, match="stopped"):
        h5_format.check_file_structure(data.getvalue(), stop=stop)


def test_load_weights_reads_a_stored_member_in_place_and_checks_it(tmp_path, monkeypatch):
    path, bad = str(tmp_path / "m.keras"), str(tmp_path / "bad.keras")
    source = _model(np.arange(12, dtype="float32").reshape(3, 4))
    source.save(path)
    target = _model()
    unpacked = []
    original = keras_zip.read_member
    monkeypatch.setattr(keras_zip, "read_member", lambda zf, name, limit: (unpacked.append(name),
                                                                           original(zf, name, limit))[1])
    target.load_weights(path)
    assert unpacked == []
    np.testing.assert_array_equal(target.get_layer("dense").kernel.numpy(), source.get_layer("dense").kernel.numpy())
    members = _members(path)
    members[WEIGHTS] = _bad_heap(members[WEIGHTS])
    _write(bad, members)
    with pytest.raises(ModelFileError, match="corrupt HDF5 global heap"):
        target.load_weights(bad)


def test_a_dataset_where_a_group_belongs_and_the_reverse_are_named_in_the_refusal():
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("layers/dense/vars").create_dataset("0", data=np.zeros(3, "float32"))
        f["layers"].create_dataset("flat", data=np.zeros(2, "float32"))
        f["dt"] = np.dtype("float32")  # a named datatype
    with h5py.File(buf, "r") as f:
        assert h5_format.get_group(f, "layers/dense/vars").name == "/layers/dense/vars"
        assert h5_format.checked_dataset(f, "layers/dense/vars/0", expected_shape=(3,)).shape == (3,)
        with pytest.raises(ModelFileError, match="'layers/flat' should be a group but is a Dataset"):
            h5_format.get_group(f, "layers/flat")
        with pytest.raises(ModelFileError, match="'layers/dense' should be a dataset but is a Group"):
            h5_format.checked_dataset(f, "layers/dense")
        with pytest.raises(ModelFileError, match="'dt' should be a group but is a Datatype"):
            h5_format.get_group(f, "dt")
        with pytest.raises(ModelFileError, match="'layers/none' is missing"):
            h5_format.get_group(f, "layers/none")
