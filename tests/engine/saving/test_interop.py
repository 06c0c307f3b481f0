"""Files written by real Keras 3 load in the engine and predict the same, and the other way round.

Every architecture of ``zoo.ZOO`` is built in one library with distinct random weights (and trained a
few steps, so that BatchNormalization's statistics and the optimizer's state are not the defaults),
saved as ``.keras``, ``.h5`` and JSON, loaded in the other library and compared (atol 1e-5).
"""
import numpy as np
import pytest

import engine
from tests.engine.saving import zoo

ATOL = 1e-5


def _compile_and_train(model, K):
    multi = len(model.outputs) > 1
    model.compile(optimizer=K.optimizers.Adam(learning_rate=0.01), loss=["mse", "mae"] if multi else "mse",
                  metrics=[["mae"], ["mse"]] if multi else ["mae"])
    model.fit(zoo.inputs_for(model, 8), zoo.targets_for(model, 8), batch_size=4, epochs=1, verbose=0)


def _predict(model, x):
    return zoo.as_list(model.predict(x, verbose=0))


def _assert_close(got, want, what):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert g.shape == w.shape, what
        np.testing.assert_allclose(g, w, atol=ATOL, rtol=0, err_msg=what)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_keras_files_load_in_engine(keras, tmp_path, name):
    kmodel = zoo.ZOO[name](keras)
    zoo.perturb(kmodel)
    _compile_and_train(kmodel, keras)
    x = zoo.inputs_for(kmodel, 5, seed=3)
    want = _predict(kmodel, x)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        kmodel.save(path)
        emodel = engine.models.load_model(path)
        _assert_close(_predict(emodel, x), want, f"{name}.{ext}")
        assert emodel.compiled and type(emodel.optimizer).__name__ == "Adam"
        assert emodel.optimizer.learning_rate == pytest.approx(0.01)
        # The optimizer state came along: same step count as Keras.
        assert emodel.optimizer.iterations == int(np.asarray(kmodel.optimizer.iterations))
    emodel = engine.models.model_from_json(kmodel.to_json())
    emodel.set_weights(kmodel.get_weights())
    _assert_close(_predict(emodel, x), want, f"{name}.json")
    # Weights-only files, into a model built from the config.
    kmodel.save_weights(str(tmp_path / "m.weights.h5"))
    fresh = engine.models.model_from_json(kmodel.to_json())
    fresh.load_weights(str(tmp_path / "m.weights.h5"))
    _assert_close(_predict(fresh, x), want, f"{name}.weights.h5")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_engine_files_load_in_keras(keras, tmp_path, name):
    emodel = zoo.ZOO[name](engine)
    zoo.perturb(emodel)
    _compile_and_train(emodel, engine)
    x = zoo.inputs_for(emodel, 5, seed=3)
    want = _predict(emodel, x)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        emodel.save(path)
        kmodel = keras.models.load_model(path)
        _assert_close(_predict(kmodel, x), want, f"{name}.{ext}")
        assert type(kmodel.optimizer).__name__ == "Adam"
        assert float(np.asarray(kmodel.optimizer.learning_rate)) == pytest.approx(0.01)
    # Keras restored the optimizer state of the .keras file as its own variables.
    kmodel = keras.models.load_model(str(tmp_path / "m.keras"))
    kvars = [np.asarray(v) for v in kmodel.optimizer.variables]
    evars = emodel.optimizer.get_state()
    assert len(kvars) == len(evars)
    for a, b in zip(kvars, evars):
        np.testing.assert_allclose(a, b, atol=1e-7)
    kmodel = keras.models.model_from_json(emodel.to_json())
    kmodel.set_weights(emodel.get_weights())
    _assert_close(_predict(kmodel, x), want, f"{name}.json")
    emodel.save_weights(str(tmp_path / "e.weights.h5"))
    kmodel = keras.models.model_from_json(emodel.to_json())
    kmodel.load_weights(str(tmp_path / "e.weights.h5"))
    _assert_close(_predict(kmodel, x), want, f"{name}.weights.h5")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_engine_round_trip_is_bitwise_exact(tmp_path, name):
    model = zoo.ZOO[name](engine)
    zoo.perturb(model)
    _compile_and_train(model, engine)
    weights = model.get_weights()
    state = model.optimizer.get_state()
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        model.save(path)
        loaded = engine.models.load_model(path)
        assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
        for a, b in zip(loaded.get_weights(), weights):
            assert a.dtype == b.dtype and np.array_equal(a, b), ext
        for a, b in zip(loaded.optimizer.get_state(), state):
            assert np.array_equal(np.asarray(a), np.asarray(b)), ext
    json_model = engine.models.model_from_json(model.to_json())
    json_model.set_weights(weights)
    assert json_model.to_json() == model.to_json()
    for ext in ("weights.h5", "h5"):
        path = str(tmp_path / f"w.{ext}")
        model.save_weights(path)
        fresh = engine.models.model_from_json(model.to_json())
        fresh.load_weights(path)
        assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), weights)), ext
