"""engine.losses against real Keras 3 on the same random inputs, plus get/serialize/check_targets."""
import numpy as np
import pytest
import torch

from engine import losses as L

N, C = 8, 5


def _data(kind, rng, shape=(N, C)):
    """(y_true, y_pred) numpy arrays for a kind of loss."""
    if kind == "onehot":
        p = rng.random(shape).astype("float32") + 0.05
        return np.eye(shape[-1], dtype="float32")[rng.integers(0, shape[-1], shape[:-1])], p
    if kind == "onehot_logits":
        return np.eye(shape[-1], dtype="float32")[rng.integers(0, shape[-1], shape[:-1])], \
            (3 * rng.standard_normal(shape)).astype("float32")
    if kind == "sparse":
        p = rng.random(shape).astype("float32") + 0.05
        return rng.integers(0, shape[-1], shape[:-1]), p
    if kind == "sparse_col":
        p = rng.random(shape).astype("float32") + 0.05
        return rng.integers(0, shape[-1], shape[:-1] + (1,)), p
    if kind == "sparse_logits":
        return rng.integers(0, shape[-1], shape[:-1]), (3 * rng.standard_normal(shape)).astype("float32")
    if kind == "binary":
        # include exact 0 and 1 predictions to exercise the clipping
        p = rng.random((N, 1)).astype("float32")
        p[0, 0], p[1, 0] = 0.0, 1.0
        return rng.integers(0, 2, (N, 1)).astype("float32"), p
    if kind == "binary_flat":  # labels (N,) against outputs (N, 1)
        return rng.integers(0, 2, (N,)).astype("float32"), rng.random((N, 1)).astype("float32")
    if kind == "binary_logits":
        return rng.integers(0, 2, (N, 3)).astype("float32"), (3 * rng.standard_normal((N, 3))).astype("float32")
    if kind == "regression":
        return rng.standard_normal(shape).astype("float32"), rng.standard_normal(shape).astype("float32")
    if kind == "positive":
        return (rng.random(shape) * 3).astype("float32"), (rng.random(shape) * 3 + 0.01).astype("float32")
    if kind == "prob":
        a, b = rng.random(shape).astype("float32"), rng.random(shape).astype("float32")
        return a / a.sum(-1, keepdims=True), b / b.sum(-1, keepdims=True)
    if kind == "mask":  # segmentation-like: 0/1 targets against probabilities
        return rng.integers(0, 2, shape).astype("float32"), rng.random(shape).astype("float32")
    if kind == "hinge01":
        return rng.integers(0, 2, shape).astype("float32"), rng.standard_normal(shape).astype("float32")
    if kind == "hinge_pm":
        return (2 * rng.integers(0, 2, shape) - 1).astype("float32"), rng.standard_normal(shape).astype("float32")
    raise AssertionError(kind)


CASES = [
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {}, "sparse_col"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {}, "binary_flat"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.3}, "regression"),
    ("Hinge", {}, "hinge01"),
    ("Hinge", {}, "hinge_pm"),
    ("SquaredHinge", {}, "hinge01"),
    ("CategoricalHinge", {}, "onehot"),
    ("KLDivergence", {}, "prob"),
    ("LogCosh", {}, "regression"),
    ("Poisson", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 0}, "regression"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, "binary_logits"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.2, "gamma": 3.0}, "binary_logits"),
    ("CategoricalFocalCrossentropy", {}, "onehot"),
    ("CategoricalFocalCrossentropy", {"alpha": 0.6, "gamma": 1.0, "label_smoothing": 0.1}, "onehot"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 0.5}, "onehot_logits"),
    ("Dice", {}, "mask"),
    ("Dice", {"axis": -1}, "mask"),
    ("Tversky", {}, "mask"),
    ("Tversky", {"alpha": 0.7, "beta": 0.2, "axis": [1]}, "mask"),
]


def _ids(case):
    name, kw, kind = case
    return f"{name}-{kind}-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_loss_class_matches_keras(keras, case):
    name, kw, kind = case
    rng = np.random.default_rng(len(name) * 31 + len(kind))
    y_true, y_pred = _data(kind, rng)
    sw = rng.random(N).astype("float32")
    for reduction in ("sum_over_batch_size", "sum", "none", "mean_with_sample_weight"):
        ours = getattr(L, name)(reduction=reduction, **kw)
        theirs = getattr(keras.losses, name)(reduction=reduction, **kw)
        # along axis 0 there is one value per feature, not per sample: no sample weights then
        for weights in ((None,) if kw.get("axis") == 0 else (None, sw)):
            got = ours(y_true, y_pred, sample_weight=weights)
            want = np.asarray(theirs(y_true, y_pred, sample_weight=weights))
            assert isinstance(got, torch.Tensor)
            assert got.dim() == (want.ndim if reduction == "none" else 0)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6, err_msg=reduction)


FUNCTIONS = [
    ("categorical_crossentropy", {}, "onehot"),
    ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot_logits"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse_logits"),
    ("binary_crossentropy", {}, "binary_logits"),
    ("binary_crossentropy", {"from_logits": True}, "binary_logits"),
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("huber", {"delta": 2.0}, "regression"),
    ("hinge", {}, "hinge01"),
    ("squared_hinge", {}, "hinge_pm"),
    ("categorical_hinge", {}, "onehot"),
    ("kl_divergence", {}, "prob"),
    ("log_cosh", {}, "regression"),
    ("poisson", {}, "positive"),
    ("cosine_similarity", {}, "regression"),
    ("binary_focal_crossentropy", {"gamma": 1.0}, "mask"),
    ("binary_focal_crossentropy", {"from_logits": True, "apply_class_balancing": True}, "binary_logits"),
    ("categorical_focal_crossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("categorical_focal_crossentropy", {"from_logits": True, "alpha": 0.5}, "onehot_logits"),
    ("dice", {}, "mask"),
    ("dice", {"axis": 1}, "mask"),
    ("tversky", {"alpha": 0.3, "beta": 0.8}, "mask"),
    ("tversky", {"axis": -1}, "mask"),
]


@pytest.mark.parametrize("case", FUNCTIONS, ids=[_ids(c) for c in FUNCTIONS])
def test_loss_function_per_sample_matches_keras(keras, case):
    name, kw, kind = case
    rng = np.random.default_rng(7)
    y_true, y_pred = _data(kind, rng)
    if kind == "binary_logits" and not kw:
        y_pred = 1 / (1 + np.exp(-y_pred))
    got = getattr(L, name)(y_true, y_pred, **kw)
    want = np.asarray(getattr(keras.losses, name)(y_true, y_pred, **kw))
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kind", [("CategoricalCrossentropy", "onehot"),
                                       ("SparseCategoricalCrossentropy", "sparse"),
                                       ("SparseCategoricalCrossentropy", "sparse_col"),
                                       ("SparseCategoricalCrossentropy", "sparse_logits")])
def test_sequence_targets_match_keras(keras, name, kind):
    rng = np.random.default_rng(3)
    y_true, y_pred = _data(kind, rng, shape=(4, 6, C))
    kw = {"from_logits": True} if kind.endswith("logits") else {}
    sw = rng.random((4, 6)).astype("float32")
    for weights in (None, sw):
        got = getattr(L, name)(**kw)(y_true, y_pred, sample_weight=weights)
        want = getattr(keras.losses, name)(**kw)(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_ignore_class_matches_keras(keras, from_logits):
    rng = np.random.default_rng(11)
    y_true, y_pred = _data("sparse_logits" if from_logits else "sparse", rng, shape=(4, 6, C))
    y_true[0, :3] = -1
    y_true[2, 5] = -1
    sw = rng.random(4).astype("float32")
    for reduction in ("sum_over_batch_size", "sum", "none"):
        ours = L.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=-1, reduction=reduction)
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=-1,
                                                           reduction=reduction)
        for weights in (None, np.broadcast_to(sw[:, None], (4, 6)).copy()):
            np.testing.assert_allclose(ours(y_true, y_pred, sample_weight=weights).numpy(),
                                       np.asarray(theirs(y_true, y_pred, sample_weight=weights)),
                                       rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kw,kind", [("CategoricalCrossentropy", {}, "onehot"),
                                          ("CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
                                          ("SparseCategoricalCrossentropy", {}, "sparse"),
                                          ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
                                          ("BinaryCrossentropy", {}, "binary"),
                                          ("BinaryFocalCrossentropy", {"from_logits": True}, "binary_logits"),
                                          ("CategoricalFocalCrossentropy", {}, "onehot"),
                                          ("Tversky", {"alpha": 0.3}, "mask"),
                                          ("MeanSquaredError", {}, "regression"),
                                          ("Huber", {}, "regression")])
def test_gradients_match_keras(keras, name, kw, kind):
    rng = np.random.default_rng(5)
    y_true, y_pred = _data(kind, rng)
    if kind == "binary":
        y_pred = np.clip(y_pred, 0.05, 0.95)  # the clip's gradient at exactly 0/1 is backend-specific
    grads = []
    for mod in (L, keras.losses):
        p = torch.tensor(y_pred, requires_grad=True)
        loss = getattr(mod, name)(**kw)(torch.tensor(y_true), p)
        loss.backward()
        grads.append(p.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_mean_with_sample_weight_and_mask_from_predictions():
    y_true = torch.zeros(4, 3)
    y_pred = torch.ones(4, 3)
    y_pred._keras_mask = torch.tensor([True, True, False, False])
    loss = L.MeanSquaredError()(y_true, y_pred)  # per-sample losses all 1; two masked out
    assert loss.item() == pytest.approx(1.0)
    sw = torch.tensor([1.0, 3.0, 0.0, 0.0])
    assert L.MeanSquaredError(reduction="mean_with_sample_weight")(y_true, torch.ones(4, 3), sw).item() == 1.0
    assert L.MeanSquaredError(reduction="sum")(y_true, torch.ones(4, 3), sw).item() == 4.0


def test_loss_accepts_tensors_without_copies_and_keeps_grad():
    y_pred = torch.rand(4, 3, requires_grad=True)
    y_true = torch.eye(3)[torch.tensor([0, 1, 2, 0])]
    out = L.CategoricalCrossentropy()(y_true, y_pred)
    assert out.requires_grad and out.dtype == torch.float32
    labels = torch.tensor([0, 1, 2, 0])
    assert torch.allclose(L.SparseCategoricalCrossentropy()(labels, y_pred), out)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        L.CategoricalCrossentropy(label_smoothing=2)
    with pytest.raises(ValueError, match="ignore_class"):
        L.SparseCategoricalCrossentropy(ignore_class="void")
    with pytest.raises(ValueError, match="same shape"):
        L.categorical_crossentropy(np.zeros((4,)), np.ones((4, 3)))
    # Keras 2 configs wrote reduction="auto"
    assert L.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"


# ------------------------------------------------------------------------------------------- get
@pytest.mark.parametrize("ident,fn", [
    ("mse", L.mean_squared_error), ("MSE", L.mean_squared_error), ("mean_squared_error", L.mean_squared_error),
    ("mae", L.mean_absolute_error), ("mape", L.mean_absolute_percentage_error),
    ("msle", L.mean_squared_logarithmic_error), ("kld", L.kl_divergence), ("logcosh", L.log_cosh),
    ("huber", L.huber), ("categorical_crossentropy", L.categorical_crossentropy),
    ("sparse_categorical_crossentropy", L.sparse_categorical_crossentropy), ("bce", L.binary_crossentropy),
    ("binary_focal_crossentropy", L.binary_focal_crossentropy),
    ("categorical_focal_crossentropy", L.categorical_focal_crossentropy), ("dice", L.dice), ("tversky", L.tversky),
])
def test_get_strings(ident, fn):
    loss = L.get(ident)
    assert isinstance(loss, L.LossFunctionWrapper)
    assert loss.fn is fn
    assert loss.name == ident
    assert L.serialize(loss) == fn.__name__


def test_get_other_identifiers():
    assert isinstance(L.get("CategoricalCrossentropy"), L.CategoricalCrossentropy)
    assert isinstance(L.get(L.Huber), L.Huber)
    inst = L.BinaryCrossentropy(from_logits=True)
    assert L.get(inst) is inst
    from_dict = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(from_dict, L.CategoricalCrossentropy) and from_dict.from_logits
    assert L.get(None) is None

    def my_loss(y_true, y_pred):
        return torch.mean(torch.abs(y_true - y_pred), dim=-1)

    wrapped = L.get(my_loss)
    assert isinstance(wrapped, L.LossFunctionWrapper) and wrapped.name == "my_loss"
    assert wrapped(np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")).item() == 1.0


def test_get_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown loss: 'mean_sqared_error'") as err:
        L.get("mean_sqared_error")
    assert "mean_squared_error" in str(err.value) and "mse" in str(err.value)
    with pytest.raises(ValueError):
        L.get(42)
    with pytest.raises(ValueError):
        L.get(dict)


@pytest.mark.parametrize("t_shape,p_shape,fn", [
    ((None, 1), (None, 1), L.binary_crossentropy),
    ((None,), (None, 10), L.sparse_categorical_crossentropy),
    ((None, 1), (None, 10), L.sparse_categorical_crossentropy),
    ((None, 10), (None, 10), L.categorical_crossentropy),
])
def test_crossentropy_alias_picks_kind(t_shape, p_shape, fn):
    loss = L.get("crossentropy", t_shape, p_shape)
    assert loss.fn is fn and loss.name == "crossentropy"

    # without shapes (compile time) the first call picks the kind
    auto = L.get("ce")
    assert auto.name == "ce" and L.serialize(auto) == "ce"
    y_true = np.zeros((3,) + t_shape[1:], "float32")
    y_pred = np.full((3,) + p_shape[1:], 0.5, "float32")
    np.testing.assert_allclose(auto(y_true, y_pred).numpy(), L.LossFunctionWrapper(fn)(y_true, y_pred).numpy())
    assert auto.fn is fn


# ------------------------------------------------------------------------------------- serialize
def test_serialize_canonical_names_and_keras_can_read(keras):
    assert L.serialize("mse") == "mean_squared_error"
    assert L.serialize("mae") == "mean_absolute_error"
    assert L.serialize(L.get("mse")) == "mean_squared_error"
    assert L.serialize(L.mse) == "mean_squared_error"
    for name, kw, _ in CASES:
        ours = getattr(L, name)(**kw)
        cfg = L.serialize(ours)
        assert cfg["module"] == "keras.losses" and cfg["class_name"] == name
        # Keras rebuilds it with the same config
        theirs = keras.losses.deserialize(cfg)
        want = theirs.get_config()
        assert {k: cfg["config"][k] for k in want} == want
        # and we read back Keras's own serialization
        again = L.deserialize(keras.losses.serialize(getattr(keras.losses, name)(**kw)))
        assert type(again) is type(ours)
        # Keras 3.15 leaves Huber's delta and CosineSimilarity's axis out of its configs (we keep
        # them), so compare what Keras wrote
        mine = again.get_config()
        assert {k: mine[k] for k in want} == want
    # the alias string Keras itself writes is read too
    assert L.deserialize("mse").fn is L.mean_squared_error


def test_wrapper_config_round_trip():
    w = L.LossFunctionWrapper(L.huber, name="h", delta=0.5)
    cfg = w.get_config()
    assert cfg["fn"]["config"] == "huber" and cfg["delta"] == 0.5
    w2 = L.LossFunctionWrapper.from_config(cfg)
    assert w2.fn is L.huber and w2._fn_kwargs == {"delta": 0.5} and w2.name == "h"


# --------------------------------------------------------------------------------- check_targets
def test_check_targets_integer_labels_with_categorical_crossentropy():
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    for loss in (L.get("categorical_crossentropy"), L.CategoricalCrossentropy()):
        for targets in (y, y[:, None]):
            with pytest.raises(ValueError) as err:
                L.check_targets(loss, targets, (None, 10))
            msg = str(err.value)
            assert "to_categorical" in msg and "num_classes=10" in msg
            assert "sparse_categorical_crossentropy" in msg


def test_check_targets_missing_flatten():
    y = np.eye(10)[np.arange(8) % 10]
    with pytest.raises(ValueError) as err:
        L.check_targets(L.get("categorical_crossentropy"), y, (None, 13, 13, 10))
    msg = str(err.value)
    assert "4-D" in msg and "Flatten()" in msg
    with pytest.raises(ValueError, match="Flatten"):
        L.check_targets(L.get("sparse_categorical_crossentropy"), np.arange(8) % 10, (None, 13, 13, 10),
                        output_name="dense_1")


def test_check_targets_sparse_labels():
    loss = L.get("sparse_categorical_crossentropy")
    L.check_targets(loss, np.array([0, 9, 3]), (None, 10))
    L.check_targets(loss, np.array([[0], [9]]), (None, 10))
    L.check_targets(loss, np.zeros((3, 7), "int64"), (None, 7, 10))  # sequence labels
    with pytest.raises(ValueError, match=r"\[0, 10\).*from 0 to 10"):
        L.check_targets(loss, np.array([0, 10, 3]), (None, 10))
    with pytest.raises(ValueError, match="from -1 to"):
        L.check_targets(loss, np.array([0, -1, 3]), (None, 10))
    L.check_targets(L.SparseCategoricalCrossentropy(ignore_class=-1), np.array([0, -1, 3]), (None, 10))
    with pytest.raises(ValueError, match="one-hot.*categorical_crossentropy"):
        L.check_targets(loss, np.eye(10)[[1, 2, 3]], (None, 10))
    with pytest.raises(ValueError, match="integer class labels"):
        L.check_targets(loss, np.array([0.5, 1.2]), (None, 10))


def test_check_targets_binary_range_and_shapes():
    bce = L.get("binary_crossentropy")
    L.check_targets(bce, np.array([0, 1, 1]), (None, 1))
    L.check_targets(bce, np.array([[0.2], [0.9]]), (None, 1))
    with pytest.raises(ValueError, match=r"\[0, 1\].*from 0 to 3.*sparse_categorical_crossentropy"):
        L.check_targets(bce, np.array([0, 1, 3]), (None, 1))
    with pytest.raises(ValueError, match="output 'out'"):
        L.check_targets(L.BinaryCrossentropy(), np.array([0, 1, 3]), (None, 1), output_name="out")
    # regression targets must line up with the output
    L.check_targets(L.get("mse"), np.zeros((4, 3)), (None, 3))
    L.check_targets(L.get("mse"), np.zeros((4,)), (None, 1))
    with pytest.raises(ValueError, match=r"Targets have shape \(4, 2\).*\(None, 3\)"):
        L.check_targets(L.get("mse"), np.zeros((4, 2)), (None, 3))
    with pytest.raises(ValueError, match="10 classes but the last layer has 5 units"):
        L.check_targets(L.get("categorical_crossentropy"), np.eye(10)[:4], (None, 5))
    # custom losses are the user's business
    L.check_targets(L.get(lambda a, b: (a - b).mean()), np.zeros((4, 2)), (None, 3))
