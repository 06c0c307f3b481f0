"""batchnorm_note: a short run of a model with BatchNormalization gets a plain-words note when its test
accuracy falls far below its training accuracy; other runs get none."""
import math

import pytest

from tests.visualkeras_app.training.conftest import tiny_cnn
from visualkeras_app.training.results import batchnorm_note
from visualkeras_app.training.runs import BatchCurve, RunRecord
from visualkeras_app.training.settings import TrainSettings


def bn_cnn(momentum=0.99):
    import engine
    from engine import layers

    return engine.Sequential([
        layers.Input((28, 28, 1)), layers.Conv2D(4, 3), layers.BatchNormalization(momentum=momentum),
        layers.ReLU(), layers.Flatten(), layers.Dense(10, activation="softmax")])


def record(steps, train_acc, test_acc, epochs=1):
    curve = BatchCurve(("loss", "accuracy", "lr"))
    for i in range(steps):
        curve.append(i, 0.5, train_acc, 1e-3)
    rec = RunRecord(1, "run", TrainSettings(), epochs=[{"epoch": e + 1, "accuracy": train_acc} for e in range(epochs)],
                    batches=curve)
    rec.test_accuracy = test_acc
    return rec


def test_a_short_run_with_batchnorm_gets_the_note():
    note = batchnorm_note(bn_cnn(), record(steps=94, train_acc=0.91, test_acc=0.15))
    assert note is not None
    assert "15%" in note and "91%" in note and "BatchNormalization" in note
    assert "94 training steps" in note and f"{100 * 0.99 ** 94:.0f}%" in note  # 39% of the start is left
    assert "Train 3 more epochs (about 299 steps" in note  # 299 steps settle momentum 0.99: 3 more epochs of 94
    assert "momentum" in note


@pytest.mark.parametrize("model, rec", [
    (bn_cnn(), record(steps=313, train_acc=0.98, test_acc=0.5)),  # enough steps: something else is wrong
    (bn_cnn(), record(steps=30, train_acc=0.6, test_acc=0.55)),  # test close to training
    (bn_cnn(momentum=0.5), record(steps=30, train_acc=0.9, test_acc=0.2)),  # a fast momentum settles
    (tiny_cnn(), record(steps=30, train_acc=0.9, test_acc=0.2)),  # no BatchNormalization
    (bn_cnn(), record(steps=30, train_acc=0.9, test_acc=None)),  # no test accuracy
])
def test_no_note(model, rec):
    assert batchnorm_note(model, rec) is None


def test_the_last_batches_count_not_the_epochs_mean():
    # One epoch whose running mean is 0.6 while the last batches are at 0.95: the gap to test is real.
    rec = record(steps=60, train_acc=0.95, test_acc=0.5)
    rec.epochs[-1]["accuracy"] = 0.6
    assert "95%" in batchnorm_note(bn_cnn(), rec)
    rec.epochs[-1]["accuracy"] = math.nan
    assert batchnorm_note(bn_cnn(), rec) is not None
