"""engine.metrics against real Keras 3: several weighted update_state calls, then result()."""
import re

import numpy as np
import pytest
import torch

from engine import losses as L
from engine import metrics as M

N, C = 12, 4


def _data(kind, rng):
    if kind == "onehot":
        return np.eye(C, dtype="float32")[rng.integers(0, C, N)], rng.random((N, C)).astype("float32")
    if kind == "sparse":
        return rng.integers(0, C, N), rng.random((N, C)).astype("float32")
    if kind == "sparse_col":
        return rng.integers(0, C, (N, 1)), rng.random((N, C)).astype("float32")
    if kind == "binary":
        return rng.integers(0, 2, (N, 1)).astype("float32"), rng.random((N, 1)).astype("float32")
    if kind == "binary_flat":
        return rng.integers(0, 2, N).astype("float32"), rng.random((N, 1)).astype("float32")
    if kind == "multilabel":
        return rng.integers(0, 2, (N, C)).astype("float32"), rng.random((N, C)).astype("float32")
    if kind == "logits":
        return rng.integers(0, 2, (N, C)).astype("float32"), (3 * rng.standard_normal((N, C))).astype("float32")
    if kind == "exact":  # Accuracy compares values exactly
        a = rng.integers(0, 3, (N, 1)).astype("float32")
        b = a.copy()
        b[::3] += 1
        return a, b
    if kind == "ids":  # class ids as labels and as predictions, some out of range
        a, b = rng.integers(0, C, N), rng.integers(0, C, N)
        a[4], b[7] = C, -1
        return a, b
    if kind == "ids_col":
        return rng.integers(0, C, (N, 1)), rng.integers(0, C, (N, 1)).astype("float32")
    if kind == "onehot_ids":  # one-hot labels against predicted ids
        return np.eye(C, dtype="float32")[rng.integers(0, C, N)], rng.integers(0, C, N)
    if kind == "regression":
        return rng.standard_normal((N, C)).astype("float32"), rng.standard_normal((N, C)).astype("float32")
    if kind == "positive":
        return (rng.random((N, C)) * 3).astype("float32"), (rng.random((N, C)) * 3 + 0.01).astype("float32")
    raise AssertionError(kind)


CASES = [
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary_flat"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("TopKCategoricalAccuracy", {"k": 3}, "onehot"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse_col"),
    ("Precision", {}, "binary"),
    ("Precision", {}, "multilabel"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.9]}, "multilabel"),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "multilabel"),  # the evenly spaced path
    ("Precision", {"top_k": 2}, "onehot"),
    ("Precision", {"class_id": 2}, "multilabel"),
    ("Recall", {}, "binary_flat"),
    ("Recall", {"thresholds": 0.7}, "multilabel"),
    ("Recall", {"top_k": 1, "class_id": 1}, "onehot"),
    ("Recall", {"thresholds": [0.0, 0.5, 1.0]}, "multilabel"),
    ("AUC", {}, "binary"),
    ("AUC", {}, "multilabel"),
    ("AUC", {"num_thresholds": 7}, "multilabel"),
    ("AUC", {"curve": "PR"}, "multilabel"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "multilabel"),
    ("AUC", {"summation_method": "majoring"}, "binary"),
    ("AUC", {"thresholds": [0.1, 0.35, 0.8]}, "multilabel"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"multi_label": True, "curve": "PR", "label_weights": [1.0, 2.0, 0.5, 0.0]}, "multilabel"),
    ("AUC", {"label_weights": [1.0, 2.0, 0.5, 0.0]}, "multilabel"),
    ("AUC", {"from_logits": True}, "logits"),
    ("TruePositives", {}, "multilabel"),
    ("FalsePositives", {"thresholds": [0.3, 0.6]}, "multilabel"),
    ("TrueNegatives", {}, "binary"),
    ("FalseNegatives", {}, "binary"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "logits"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "multilabel"),
    ("CategoricalHinge", {}, "onehot"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "multilabel"),
    ("F1Score", {"average": "micro"}, "onehot"),
    ("F1Score", {"average": "weighted", "threshold": 0.3}, "multilabel"),
    ("FBetaScore", {"beta": 2.0}, "multilabel"),
    ("FBetaScore", {"average": "weighted", "beta": 0.5}, "onehot"),
    ("FBetaScore", {"average": "micro", "beta": 1.5, "threshold": 0.6}, "multilabel"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 3}, "regression"),
    ("R2Score", {"num_regressors": 2}, "binary"),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}, "ids"),
    ("IoU", {"num_classes": C, "target_class_ids": [1, 3], "dtype": "float32"}, "ids"),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 1, 3], "sparse_y_pred": False, "ignore_class": 2,
             "dtype": "float32"}, "sparse"),
    ("MeanIoU", {"num_classes": C}, "ids_col"),
    ("MeanIoU", {"num_classes": C, "dtype": "float32", "ignore_class": 1}, "ids"),
    ("MeanIoU", {"num_classes": C, "sparse_y_true": False, "sparse_y_pred": False, "dtype": "float32"}, "onehot"),
    ("BinaryIoU", {}, "binary"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3, "dtype": "float32"}, "binary_flat"),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [0, 3]}, "onehot"),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [1, 2], "sparse_y_pred": True, "dtype": "float32"},
     "onehot_ids"),
    ("OneHotMeanIoU", {"num_classes": C, "dtype": "float32"}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": C, "ignore_class": 0}, "onehot"),
]


def _ids(case):
    name, kw, kind = case
    return f"{name}-{kind}-" + "-".join(f"{k}={v}" for k, v in kw.items())


def _compare(ours, theirs, y_true, y_pred, weights_list, atol=1e-5):
    for lo, hi, sw in weights_list:
        ours.update_state(y_true[lo:hi], y_pred[lo:hi], sample_weight=sw)
        theirs.update_state(y_true[lo:hi], y_pred[lo:hi], sample_weight=sw)
    got = ours.result()
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), np.asarray(theirs.result()), rtol=1e-5, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_metric_matches_keras(keras, case):
    name, kw, kind = case
    rng = np.random.default_rng(len(name) * 17 + len(kind))
    y_true, y_pred = _data(kind, rng)
    sw = rng.random(N).astype("float32")
    sw[2] = 0.0
    ours = getattr(M, name)(**kw)
    theirs = getattr(keras.metrics, name)(**kw)
    # three batches: weighted, unweighted, weighted
    _compare(ours, theirs, y_true, y_pred, [(0, 5, sw[:5]), (5, 8, None), (8, N, sw[8:])])
    # reset, then one more batch
    ours.reset_state()
    theirs.reset_state()
    _compare(ours, theirs, y_true, y_pred, [(3, N, None)])
    # default names agree (auto-numbered ones up to their counters)
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)


@pytest.mark.parametrize("values,weights", [
    (np.arange(6, dtype="float32"), None),
    (np.arange(6, dtype="float32"), np.array([1, 0, 2, 1, 1, 0], "float32")),
    (np.arange(12, dtype="float32").reshape(6, 2), np.array([1, 0, 2, 1, 1, 0], "float32")),
    (np.arange(12, dtype="float32").reshape(6, 2), np.arange(12, dtype="float32").reshape(6, 2) % 3),
    (np.arange(12, dtype="float32").reshape(3, 2, 2), None),
    (np.arange(6, dtype="float32"), np.float32(2.0)),
])
def test_mean_and_sum_match_keras(keras, values, weights):
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(M, name)(), getattr(keras.metrics, name)()
        for _ in range(2):
            ours.update_state(values, sample_weight=weights)
            theirs.update_state(values, sample_weight=weights)
        np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), rtol=1e-6)


def test_sequence_metrics_match_keras(keras):
    rng = np.random.default_rng(4)
    labels = rng.integers(0, C, (3, 5))
    probs = rng.random((3, 5, C)).astype("float32")
    sw = rng.random((3, 5)).astype("float32")
    for name, y_true in (("SparseCategoricalAccuracy", labels), ("CategoricalAccuracy", np.eye(C)[labels]),
                         ("SparseCategoricalCrossentropy", labels), ("MeanSquaredError", np.eye(C)[labels])):
        ours, theirs = getattr(M, name)(), getattr(keras.metrics, name)()
        _compare(ours, theirs, y_true, probs, [(0, 2, sw[:2]), (2, 3, None)])


def test_mean_metric_wrapper_of_a_function_matches_keras(keras):
    rng = np.random.default_rng(9)
    y_true, y_pred = _data("regression", rng)
    ours = M.MeanMetricWrapper(L.huber, delta=0.5)
    theirs = keras.metrics.MeanMetricWrapper(keras.losses.huber, delta=0.5)
    _compare(ours, theirs, y_true, y_pred, [(0, 6, np.ones(6, "float32")), (6, N, None)])
    assert ours._direction == "down"


def test_focal_crossentropy_metric_functions_match_keras(keras):
    rng = np.random.default_rng(10)
    y_true, y_pred = _data("multilabel", rng)
    for name in ("binary_focal_crossentropy", "categorical_focal_crossentropy"):
        ours = M.MeanMetricWrapper(getattr(M, name), gamma=1.5)
        theirs = keras.metrics.MeanMetricWrapper(getattr(keras.metrics, name), gamma=1.5)
        _compare(ours, theirs, y_true, y_pred, [(0, 6, np.linspace(0, 1, 6, dtype="float32")), (6, N, None)])
        assert type(M.get(name)) is M.MeanMetricWrapper


def test_update_state_does_not_track_gradients_and_follows_device():
    y_pred = torch.rand(6, 3, requires_grad=True)
    y_true = torch.eye(3)[torch.tensor([0, 1, 2, 0, 1, 2])]
    for metric in (M.CategoricalAccuracy(), M.AUC(), M.MeanSquaredError(), M.Precision()):
        metric.update_state(y_true, y_pred)
        result = metric.result()
        assert not result.requires_grad
        assert all(not v.requires_grad and v.device == y_pred.device for v in metric.variables)
    m = M.Mean()
    assert m(torch.tensor([1.0, 2.0])).item() == pytest.approx(1.5)  # __call__ updates and returns result
    assert m(torch.tensor([3.0])).item() == pytest.approx(2.0)


def test_top_k_larger_than_the_number_of_classes_counts_every_sample():
    # Keras's torch backend raises here; tf.keras (and we) count every sample as a hit
    y_true = np.eye(3)[[0, 1, 2]]
    assert M.TopKCategoricalAccuracy()(y_true, np.random.rand(3, 3)).item() == 1.0
    assert M.SparseTopKCategoricalAccuracy()(np.array([0, 1, 2]), np.random.rand(3, 3)).item() == 1.0


def test_empty_metric_results_are_zero():
    for metric in (M.Mean(), M.Precision(), M.Recall(), M.AUC(), M.CategoricalAccuracy()):
        assert metric.result().item() == 0.0


# ------------------------------------------------------------------------------------------- get
@pytest.mark.parametrize("ident,y_true,y_pred,cls", [
    ("accuracy", (None, 1), (None, 1), M.BinaryAccuracy),
    ("acc", (None,), (None, 1), M.BinaryAccuracy),
    ("accuracy", (None,), (None, 10), M.SparseCategoricalAccuracy),
    ("accuracy", (None, 1), (None, 10), M.SparseCategoricalAccuracy),
    ("acc", (None, 10), (None, 10), M.CategoricalAccuracy),
    ("accuracy", (None, 7), (None, 7, 10), M.SparseCategoricalAccuracy),
    ("accuracy", (None, 7, 10), (None, 7, 10), M.CategoricalAccuracy),
    ("Accuracy", np.zeros((4,)), np.zeros((4, 3)), M.SparseCategoricalAccuracy),
    ("accuracy", np.zeros((4, 3)), torch.zeros(4, 3), M.CategoricalAccuracy),
    ("crossentropy", (None, 1), (None, 1), M.BinaryCrossentropy),
    ("ce", (None,), (None, 10), M.SparseCategoricalCrossentropy),
    ("crossentropy", (None, 10), (None, 10), M.CategoricalCrossentropy),
])
def test_accuracy_kind_resolution(ident, y_true, y_pred, cls):
    metric = M.get(ident, y_true, y_pred)
    assert type(metric) is cls
    assert metric.name == ident  # Keras logs the string the user wrote


def test_accuracy_kind_agrees_with_keras_compile_utils(keras):
    from keras.src.trainers.compile_utils import get_metric

    for t_shape, p_shape in (((4,), (4, 1)), ((4, 1), (4, 1)), ((4,), (4, 5)), ((4, 1), (4, 5)),
                             ((4, 5), (4, 5)), ((4, 3), (4, 3, 5))):
        theirs = get_metric("accuracy", np.zeros(t_shape), np.zeros(p_shape))
        ours = M.get("accuracy", np.zeros(t_shape), np.zeros(p_shape))
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.name == theirs.name == "accuracy"


@pytest.mark.parametrize("ident,cls,name", [
    ("mse", M.MeanSquaredError, "mse"), ("mae", M.MeanAbsoluteError, "mae"),
    ("mean_absolute_error", M.MeanAbsoluteError, "mean_absolute_error"),
    ("categorical_crossentropy", M.CategoricalCrossentropy, "categorical_crossentropy"),
    ("sparse_categorical_crossentropy", M.SparseCategoricalCrossentropy, "sparse_categorical_crossentropy"),
    ("binary_crossentropy", M.BinaryCrossentropy, "binary_crossentropy"),
    ("AUC", M.AUC, "AUC"), ("auc", M.AUC, "auc"), ("precision", M.Precision, "precision"),
    ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy, "top_k_categorical_accuracy"),
    ("RootMeanSquaredError", M.RootMeanSquaredError, "RootMeanSquaredError"),
    ("huber", M.MeanMetricWrapper, "huber"), ("logcosh", M.LogCoshError, "logcosh"),
])
def test_get_strings(ident, cls, name):
    metric = M.get(ident)
    assert type(metric) is cls and metric.name == name


def test_get_other_identifiers():
    inst = M.AUC(curve="PR")
    assert M.get(inst) is inst
    assert type(M.get(M.Recall)) is M.Recall
    m = M.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}})
    assert type(m) is M.BinaryAccuracy and m.threshold == 0.7
    fn = M.get(M.categorical_accuracy)
    assert type(fn) is M.MeanMetricWrapper and fn.name == "categorical_accuracy"

    def my_metric(y_true, y_pred):
        return torch.abs(y_true - y_pred).mean(-1)

    wrapped = M.get(my_metric)
    assert wrapped.name == "my_metric"
    assert wrapped(np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")).item() == 1.0
    assert M.get(L.MeanSquaredError()).name == "mean_squared_error"


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown metric: 'acuracy'") as err:
        M.get("acuracy")
    assert "accuracy" in str(err.value) and "sparse_categorical_accuracy" in str(err.value)
    with pytest.raises(ValueError, match="y_true and y_pred"):
        M.get("accuracy")
    with pytest.raises(ValueError):
        M.get(None)
    with pytest.raises(ValueError):
        M.get(3.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        M.AUC(curve="DET")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="k"):
        M.TopKCategoricalAccuracy(k=0)


# ------------------------------------------------------------------------------------- serialize
def test_serialize_and_configs_match_keras(keras):
    assert M.serialize("mse") == "mean_squared_error"
    assert M.serialize("accuracy") == "accuracy" and M.serialize("acc") == "acc"
    assert M.serialize(M.categorical_accuracy) == "categorical_accuracy"
    for name, kw, _ in CASES:
        ours = getattr(M, name)(name="m", **kw)
        theirs = getattr(keras.metrics, name)(name="m", **kw)
        want = theirs.get_config()
        got = ours.get_config()
        if "label_weights" in want and want["label_weights"] is not None:
            want["label_weights"] = np.asarray(want["label_weights"]).tolist()
        assert got == want, name
        cfg = M.serialize(ours)
        assert cfg["class_name"] == name and cfg["module"] == "keras.metrics"
        # Keras reads ours; we read Keras's
        assert keras.metrics.deserialize(cfg).get_config().keys() == want.keys()
        again = M.deserialize(keras.metrics.serialize(theirs))
        assert type(again) is type(ours) and again.get_config() == got
    wrapper = M.MeanMetricWrapper(L.mean_squared_error, name="w")
    assert wrapper.get_config() == keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error,
                                                                   name="w").get_config()
    assert M.MeanMetricWrapper.from_config(wrapper.get_config())._fn is L.mean_squared_error
