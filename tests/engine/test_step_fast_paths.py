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
