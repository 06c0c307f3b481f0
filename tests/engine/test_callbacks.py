"""engine.callbacks, driven with small fake models and compared with Keras's own callbacks."""
import csv
import math
import re
import time
import warnings

import numpy as np
import pytest
import torch

from engine import callbacks as cbks


class FakeOptimizer:
    def __init__(self, learning_rate=0.01, name="sgd"):
        self.learning_rate = learning_rate
        self.name = name


class FakeModel:
    """What callbacks touch on a model: stop_training, weights, optimizer, save/save_weights."""

    def __init__(self, lr=0.01):
        self.stop_training = False
        self.weights = [np.zeros(3, dtype=np.float32)]
        self.optimizer = FakeOptimizer(lr)
        self.saved = []
        self.history = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("save", filepath))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("save_weights", filepath))


def fit(module, callbacks, epoch_logs, model=None, steps=2, batch_logs=None, verbose=0):
    """Plays the hook sequence of fit() through module.CallbackList; returns (model, epochs run).

    After each epoch the fake model's weights become [epoch, epoch, epoch], so a restore is visible.
    """
    model = model or FakeModel()
    cl = module.CallbackList(callbacks, add_history=True, model=model, verbose=verbose,
                             epochs=len(epoch_logs), steps=steps)
    model.stop_training = False
    cl.on_train_begin()
    ran = 0
    logs = None
    for epoch, logs in enumerate(epoch_logs):
        cl.on_epoch_begin(epoch)
        for batch in range(steps):
            cl.on_train_batch_begin(batch)
            cl.on_train_batch_end(batch, dict(batch_logs[epoch][batch]) if batch_logs else {"loss": 1.0})
        model.weights = [np.full(3, float(epoch), dtype=np.float32)]
        logs = dict(logs)
        cl.on_epoch_end(epoch, logs)
        ran += 1
        if model.stop_training:
            break
    cl.on_train_end(logs)
    return model, ran


# ------------------------------------------------------------------------------------------
# Callback / CallbackList


def test_every_hook_exists_and_is_dispatched():
    calls = []

    class Recorder(cbks.Callback):
        pass

    rec = Recorder()
    for name in cbks._HOOKS:
        def hook(*args, _name=name, **kwargs):
            calls.append(_name)
        setattr(rec, name, hook)
    cl = cbks.CallbackList([rec])
    for name in cbks._HOOKS:
        if "batch" in name or "epoch" in name:
            getattr(cl, name)(0, {"loss": 1.0})
        else:
            getattr(cl, name)({"loss": 1.0})
    assert calls == list(cbks._HOOKS)


def test_keras2_batch_aliases_are_called_for_train_batches():
    seen = []

    class Old(cbks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs["loss"]))

    cl = cbks.CallbackList([Old()])
    cl.on_train_batch_begin(0)
    cl.on_train_batch_end(0, {"loss": torch.tensor(0.5)})
    cl.on_test_batch_end(0, {"loss": 9.0})  # not a training batch: no alias call
    assert seen == [("begin", 0), ("end", 0, 0.5)]


def test_logs_are_pythonified_sorted_and_shared():
    got = []

    class Adder(cbks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 1.0

    class Reader(cbks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            got.append(dict(logs))

    cl = cbks.CallbackList([Adder(), Reader()])
    raw = {"loss": torch.tensor(0.25), "accuracy": np.float32(0.5), "out": {"val_loss": 0.75}}
    cl.on_epoch_end(0, raw)
    assert got == [{"accuracy": 0.5, "loss": 0.25, "val_loss": 0.75, "extra": 1.0}]
    assert list(got[0])[:3] == ["accuracy", "loss", "val_loss"]
    assert all(type(v) is float for v in got[0].values())
    assert "extra" not in raw  # the caller's dict is left alone


def test_callbacklist_defaults_params_and_model():
    model = FakeModel()
    hist = cbks.History()
    cl = cbks.CallbackList([[hist], cbks.TerminateOnNaN()], add_history=True, add_progbar=True, model=model,
                           verbose=2, epochs=3, steps=10)
    assert cl.callbacks[0] is hist and sum(isinstance(c, cbks.History) for c in cl.callbacks) == 1
    assert isinstance(cl.callbacks[-1], cbks.ProgbarLogger)
    assert model.history is hist
    assert all(c.model is model for c in cl.callbacks)
    assert hist.params == {"verbose": 2, "epochs": 3, "steps": 10}
    assert cl.callbacks[-1].target == 10 and cl.callbacks[-1].verbose == 2
    with pytest.raises(TypeError, match="Callback"):
        cbks.CallbackList([object()])


def test_needs_batch_logs():
    class EpochOnly(cbks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class TrainBatch(cbks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    class OldBatch(cbks.Callback):
        def on_batch_begin(self, batch, logs=None):
            pass

    class TestBatch(cbks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            pass

    def needs(cbs, **params):
        return cbks.CallbackList(cbs, add_history=True, **params).needs_batch_logs()

    assert not needs([])
    assert not needs([EpochOnly(), TestBatch(), cbks.EarlyStopping(), cbks.CSVLogger("x.csv")])
    assert needs([EpochOnly(), TrainBatch()])
    assert needs([OldBatch()])
    assert needs([cbks.TerminateOnNaN()])
    assert needs([cbks.LambdaCallback(on_train_batch_end=lambda b, logs: None)])
    assert needs([cbks.LambdaCallback(on_batch_end=lambda b, logs: None)])
    assert not needs([cbks.LambdaCallback(on_epoch_end=lambda e, logs: None)])
    # The progress bar needs batch logs only when it redraws per batch (verbose=1).
    assert needs([cbks.ProgbarLogger()], verbose=1, epochs=1, steps=3)
    assert not needs([cbks.ProgbarLogger()], verbose=2, epochs=1, steps=3)
    assert needs([cbks.ProgbarLogger()], verbose=2, epochs=1, steps=None)  # must count the steps
    assert not needs([cbks.ModelCheckpoint("m.keras")])
    assert needs([cbks.ModelCheckpoint("m.keras", save_freq=5)])


def test_batch_hooks_skip_callbacks_that_do_not_listen(monkeypatch):
    converted = []
    real = cbks._pythonify_logs
    monkeypatch.setattr(cbks, "_pythonify_logs", lambda logs: converted.append(1) or real(logs))
    seen = []

    class EpochOnly(cbks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append("epoch")

    cl = cbks.CallbackList([EpochOnly(), cbks.History()])
    cl.on_predict_batch_end(0, {"outputs": torch.zeros(4, 3)})
    cl.on_train_batch_end(0, {"loss": torch.tensor(1.0)})
    assert converted == []                     # nobody listens: the logs are not even converted
    cl.append(cbks.LambdaCallback(on_predict_batch_end=lambda b, logs: seen.append(type(logs["outputs"]))))
    cl.on_predict_batch_end(0, {"outputs": torch.zeros(4, 3)})
    assert converted == [1] and seen == [np.ndarray]   # outputs reach callbacks as NumPy, as in Keras


# ------------------------------------------------------------------------------------------
# History


def test_history_records_epochs(keras):
    logs = [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}]
    model, _ = fit(cbks, [], logs)
    ref_model, _ = fit(keras.callbacks, [], logs)
    assert model.history.history == ref_model.history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert model.history.epoch == [0, 1]
    assert model.history.params == {"verbose": 0, "epochs": 2, "steps": 2}


# ------------------------------------------------------------------------------------------
# ProgbarLogger


class FakeClock:
    def __init__(self, step):
        self.now, self.step = 1000.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def _progbar_run(module, verbose, epochs, steps, monkeypatch, capsys):
    monkeypatch.setattr(time, "time", FakeClock(0.1))
    logger = module.ProgbarLogger()
    logger.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
    logger.on_train_begin()
    for epoch in range(epochs):
        logger.on_epoch_begin(epoch)
        for b in range(steps or 4):
            logger.on_train_batch_end(b, {"accuracy": 0.5 + b / 10, "loss": 1.0 / (b + 1)})
        logger.on_epoch_end(epoch, {"accuracy": 0.75, "loss": 0.3210, "val_accuracy": 0.8, "val_loss": 0.25})
    logger.on_train_end()
    monkeypatch.undo()
    return capsys.readouterr().out


@pytest.mark.parametrize("verbose, epochs, steps", [(1, 2, 3), (2, 3, 5), (1, 1, 4), ("auto", 2, None)])
def test_progbar_logger_matches_keras(keras, monkeypatch, capsys, verbose, epochs, steps):
    ref = _progbar_run(keras.callbacks, verbose, epochs, steps, monkeypatch, capsys)
    ours = _progbar_run(cbks, verbose, epochs, steps, monkeypatch, capsys)
    assert ours == ref
    assert ("Epoch 1/" in ours) == (epochs > 1)


def test_progbar_logger_text(monkeypatch, capsys):
    out = _progbar_run(cbks, 2, 2, 3, monkeypatch, capsys)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(r"3/3 - 0s - \d+ms/step - accuracy: 0\.7500 - loss: 0\.3210 - val_accuracy: 0\.8000 "
                        r"- val_loss: 0\.2500", lines[1]), lines[1]
    assert lines[2] == "Epoch 2/2"


def test_progbar_logger_evaluate_and_predict(monkeypatch, capsys):
    logger = cbks.ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 2})
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 1.0})
    logger.on_test_batch_end(1, {"loss": 0.5})
    logger.on_test_end({"loss": 0.75})
    out = capsys.readouterr().out
    assert out.endswith("\n") and "loss: 0.7500" in out and "2/2" in out
    logger.on_predict_begin()
    logger.on_predict_batch_end(0, {"outputs": np.zeros((2, 2))})
    logger.on_predict_end()
    assert "outputs" not in capsys.readouterr().out


# ------------------------------------------------------------------------------------------
# EarlyStopping


@pytest.mark.parametrize("kwargs, losses", [
    (dict(monitor="loss", patience=2), [1.0, 0.9, 0.95, 0.97, 0.5, 0.4]),
    (dict(monitor="loss", patience=0), [1.0, 1.1, 0.5]),
    (dict(monitor="loss", patience=1, min_delta=0.2), [1.0, 0.9, 0.85, 0.5]),
    (dict(monitor="loss", patience=2, restore_best_weights=True), [1.0, 0.5, 0.7, 0.8, 0.9]),
    (dict(monitor="val_accuracy", mode="max", patience=1, restore_best_weights=True), [0.1, 0.5, 0.4, 0.3]),
    (dict(monitor="loss", patience=1, baseline=0.3), [1.0, 0.9, 0.8, 0.7]),
    (dict(monitor="loss", patience=1, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    (dict(monitor="loss", patience=5), [1.0, 0.9, 0.8]),
])
def test_early_stopping_matches_keras(keras, kwargs, losses):
    key = kwargs["monitor"]
    logs = [{key: v} for v in losses]
    model, ran = fit(cbks, [es := cbks.EarlyStopping(**kwargs)], logs)
    ref_model, ref_ran = fit(keras.callbacks, [ref := keras.callbacks.EarlyStopping(**kwargs)], logs)
    assert ran == ref_ran
    assert es.stopped_epoch == ref.stopped_epoch and es.wait == ref.wait
    assert es.best == pytest.approx(float(ref.best))
    np.testing.assert_array_equal(model.weights[0], ref_model.weights[0])


def test_early_stopping_patience_and_restore():
    es = cbks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    model, ran = fit(cbks, [es], [{"val_loss": v} for v in [1.0, 0.4, 0.6, 0.7, 0.1]])
    assert ran == 4 and model.stop_training and es.stopped_epoch == 3
    assert es.best == 0.4 and es.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0, 1.0])  # the weights after epoch index 1


def test_early_stopping_missing_monitor_warns(capsys):
    es = cbks.EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match="val_loss.*not available.*Available metrics are: loss"):
        model, ran = fit(cbks, [es], [{"loss": 1.0}, {"loss": 2.0}])
    assert ran == 2 and not model.stop_training


def test_early_stopping_auto_mode_directions():
    class Metric:
        def __init__(self, name, direction):
            self.name, self._direction = name, direction

    class Container:
        def __init__(self, metrics):
            self.metrics = metrics

    model = FakeModel()
    model.metrics = [Container([Metric("my_score", "up")])]
    for monitor, op in [("val_loss", "lt"), ("accuracy", "gt"), ("val_sparse_categorical_accuracy", "gt"),
                        ("mean_squared_error", "lt"), ("val_my_score", "gt"), ("auc", "gt")]:
        es = cbks.EarlyStopping(monitor=monitor)
        es.set_model(model)
        es._set_monitor_op()
        assert es.monitor_op.__name__ == op, monitor
    es = cbks.EarlyStopping(monitor="mystery")
    es.set_model(model)
    with pytest.raises(ValueError, match="mode='max'"):
        es._set_monitor_op()
    with pytest.warns(UserWarning, match="unknown"):
        assert cbks.EarlyStopping(mode="bogus").mode == "auto"
    with pytest.raises(ValueError, match="patience"):
        cbks.EarlyStopping(patience=-1)


# ------------------------------------------------------------------------------------------
# ReduceLROnPlateau / LearningRateScheduler


@pytest.mark.parametrize("kwargs, losses", [
    (dict(monitor="loss", factor=0.5, patience=1), [1.0, 1.0, 1.0, 0.5, 0.6, 0.7]),
    (dict(monitor="loss", factor=0.1, patience=2, cooldown=2, min_lr=1e-4), [1.0] * 10),
    (dict(monitor="val_loss", factor=0.5, patience=1, min_delta=0.1), [1.0, 0.95, 0.9, 0.5]),
])
def test_reduce_lr_on_plateau_matches_keras(keras, kwargs, losses):
    key = kwargs["monitor"]
    logs = [{key: v} for v in losses]
    model, _ = fit(cbks, [cbks.ReduceLROnPlateau(**kwargs)], logs)
    ref_model, _ = fit(keras.callbacks, [keras.callbacks.ReduceLROnPlateau(**kwargs)], logs)
    assert isinstance(model.optimizer.learning_rate, float)
    assert model.optimizer.learning_rate == pytest.approx(float(ref_model.optimizer.learning_rate))
    assert model.history.history["learning_rate"] == pytest.approx(ref_model.history.history["learning_rate"])


def test_reduce_lr_on_plateau_steps(capsys):
    cb = cbks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, verbose=1, min_lr=0.003)
    model, _ = fit(cbks, [cb], [{"loss": 1.0}] * 7)
    # lr 0.01 -> 0.005 at the end of epoch 3 -> 0.003 (min_lr) at the end of epoch 5; the logged
    # value is the rate the epoch ran with.
    assert model.history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.01, 0.005, 0.005, 0.003, 0.003])
    assert model.optimizer.learning_rate == 0.003
    out = capsys.readouterr().out
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.005." in out
    with pytest.raises(ValueError, match="factor"):
        cbks.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(UserWarning, match="not available"):
        fit(cbks, [cbks.ReduceLROnPlateau(monitor="val_loss")], [{"loss": 1.0}])


def test_learning_rate_scheduler(keras, capsys):
    def two_args(epoch, lr):
        return lr * 0.5 if epoch >= 1 else lr

    def one_arg(epoch):
        return 0.1 / (epoch + 1)

    for schedule in (two_args, one_arg, lambda epoch, lr: lr + math.exp(-epoch)):
        logs = [{"loss": 1.0}] * 4
        model, _ = fit(cbks, [cbks.LearningRateScheduler(schedule)], logs)
        ref, _ = fit(keras.callbacks, [keras.callbacks.LearningRateScheduler(schedule)], logs)
        assert model.optimizer.learning_rate == pytest.approx(float(ref.optimizer.learning_rate))
        assert model.history.history["learning_rate"] == pytest.approx(ref.history.history["learning_rate"])
    capsys.readouterr()
    model, _ = fit(cbks, [cbks.LearningRateScheduler(lambda e, lr: torch.tensor(0.5), verbose=1)], [{"loss": 1}])
    assert model.optimizer.learning_rate == 0.5
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5." in capsys.readouterr().out
    with pytest.raises(ValueError, match="should be a float"):
        fit(cbks, [cbks.LearningRateScheduler(lambda e, lr: "fast")], [{"loss": 1}])
    with pytest.raises(ValueError, match="schedule"):
        cbks.LearningRateScheduler(0.1)


def test_learning_rate_scheduler_does_not_hide_type_errors():
    def broken(epoch, lr):
        return lr + None

    with pytest.raises(TypeError):
        fit(cbks, [cbks.LearningRateScheduler(broken)], [{"loss": 1}])


# ------------------------------------------------------------------------------------------
# ModelCheckpoint


def test_model_checkpoint_formats_paths_and_saves(tmp_path, capsys):
    path = str(tmp_path / "ckpt" / "m-{epoch:02d}-{val_loss:.2f}.keras")
    cb = cbks.ModelCheckpoint(path, verbose=1)
    model, _ = fit(cbks, [cb], [{"val_loss": 0.5}, {"val_loss": 0.25}])
    assert model.saved == [("save", str(tmp_path / "ckpt" / "m-01-0.50.keras")),
                           ("save", str(tmp_path / "ckpt" / "m-02-0.25.keras"))]
    assert (tmp_path / "ckpt").is_dir()
    assert f"Epoch 1: saving model to {tmp_path / 'ckpt' / 'm-01-0.50.keras'}" in capsys.readouterr().out


def test_model_checkpoint_best_only_matches_keras(keras, tmp_path):
    logs = [{"val_accuracy": v} for v in [0.5, 0.7, 0.6, 0.8, 0.8]]
    kwargs = dict(monitor="val_accuracy", mode="max", save_best_only=True, save_weights_only=True)
    model, _ = fit(cbks, [cbks.ModelCheckpoint(str(tmp_path / "w-{epoch}.weights.h5"), **kwargs)], logs)
    ref, _ = fit(keras.callbacks, [keras.callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}.weights.h5"), **kwargs)],
                 logs)
    assert model.saved == ref.saved
    assert [p for _, p in model.saved] == [str(tmp_path / f"w-{e}.weights.h5") for e in (1, 2, 4)]
    assert all(kind == "save_weights" for kind, _ in model.saved)


def test_model_checkpoint_batch_frequency_and_errors(tmp_path):
    cb = cbks.ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}.keras"), save_freq=3)
    model, _ = fit(cbks, [cb], [{"loss": 1.0}] * 2, steps=4)
    assert [p.split("/")[-1] for _, p in model.saved] == ["b1-3.keras", "b2-2.keras"]
    with pytest.raises(ValueError, match="save_freq"):
        cbks.ModelCheckpoint("m.keras", save_freq="batch")
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        cbks.ModelCheckpoint("m.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        cbks.ModelCheckpoint("m.txt")
    with pytest.raises(KeyError, match="val_acc"):
        fit(cbks, [cbks.ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))], [{"loss": 1.0}])
    with pytest.warns(UserWarning, match="val_loss"):
        model, _ = fit(cbks, [cbks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)], [{"loss": 1.0}])
    assert len(model.saved) == 1


# ------------------------------------------------------------------------------------------
# CSVLogger


@pytest.mark.parametrize("logs", [
    [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.6, "val_accuracy": 0.7},
     {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.8}],
    [{"loss": 0.5, "accuracy": 0.75}, {"loss": 0.25, "accuracy": 0.875}],   # no validation: NA columns
])
def test_csv_logger_matches_keras(keras, tmp_path, logs):
    ours, ref = tmp_path / "ours.csv", tmp_path / "ref.csv"
    fit(cbks, [cbks.CSVLogger(str(ours))], logs)
    fit(keras.callbacks, [keras.callbacks.CSVLogger(str(ref))], logs)
    assert ours.read_bytes() == ref.read_bytes()
    rows = list(csv.reader(ours.open()))
    assert rows[0][:3] == ["epoch", "accuracy", "loss"]
    assert rows[1][0] == "0" and rows[2][0] == "1"


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.tsv"
    fit(cbks, [cbks.CSVLogger(path, separator="\t")], [{"loss": 1.0, "val_loss": 2.0}])
    fit(cbks, [cbks.CSVLogger(path, separator="\t", append=True)], [{"loss": 0.5, "val_loss": 1.5}])
    assert path.read_text().splitlines() == ["epoch\tloss\tval_loss", "0\t1.0\t2.0", "0\t0.5\t1.5"]
    fit(cbks, [cbks.CSVLogger(path)], [{"loss": 3.0}])
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,3.0,NA"]
    with pytest.raises(ValueError, match="separator"):
        cbks.CSVLogger(path, separator="ab")


# ------------------------------------------------------------------------------------------
# TerminateOnNaN / LambdaCallback


def test_terminate_on_nan(capsys):
    batch_logs = [[{"loss": 1.0}, {"loss": float("nan")}], [{"loss": 1.0}, {"loss": 1.0}]]
    model, ran = fit(cbks, [cbks.TerminateOnNaN()], [{"loss": 1.0}] * 2, batch_logs=batch_logs)
    assert model.stop_training and ran == 1
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    batch_logs = [[{"loss": torch.tensor(float("inf"))}, {"loss": 1.0}]]
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        fit(cbks, [cbks.TerminateOnNaN(raise_error=True)], [{"loss": 1.0}], batch_logs=batch_logs)
    model, ran = fit(cbks, [cbks.TerminateOnNaN()], [{"loss": 1.0}] * 3)
    assert ran == 3 and not model.stop_training


def test_lambda_callback():
    events = []
    cb = cbks.LambdaCallback(
        on_train_begin=lambda logs: events.append("begin"),
        on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch, logs["loss"])),
        on_batch_end=lambda batch, logs: events.append(("batch", batch)),
        on_train_end=lambda logs: events.append("end"),
    )
    fit(cbks, [cb], [{"loss": 0.5}], steps=2)
    assert events == ["begin", ("batch", 0), ("batch", 1), ("epoch", 0, 0.5), "end"]
    with pytest.raises(ValueError, match="on_epoch_ends"):
        cbks.LambdaCallback(on_epoch_ends=print)
    with pytest.raises(ValueError, match="callable"):
        cbks.LambdaCallback(on_epoch_end=3)


def test_custom_callback_stops_training():
    class StopAtHalf(cbks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["loss"] < 0.5:
                self.model.stop_training = True

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, ran = fit(cbks, [StopAtHalf()], [{"loss": 0.9}, {"loss": 0.4}, {"loss": 0.1}])
    assert ran == 2
