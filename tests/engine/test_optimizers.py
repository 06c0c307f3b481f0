"""Optimizers and schedules against real Keras 3: same weights, same gradients, same results."""
import math
import warnings

import numpy as np
import pytest
import torch

from engine import optimizers
from engine.optimizers import schedules

SHAPES = [(3, 4), (4,), (2, 2, 3)]
STEPS = 5


def _initial_weights():
    rng = np.random.default_rng(0)
    return [rng.normal(size=s).astype("float32") for s in SHAPES]


def _gradients():
    rng = np.random.default_rng(1)
    return [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(STEPS)]


def _engine_params(weights):
    return [torch.nn.Parameter(torch.tensor(w)) for w in weights]


def _keras_vars(keras, weights):
    return [keras.Variable(w, name=f"w{i}") for i, w in enumerate(weights)]


def _run_both(keras, engine_opt, keras_opt, grads=None, atol=1e-6, before_step=None):
    """Step both optimizers on the same gradients; compare weights after every step, then the state."""
    weights = _initial_weights()
    params = _engine_params(weights)
    kvars = _keras_vars(keras, weights)
    for step, step_grads in enumerate(grads or _gradients()):
        if before_step is not None:
            before_step(step, engine_opt, keras_opt)
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else torch.tensor(g)
        engine_opt.step(params)
        keras_grads = [None if g is None else keras.ops.convert_to_tensor(g) for g in step_grads]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keras_opt.apply_gradients(zip(keras_grads, kvars))
        for i, (p, kv) in enumerate(zip(params, kvars)):
            np.testing.assert_allclose(p.detach().numpy(), keras.ops.convert_to_numpy(kv.value), atol=atol,
                                       rtol=0, err_msg=f"weight {i} after step {step + 1}")
    assert engine_opt.iterations == int(keras.ops.convert_to_numpy(keras_opt.iterations))
    engine_state = engine_opt.get_state()
    keras_state = [keras.ops.convert_to_numpy(v.value) for v in keras_opt.variables]
    assert len(engine_state) == len(keras_state)
    for i, (a, b) in enumerate(zip(engine_state, keras_state)):
        assert a.shape == b.shape, f"state {i}: {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-5, err_msg=f"state variable {i}")
    return params


# (class name, constructor kwargs). Learning rates are large enough that a wrong rule shows.
CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True, "beta_2": 0.9}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("AdamW", {"learning_rate": 0.01}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.2}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "epsilon": 0.1}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.3}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 0.01}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-3}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.01, "beta_2": 0.5, "epsilon": 0.1}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.5, "epsilon": 0.1}),
    ("Adam", {"learning_rate": 0.01, "clipnorm": 1.0}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.5}),
    ("RMSprop", {"learning_rate": 0.01, "global_clipnorm": 1.0}),
    ("Adam", {"learning_rate": 0.01, "loss_scale_factor": 4.0}),
    ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "gradient_accumulation_steps": 2}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.7, "weight_decay": 0.1}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 0.1}),
    ("Adafactor", {"learning_rate": 0.1}),
    ("Adafactor", {"learning_rate": 0.05, "beta_2_decay": -0.5, "epsilon_2": 0.5, "clip_threshold": 0.5}),
    ("Adafactor", {"learning_rate": 0.5, "relative_step": False, "clipnorm": 1.0}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.3, "initial_accumulator_value": 0.5,
              "l1_regularization_strength": 0.05, "l2_regularization_strength": 0.1,
              "l2_shrinkage_regularization_strength": 0.2, "beta": 0.3}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_matches_keras(keras, name, kwargs):
    _run_both(keras, getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs))


FALLBACK_CASES = [case for case in CASES if case[0] in ("Adam", "AdamW", "RMSprop", "SGD", "Adamax", "Nadam",
                                                        "Adadelta", "Adagrad")][::2]


@pytest.mark.parametrize("name,kwargs", FALLBACK_CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in FALLBACK_CASES])
def test_generic_paths_match_keras(keras, name, kwargs):
    """The paths CPU does not take by default: Adam without the fused kernel, scalars as Python floats
    (what CUDA and MPS use)."""
    def generic(step, ours, theirs):
        if step == 1:
            ours._use_fused = False
            ours._cpu_scalars = False

    _run_both(keras, getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs),
              before_step=generic)


def test_nadam_large_steps(keras):
    # Nadam's running product is state: more steps show whether it is kept and saved like Keras's.
    grads = _gradients() * 3
    _run_both(keras, optimizers.Nadam(0.01), keras.optimizers.Nadam(0.01), grads=grads, atol=1e-5)


@pytest.mark.parametrize("schedule", [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[1, 3], values=[0.1, 0.05, 0.01])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=3, power=2.0)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=2, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5, staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=4, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=3, warmup_target=0.1, warmup_steps=2)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=2, m_mul=0.5)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=2, t_mul=1.0, alpha=0.2)),
], ids=lambda s: s[0])
def test_schedule_values_and_training_match_keras(keras, schedule):
    name, kwargs = schedule
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    for step in [0, 1, 2, 3, 5, 7, 10, 25]:
        expected = float(keras.ops.convert_to_numpy(theirs(step)))
        assert ours(step) == pytest.approx(expected, rel=1e-5, abs=1e-7), f"step {step}"
    assert ours.get_config() == theirs.get_config()
    np.testing.assert_allclose(ours(np.arange(4)), [ours(i) for i in range(4)])
    _run_both(keras, optimizers.SGD(learning_rate=ours, momentum=0.5),
              keras.optimizers.SGD(learning_rate=theirs, momentum=0.5))


def test_schedule_serialize_round_trip(keras):
    s = schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3)
    config = schedules.serialize(s)
    assert config == keras.optimizers.schedules.serialize(keras.optimizers.schedules.CosineDecay(
        0.1, 10, warmup_target=0.2, warmup_steps=3))
    back = schedules.deserialize(config)
    assert isinstance(back, schedules.CosineDecay) and back.get_config() == s.get_config()
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)


def test_schedule_optimizer_learning_rate(keras):
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5))
    params = _engine_params(_initial_weights())
    assert opt.learning_rate == pytest.approx(0.1)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step(params)
    opt.step(params)
    assert opt.learning_rate == pytest.approx(0.025)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5
    config = optimizers.serialize(opt)["config"]
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    assert "learning_rate" not in opt.variable_names
    back = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(back.get_config()["learning_rate"], dict)
    assert back.learning_rate == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
                                  "Lion", "Lamb", "Adafactor", "Ftrl"])
def test_config_matches_keras(keras, name):
    ours = getattr(optimizers, name)()
    theirs = getattr(keras.optimizers, name)()
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert list(ours_config) == list(theirs_config)
    assert ours_config["name"] == {"RMSprop": "rm_sprop", "AdamW": "adam_w"}.get(name, name.lower())
    for key, value in theirs_config.items():
        if key == "name":
            continue
        if isinstance(value, float):
            assert ours_config[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert ours_config[key] == value, key
    # Keras 3 reads what the engine writes, and the other way round.
    # (Keras 3.15's `deserialize` does not know its own Lamb: it returns the class name as a string.)
    if type(keras.optimizers.deserialize(keras.optimizers.serialize(theirs))).__name__ == name:
        restored = keras.optimizers.deserialize(optimizers.serialize(ours))
        assert type(restored).__name__ == name
        assert restored.get_config()["learning_rate"] == pytest.approx(ours.learning_rate)
    else:
        assert name == "Lamb"
    back = optimizers.deserialize(keras.optimizers.serialize(theirs))
    assert type(back) is type(ours)
    assert back.get_config()["learning_rate"] == pytest.approx(theirs_config["learning_rate"])


def test_default_names_and_learning_rates():
    assert optimizers.Adam().name == "adam"
    assert optimizers.Adam().name == "adam_1"
    assert optimizers.RMSprop().name == "rm_sprop"
    defaults = {"SGD": 0.01, "Adam": 1e-3, "AdamW": 1e-3, "RMSprop": 1e-3, "Adagrad": 1e-3, "Adadelta": 1e-3,
                "Adamax": 1e-3, "Nadam": 1e-3}
    for name, lr in defaults.items():
        assert getattr(optimizers, name)().learning_rate == lr
    assert optimizers.Adam().epsilon == 1e-7
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert optimizers.Adadelta().rho == 0.95


def test_get_resolves_names_dicts_classes_and_instances():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("adamw"), optimizers.AdamW)
    assert isinstance(optimizers.get(optimizers.Nadam), optimizers.Nadam)
    opt = optimizers.Adagrad(learning_rate=0.5)
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.3, "momentum": 0.2}})
    assert isinstance(from_dict, optimizers.SGD)
    assert from_dict.learning_rate == 0.3 and from_dict.momentum == 0.2


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'") as info:
        optimizers.get("adamm")
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"]:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="wraps other optimizers"):
        optimizers.get("MultiOptimizer")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(42)


def test_deserialize_never_imports_module(monkeypatch):
    import importlib

    def no_import(*args, **kwargs):
        raise AssertionError("deserialize imported a module")

    monkeypatch.setattr(importlib, "import_module", no_import)
    config = {"module": "os", "class_name": "Adam", "config": {"learning_rate": 0.5}, "registered_name": "x"}
    opt = optimizers.deserialize(config)
    assert isinstance(opt, optimizers.Adam) and opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.deserialize({"module": "os", "class_name": "system", "config": {}})


def test_serialize_format():
    opt = optimizers.SGD(learning_rate=0.5, momentum=0.25, name="my_sgd")
    out = optimizers.serialize(opt)
    assert out["module"] == "keras.optimizers" and out["class_name"] == "SGD" and out["registered_name"] is None
    assert out["config"]["name"] == "my_sgd" and out["config"]["momentum"] == 0.25
    again = optimizers.deserialize(out)
    assert again.get_config() == opt.get_config()


def test_keras2_config_keys_are_read():
    # tf.keras 2.11+ writes jit_compile/is_legacy_optimizer; older ones write decay.
    config = {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.002, "decay": 0.0,
                                               "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                                               "amsgrad": False, "jit_compile": True,
                                               "is_legacy_optimizer": False}}
    opt = optimizers.deserialize(config)
    assert opt.learning_rate == 0.002 and opt.decay == 0.0


def test_lr_alias_and_property():
    opt = optimizers.SGD(lr=0.5)
    assert opt.learning_rate == 0.5 and opt.lr == 0.5
    opt.lr = 0.25
    assert opt.learning_rate == 0.25
    assert optimizers.Adadelta(lr=1.0).learning_rate == 1.0
    assert optimizers.Adam(lr=1).learning_rate == 1.0


def test_keras2_time_based_decay():
    opt = optimizers.SGD(learning_rate=0.1, decay=0.5)
    p = torch.nn.Parameter(torch.zeros(3))
    expected = np.zeros(3)
    for t in range(4):
        g = np.array([1.0, -2.0, 0.5]) * (t + 1)
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step([p])
        expected -= 0.1 / (1 + 0.5 * t) * g
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-6)
    assert opt.learning_rate == 0.1  # the base rate, as Keras 2's `optimizer.lr`
    assert opt.get_config()["decay"] == 0.5
    assert "decay" not in optimizers.SGD().get_config()
    assert optimizers.SGD.from_config(opt.get_config()).decay == 0.5


def test_learning_rate_setter_matches_keras(keras):
    def set_lr(step, ours, theirs):
        if step == 2:
            ours.learning_rate = 0.001
            theirs.learning_rate = 0.001
        if step == 3:
            ours.learning_rate = np.float32(0.05)
            theirs.learning_rate = 0.05

    _run_both(keras, optimizers.Adam(0.01), keras.optimizers.Adam(0.01), before_step=set_lr)
    opt = optimizers.Adam()
    opt.learning_rate = 0.125
    assert opt.learning_rate == 0.125 and isinstance(opt.learning_rate, float)
    assert opt.get_config()["learning_rate"] == 0.125


def test_missing_gradients_are_skipped_like_keras(keras):
    grads = _gradients()
    for step_grads in grads[1:3]:
        step_grads[1] = None
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        _run_both(keras, optimizers.Adam(0.01), keras.optimizers.Adam(0.01), grads=grads)
    with pytest.warns(UserWarning):
        _run_both(keras, optimizers.RMSprop(0.01, momentum=0.5), keras.optimizers.RMSprop(0.01, momentum=0.5),
                  grads=grads)
    opt = optimizers.SGD()
    p = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="No gradients"):
        opt.step([p])


def test_apply_gradients_and_apply_share_the_step():
    weights = _initial_weights()
    grads = _gradients()
    a, b, c = (_engine_params(weights) for _ in range(3))
    opt_a, opt_b, opt_c = optimizers.Adam(0.01), optimizers.Adam(0.01), optimizers.Adam(0.01)
    for step_grads in grads:
        for p, g in zip(a, step_grads):
            p.grad = torch.tensor(g)
        opt_a.step(a)
        assert opt_b.apply_gradients(zip([torch.tensor(g) for g in step_grads], b)) == opt_b.iterations
        opt_c.apply([g for g in step_grads], c)  # numpy gradients are accepted
    for pa, pb, pc in zip(a, b, c):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
        torch.testing.assert_close(pa, pc, rtol=0, atol=0)
    assert opt_a.iterations == opt_b.iterations == STEPS
    with pytest.raises(ValueError, match="Unknown variable"):
        opt_a.apply_gradients([(torch.ones(2), torch.nn.Parameter(torch.zeros(2)))])


def test_apply_uses_constraints():
    p = torch.nn.Parameter(torch.zeros(3))
    p.constraint = lambda w: w.clamp(min=0.0)
    opt = optimizers.SGD(1.0)
    opt.apply([torch.tensor([1.0, -1.0, 2.0])], [p])
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 1.0, 0.0])


def test_state_resume_equals_uninterrupted_training():
    weights = _initial_weights()
    grads = _gradients()
    straight = _engine_params(weights)
    opt = optimizers.Nadam(0.01, global_clipnorm=2.0)
    for step_grads in grads:
        for p, g in zip(straight, step_grads):
            p.grad = torch.tensor(g)
        opt.step(straight)

    resumed = _engine_params(weights)
    first = optimizers.Nadam(0.01, global_clipnorm=2.0)
    for step_grads in grads[:2]:
        for p, g in zip(resumed, step_grads):
            p.grad = torch.tensor(g)
        first.step(resumed)
    state = first.get_state()
    assert state[0].dtype == np.int32 and state[1].dtype == np.float32
    second = optimizers.Nadam(0.01, global_clipnorm=2.0)
    with pytest.raises(ValueError, match="not built"):
        second.set_state(state)
    second.build(resumed)
    second.set_state(state)
    assert second.iterations == 2
    for step_grads in grads[2:]:
        for p, g in zip(resumed, step_grads):
            p.grad = torch.tensor(g)
        second.step(resumed)
    for a, b in zip(straight, resumed):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="shape"):
        second.set_state([s if i != 3 else np.zeros((7,), "float32") for i, s in enumerate(state)])


def test_state_from_keras_continues_like_keras(keras):
    weights = _initial_weights()
    grads = _gradients()
    kvars = _keras_vars(keras, weights)
    kopt = keras.optimizers.Adam(0.01, amsgrad=True)
    for step_grads in grads[:3]:
        kopt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in step_grads], kvars))
    params = [torch.nn.Parameter(torch.tensor(keras.ops.convert_to_numpy(v.value))) for v in kvars]
    opt = optimizers.Adam(0.01, amsgrad=True)
    opt.build(params)
    store = {}
    kopt.save_own_variables(store)
    opt.load_own_variables(store)
    assert opt.iterations == 3
    for step_grads in grads[3:]:
        kopt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in step_grads], kvars))
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g)
        opt.step(params)
    for p, kv in zip(params, kvars):
        np.testing.assert_allclose(p.detach().numpy(), keras.ops.convert_to_numpy(kv.value), atol=1e-6)


def test_exclude_from_weight_decay():
    a = torch.nn.Parameter(torch.ones(2))
    b = torch.nn.Parameter(torch.ones(2))
    b.keras_name = "bias"
    c = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD(learning_rate=0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_list=[a], var_names=["bias"])
    for p in (a, b, c):
        p.grad = torch.zeros(2)
    opt.step([a, b, c])
    np.testing.assert_allclose(a.detach().numpy(), [1.0, 1.0])
    np.testing.assert_allclose(b.detach().numpy(), [1.0, 1.0])
    np.testing.assert_allclose(c.detach().numpy(), [0.95, 0.95])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["x"])


def test_subset_of_params_updates_only_those():
    params = _engine_params(_initial_weights())
    before = [p.detach().clone() for p in params]
    opt = optimizers.Adam(0.1)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step(params)
    opt.step([params[2], params[0]])  # a subset, in another order
    after_two = [p.detach().clone() for p in params]
    assert not torch.equal(after_two[0], before[0])
    reference = optimizers.Adam(0.1)
    ref = _engine_params(_initial_weights())
    for p in ref:
        p.grad = torch.ones_like(p)
    reference.step(ref)
    torch.testing.assert_close(after_two[1], ref[1].detach())  # untouched by the second step
    assert not torch.equal(after_two[2], ref[2].detach())


@pytest.mark.parametrize("kwargs,match", [
    (dict(clipnorm=1.0, clipvalue=1.0), "Only one of"),
    (dict(clipnorm=-1.0), "Received: clipnorm=-1.0"),
    (dict(learning_rate="fast"), "learning_rate"),
    (dict(momentum=1.5), "Received: momentum=1.5"),
    (dict(gradient_accumulation_steps=1), "gradient_accumulation_steps"),
    (dict(foo=1), "not recognized"),
])
def test_argument_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimizers.SGD(**kwargs)


def test_unsupported_and_required_arguments():
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):  # use_ema works: tests/engine/test_ema.py
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=1.5)
    with pytest.raises(ValueError, match="weight_decay=None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Adam(beta_1=2.0)


def test_float64_weights_and_callable_learning_rate():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = optimizers.RMSprop(learning_rate=lambda: 0.01)
    p.grad = torch.full((3,), 2.0, dtype=torch.float64)
    opt.step([p])
    expected = 1.0 - 0.01 * 2.0 / math.sqrt(0.1 * 4.0 + 1e-7)
    np.testing.assert_allclose(p.detach().numpy(), [expected] * 3, rtol=1e-12)
    assert opt.get_state()[-1].dtype == np.float64
    assert opt.learning_rate == 0.01


def test_keras_style_custom_optimizer():
    class MomentumSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, momentum=0.5, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.momentum = momentum

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self.velocities = self.add_optimizer_variables(var_list, "velocity")

        def update_step(self, gradient, variable, learning_rate):
            v = self.velocities[self._get_variable_index(variable)]
            self.assign(v, v * self.momentum - gradient * learning_rate)
            self.assign_add(variable, v)

    weights = _initial_weights()
    ours, ref = _engine_params(weights), _engine_params(weights)
    custom, builtin = MomentumSGD(), optimizers.SGD(0.1, momentum=0.5)
    for step_grads in _gradients():
        for a, b, g in zip(ours, ref, step_grads):
            a.grad, b.grad = torch.tensor(g), torch.tensor(g)
        custom.step(ours)
        builtin.step(ref)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)
    assert custom.name == "momentum_sgd"
    assert len(custom.get_state()) == 2 + len(SHAPES)

    class Halved(optimizers.SGD):
        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, gradient * learning_rate * 0.5)

    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.ones(2)
    Halved(learning_rate=1.0).step([p])
    np.testing.assert_allclose(p.detach().numpy(), [-0.5, -0.5])


@pytest.mark.parametrize("name", ["lion", "lamb", "adafactor", "ftrl"])
def test_new_optimizers_by_name_and_in_keras_files(keras, tmp_path, name):
    """`compile(optimizer="lion")` works, and a .keras file Keras trained with one loads with its state."""
    import engine

    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    # Keras 3.15's own `compile(optimizer="lamb")` fails (its `get` does not know Lamb): an instance there.
    kmodel.compile(optimizer=keras.optimizers.Lamb() if name == "lamb" else name, loss="mse")
    kmodel.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    kmodel.save(path)
    emodel = engine.models.load_model(path)
    assert type(emodel.optimizer).__name__ == type(kmodel.optimizer).__name__
    assert emodel.optimizer.iterations == 2
    kvars = [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in kmodel.optimizer.variables]
    evars = emodel.optimizer.get_state()
    assert len(kvars) == len(evars)
    for a, b in zip(kvars, evars):
        np.testing.assert_allclose(b, a, atol=1e-7)
    # Both continue training the same way.
    kmodel.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(kmodel.get_weights(), emodel.get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-5)
    fresh = engine.Sequential([engine.Input((3,)), engine.layers.Dense(2)])
    fresh.compile(optimizer=name, loss="mse")
    assert type(fresh.optimizer).__name__ == type(kmodel.optimizer).__name__
    fresh.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert fresh.optimizer.iterations == 2


def test_multi_optimizer_writes_a_users_function_mapping_by_name():
    # engine.saving hands its serializer to the optimizers when it loads (no import inside get_config)
    from engine.optimizers.multi_optimizer import MultiOptimizer

    def route(variable):
        return None

    config = MultiOptimizer(route).get_config()
    from engine.saving import serialize_keras_object

    assert config["optimizer_map"] == serialize_keras_object(route)
    assert config["optimizer_map"]["config"] == "route"
