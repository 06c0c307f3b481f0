"""Optimizers with use_ema=True (Keras's moving average of the weights: updated every step, written into
the weights every ema_overwrite_frequency steps and at the end of fit) and the SwapEMAWeights callback
(evaluation on the averages), step for step against Keras 3 on the same weights."""
import numpy as np
import pytest

import engine

from .guides._compare import np_


def _run(K, weights, optimizer, callbacks=(), epochs=2):
    model = K.Sequential([K.Input((4,)), K.layers.Dense(3, activation="relu"), K.layers.Dense(1)])
    if weights is not None:
        model.set_weights(weights)
    start = [np_(w) for w in model.get_weights()]
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 4)).astype("float32"), rng.random((32, 1)).astype("float32")
    model.compile(optimizer=optimizer(K), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, shuffle=False, validation_data=(x[:8], y[:8]),
                        callbacks=[cb(K) for cb in callbacks]).history
    return start, history, [np_(w) for w in model.get_weights()], [np_(v) for v in model.optimizer.variables]


def _compare(keras, optimizer, callbacks=()):
    start, theirs, their_weights, their_state = _run(keras, None, optimizer, callbacks)
    _, ours, our_weights, our_state = _run(engine, start, optimizer, callbacks)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=key)
    for a, b in zip(our_weights + our_state, their_weights + their_state):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    return ours


@pytest.mark.parametrize("overwrite", [None, 3])
def test_use_ema_matches_keras(keras, overwrite):
    _compare(keras, lambda K: K.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9,
                                               ema_overwrite_frequency=overwrite))
    opt = engine.optimizers.Adam(use_ema=True)
    opt.build([engine.Variable(np.zeros((2, 2), "float32"), name="w")])
    assert opt.variable_names == ["iteration", "learning_rate", "w_average", "w_momentum", "w_velocity"]


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights_evaluates_on_the_averages_as_keras(keras, swap_on_epoch):
    with_swap = _compare(keras, lambda K: K.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.5),
                         callbacks=[lambda K: K.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)])
    _, without, _, _ = _run(engine, None, lambda K: K.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.5))
    assert not np.allclose(with_swap["val_loss"], without["val_loss"])  # it changes what is evaluated


def test_swap_ema_weights_needs_use_ema():
    model = engine.Sequential([engine.Input((2,)), engine.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    with pytest.raises(ValueError, match="use_ema=True"):
        model.fit(x, x[:, :1], validation_data=(x, x[:, :1]), verbose=0,
                  callbacks=[engine.callbacks.SwapEMAWeights()])
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        engine.optimizers.SGD(use_ema=True, ema_overwrite_frequency=0)
