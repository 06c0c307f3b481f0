"""Muon, ScheduleFreeAdamW and LossScaleOptimizer against Keras 3: weights after every step, state layout
and values, configs both ways, fit, and .keras files with their state."""
import numpy as np
import pytest
import torch

from engine import optimizers
from tests.engine.test_optimizers import _run_both

SHAPES = [(3, 4), (4,), (2, 2, 3)]


CASES = [
    ("Muon", {}),
    ("Muon", {"learning_rate": 0.01, "nesterov": False, "rms_rate": None, "weight_decay": 0.1,
              "adam_weight_decay": None, "adam_lr_ratio": 0.5}),
    ("Muon", {"learning_rate": 0.02, "ns_steps": 3, "momentum": 0.8, "exclude_embeddings": False}),
    ("ScheduleFreeAdamW", {}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.01, "warmup_steps": 3, "weight_decay": 0.05, "beta_1": 0.8}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_new_optimizers_step_as_keras(keras, name, kwargs):
    e, k = getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs)
    _run_both(keras, e, k, atol=2e-6)
    e_cfg, k_cfg = e.get_config(), k.get_config()
    assert set(e_cfg) == set(k_cfg)
    for key, value in k_cfg.items():
        if isinstance(value, float):
            assert e_cfg[key] == pytest.approx(value, rel=1e-6), key
        elif key != "name":
            assert e_cfg[key] == value, key
    again = optimizers.deserialize({"class_name": name, "config": k_cfg})
    assert type(again) is type(e) and again.get_config()["learning_rate"] == pytest.approx(e_cfg["learning_rate"])


def test_muon_uses_adamw_for_embeddings_vectors_and_excluded_layers():
    import engine

    model = engine.Sequential([engine.Input((5,), dtype="int32"), engine.layers.Embedding(10, 4),
                               engine.layers.Flatten(), engine.layers.Dense(3, name="head"),
                               engine.layers.Dense(2, name="out")])
    opt = optimizers.Muon(exclude_layers=["out"])
    opt.build(model.trainable_weights)
    adam = {w.path for w in model.trainable_weights if opt._should_use_adamw(w)}
    assert adam == {"embedding/embeddings", "head/bias", "out/kernel", "out/bias"}
    assert "head_kernel_velocity" not in opt.variable_names and "head_kernel_momentum" in opt.variable_names


def test_muon_update_is_nearly_orthogonal():
    g = torch.randn(6, 4, dtype=torch.float64)
    o = optimizers.Muon(ns_steps=10).zeropower_via_newtonschulz5(g, 10)
    s = torch.linalg.svdvals(o)
    assert torch.all((s > 0.5) & (s < 1.3)), s  # the quintic iteration pushes singular values near 1


@pytest.mark.parametrize("growth", [3, 2000])
def test_loss_scale_optimizer_steps_as_keras(keras, growth):
    grads = [[np.random.default_rng(i).normal(size=s).astype("float32") * 1000 for s in SHAPES] for i in range(6)]
    grads[2][1][0] = np.inf  # a skipped step halves the scale
    grads[4][0][1, 1] = np.nan
    e = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=64.0, dynamic_growth_steps=growth)
    k = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=64.0,
                                            dynamic_growth_steps=growth)
    _run_both(keras, e, k, grads=grads, atol=1e-5)
    assert e.variable_names[:4] == ["iteration", "learning_rate", "step_counter", "dynamic_scale"]
    assert e.dynamic_scale == float(np.asarray(k.dynamic_scale)) and e.iterations == 4
    cfg = e.get_config()
    assert cfg["inner_optimizer"]["class_name"] == "Adam" and cfg["initial_scale"] == 64.0
    again = keras.optimizers.LossScaleOptimizer.from_config(dict(cfg))
    assert again.dynamic_growth_steps == growth and type(again.inner_optimizer).__name__ == "Adam"
    back = optimizers.LossScaleOptimizer.from_config(k.get_config())
    assert type(back.inner_optimizer) is optimizers.Adam and back.initial_scale == 64.0


def test_loss_scale_optimizer_refuses_what_keras_refuses():
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="wraps other optimizers"):
        optimizers.get("loss_scale_optimizer")


@pytest.mark.parametrize("make", ["scale_factor", "loss_scale"])
def test_fit_scales_the_loss_as_keras(keras, make):
    """fit multiplies the loss by the optimizer's scale before backward (Keras's trainer does), so the
    weights after training equal Keras's."""
    import engine

    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")

    def opt(lib):
        if make == "scale_factor":
            return lib.optimizers.SGD(0.1, loss_scale_factor=128.0)
        return lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD(0.1), initial_scale=256.0, dynamic_growth_steps=2)

    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    emodel = engine.Sequential([engine.Input((3,)), engine.layers.Dense(2)])
    emodel.set_weights(kmodel.get_weights())
    kmodel.compile(optimizer=opt(keras), loss="mse")
    emodel.compile(optimizer=opt(engine), loss="mse")
    kmodel.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(kmodel.get_weights(), emodel.get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["muon", "schedule_free", "loss_scale"])
def test_keras_files_with_the_new_optimizers_load_with_state(keras, tmp_path, which):
    import engine

    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    kopt = {"muon": keras.optimizers.Muon(), "schedule_free": keras.optimizers.ScheduleFreeAdamW(),
            "loss_scale": keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam())}[which]
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    kmodel.compile(optimizer=kopt, loss="mse")
    kmodel.fit(x, y, batch_size=4, epochs=1, verbose=0)
    kmodel.save(str(tmp_path / "m.keras"))
    emodel = engine.models.load_model(str(tmp_path / "m.keras"))
    assert type(emodel.optimizer).__name__ == type(kopt).__name__
    kvars = [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in kmodel.optimizer.variables]
    evars = emodel.optimizer.get_state()
    assert len(kvars) == len(evars)
    for a, b in zip(kvars, evars):
        np.testing.assert_allclose(b, a, atol=1e-7)
    kmodel.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(kmodel.get_weights(), emodel.get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-5)
    emodel.save(str(tmp_path / "e.keras"))
    assert type(keras.models.load_model(str(tmp_path / "e.keras")).optimizer).__name__ == type(kopt).__name__


def _two_dense(lib):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, name="a"), lib.layers.Dense(2, name="b")])


def test_multi_optimizer_trains_as_keras_and_keeps_its_state(keras, tmp_path):
    import engine

    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")
    # Keras 3.15's weight paths start with the model's name ("sequential/a/kernel"), the engine's with the
    # layer's ("a/kernel"): this pattern matches layer a's weights in both.
    pattern = {".*a/.*": None}

    def multi(lib):
        return lib.optimizers.MultiOptimizer(lib.optimizers.OptimizerMap(
            lib.optimizers.SGD(0.1), {p: lib.optimizers.Adam(0.01) for p in pattern}))

    kmodel, emodel = _two_dense(keras), _two_dense(engine)
    emodel.set_weights(kmodel.get_weights())
    kmodel.compile(optimizer=multi(keras), loss="mse")
    emodel.compile(optimizer=multi(engine), loss="mse")
    kmodel.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(kmodel.get_weights(), emodel.get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-5)
    kstate = [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in kmodel.optimizer.variables]
    estate = emodel.optimizer.get_state()
    assert len(kstate) == len(estate)
    for a, b in zip(kstate, estate):
        np.testing.assert_allclose(np.asarray(b, "float64"), np.asarray(a, "float64"), atol=1e-6)
    with pytest.raises(AttributeError, match="individual sub-optimizers"):
        emodel.optimizer.learning_rate  # noqa: B018 - as Keras's
    kmodel.save(str(tmp_path / "k.keras"))
    loaded = engine.models.load_model(str(tmp_path / "k.keras"))
    assert type(loaded.optimizer) is optimizers.MultiOptimizer and loaded.optimizer.iterations == 8
    cfg = emodel.optimizer.get_config()
    assert cfg["optimizer_map"]["class_name"] == "OptimizerMap"
    assert type(keras.optimizers.MultiOptimizer.from_config(cfg)).__name__ == "MultiOptimizer"


def test_optimizer_map_refuses_what_keras_refuses():
    m = optimizers.OptimizerMap(optimizers.SGD(), {"a/.*": optimizers.Adam()})
    with pytest.raises(ValueError, match="already exists"):
        m["a/.*"] = optimizers.Adam()
    with pytest.raises(ValueError, match="cannot be LossScaleOptimizer"):
        m["b"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")
    with pytest.raises(ValueError, match="wraps other optimizers"):
        optimizers.get("multi_optimizer")
