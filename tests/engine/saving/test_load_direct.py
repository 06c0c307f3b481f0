"""A .keras archive's weights are read straight from the file into the weights' memory (NASNetLarge's 356 MB
were zeroed, cloned and copied: 3 passes over its memory beside the read), with every dataset checked
first and values of another dtype still converted; layers take over their initial values' memory."""
import io
import zipfile

import h5py
import numpy as np
import pytest
import torch

import engine
from engine import layers
from engine.variables import Variable


def _model():
    norm = layers.Normalization(name="norm")
    norm.adapt(np.arange(12, dtype="float32").reshape(4, 3))
    return engine.Sequential([engine.Input((3,)), norm, layers.Dense(4, name="dense"),
                              layers.BatchNormalization(name="bn"), layers.Dense(2, name="out")])


def test_weights_are_read_into_place_without_reading_whole_datasets(tmp_path, monkeypatch):
    model = _model()
    path = str(tmp_path / "m.keras")
    model.save(path)

    def whole_read(self, *args, **kwargs):
        raise AssertionError("a dataset was read into a NumPy array of its own")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", whole_read)
    loaded = engine.saving.load_model(path, compile=False)
    monkeypatch.undo()
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((5, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), rtol=1e-6)


def _rewrite_weights(path, out, change):
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    buf = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buf, "r+") as f:
        change(f)
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_a_float64_dataset_is_converted_into_a_float32_weight(tmp_path):
    model = _model()
    path, changed = str(tmp_path / "m.keras"), str(tmp_path / "f64.keras")
    model.save(path)
    kernel = np.random.default_rng(1).normal(size=(3, 4))  # float64, not representable in float32

    def to_float64(f):
        names = []
        f.visit(names.append)
        group = f[next(n for n in names if n.endswith("dense/vars"))]
        del group["0"]
        group.create_dataset("0", data=kernel)

    _rewrite_weights(path, changed, to_float64)
    loaded = engine.saving.load_model(changed, compile=False)
    got = loaded.get_layer("dense").kernel
    assert got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), kernel.astype("float32"))


def test_a_wrong_shape_is_refused_before_any_weight_is_read(tmp_path, monkeypatch):
    model = _model()
    path, changed = str(tmp_path / "m.keras"), str(tmp_path / "bad.keras")
    model.save(path)

    def bad_shape(f):
        names = []
        f.visit(names.append)
        group = f[next(n for n in names if n.endswith("dense_1/vars"))]
        del group["0"]
        group.create_dataset("0", data=np.zeros((4, 3), "float32"))

    _rewrite_weights(path, changed, bad_shape)
    reads = []
    original = h5py.Dataset.read_direct
    monkeypatch.setattr(h5py.Dataset, "read_direct", lambda self, *a, **k: (reads.append(self.name),
                                                                          original(self, *a, **k)))
    with pytest.raises(engine.saving.ModelFileError, match=r"'out'.*has shape \(4, 3\)"):
        engine.saving.load_model(changed, compile=False)
    assert reads == []


def test_a_layer_takes_over_its_initial_values_memory_but_not_a_users_tensor():
    t = torch.ones(3, 2)
    v = Variable.adopt(t, trainable=True, name="k")
    assert v.data_ptr() == t.data_ptr() and v.requires_grad and v.name == "k" and isinstance(v, Variable)
    assert not Variable.adopt(torch.ones(3, dtype=torch.int64)).requires_grad

    kept = torch.full((2, 2), 3.0)
    layer = layers.Dense(2, kernel_initializer=lambda shape, dtype=None: kept)
    layer.build((None, 2))
    assert layer.kernel.data_ptr() != kept.data_ptr()  # a user's initializer keeps its tensor
    layer.kernel.assign(np.zeros((2, 2)))
    assert float(kept.sum()) == 12.0


@pytest.mark.parametrize("step", [1 << 22, 7, 64])
def test_a_corrupt_global_heap_is_found_in_any_slice_of_the_search(tmp_path, monkeypatch, step):
    from engine.saving import h5_format

    path = str(tmp_path / "m.keras")
    _model().save(path)
    with zipfile.ZipFile(path) as zf:
        data = zf.read("model.weights.h5")
    monkeypatch.setattr(h5_format, "_FIND_STEP", step)
    h5_format.check_file_structure(data)  # Keras's own attributes: every collection walks to its end
    start = data.find(b"GCOL")
    assert start != -1 and data[start + 4] == 1
    # The first object of the collection declares a size that would make HDF5 walk past its end.
    obj = start + 16
    bad = data[:obj + 8] + (3).to_bytes(8, "little") + data[obj + 16:]
    with pytest.raises(engine.saving.ModelFileError, match="corrupt HDF5 global heap"):
        h5_format.check_file_structure(bad)
