"""Adagrad, as Keras 3's ``Adagrad`` (accumulator starts at 0.1, epsilon inside the square root)."""
from __future__ import annotations

import math

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range, _epsilon


class Adagrad(Optimizer):
    """Adagrad: per-weight rates scaled by the sum of all past squared gradients.

    Keras's form: `acc = acc + g**2`, `w = w - learning_rate * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        initial_accumulator_value: Float >= 0, the starting value of the accumulators. Defaults to `0.1`.
        epsilon: Float, added inside the square root. Defaults to `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, lr, decay:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.initial_accumulator_value = _check_range(initial_accumulator_value, "initial_accumulator_value",
                                                      0.0, math.inf)
        self.epsilon = _epsilon(epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(var_list, "accumulator",
                                                          initializer=self.initial_accumulator_value)

    def _update_all(self, grads, variables, idx, lr):
        acc = self._pick(self._accumulators, idx)
        torch._foreach_addcmul_(acc, grads, grads)
        denom = self._foreach_add_scalar(acc, self.epsilon)
        torch._foreach_sqrt_(denom)
        torch._foreach_addcdiv_(variables, grads, denom, value=-lr)

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config
