"""Stochastic gradient descent with optional (Nesterov) momentum, as Keras 3's ``SGD``."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range


class SGD(Optimizer):
    """Gradient descent (with momentum).

    Without momentum: `w = w - learning_rate * g`. With momentum (Keras's form):
    `velocity = momentum * velocity - learning_rate * g`, then `w = w + velocity`, or with
    `nesterov=True`: `w = w + momentum * velocity - learning_rate * g`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.01`.
        momentum: Float in [0, 1]. Defaults to `0.0` (plain gradient descent).
        nesterov: Bool, whether to use Nesterov momentum. Defaults to `False`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, lr, decay:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.momentum = _check_range(momentum, "momentum")
        self.nesterov = bool(nesterov)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = self.add_optimizer_variables(var_list, "momentum") if self.momentum != 0 else []

    def _update_all(self, grads, variables, idx, lr):
        if self.momentum == 0:
            torch._foreach_add_(variables, grads, alpha=-lr)
            return
        velocities = self._pick(self.momentums, idx)
        self._foreach_mul_scalar_(velocities, self.momentum)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(variables, grads, alpha=-lr)
            torch._foreach_add_(variables, velocities, alpha=self.momentum)
        else:
            torch._foreach_add_(variables, velocities)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
