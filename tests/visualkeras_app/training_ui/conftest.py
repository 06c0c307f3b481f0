"""Fixtures for the training panel: real MNIST (the copy shipped in the package), sliced small so each run takes a
second or two on a shared 2-core CPU, and tiny models."""
import dataclasses

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

TEST_SAMPLES = 300  # test images the runs evaluate on (the full 10,000 would take seconds per run)


@pytest.fixture(autouse=True)
def _offline_data(monkeypatch):
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")


@pytest.fixture(scope="session")
def mnist_full():
    pytest.importorskip("visualkeras_app.training.data")
    from visualkeras_app.training_ui.worker import cached_dataset

    return cached_dataset("mnist")


@pytest.fixture
def small_mnist(mnist_full, monkeypatch):
    """MNIST with 2,000 training and TEST_SAMPLES test images; every load of "mnist" in the worker gets it."""
    ds = dataclasses.replace(mnist_full, x_train=mnist_full.x_train[:2000], y_train=mnist_full.y_train[:2000],
                             x_test=mnist_full.x_test[:TEST_SAMPLES], y_test=mnist_full.y_test[:TEST_SAMPLES])
    from visualkeras_app.training_ui import worker

    real = worker.cached_dataset
    monkeypatch.setattr(worker, "cached_dataset", lambda name: ds if name == "mnist" else real(name))
    return ds


def tiny_cnn(input_shape=(28, 28, 1), classes=10):
    import engine
    from engine import layers

    return engine.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.Flatten(),
        layers.Dense(classes, activation="softmax"),
    ])


def settings(**kw):
    from visualkeras_app.training.settings import TrainSettings

    base = dict(dataset="mnist", epochs=1, batch_size=32, max_train_samples=320, validation_split=0.1,
                learning_rate=3e-3)
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture
def main_window(qtbot, tmp_path, monkeypatch, small_mnist):
    """The real main window, shown at 1300x850 with its docks built, on the small MNIST; settings and the
    recovery folder in ``tmp_path``; "discard changes?" answered Discard and error boxes dismissed."""
    pytest.importorskip("visualkeras_app.training.session")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from visualkeras_app.mainwindow import MainWindow

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: QMessageBox.Ok)
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    win.start()
    assert win.training.panel is not None
    yield win
    win.training.shutdown(5000)
