"""fit and evaluate refuse empty data (issue 18, "Why" 7): an epoch or an evaluation without a single
batch reported a loss and an accuracy of 0 as if they were results."""
import numpy as np
import pytest

import engine
from engine import layers
from engine.trainers.data_adapter import DataError


def compiled():
    model = engine.Sequential([engine.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def test_fit_on_an_empty_training_set_is_refused():
    with pytest.raises(DataError, match="fit\\(\\) received no data"):
        compiled().fit(np.zeros((0, 4), np.float32), np.zeros((0,), np.int64), epochs=1, verbose=0)


def test_evaluate_on_an_empty_test_set_is_refused():
    with pytest.raises(DataError, match="evaluate\\(\\) received no data"):
        compiled().evaluate(np.zeros((0, 4), np.float32), np.zeros((0,), np.int64), verbose=0)


def test_one_sample_still_trains_and_evaluates():
    model = compiled()
    x, y = np.ones((1, 4), np.float32), np.zeros((1,), np.int64)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(model.evaluate(x, y, verbose=0)[0])
