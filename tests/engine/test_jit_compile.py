"""compile(jit_compile=...): True runs the forward pass (and so its backward) through torch.compile and
gives what eager float32 gives; models it cannot serve run eagerly after a one-line message."""
import numpy as np
import pytest

import engine


def _data():
    rng = np.random.default_rng(0)
    return rng.random((64, 12), dtype=np.float32), rng.integers(0, 3, 64)


def _mlp():
    engine.utils.set_random_seed(1)
    return engine.Sequential([engine.layers.Input((12,)), engine.layers.Dense(8, activation="relu"),
                              engine.layers.Dense(3, activation="softmax")])


def _train(model, jit, x, y):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False).history
    return history, model.get_weights(), model.predict(x, batch_size=32, verbose=0), \
        model.evaluate(x, y, batch_size=32, verbose=0)


def test_jit_compile_argument():
    model = _mlp()
    model.compile(optimizer="adam", loss="mse")
    assert model.jit_compile is False  # "auto" is eager on torch, as in Keras
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    assert model.jit_compile is True
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(optimizer="adam", loss="mse", jit_compile="yes")


def test_models_it_cannot_serve_run_eagerly_with_one_line(capsys):
    x, y = _data()
    engine.utils.set_random_seed(1)
    model = engine.Sequential([engine.layers.Input((12,)), engine.layers.Dense(8, activity_regularizer="l2"),
                               engine.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("jit_compile:")]
    assert len(lines) == 1 and "activity regularizers" in lines[0] and "runs eagerly" in lines[0]
    assert model.jit_compile is False


@pytest.mark.slow
def test_jit_compile_gives_eager_results():
    # torch.compile's first call compiles (tens of seconds on a busy 2-core machine): slow
    x, y = _data()
    eager = _train(_mlp(), False, x, y)
    model = _mlp()
    jit = _train(model, True, x, y)
    assert model.jit_compile is True  # it compiled, it did not fall back
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(jit[0][key], eager[0][key], rtol=1e-5, atol=1e-6)
    for a, b in zip(jit[1], eager[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(jit[2], eager[2], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(jit[3], eager[3], rtol=1e-5, atol=1e-6)
