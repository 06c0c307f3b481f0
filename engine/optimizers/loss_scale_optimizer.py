"""LossScaleOptimizer, as Keras 3's: dynamic loss scaling around another optimizer (for float16 training)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer, _ScalarState, _to_numpy
from engine.optimizers.serialization import deserialize, serialize


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around ``inner_optimizer``: the loss is multiplied by a scale before the
    gradients are computed (``scale_loss``, which ``fit`` calls) and the gradients divided by it before
    the inner optimizer's step. A step whose gradients hold inf or NaN is skipped and halves the scale;
    ``dynamic_growth_steps`` finite steps in a row double it. Keeps small float16 gradients from
    underflowing.

    Args:
        inner_optimizer: the optimizer that updates the weights.
        initial_scale: the first scale (``2 ** 15``).
        dynamic_growth_steps: finite steps before the scale doubles (2000).
        name: the optimizer's name.
    """

    _BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                      "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                      "loss_scale_factor": None, "gradient_accumulation_steps": None}

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                             "`loss_scale_factor` directly on the `inner_optimizer`.")
        for arg, default in self._BASE_DEFAULTS.items():  # old configs wrote them with their defaults
            if arg in kwargs:
                value = kwargs.pop(arg)
                if value != default:
                    raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the "
                                     "`inner_optimizer`.")
        kwargs.pop("learning_rate", None)
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError("LossScaleOptimizer wraps an engine optimizer, e.g. "
                             f"LossScaleOptimizer(engine.optimizers.Adam()). Received: {inner_optimizer!r}")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None  # the gradients are unscaled here, once
        self.step_counter = 0
        self.dynamic_scale = float(initial_scale)

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        self.step_counter = 0
        self.dynamic_scale = float(self.initial_scale)
        self._add_scalar_variable("step_counter", "int32", "step_counter")
        self._add_scalar_variable("dynamic_scale", "float32", "dynamic_scale")
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    # The rate and the step count are the inner optimizer's, as in Keras.
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    @property
    def learning_rate_schedule(self):
        return self.inner_optimizer.learning_rate_schedule

    def learning_rate_at(self, step):
        return self.inner_optimizer.learning_rate_at(step)

    def frozen_learning_rate(self):
        return self.inner_optimizer.frozen_learning_rate()

    def scale_loss(self, loss):
        return loss * (self.dynamic_scale if self.built else self.initial_scale)

    def _apply(self, grads, variables):
        if not grads:
            return
        if not self.built:
            self.build(variables)
        present = [g for g in grads if g is not None]
        finite = bool(torch.stack([torch.isfinite(g).all() for g in present]).all()) if present else True
        if not finite:
            self.step_counter = 0
            self.dynamic_scale *= 0.5
            return
        scale = self.dynamic_scale
        self.inner_optimizer._apply([None if g is None else g / scale for g in grads], variables)
        if self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter = 0
            self.dynamic_scale *= 2.0
        else:
            self.step_counter += 1

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    # State: its own (iteration, learning_rate, step_counter, dynamic_scale), then the inner optimizer's.
    @property
    def variable_names(self):
        return super().variable_names + self.inner_optimizer.variable_names

    def get_state(self):
        return super().get_state() + self.inner_optimizer.get_state()

    def set_state(self, values):
        values = list(values)
        own = 2 + len(self._variables)
        if len(values) != own + len(self.inner_optimizer.get_state()):
            hint = "" if self.built else " Build the optimizer first (optimizer.build(model.trainable_weights))."
            raise ValueError(f"Optimizer {self.name!r} has {own + len(self.inner_optimizer.get_state())} variables "
                             f"but received {len(values)} values.{hint}")
        head = [_to_numpy(v) for v in values[:own]]
        self._iterations = int(head[0])
        for state, value in zip(self._variables, head[2:]):
            if isinstance(state, _ScalarState):
                setattr(self, state.attr, int(value) if state.dtype.startswith("int") else float(value))
        self.inner_optimizer.set_state(values[own:])

    def get_config(self):
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = config.pop("inner_optimizer")
        inner = inner if isinstance(inner, Optimizer) else deserialize(inner, custom_objects=custom_objects)
        return cls(inner, **config)

    def __repr__(self):
        return f"<LossScaleOptimizer name={self.name!r} inner={self.inner_optimizer!r} scale={self.dynamic_scale:g}>"


