"""engine.callbacks.TensorBoard (event files read back with tensorboard's own reader) and
BackupAndRestore (an interrupted fit resumed as Keras resumes it, compared with Keras 3)."""
import importlib.util

import numpy as np
import pytest
import torch

import engine

rng = np.random.default_rng(0)
X = rng.random((48, 5)).astype("float32")
Y = (rng.random((48, 1)) > 0.5).astype("float32")


def _model(K, optimizer="adam"):
    K.utils.set_random_seed(0)
    x = K.Input((5,))
    h = K.layers.Dense(4, activation="relu", name="hidden")(x)
    model = K.Model(x, K.layers.Dense(1, activation="sigmoid", name="out")(h))
    model.set_weights([np.linspace(-1, 1, 20).reshape(5, 4).astype("float32"), np.full(4, 0.1, "float32"),
                       np.linspace(1, -1, 4).reshape(4, 1).astype("float32"), np.zeros(1, "float32")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_tensorboard_writes_epoch_batch_validation_histograms_and_graph(tmp_path):
    pytest.importorskip("tensorboard")
    model = _model(engine)
    tb = engine.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2, write_graph=True)
    history = model.fit(X, Y, batch_size=8, epochs=3, validation_data=(X, Y), shuffle=False, verbose=0,
                        callbacks=[tb]).history
    train, val = _events(tmp_path / "train"), _events(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        events = train.Scalars(f"epoch_{name}")
        assert [e.step for e in events] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in events], history[name], rtol=1e-6)
        np.testing.assert_allclose([e.value for e in val.Scalars(f"epoch_{name}")], history[f"val_{name}"], rtol=1e-6)
    lr = train.Scalars("epoch_learning_rate")
    np.testing.assert_allclose([e.value for e in lr], [model.optimizer.learning_rate] * 3, rtol=1e-6)
    assert [e.step for e in train.Scalars("batch_loss")] == list(range(2, 19, 2))  # 6 batches x 3 epochs
    hist_tags = train.Tags()["histograms"]
    assert sorted(hist_tags) == sorted(f"{w.path}/histogram" for l in model.layers for w in l.weights)
    last = train.Histograms("out/kernel/histogram")[-1]
    assert last.step == 2 and last.histogram_value.num == 4
    assert last.histogram_value.sum == pytest.approx(float(model.get_layer("out").kernel.detach().sum()), rel=1e-5)
    assert train.Tags()["graph"]
    model.evaluate(X, Y, verbose=0, callbacks=[tb])
    # After each validation pass of fit (as Keras, whose fit calls evaluate), then after evaluate.
    evaluation = _events(tmp_path / "validation").Scalars("evaluation_loss_vs_iterations")
    assert [e.step for e in evaluation] == [6, 12, 18, 18]
    np.testing.assert_allclose([e.value for e in evaluation][:3], history["val_loss"], rtol=1e-6)


def test_tensorboard_says_how_to_install_tensorboard_when_missing(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(ImportError, match="pip install tensorboard"):
        engine.callbacks.TensorBoard()


def _interrupted_then_resumed(K, backup_dir, optimizer):
    class Interrupt(K.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise RuntimeError("Interrupting!")

    model = _model(K, optimizer)
    backup = K.callbacks.BackupAndRestore(backup_dir=str(backup_dir))
    with pytest.raises(RuntimeError, match="Interrupting"):
        model.fit(X, Y, batch_size=8, epochs=6, shuffle=False, verbose=0, callbacks=[backup, Interrupt()])
    # A new process would build a new model: start from other weights, the backup must win.
    fresh = _model(K, optimizer)
    fresh.set_weights([w * 0 for w in fresh.get_weights()])
    history = fresh.fit(X, Y, batch_size=8, epochs=6, shuffle=False, verbose=0, callbacks=[backup]).history
    return fresh, history


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_backup_and_restore_resumes_as_keras_and_as_an_uninterrupted_fit(keras, tmp_path, optimizer):
    ours, our_hist = _interrupted_then_resumed(engine, tmp_path / "ours", optimizer)
    theirs, their_hist = _interrupted_then_resumed(keras, tmp_path / "keras", optimizer)
    assert len(our_hist["loss"]) == len(their_hist["loss"]) == 3  # epochs 3, 4, 5
    np.testing.assert_allclose(our_hist["loss"], their_hist["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    straight = _model(engine, optimizer)
    straight.fit(X, Y, batch_size=8, epochs=6, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), straight.get_weights()):  # the optimizer's state came back too
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not any((tmp_path / "ours").iterdir())  # deleted when fit finished


def test_backup_every_n_batches_and_a_damaged_latest_falls_back(tmp_path):
    model = _model(engine)
    backup = engine.callbacks.BackupAndRestore(tmp_path, save_freq=4, delete_checkpoint=False,
                                               double_checkpoint=True)
    model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[backup])
    assert (tmp_path / "latest.weights.h5").exists() and (tmp_path / "latest.weights.h5.bkp").exists()
    (tmp_path / "latest.weights.h5").write_bytes(b"not an hdf5 file")
    again = _model(engine)
    # The .bkp pair is the backup before the last one: 8 of the 12 batches, still in epoch 1 (epoch 0 done).
    history = again.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[backup]).history
    assert len(history["loss"]) == 2
    with pytest.raises(ValueError, match="save_freq"):
        engine.callbacks.BackupAndRestore(tmp_path, save_freq=0)
    (tmp_path / "latest.weights.h5").write_bytes(b"not an hdf5 file")
    for leftover in tmp_path.glob("*.bkp"):
        leftover.unlink()
    with pytest.raises(engine.saving.ModelFileError):  # no older backup to fall back to: say so
        _model(engine).fit(X, Y, epochs=1, verbose=0, callbacks=[backup])
    assert torch.is_tensor(again.get_layer("out").kernel)
