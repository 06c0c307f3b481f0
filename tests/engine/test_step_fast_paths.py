"""The training step's fast paths give what the general code (and Keras) gives.

A softmax layer keeps its logits on its output (``activations.softmax_keeping_logits``) and the
crossentropy losses read them: the same values and gradients as the clipped-probability formula,
including where the clip bites (a confidently wrong sample: no gradient, as in Keras). Integer-label
accuracy counts hits in three kernels; the result equals the per-sample path's.
"""
import numpy as np
import pytest
import torch

import engine
from engine import activations, losses, metrics


def _logits(seed=0, n=16, c=7, scale=12.0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, c, generator=g) * scale
    z[0, 0] = 60.0  # saturated: p == 1 in float32 (the 1 - eps clip)
    z[1, :] = 0.0
    z[1, 3] = 40.0  # saturated on class 3; the label below is 0: p < eps (the eps clip, no gradient)
    return z


def _loss_and_grad(fn, target, z, keep_logits):
    z = z.clone().requires_grad_()
    p = activations.softmax_keeping_logits(z) if keep_logits else torch.softmax(z, -1)
    assert hasattr(p, "_keras_logits") == keep_logits
    value = fn(target, p)
    (grad,) = torch.autograd.grad(value.sum(), z)
    return value.detach(), grad


@pytest.mark.parametrize("kind", ["sparse", "categorical"])
def test_logits_path_equals_probability_path(kind):
    z = _logits()
    labels = torch.randint(0, z.shape[1], (z.shape[0],), generator=torch.Generator().manual_seed(1))
    labels[0], labels[1] = 0, 0
    if kind == "sparse":
        fn, target = losses.sparse_categorical_crossentropy, labels
    else:
        fn, target = losses.categorical_crossentropy, torch.nn.functional.one_hot(labels, z.shape[1]).float()
    fast, g_fast = _loss_and_grad(fn, target, z, True)
    slow, g_slow = _loss_and_grad(fn, target, z, False)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=2e-6)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-6)
    assert float(fast[1]) == pytest.approx(-np.log(1e-7), rel=1e-5)  # the eps clip
    assert torch.all(g_fast[1] == 0)  # and no gradient through it
    assert 0 < float(fast[0]) < 2e-7  # the 1 - eps clip


def test_logits_path_matches_keras_and_is_taken_by_dense(keras):
    z = _logits(seed=3)
    labels = np.arange(z.shape[0]) % z.shape[1]
    layer = engine.layers.Dense(z.shape[1], activation="softmax")
    layer.build((None, z.shape[1]))
    with torch.no_grad():
        layer.kernel.copy_(torch.eye(z.shape[1]))
        layer.bias.zero_()
    out = layer(z)
    assert torch.equal(out._keras_logits, z)
    for cls, target in (("SparseCategoricalCrossentropy", labels),
                        ("CategoricalCrossentropy", np.eye(z.shape[1], dtype="float32")[labels])):
        ours = getattr(engine.losses, cls)()(torch.as_tensor(target), out)
        theirs = getattr(keras.losses, cls)()(target, out.detach().numpy())
        assert float(ours) == pytest.approx(float(keras.ops.convert_to_numpy(theirs)), rel=1e-5)


def test_other_shapes_and_arguments_take_the_general_path():
    z = _logits()
    p = activations.softmax_keeping_logits(z)
    labels = torch.arange(z.shape[0]) % z.shape[1]
    general = losses.sparse_categorical_crossentropy(labels, torch.softmax(z, -1), ignore_class=2)
    torch.testing.assert_close(losses.sparse_categorical_crossentropy(labels, p, ignore_class=2), general)
    col = labels[:, None]  # (N, 1) labels
    torch.testing.assert_close(losses.sparse_categorical_crossentropy(col, p),
                               losses.sparse_categorical_crossentropy(labels, torch.softmax(z, -1)),
                               rtol=1e-5, atol=2e-6)
    # a softmax over another axis than the loss's class axis is not read as logits
    assert losses._softmax_logits(p, axis=0) is None


@pytest.mark.parametrize("labels", ["int", "float", "column"])
def test_sparse_accuracy_fast_path_equals_general_path(labels):
    rng = np.random.default_rng(0)
    y_pred = torch.as_tensor(rng.random((50, 4), dtype=np.float32))
    y = torch.as_tensor(rng.integers(0, 4, 50))
    y = {"int": y, "float": y.float(), "column": y[:, None]}[labels]
    fast = metrics.SparseCategoricalAccuracy()
    general = metrics.MeanMetricWrapper(metrics.sparse_categorical_accuracy)
    for lo in (0, 20):
        fast.update_state(y[lo:lo + 30], y_pred[lo:lo + 30])
        general.update_state(y[lo:lo + 30], y_pred[lo:lo + 30])
    assert float(fast.result()) == float(general.result())
    assert float(fast.count) == float(general.count) == 60
    assert fast.total.dtype == torch.float32


def test_fused_step_loss_equals_the_loss_object():
    z = _logits(seed=5)
    labels = torch.arange(z.shape[0]) % z.shape[1]
    labels[1] = 0  # the eps clip
    for loss in (losses.get("sparse_categorical_crossentropy"), losses.SparseCategoricalCrossentropy()):
        fused = losses.fused_step_loss(loss)
        assert fused is not None
        za, zb = z.clone().requires_grad_(), z.clone().requires_grad_()
        got = fused(labels, activations.softmax_keeping_logits(za))
        want = loss(labels, torch.softmax(zb, -1))
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
        (ga,), (gb,) = torch.autograd.grad(got, za), torch.autograd.grad(want, zb)
        torch.testing.assert_close(ga, gb, rtol=1e-4, atol=1e-7)
        # batches it does not cover go to the loss object: float labels, no logits, a mask
        assert fused(labels.float(), activations.softmax_keeping_logits(z)) is None
        assert fused(labels, torch.softmax(z, -1)) is None
    for other in (losses.SparseCategoricalCrossentropy(from_logits=True),
                  losses.SparseCategoricalCrossentropy(ignore_class=0),
                  losses.SparseCategoricalCrossentropy(reduction="sum"), losses.CategoricalCrossentropy(),
                  losses.get("mse")):
        assert losses.fused_step_loss(other) is None


def test_fit_with_the_fused_loss_trains_as_the_general_path():
    rng = np.random.default_rng(0)
    x = rng.random((96, 6), dtype=np.float32)
    y = rng.integers(0, 3, 96)

    def run(fused):
        engine.utils.set_random_seed(1)
        model = engine.Sequential([engine.layers.Input((6,)), engine.layers.Dense(8, activation="relu"),
                                   engine.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=engine.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x[:16], y[:16], batch_size=16, epochs=1, verbose=0, shuffle=False)  # resolve
        assert (model._fused_loss is not None) is True
        if not fused:
            model._fused_loss = None
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False).history
        return history, model.get_weights()

    (h1, w1), (h2, w2) = run(True), run(False)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5, atol=1e-6)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
