"""The optimizer's public view of its rate (what the app and the exported training script read instead
of private attributes): the schedule, the rate of any step, and a rate frozen for writing a file."""
import numpy as np
import torch

import engine
from engine import optimizers
from engine.optimizers import schedules


class _AppSchedule(schedules.LearningRateSchedule):
    """Registered nowhere: Keras (and a loader without this code) cannot rebuild it."""

    def __call__(self, step):
        return 0.1 / (1.0 + float(step))

    def get_config(self):
        return {}


def _stepped(opt, steps):
    w = torch.nn.Parameter(torch.ones(3))
    for _ in range(steps):
        w.grad = torch.ones(3)
        opt.apply([w.grad], [w])
    return opt


def test_schedule_and_rate_of_each_step():
    sched = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = _stepped(optimizers.SGD(learning_rate=sched), 3)
    assert opt.learning_rate_schedule is sched and opt.iterations == 3
    assert [opt.learning_rate_at(k) for k in range(4)] == [float(sched(k)) for k in range(4)]
    assert opt.learning_rate == opt.learning_rate_at(3)
    const = optimizers.SGD(learning_rate=0.01)
    assert const.learning_rate_schedule is None and const.learning_rate_at(7) == 0.01


def test_frozen_rate_writes_a_file_keras_loads(keras, tmp_path):
    model = engine.Sequential([engine.Input((3,)), engine.layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(learning_rate=_AppSchedule()), loss="mse")
    model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), batch_size=4, epochs=1, verbose=0)
    opt = model.optimizer
    with opt.frozen_learning_rate():
        assert opt.learning_rate_schedule is None
        assert opt.get_config()["learning_rate"] == np.float32(0.1 / 2.0)  # the rate of the last step (1)
        model.save(tmp_path / "m.keras")
    assert isinstance(opt.learning_rate_schedule, _AppSchedule)  # back after the block
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert np.isclose(float(loaded.optimizer.learning_rate), 0.05)
