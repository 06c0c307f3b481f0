"""compile(steps_per_execution=N), as Keras has it: the batch callbacks and per-batch logs come once per N
batches, numbered as Keras's EpochIterator numbers them (begin at the first batch, ``begin + N - 1`` at the
end, even where the data ends inside an execution); the training itself is the same as with N = 1.

Keras 3 refuses N > 1 on its torch backend (its TensorFlow and JAX trainers run it); the numbers Keras
reports are those of its backend-independent ``EpochIterator``, compared here with the engine's.
"""
import warnings

import numpy as np
import pytest
import torch

import engine
from engine import backend, layers


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)).astype("float32"), rng.integers(0, 3, n)


def _model(spe, seed=3):
    backend.set_seed(seed)
    m = engine.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                           layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
              steps_per_execution=spe)
    return m


class _Hooks(engine.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("train_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("train_end", batch, round(logs["loss"], 6)))

    def on_test_batch_begin(self, batch, logs=None):
        self.calls.append(("test_begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test_end", batch))

    def on_predict_batch_begin(self, batch, logs=None):
        self.calls.append(("predict_begin", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.calls.append(("predict_end", batch, int(logs["outputs"].shape[0])))


@pytest.mark.parametrize("spe", [2, 3, 7])
def test_training_equals_one_step_per_execution(spe):
    x, y = _data()
    histories, weights, evaluated, predicted = [], [], [], []
    for k in (1, spe):
        m = _model(k)
        backend.set_seed(11)
        h = m.fit(x, y, batch_size=8, epochs=2, validation_split=0.2, verbose=0)
        histories.append(h.history)
        weights.append([w.detach().clone() for w in m.weights])
        evaluated.append(m.evaluate(x, y, batch_size=8, verbose=0))
        predicted.append(m.predict(x, batch_size=8, verbose=0))
    assert sorted(histories[0]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert histories[1] == histories[0]
    for a, b in zip(*weights):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert evaluated[1] == evaluated[0]
    np.testing.assert_array_equal(predicted[1], predicted[0])


def _keras_steps(keras, n, batch_size, spe):
    from keras.src.trainers.epoch_iterator import EpochIterator

    x, y = _data(n)
    it = EpochIterator(x=x, y=y, batch_size=batch_size, steps_per_execution=spe, shuffle=False)
    with warnings.catch_warnings():  # Keras warns "ran out of data" where the data ends inside an execution
        warnings.simplefilter("ignore", UserWarning)
        return [(begin, end, len(data)) for begin, end, data in it.enumerate_epoch()]


@pytest.mark.parametrize("n,batch_size,spe", [(50, 8, 3), (48, 8, 3), (40, 8, 2), (20, 8, 5), (9, 8, 1)])
def test_callbacks_see_keras_batch_numbers(keras, n, batch_size, spe):
    expected = _keras_steps(keras, n, batch_size, spe)
    assert sum(k for _, _, k in expected) == -(-n // batch_size)  # every batch runs once
    x, y = _data(n)
    m = _model(spe)
    hooks = _Hooks()
    m.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[hooks])
    got = [c[:2] for c in hooks.calls]
    want = [c for begin, end, _ in expected for c in (("train_begin", begin), ("train_end", end))]
    assert got == want

    hooks.calls.clear()
    m.evaluate(x, y, batch_size=batch_size, verbose=0, callbacks=[hooks])
    assert hooks.calls == [c for begin, end, _ in expected for c in (("test_begin", begin), ("test_end", end))]

    hooks.calls.clear()
    m.predict(x, batch_size=batch_size, verbose=0, callbacks=[hooks])
    # The outputs handed to on_predict_batch_end are the whole execution's batches joined.
    sizes = [min(batch_size * (begin + k), n) - batch_size * begin for begin, _, k in expected]
    assert hooks.calls == [c for (begin, end, _), rows in zip(expected, sizes)
                           for c in (("predict_begin", begin), ("predict_end", end, rows))]


def test_keras_torch_backend_refuses_it(keras):
    """Why the comparison above reads Keras's EpochIterator: Keras's torch trainer says N must be 1."""
    x, y = _data(16)
    km = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    km.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=2)
    with pytest.raises(ValueError, match="steps_per_execution"):
        km.fit(x, y, batch_size=8, verbose=0)


def test_logs_once_per_execution_with_the_execution_s_last_loss():
    x, y = _data(48)
    m = _model(4)
    hooks = _Hooks()
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[hooks])
    ends = [c for c in hooks.calls if c[0] == "train_end"]
    assert [c[1] for c in ends] == [3, 7]
    # The running mean over all 6 batches at the end: the epoch's loss.
    assert ends[-1][2] == pytest.approx(m.history.history["loss"][0], abs=1e-6)


def test_stop_training_takes_effect_at_the_end_of_an_execution():
    class StopAtFirst(engine.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    x, y = _data(64)
    m = _model(3)
    seen = _Hooks()
    m.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[StopAtFirst(), seen])
    assert [c[:2] for c in seen.calls] == [("train_begin", 0), ("train_end", 2)]
    assert len(m.history.history["loss"]) == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True, None])
def test_bad_values_are_refused(bad):
    m = engine.Sequential([layers.Input((6,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="steps_per_execution"):
        m.compile(optimizer="sgd", loss="mse", steps_per_execution=bad)


def test_the_compile_config_keeps_the_execution_settings_as_keras_writes_and_reads_them(keras, tmp_path):
    cases = [dict(steps_per_execution=4, jit_compile=True), dict(run_eagerly=True, jit_compile=True), {}]
    for kwargs in cases:
        ours = engine.Sequential([layers.Input((3,)), layers.Dense(2)])
        theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        for m in (ours, theirs):
            m.compile(optimizer="adam", loss="mse", **kwargs)
        keys = ("run_eagerly", "steps_per_execution", "jit_compile")
        assert {k: ours.get_compile_config()[k] for k in keys} == {k: theirs.get_compile_config()[k] for k in keys}
    ours = _model(3)
    ours.save(tmp_path / "ours.keras")
    assert keras.saving.load_model(tmp_path / "ours.keras").get_compile_config()["steps_per_execution"] == 3
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    theirs.compile(optimizer="adam", loss="mse", steps_per_execution=5)
    theirs.save(tmp_path / "theirs.keras")
    assert engine.saving.load_model(str(tmp_path / "theirs.keras")).steps_per_execution == 5
