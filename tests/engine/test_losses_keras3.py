"""Losses Keras 3 added: CTC, Circle and CategoricalGeneralizedCrossEntropy, against Keras on the same inputs
(every reduction, sample weights, gradients, configs both ways)."""
import numpy as np
import pytest
import torch

from engine import losses as L

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]


def _data(kind, rng):
    if kind == "ctc":
        labels = rng.integers(1, 5, (4, 3))
        labels[1, 2] = 0  # a shorter label, padded
        labels[3, 1:] = 0
        return labels, rng.standard_normal((4, 7, 5)).astype("float32")
    if kind == "circle":
        emb = rng.standard_normal((8, 4)).astype("float32")
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        return np.array([0, 1, 0, 2, 1, 0, 3, 2]), emb
    if kind == "gce":
        p = rng.random((6, 4)).astype("float32") + 0.05
        return rng.integers(0, 4, (6,)), p / p.sum(-1, keepdims=True)
    raise AssertionError(kind)


CASES = [("CTC", {}, "ctc"), ("Circle", {}, "circle"),
         ("Circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}, "circle"),
         ("CategoricalGeneralizedCrossEntropy", {}, "gce"),
         ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, "gce")]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_new_losses_match_keras(keras, case):
    name, kw, kind = case
    rng = np.random.default_rng(3)
    y_true, y_pred = _data(kind, rng)
    weights = rng.random(len(y_true)).astype("float32")
    for reduction in REDUCTIONS:
        e = getattr(L, name)(reduction=reduction, **kw)
        k = getattr(keras.losses, name)(reduction=reduction, **kw)
        for sw in (None, weights):
            a = e(y_true, y_pred, sample_weight=sw)
            b = k(y_true, y_pred, sample_weight=sw)
            np.testing.assert_allclose(a.detach().numpy(), np.asarray(b.detach()), rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} {kw} reduction={reduction} weighted={sw is not None}")
    # gradients with respect to the predictions
    p_e = torch.tensor(y_pred, requires_grad=True)
    p_k = torch.tensor(y_pred, requires_grad=True)
    getattr(L, name)(**kw)(y_true, p_e).backward()
    getattr(keras.losses, name)(**kw)(y_true, p_k).backward()
    np.testing.assert_allclose(p_e.grad.numpy(), p_k.grad.numpy(), rtol=1e-4, atol=1e-6)
    # configs both ways
    e_cfg = getattr(L, name)(name="probe", **kw).get_config()
    k_cfg = getattr(keras.losses, name)(name="probe", **kw).get_config()
    assert e_cfg == k_cfg
    again = L.deserialize({"class_name": name, "config": k_cfg})
    assert type(again) is getattr(L, name) and again.get_config() == e_cfg
    if name != "CategoricalGeneralizedCrossEntropy":  # Keras 3.15 left it out of its own deserialize table
        assert type(keras.losses.deserialize(L.serialize(again))).__name__ == name


@pytest.mark.parametrize("fn,kind,kw", [("ctc", "ctc", {}), ("circle", "circle", {}),
                                        ("categorical_generalized_cross_entropy", "gce", {"q": 0.3})])
def test_new_loss_functions_per_sample_match_keras(keras, fn, kind, kw):
    y_true, y_pred = _data(kind, np.random.default_rng(4))
    a = getattr(L, fn)(torch.tensor(y_true), torch.tensor(y_pred), **kw)
    b = getattr(keras.losses, fn)(torch.tensor(y_true), torch.tensor(y_pred), **kw)
    np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-4, atol=1e-5)
    assert type(L.get(fn)).__name__ == "LossFunctionWrapper"


def test_circle_with_reference_embeddings_matches_keras(keras):
    rng = np.random.default_rng(5)
    y, emb = _data("circle", rng)
    ref_y, ref = y[::-1].copy(), emb[::-1].copy() * 0.9
    a = L.circle(y, emb, ref_labels=ref_y, ref_embeddings=ref, gamma=20)
    b = keras.losses.circle(y, emb, ref_labels=ref_y, ref_embeddings=ref, gamma=20)
    np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_new_losses_reject_bad_input():
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        L.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match=r"\(batch_size, max_length\)"):
        L.ctc(np.zeros((2, 3, 1)), np.zeros((2, 4, 3), "float32"))
    with pytest.raises(ValueError, match="num_classes"):
        L.ctc(np.ones((2, 3)), np.zeros((2, 4), "float32"))


def test_ctc_loss_trains_a_model_with_compile():
    import engine
    from engine import layers

    rng = np.random.default_rng(0)
    model = engine.Sequential([layers.Input((6, 3)), layers.Dense(5)])
    model.compile(optimizer="adam", loss=L.CTC())
    y = rng.integers(1, 5, (8, 2))
    hist = model.fit(rng.standard_normal((8, 6, 3)).astype("float32"), y, epochs=3, verbose=0, batch_size=8)
    assert np.isfinite(hist.history["loss"]).all() and hist.history["loss"][-1] < hist.history["loss"][0]
