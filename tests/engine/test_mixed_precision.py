"""engine.mixed_precision: Keras's dtype policies, mixed training within tolerance of float32, loss
scaling for float16, and policies kept in .keras files both ways with Keras 3."""
import numpy as np
import pytest
import torch

import engine
from engine import mixed_precision as mp


@pytest.fixture
def policy():
    yield mp.set_global_policy
    mp.set_global_policy(None)


def _model(policy_name, set_policy):
    set_policy(policy_name)
    try:
        engine.utils.set_random_seed(1)
        return engine.Sequential([engine.layers.Input((20,)), engine.layers.Dense(32, activation="relu"),
                                  engine.layers.Dense(4, activation="softmax", dtype="float32")])
    finally:
        set_policy(None)


def test_policies():
    p = mp.DTypePolicy("mixed_float16")
    assert (p.name, p.compute_dtype, p.variable_dtype) == ("mixed_float16", "float16", "float32")
    assert mp.DTypePolicy("mixed_bfloat16").compute_dtype == "bfloat16"
    assert mp.DTypePolicy().name == "float32" and mp.global_policy().name == "float32"
    assert mp.DTypePolicy.from_config(p.get_config()) == p
    with pytest.raises(ValueError, match="mixed_float16"):
        mp.DTypePolicy("mixed_float8")


def test_global_and_per_layer_policies(policy):
    policy("mixed_bfloat16")
    dense = engine.layers.Dense(3)
    own = engine.layers.Dense(3, dtype="float32")
    policy(None)
    assert dense.dtype_policy.name == "mixed_bfloat16"
    assert (dense.dtype, dense.compute_dtype) == ("float32", "bfloat16")
    assert own.dtype_policy.name == "float32"
    assert engine.layers.Dense(3).dtype_policy.name == "float32"  # reset
    dense.build((None, 5))
    assert dense.kernel.dtype == torch.float32  # weights stay float32
    assert dense.get_config()["dtype"]["config"]["name"] == "mixed_bfloat16"
    assert engine.layers.Dense(3, dtype=mp.DTypePolicy("mixed_float16")).compute_dtype == "float16"


def test_a_layers_policy_can_be_set_as_in_keras(keras):
    ours, theirs = engine.layers.Dense(3), keras.layers.Dense(3)
    for layer in (ours, theirs):
        layer.dtype_policy = "mixed_bfloat16"
        assert (layer.dtype_policy.name, layer.dtype, layer.compute_dtype) == ("mixed_bfloat16", "float32", "bfloat16")
    model = engine.Sequential([engine.layers.Input((5,)), ours])
    ours.dtype_policy = mp.DTypePolicy("float32")  # built: float32 weights either way
    assert ours.get_config()["dtype"]["config"]["name"] == "float32"
    ours.dtype_policy = {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}
    assert mp.autocast_dtype(model) == torch.float16
    with pytest.raises(ValueError, match=r"float32 weights.*'float16' keeps float16.*mixed_float16, mixed_bfloat16"):
        ours.dtype_policy = "float16"
    with pytest.raises(ValueError, match="Valid policies"):
        ours.dtype_policy = "mixed_float8"
    assert ours.dtype_policy.name == "mixed_float16"  # a refused policy changes nothing


def test_policy_scope_computes_a_built_model_in_a_mixed_policy_for_one_block():
    seen = []

    class Watch(engine.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(mp.autocast_dtype(self.model))

    engine.utils.set_random_seed(0)
    model = engine.Sequential([engine.layers.Input((6,)), engine.layers.Dense(8, activation="relu"),
                               engine.layers.Dense(3, dtype="float64"), engine.layers.Dense(2, activation="softmax")])
    x, y = np.random.default_rng(0).random((32, 6), dtype=np.float32), np.arange(32) % 2
    with mp.policy_scope(model, "mixed_bfloat16"):
        assert [layer.dtype_policy.name for layer in model.layers] == ["mixed_bfloat16", "float64", "mixed_bfloat16"]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Watch()])
    assert seen == [torch.bfloat16, torch.bfloat16]
    assert [layer.dtype_policy.name for layer in model.layers] == ["float32", "float64", "float32"]
    assert model.get_config()["layers"][0]["config"]["dtype"] == "float32"  # the InputLayer is left alone
    assert all(w.dtype in (torch.float32, torch.float64) for w in model.weights)
    with pytest.raises(RuntimeError, match="boom"), mp.policy_scope(model, "mixed_float16"):
        assert model.layers[0].compute_dtype == "float16"
        raise RuntimeError("boom")
    assert model.layers[0].dtype_policy.name == "float32"  # restored however the block ends
    with mp.policy_scope(model, "float32"):
        assert mp.autocast_dtype(model) is None
    with pytest.raises(ValueError, match="mixed policy.*'float16'"), mp.policy_scope(model, "float16"):
        pass


def test_fast_policy_names_bfloat16_only_where_the_device_has_it():
    assert mp.fast_policy("mps") == "float32"
    assert mp.fast_policy("cpu") == ("mixed_bfloat16" if mp.has_fast_bfloat16("cpu") else "float32")
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    assert mp.has_fast_bfloat16("cpu") == bool(probe and probe())
    if not torch.cuda.is_available():
        assert mp.fast_policy("cuda") == "float32"


@pytest.mark.slow  # two short trainings each way: about 2-3 s on a busy machine
@pytest.mark.parametrize("name", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_training_is_float32_within_tolerance(policy, name):
    rng = np.random.default_rng(0)
    x, y = rng.random((96, 20), dtype=np.float32), rng.integers(0, 4, 96)
    results = {}
    for pol in ("float32", name):
        model = _model(pol, policy)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False).history
        results[pol] = history, model.predict(x, verbose=0), model
    (h32, p32, _), (hmix, pmix, model) = results["float32"], results[name]
    np.testing.assert_allclose(hmix["loss"], h32["loss"], rtol=1e-2)
    np.testing.assert_allclose(pmix.astype(np.float32), p32, atol=2e-2)
    assert all(w.dtype == torch.float32 for w in model.weights)
    wrapped = type(model.optimizer).__name__ == "LossScaleOptimizer"
    assert wrapped == (name == "mixed_float16")  # loss scaling for float16 only, as Keras


def test_policies_round_trip_through_keras_files(keras, policy, tmp_path):
    model = _model("mixed_float16", policy)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "engine.keras")
    theirs = keras.models.load_model(tmp_path / "engine.keras")
    assert [l.dtype_policy.name for l in theirs.layers] == ["mixed_float16", "float32"]
    assert type(theirs.optimizer).__name__ == "LossScaleOptimizer"
    k = keras.Sequential([keras.layers.Input((20,)), keras.layers.Dense(8, dtype="mixed_bfloat16"),
                          keras.layers.Dense(4, dtype="float32")])
    k.save(tmp_path / "keras.keras")
    ours = engine.saving.load_model(tmp_path / "keras.keras")
    assert [l.dtype_policy.name for l in ours.layers] == ["mixed_bfloat16", "float32"]
    x = np.random.default_rng(1).random((4, 20), dtype=np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), keras.ops.convert_to_numpy(k(x)), atol=3e-2)


def test_mixed_layers_take_bfloat16_inputs_without_a_round_trip_through_float32():
    """Under autocast a bfloat16 input goes to the product as it is (a cast to the float32 kernel would
    cost a copy forward and backward, and autocast's copy back); outside autocast, or with a float64 kernel,
    inputs are cast to the kernel's dtype as before."""
    from engine.layers.layer import cast_for_kernel

    x = torch.randn(4, 6, dtype=torch.bfloat16)
    kernel = torch.randn(6, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert cast_for_kernel(x, kernel) is x
        assert cast_for_kernel(x, kernel.double()).dtype == torch.float64
        dense = engine.layers.Dense(3, dtype="mixed_bfloat16")
        dense.build((None, 6))
        y = dense(x)
        assert y.dtype == torch.bfloat16
    assert cast_for_kernel(x, kernel).dtype == torch.float32
    np.testing.assert_allclose(y.detach().float().numpy(), (x.float() @ dense.kernel.detach().bfloat16().float()).numpy()
                               + dense.bias.detach().numpy(), rtol=2e-2, atol=2e-2)

    with torch.autocast("cpu", dtype=torch.bfloat16):  # the product sees x itself: no copy of the input
        from torch.profiler import profile
        with profile(record_shapes=True) as prof:
            dense(x)
    assert not [e for e in prof.events() if e.name == "aten::_to_copy" and e.input_shapes
                and list(e.input_shapes[0]) == [4, 6]]


@pytest.mark.parametrize("layer", [lambda: engine.layers.Conv2D(4, 3, padding="same", dtype="mixed_bfloat16"),
                                   lambda: engine.layers.DepthwiseConv2D(3, dtype="mixed_bfloat16"),
                                   lambda: engine.layers.Conv2DTranspose(4, 3, dtype="mixed_bfloat16")])
def test_mixed_convolutions_take_bfloat16_inputs_as_they_are(layer):
    from torch.profiler import profile

    conv = layer()
    x = torch.randn(2, 6, 6, 3, dtype=torch.bfloat16)
    conv.build(tuple(x.shape))
    expected = conv(x.float()).detach()  # float32 in, float32 out: the reference
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with profile(record_shapes=True) as prof:
            y = conv(x)
    assert y.dtype == torch.bfloat16
    assert not [e for e in prof.events() if e.name == "aten::_to_copy" and e.input_shapes
                and list(e.input_shapes[0]) == [2, 6, 6, 3]]
    np.testing.assert_allclose(y.detach().float().numpy(), expected.numpy(), rtol=5e-2, atol=5e-2)
