"""A .keras archive's model is built without drawing its initializers (the file's values replace every
weight at once; NASNetLarge spent half its load in truncated normals), and an archive that lacks any weight
is still refused, so no zero is ever left in place of a value."""
import zipfile

import h5py
import numpy as np
import pytest

import engine
from engine import initializers, layers
from engine.saving.serialization import ModelFileError


def _model():
    return engine.Sequential([engine.Input((8, 8, 3)), layers.Conv2D(4, 3, name="conv"),
                              layers.BatchNormalization(name="bn"), layers.Flatten(), layers.Dense(5, name="dense")])


def _no_drawing(monkeypatch):
    def drawn(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} drew weights")

    for cls in (initializers.GlorotUniform, initializers.Ones):  # Dense/Conv kernels, BatchNormalization's gamma
        monkeypatch.setattr(cls, "__call__", drawn)


def test_a_keras_archive_loads_without_running_initializers(tmp_path, monkeypatch):
    model = _model()
    path = str(tmp_path / "m.keras")
    model.save(path)
    _no_drawing(monkeypatch)
    with pytest.raises(AssertionError, match="GlorotUniform drew"):
        _model()  # building the model otherwise draws its kernels
    loaded = engine.saving.load_model(path, compile=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(AssertionError, match="GlorotUniform drew"):
        _model()  # the load's zeros ended with it: new layers draw their initializers again


def test_an_archive_missing_a_layers_weights_is_refused(tmp_path):
    path = str(tmp_path / "m.keras")
    _model().save(path)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    weights = tmp_path / "w.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        names = []
        f.visit(names.append)
        dense = next(n for n in names if n.endswith("vars") and "dense" in n)
        del f[dense]
    members["model.weights.h5"] = weights.read_bytes()
    broken = str(tmp_path / "broken.keras")
    with zipfile.ZipFile(broken, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match="no weights"):
        engine.saving.load_model(broken, compile=False)
