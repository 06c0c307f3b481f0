"""engine.utils: to_categorical, normalize, PyDataset/Sequence, Progbar (against Keras), set_random_seed."""
import math
import re
import time

import numpy as np
import pytest
import torch

from engine import utils
from engine.utils import Progbar, PyDataset, Sequence, normalize, to_categorical


class FakeClock:
    """A time.time() that advances by a fixed step on every call, so two bars see the same times."""

    def __init__(self, step):
        self.now = 1000.0
        self.step = step

    def __call__(self):
        self.now += self.step
        return self.now


# ------------------------------------------------------------------------------------------
# to_categorical / normalize


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 1, 2, 3], 4),
    ([3, 1, 0], None),
    (np.array([[1], [0], [2]]), None),           # (N, 1) labels lose the trailing axis
    (np.array([[1, 2], [0, 3]]), 5),             # 2-D labels keep their shape
    (np.array([5, 0, 4, 1, 9], dtype=np.uint8), 10),
])
def test_to_categorical_matches_keras(keras, labels, num_classes):
    ours = to_categorical(labels, num_classes)
    ref = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == np.float32


def test_to_categorical_n1_shape_and_dtype_arg():
    y = np.array([[2], [0]])
    out = to_categorical(y, 3)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    assert to_categorical([1], 2, dtype="float64").dtype == np.float64


def test_to_categorical_torch_tensor():
    out = to_categorical(torch.tensor([[1], [0]]), 3)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.tolist() == [[0, 1, 0], [1, 0, 0]]


@pytest.mark.parametrize("labels, num_classes, match", [
    ([0, 3], 3, "num_classes"),
    ([-1, 0], 3, r"\[0, 2\]"),
    ([0.5, 1.0], None, "fractional"),
    ([0], 0, "positive"),
])
def test_to_categorical_errors(labels, num_classes, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(labels, num_classes)


def test_normalize_matches_keras(keras):
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]], dtype=np.float32)
    for axis, order in [(-1, 2), (1, 2), (-1, 1)]:
        np.testing.assert_allclose(normalize(x, axis, order), keras.utils.normalize(x, axis, order), rtol=1e-6)
    # Keras 3.15 turns axis=0 into -1 (`axis or -1`) and fails; ours normalizes the columns.
    np.testing.assert_allclose(normalize(x, axis=0), x / np.linalg.norm(x, axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0, 0], [2 ** -0.5, -(2 ** -0.5)]], rtol=1e-6)
    t = torch.tensor(x)
    ref = keras.utils.normalize(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(normalize(t).numpy(), np.asarray(ref.cpu()), rtol=1e-6)


# ------------------------------------------------------------------------------------------
# PyDataset / Sequence


class Batches(PyDataset):
    def __init__(self, n, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.n, self.batch_size, self.epochs_ended = n, batch_size, 0

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, idx):
        lo = idx * self.batch_size
        return np.arange(lo, min(lo + self.batch_size, self.n))

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_pydataset_iteration_and_aliases():
    assert Sequence is PyDataset
    ds = Batches(7, 3, workers=2)
    assert len(ds) == ds.num_batches == 3
    assert [b.tolist() for b in ds] == [[0, 1, 2], [3, 4, 5], [6]]
    assert ds.workers == 2 and ds.use_multiprocessing is False and ds.max_queue_size == 10
    ds.on_epoch_end()
    assert ds.epochs_ended == 1
    with pytest.raises(ValueError, match="workers"):
        Batches(3, 1, workers=0)


def test_keras2_sequence_without_super_init_warns():
    class Old(Sequence):
        def __init__(self):
            self.x = [1, 2]

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return self.x[i]

    ds = Old()
    with pytest.warns(UserWarning, match="super"):
        assert ds.workers == 1
    assert list(ds) == [1, 2]
    with pytest.raises(NotImplementedError):
        PyDataset()[0]


# ------------------------------------------------------------------------------------------
# Progbar: byte-for-byte the same as Keras's, given the same clock


def _run_bar(cls, monkeypatch, capsys, step_time, target, verbose, updates, **kwargs):
    monkeypatch.setattr(time, "time", FakeClock(step_time))
    bar = cls(target, verbose=verbose, **kwargs)
    for args in updates:
        bar.update(*args[:2], **(args[2] if len(args) > 2 else {}))
    monkeypatch.undo()
    return capsys.readouterr().out


def _updates(n, finalize_last=False):
    ups = [(i, [("loss", 1.0 / i), ("accuracy", 0.5 + i / 100.0)]) for i in range(1, n + 1)]
    if finalize_last:
        ups.append((n, [("loss", 0.25), ("accuracy", 0.9)], {"finalize": True}))
    return ups


@pytest.mark.parametrize("step_time, target, verbose, n, kwargs", [
    (0.1, 5, 1, 5, {}),                                   # every update drawn
    (0.01, 40, 1, 40, {}),                                # throttled by interval=0.05
    (0.3, 469, 1, 12, {"stateful_metrics": ["accuracy"]}),
    (2.0, 3, 1, 3, {"unit_name": "sample"}),              # seconds per unit, ETA formats
    (0.1, 5, 2, 5, {}),                                   # verbose=2: one line at the end
    (0.1, None, 1, 6, {}),                                # unknown target
    (0.0001, 1000, 1, 7, {"interval": 0}),                # microseconds per step
    (40.0, 200, 1, 3, {}),                                # ETA in h:mm:ss and m:ss
])
def test_progbar_output_matches_keras(keras, monkeypatch, capsys, step_time, target, verbose, n, kwargs):
    from keras.src.utils.progbar import Progbar as KerasProgbar

    finalize = target is None
    ups = _updates(n, finalize_last=finalize)
    ref = _run_bar(KerasProgbar, monkeypatch, capsys, step_time, target, verbose, ups, **kwargs)
    ours = _run_bar(Progbar, monkeypatch, capsys, step_time, target, verbose, ups, **kwargs)
    assert ref  # the scenario prints something
    assert ours == ref


def test_progbar_final_line_format(monkeypatch, capsys):
    clock = FakeClock(0.0)
    monkeypatch.setattr(time, "time", clock)
    bar = Progbar(469)
    clock.step = 0.0107
    for i in range(1, 470):
        bar.update(i, [("accuracy", 0.9012), ("loss", 0.3210)])
    out = capsys.readouterr().out
    last = re.sub(r"\x1b\[[0-9;]*m", "", out.split("\r")[-1])
    assert last == "469/469 " + "\u2501" * 20 + " 5s 11ms/step - accuracy: 0.9012 - loss: 0.3210\n"
    # Throttling: far fewer redraws than updates (the clock moves 10.7 ms per call).
    assert 50 < out.count("\r") < 250


def test_progbar_verbose0_and_add(capsys):
    bar = Progbar(3, verbose=0)
    bar.add(1, [("loss", 1.0)])
    bar.add(2, [("loss", 2.0)])
    assert bar._seen_so_far == 3
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="stateful_metrics"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_progbar_file_argument(capsys):
    import io

    buf = io.StringIO()
    Progbar(2, verbose=2, file=buf).update(2, [("loss", 0.5)])
    assert capsys.readouterr().out == ""
    assert re.fullmatch(r"2/2 - \d+s - \d+\w*s/step - loss: 0\.5000\n", buf.getvalue())


def test_interactive_logging_off_goes_to_logger(caplog, capsys):
    utils.disable_interactive_logging()
    try:
        with caplog.at_level("INFO", logger="engine"):
            utils.io_utils.print_msg("hello")
    finally:
        utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert "hello" in caplog.text


# ------------------------------------------------------------------------------------------
# set_random_seed


def test_set_random_seed_repeats_all_generators():
    import random

    utils.set_random_seed(7)
    a = (random.random(), np.random.rand(), torch.rand(2).tolist())
    utils.set_random_seed(7)
    b = (random.random(), np.random.rand(), torch.rand(2).tolist())
    assert a == b
    with pytest.raises(ValueError, match="seed"):
        utils.set_random_seed(-1)


def test_exports():
    for name in ["to_categorical", "normalize", "Sequence", "PyDataset", "Progbar", "set_random_seed"]:
        assert hasattr(utils, name), name
