"""OneCycle (engine.optimizers.schedules) follows torch's OneCycleLR (cosine, two phases) step for step, drives engine
optimizers, and is known by name to the schedule deserializer."""
import numpy as np
import pytest
import torch

from engine.optimizers.schedules import OneCycle


@pytest.mark.parametrize("total,pct", [(100, 0.25), (37, 0.3), (938, 0.25)])
def test_matches_torch_one_cycle(total, pct):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=total, pct_start=pct,
                                              cycle_momentum=False, div_factor=25, final_div_factor=1e4)
    sched = OneCycle(0.01, total, pct_start=pct)
    for step in range(total):
        assert sched(step) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-15), step
        opt.step()
        ref.step()
    assert sched(total + 5) == pytest.approx(0.01 / 25 / 1e4)


def test_shape_and_config():
    s = OneCycle(1e-3, 100)
    lrs = np.array([s(i) for i in range(100)])
    assert lrs.argmax() == 24 and lrs.max() == pytest.approx(1e-3)
    assert lrs[0] == pytest.approx(4e-5) and np.all(np.diff(lrs[:25]) > 0) and np.all(np.diff(lrs[25:]) < 0)
    assert OneCycle.from_config(s.get_config()).get_config() == s.get_config()


def test_engine_optimizer_uses_it_per_step():
    import engine

    s = OneCycle(1e-2, 10)
    opt = engine.optimizers.SGD(learning_rate=s)
    w = torch.nn.Parameter(torch.zeros(1))
    for step in range(3):
        w.grad = torch.ones(1)
        opt.step([w])
    assert float(w.detach()) == pytest.approx(-(s(0) + s(1) + s(2)), rel=1e-6)


@pytest.mark.parametrize("kwargs,match", [(dict(max_lr=0, total_steps=10), "max_lr=0"),
                                          (dict(max_lr=1e-3, total_steps=0), "total_steps=0"),
                                          (dict(max_lr=1e-3, total_steps=10, pct_start=1.0), "pct_start=1.0")])
def test_bad_arguments_say_what_was_received(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OneCycle(**kwargs)


def test_registered_by_name_and_serialized_under_the_engine_module():
    from engine.optimizers import schedules

    s = OneCycle(3e-3, 50, pct_start=0.3)
    d = schedules.serialize(s)
    assert d["class_name"] == "OneCycle" and d["module"] == "engine.optimizers.schedules"
    back = schedules.deserialize(d)
    assert type(back) is OneCycle and back.get_config() == s.get_config()
    assert schedules.serialize(schedules.CosineDecay(0.1, 10))["module"] == "keras.optimizers.schedules"
    steps = np.arange(50)
    assert np.allclose(s(steps), [s(int(i)) for i in steps])  # arrays of steps, as the built-in schedules
