"""save/load entry points: compile state, resuming training, weights files, atomic writes, errors."""
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

import engine
from engine.saving import ModelFileError
from tests.engine.saving import zoo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _trained_mlp(optimizer="adam", loss="mse", metrics=("mae",)):
    model = zoo.mlp(engine)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    x, y = zoo.inputs_for(model, 16), zoo.targets_for(model, 16)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model, x, y


def test_compiled_model_comes_back_compiled_with_canonical_names(tmp_path):
    model, x, y = _trained_mlp(engine.optimizers.RMSprop(learning_rate=0.003), "mse", ("mae", "accuracy"))
    model.save(str(tmp_path / "m.keras"))
    model.save(str(tmp_path / "m.h5"))
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        compile_config = json.loads(zf.read("config.json"))["compile_config"]
    with h5py.File(tmp_path / "m.h5") as f:
        training_config = json.loads(f.attrs["training_config"])
    for cfg in (compile_config, training_config):
        assert cfg["loss"] == "mean_squared_error"  # never the alias Keras 3.15 cannot read back
        assert cfg["metrics"] == ["mean_absolute_error", "accuracy"]
    assert compile_config["optimizer"]["class_name"] == "RMSprop"
    assert training_config["optimizer_config"]["config"]["learning_rate"] == pytest.approx(0.003)
    for ext in ("keras", "h5"):
        loaded = engine.models.load_model(str(tmp_path / f"m.{ext}"))
        assert loaded.compiled and isinstance(loaded.optimizer, engine.optimizers.RMSprop)
        assert loaded.optimizer.learning_rate == pytest.approx(0.003)
        logs = loaded.evaluate(x, y, verbose=0, return_dict=True)
        assert set(logs) == {"loss", "mean_absolute_error", "accuracy"}  # the canonical name, as written
        assert logs["loss"] == pytest.approx(model.evaluate(x, y, verbose=0, return_dict=True)["loss"], rel=1e-6)
        assert not engine.models.load_model(str(tmp_path / f"m.{ext}"), compile=False).compiled


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_training_resumes_exactly_where_it_stopped(tmp_path, ext):
    model = zoo.batchnorm(engine)  # no dropout: the continued runs must see the same computation
    model.compile(optimizer="adam", loss="mse")
    x, y = zoo.inputs_for(model, 16), zoo.targets_for(model, 16)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    path = str(tmp_path / f"m.{ext}")
    model.save(path)
    resumed = engine.models.load_model(path)
    assert resumed.optimizer.iterations == model.optimizer.iterations == 2
    for m in (model, resumed):
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == 4


def test_weights_files_and_load_weights_sources(tmp_path):
    model, x, _ = _trained_mlp()
    want = model.predict(x, verbose=0)
    model.save(str(tmp_path / "full.keras"))
    model.save(str(tmp_path / "full.h5"))
    model.save_weights(str(tmp_path / "w.weights.h5"))
    model.save_weights(str(tmp_path / "legacy.h5"))
    with h5py.File(tmp_path / "w.weights.h5") as f:
        assert f["layers/dense/vars"].attrs["name"] == model.layers[0].name
        assert sorted(f["layers"]) == ["dense", "dense_1", "dropout"]
        assert "optimizer/vars/0" in f
    with h5py.File(tmp_path / "legacy.h5") as f:
        assert [n.decode() for n in f.attrs["layer_names"]] == [l.name for l in model.layers]
    for name in ("full.keras", "full.h5", "w.weights.h5", "legacy.h5"):
        fresh = zoo.mlp(engine)
        fresh.load_weights(str(tmp_path / name))
        np.testing.assert_array_equal(fresh.predict(x, verbose=0), want)


def test_load_weights_mismatch_is_refused_or_skipped(tmp_path):
    model, _, _ = _trained_mlp()
    model.save_weights(str(tmp_path / "w.weights.h5"))
    other = engine.Sequential([engine.Input((8,)), engine.layers.Dense(5), engine.layers.Dense(4)])
    before = other.get_weights()
    with pytest.raises(ModelFileError, match="shape"):
        other.load_weights(str(tmp_path / "w.weights.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))
    with pytest.warns(UserWarning, match="Skipping"):
        other.load_weights(str(tmp_path / "w.weights.h5"), skip_mismatch=True)
    three = engine.Sequential([engine.Input((8,))] + [engine.layers.Dense(4) for _ in range(3)])
    three.save_weights(str(tmp_path / "three.h5"))
    with pytest.raises(ModelFileError, match="layer count"):
        other.load_weights(str(tmp_path / "three.h5"))


def test_custom_objects_supply_your_own_layer_classes(tmp_path):
    class Scale(engine.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = engine.Sequential([engine.Input((3,)), Scale(3.0), engine.layers.Dense(2)])
    path = str(tmp_path / "custom.keras")
    model.save(path)
    with pytest.raises(ModelFileError, match="Scale"):
        engine.models.load_model(path)
    loaded = engine.models.load_model(path, custom_objects={"Scale": Scale})
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_subclassed_model_weights_round_trip_with_keras(keras, tmp_path):
    def make(K):
        class Net(K.Model):
            def __init__(self):
                super().__init__()
                self.hidden = K.layers.Dense(3)
                self.out = K.layers.Dense(2)

            def call(self, x, training=False):
                return self.out(self.hidden(x))

        return Net()

    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    kmodel, emodel = make(keras), make(engine)
    kmodel(x)
    emodel(x)
    kmodel.save_weights(str(tmp_path / "k.weights.h5"))
    emodel.load_weights(str(tmp_path / "k.weights.h5"))
    np.testing.assert_allclose(emodel.predict(x, verbose=0), kmodel.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(NotImplementedError, match="subclassed"):
        emodel.save(str(tmp_path / "net.keras"))


def test_save_errors_and_overwrite(tmp_path):
    model, _, _ = _trained_mlp()
    with pytest.raises(ValueError, match="extension"):
        model.save(str(tmp_path / "m.pt"))
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights(str(tmp_path / "m.keras"))
    path = tmp_path / "m.keras"
    model.save(str(path))
    data = path.read_bytes()
    with pytest.raises(FileExistsError):
        model.save(str(path), overwrite=False)
    assert path.read_bytes() == data
    with pytest.raises(ValueError, match="not built"):
        engine.Sequential([engine.layers.Dense(2)]).save(str(tmp_path / "unbuilt.keras"))
    nested = tmp_path / "a" / "b" / "m.h5"
    model.save(str(nested))  # creates folders as Keras does
    assert nested.exists()


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    from engine.saving import h5_format, keras_zip

    model, _, _ = _trained_mlp()
    for ext, module, fn in (("keras", keras_zip, "write_weights"), ("h5", h5_format, "write_layer_weights")):
        path = tmp_path / f"m.{ext}"
        model.save(str(path))
        before = path.read_bytes()
        original = getattr(module, fn)

        def broken(*args, **kwargs):
            original(*args, **kwargs)
            raise OSError("disk full")

        monkeypatch.setattr(module, fn, broken)
        with pytest.raises(OSError, match="disk full"):
            model.save(str(path))
        monkeypatch.setattr(module, fn, original)
        assert path.read_bytes() == before
        assert sorted(os.listdir(tmp_path)) == sorted(p for p in os.listdir(tmp_path) if not p.endswith(".tmp"))
        engine.models.load_model(str(path))


@pytest.mark.slow
def test_kill_mid_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "m.keras"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {ROOT!r})
        import engine
        from engine.saving import keras_zip
        from tests.engine.saving import zoo
        model = zoo.mlp(engine)
        model.save({str(path)!r})
        print("saved", flush=True)
        original = keras_zip.write_weights
        def slow(*a, **k):
            original(*a, **k)
            print("writing", flush=True)
            time.sleep(60)
        keras_zip.write_weights = slow
        model.save({str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved"
        before = path.read_bytes()
        assert proc.stdout.readline().strip() == "writing"
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert path.read_bytes() == before
    assert engine.models.load_model(str(path)).count_params() == zoo.mlp(engine).count_params()


def test_json_files_and_entry_points(tmp_path):
    model, x, _ = _trained_mlp()
    (tmp_path / "m.json").write_text(model.to_json())
    loaded = engine.models.load_model(str(tmp_path / "m.json"))
    assert loaded.to_json() == model.to_json()
    assert engine.saving.load_model is engine.models.load_model
    engine.saving.save_model(model, str(tmp_path / "s.keras"))
    assert engine.saving.load_model(str(tmp_path / "s.keras")).count_params() == model.count_params()
    model.save_weights(str(tmp_path / "only.weights.h5"))
    with pytest.raises(ModelFileError, match="load_weights"):
        engine.models.load_model(str(tmp_path / "only.weights.h5"))
