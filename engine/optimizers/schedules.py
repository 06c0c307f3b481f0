"""Learning rate schedules with Keras 3's names, formulas and configs (``engine.optimizers.schedules``).

A schedule is called with the optimizer's step count and returns the learning rate as a Python float.
The built-in ones also accept an array of steps (for plotting) and return a numpy array.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "OneCycle", "serialize", "deserialize"]


class LearningRateSchedule:
    """Base class: a serializable map from the step count to a learning rate.

    Subclasses implement `__call__(self, step)` and `get_config(self)`.
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override `get_config()` "
                                  "in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        """Instantiate a schedule from the output of `get_config()`."""
        return cls(**config)


def _check_positive_steps(value, arg_name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value <= 0:
        raise ValueError(f"Argument `{arg_name}` must be > 0. Received: {arg_name}={value!r}")


class _BuiltinSchedule(LearningRateSchedule):
    """Converts the step to a float and maps over arrays; subclasses implement `_value(step: float)`."""

    def __call__(self, step):
        if isinstance(step, torch.Tensor):
            step = step.detach().cpu().numpy()
        if isinstance(step, (int, float)):
            return self._value(float(step))
        arr = np.asarray(step)
        if arr.ndim == 0:
            return self._value(float(arr))
        return np.array([self._value(float(s)) for s in arr.ravel()], dtype=np.float64).reshape(arr.shape)

    def _value(self, step):
        raise NotImplementedError


class ExponentialDecay(_BuiltinSchedule):
    """Exponential decay: `initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Int > 0, the number of steps per factor of `decay_rate`.
        decay_rate: Float, the decay factor.
        staircase: Bool. If `True`, `step / decay_steps` is floored (the rate changes in steps).
        name: String, defaults to `"ExponentialDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        super().__init__()
        _check_positive_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _value(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) * math.pow(self.decay_rate, p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(_BuiltinSchedule):
    """A constant rate per interval of steps.

    `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`,
    and `values[-1]` after the last boundary.

    Args:
        boundaries: List of step counts, increasing.
        values: List of rates, one more than `boundaries`.
        name: String, defaults to `"PiecewiseConstant"`.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        super().__init__()
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def _value(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(_BuiltinSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate` over `decay_steps`.

    `(initial - end) * (1 - step / decay_steps) ** power + end`, with `step` capped at `decay_steps`,
    or, when `cycle=True`, `decay_steps` stretched to the next multiple above `step`.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Int > 0.
        end_learning_rate: Float, defaults to `0.0001`.
        power: Float, defaults to `1.0` (linear).
        cycle: Bool, whether to restart the decay after `decay_steps`.
        name: String, defaults to `"PolynomialDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        super().__init__()
        _check_positive_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def _value(self, step):
        decay_steps = float(self.decay_steps)
        if self.cycle:
            multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        initial, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (initial - end) * math.pow(1.0 - p, self.power) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(_BuiltinSchedule):
    """Inverse time decay: `initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Int > 0.
        decay_rate: Float.
        staircase: Bool. If `True`, `step / decay_steps` is floored.
        name: String, defaults to `"InverseTimeDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        super().__init__()
        _check_positive_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _value(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) / (1.0 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecay(_BuiltinSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup, as Keras 3.

    Without warmup: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)`.
    With `warmup_target`: the rate goes linearly from `initial_learning_rate` to `warmup_target` over
    `warmup_steps`, then decays from `warmup_target` over `decay_steps`.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Int > 0, the length of the decay.
        alpha: Float, the final rate as a fraction of the rate the decay starts from. Defaults to `0.0`.
        name: String, defaults to `"CosineDecay"`.
        warmup_target: Float or `None` (no warmup), the rate reached at the end of the warmup.
        warmup_steps: Int, the length of the warmup. Defaults to `0`.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        super().__init__()
        _check_positive_steps(decay_steps, "decay_steps")
        if warmup_steps < 0:
            raise ValueError(f"Argument `warmup_steps` must be >= 0. Received: warmup_steps={warmup_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def _value(self, step):
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(step, float(self.decay_steps)), initial)
        warmup_steps = float(self.warmup_steps)
        target = float(self.warmup_target)
        step = min(step, self.decay_steps + warmup_steps)
        if step < warmup_steps:
            return (target - initial) * (step / warmup_steps) + initial
        return self._decay(step - warmup_steps, target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(_BuiltinSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Each period is `t_mul` times longer than the previous one and starts from `m_mul` times its rate.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        first_decay_steps: Int > 0, the length of the first period.
        t_mul: Float, the period length factor. Defaults to `2.0`.
        m_mul: Float, the restart rate factor. Defaults to `1.0`.
        alpha: Float, the minimum rate as a fraction of `initial_learning_rate`. Defaults to `0.0`.
        name: String, defaults to `"SGDRDecay"`.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        super().__init__()
        _check_positive_steps(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _value(self, step):
        fraction = step / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - t_mul ** i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul ** i_restart
        m_fac = float(self._m_mul) ** i_restart
        cosine = 0.5 * m_fac * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate) * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


class OneCycle(_BuiltinSchedule):
    """The one-cycle schedule (Smith & Topin, 2018): warm up from ``max_lr / div_factor`` to ``max_lr``,
    then anneal to a tiny rate, both on cosines. Not in Keras: the engine's own, registered by name.

    The same curve as ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults (cosine annealing,
    two phases): the rise ends at step ``pct_start * total_steps - 1``, the fall at ``total_steps - 1``
    at ``max_lr / (div_factor * final_div_factor)``; later steps keep that last rate. visualkeras-app's
    one-click training and its exported training scripts use it.

    Args:
        max_lr: Float > 0, the peak learning rate.
        total_steps: Int > 0, the number of optimizer steps of the whole run (epochs x batches).
        pct_start: Float in (0, 1), the fraction of the steps spent rising.
        div_factor: Float > 0, the initial rate is ``max_lr / div_factor``.
        final_div_factor: Float > 0, the final rate is the initial rate / ``final_div_factor``.
        name: String, defaults to "OneCycle".
    """

    def __init__(self, max_lr, total_steps, pct_start=0.25, div_factor=25.0, final_div_factor=1e4,
                 name="OneCycle"):
        if isinstance(max_lr, bool) or not isinstance(max_lr, (int, float)) or not max_lr > 0:
            raise ValueError(f"max_lr must be a number > 0. Received: max_lr={max_lr!r}")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"total_steps must be an integer >= 1 (epochs x batches per epoch). "
                             f"Received: total_steps={total_steps!r}")
        if not 0 < pct_start < 1:
            raise ValueError(f"pct_start must be in (0, 1). Received: pct_start={pct_start!r}")
        if not div_factor > 0 or not final_div_factor > 0:
            raise ValueError(f"div_factor and final_div_factor must be > 0. Received: div_factor={div_factor!r}, "
                             f"final_div_factor={final_div_factor!r}")
        self.max_lr = float(max_lr)
        self.total_steps = int(total_steps)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.name = name
        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor
        self._rise_end = float(self.pct_start * self.total_steps) - 1
        self._fall_end = float(self.total_steps - 1)

    @staticmethod
    def _cos(start, end, pct):
        return end + (start - end) / 2.0 * (1.0 + math.cos(math.pi * pct))

    def _value(self, step):
        if step <= self._rise_end:
            pct = step / self._rise_end if self._rise_end > 0 else 1.0
            return self._cos(self.initial_lr, self.max_lr, pct)
        span = self._fall_end - self._rise_end
        pct = min((step - self._rise_end) / span, 1.0) if span > 0 else 1.0
        return self._cos(self.max_lr, self.min_lr, pct)

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                             InverseTimeDecay, CosineDecay, CosineDecayRestarts)}
# The engine's own schedules, known by name like Keras's (files record them under the engine's module).
_ENGINE_SCHEDULES = {"OneCycle": OneCycle}
_SCHEDULES.update(_ENGINE_SCHEDULES)


def serialize(learning_rate_schedule):
    """The schedule as Keras 3 writes it: `{"module", "class_name", "config", "registered_name"}`."""
    name = type(learning_rate_schedule).__name__
    module = "engine.optimizers.schedules" if _ENGINE_SCHEDULES.get(name) is type(learning_rate_schedule) \
        else "keras.optimizers.schedules"
    return {"module": module, "class_name": name, "config": learning_rate_schedule.get_config(),
            "registered_name": None}


def deserialize(config, custom_objects=None):
    """Rebuild a schedule from `serialize` output, found by `class_name` only (never by `module`).

    Args:
        config: A dict with `class_name` and `config` (Keras 3 or tf.keras 2 form).
        custom_objects: Optional dict mapping class names to your own schedule classes.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}. "
                         "Expected a dict with 'class_name' and 'config'.")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _SCHEDULES.get(name)
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule: {name!r}. Valid names: {sorted(_SCHEDULES)}. "
                         "Pass your own class with `custom_objects={name: cls}`.")
    return cls.from_config(dict(config.get("config") or {}))
