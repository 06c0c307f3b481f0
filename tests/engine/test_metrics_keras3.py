"""Metrics Keras 3 added: PearsonCorrelation, ConcordanceCorrelation (and their functions) and the
rate-at-constraint metrics (SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
RecallAtPrecision), against Keras over weighted batches, after reset, and in configs both ways."""
import numpy as np
import pytest
import torch

from engine import metrics as M

_SLOW = pytest.mark.slow  # Keras's own update takes about 0.4 s at 200 thresholds
CONSTRAINED = [
    pytest.param("SensitivityAtSpecificity", {"specificity": 0.6}, id="sens_at_spec"),
    pytest.param("SensitivityAtSpecificity", {"specificity": 0.9, "num_thresholds": 7}, id="sens_at_spec_7"),
    pytest.param("SpecificityAtSensitivity", {"sensitivity": 0.7}, id="spec_at_sens", marks=_SLOW),
    pytest.param("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 1}, id="spec_at_sens_1"),
    pytest.param("PrecisionAtRecall", {"recall": 0.4}, id="prec_at_rec", marks=_SLOW),
    pytest.param("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 2}, id="prec_at_rec_2"),
    pytest.param("RecallAtPrecision", {"precision": 0.7}, id="rec_at_prec", marks=_SLOW),
    pytest.param("RecallAtPrecision", {"precision": 1.0, "num_thresholds": 50}, id="rec_at_prec_50"),
    pytest.param("RecallAtPrecision", {"precision": 0.6, "class_id": 2, "num_thresholds": 20}, id="rec_at_prec_class"),
]


def _batches(kind, rng):
    if kind == "class_id":
        return [(np.eye(4, dtype="float32")[rng.integers(0, 4, 12)], rng.random((12, 4)).astype("float32"),
                 rng.random(12).astype("float32")) for _ in range(3)]
    if kind == "binary":
        out = []
        for _ in range(3):
            y = rng.integers(0, 2, (16, 1)).astype("float32")
            p = np.clip(0.35 * y + rng.random((16, 1)) * 0.65, 0, 1).astype("float32")  # informative scores
            out.append((y, p, rng.random(16).astype("float32")))
        return out
    return [(rng.standard_normal((6, 5)).astype("float32"), rng.standard_normal((6, 5)).astype("float32"),
             rng.random(6).astype("float32")) for _ in range(3)]


def _check(e, k, batches):
    for weighted in (False, True):
        for y, p, w in batches:
            sw = w if weighted else None
            e.update_state(torch.tensor(y), torch.tensor(p), sample_weight=sw)
            k.update_state(y, p, sample_weight=sw)
            np.testing.assert_allclose(np.asarray(e.result()), np.asarray(k.result().cpu()), rtol=1e-5, atol=1e-6)
        e.reset_state()
        k.reset_state()
        np.testing.assert_allclose(np.asarray(e.result()), np.asarray(k.result().cpu()), atol=1e-7)


@pytest.mark.parametrize("name,kw", CONSTRAINED)
def test_rate_at_constraint_metrics_match_keras(keras, name, kw):
    rng = np.random.default_rng(len(str(kw)))
    e, k = getattr(M, name)(**kw), getattr(keras.metrics, name)(**kw)
    _check(e, k, _batches("class_id" if "class_id" in kw else "binary", rng))
    assert [v.shape for v in e.variables] == [tuple(v.shape) for v in k.variables]
    e_cfg = getattr(M, name)(name="probe", **kw).get_config()
    k_cfg = getattr(keras.metrics, name)(name="probe", **kw).get_config()
    assert e_cfg == k_cfg
    assert M.deserialize({"class_name": name, "config": k_cfg}).get_config() == e_cfg
    assert keras.metrics.deserialize(M.serialize(e)).get_config()["num_thresholds"] == e.num_thresholds


@pytest.mark.parametrize("name", ["PearsonCorrelation", "ConcordanceCorrelation"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_correlation_metrics_match_keras(keras, name, axis):
    rng = np.random.default_rng(7)
    e, k = getattr(M, name)(axis=axis), getattr(keras.metrics, name)(axis=axis)
    batches = _batches("regression", rng)
    if axis == 0:  # one value per column: sample weights do not line up, so unweighted only
        for y, p, _ in batches:
            e.update_state(y, p)
            k.update_state(y, p)
            np.testing.assert_allclose(np.asarray(e.result()), np.asarray(k.result().cpu()), rtol=1e-5, atol=1e-6)
    else:
        _check(e, k, batches)
    fn = "pearson_correlation" if name == "PearsonCorrelation" else "concordance_correlation"
    y, p, _ = batches[0]
    np.testing.assert_allclose(getattr(M, fn)(y, p, axis=axis).numpy(),
                               np.asarray(getattr(keras.metrics, fn)(y, p, axis=axis).cpu()), rtol=1e-5, atol=1e-6)
    e_cfg = getattr(M, name)(name="probe", axis=axis).get_config()
    assert e_cfg == getattr(keras.metrics, name)(name="probe", axis=axis).get_config()
    assert type(M.deserialize(M.serialize(getattr(M, name)(axis=axis)))).__name__ == name


def test_constrained_metrics_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]"):
        M.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match=r"`precision` must be in the range \[0, 1\]"):
        M.RecallAtPrecision(-0.1)
    with pytest.raises(ValueError, match="num_thresholds"):
        M.PrecisionAtRecall(0.5, num_thresholds=0)


def test_new_metrics_work_in_compile_and_fit():
    import engine
    from engine import layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = engine.Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[M.RecallAtPrecision(0.5), M.PearsonCorrelation(axis=0)])
    logs = model.fit(x, y, epochs=1, verbose=0, batch_size=32).history
    assert set(logs) >= {"recall_at_precision", "pearson_correlation"}
    assert 0.0 <= logs["recall_at_precision"][0] <= 1.0
