"""RMSprop, as Keras 3's ``RMSprop`` (epsilon inside the square root)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range, _epsilon


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    Keras's form: `v = rho * v + (1 - rho) * g**2`, `w = w - learning_rate * g / sqrt(v + epsilon)`.
    With `centered=True` the variance `v - mean_g**2` replaces `v`; with `momentum > 0` the increments
    are accumulated: `mom = momentum * mom + increment`, `w = w - mom`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        rho: Float, the discounting factor of the running average. Defaults to `0.9`.
        momentum: Float. Defaults to `0.0`.
        epsilon: Float, added to `v` inside the square root. Defaults to `1e-7`.
        centered: Bool, normalize by the estimated variance of the gradient. Defaults to `False`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, lr, decay:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.rho = _check_range(rho, "rho")
        self.momentum = _check_range(momentum, "momentum")
        self.epsilon = _epsilon(epsilon)
        self.centered = bool(centered)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = self.add_optimizer_variables(var_list, "momentum") if self.momentum > 0 else []
        self._average_gradients = (self.add_optimizer_variables(var_list, "average_gradient")
                                   if self.centered else [])

    def _update_all(self, grads, variables, idx, lr):
        rho = self.rho
        v = self._pick(self._velocities, idx)
        self._foreach_mul_scalar_(v, rho)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - rho)
        if self.centered:
            avg = self._pick(self._average_gradients, idx)
            torch._foreach_lerp_(avg, grads, 1.0 - rho)
            denom = torch._foreach_addcmul(v, avg, avg, value=-1.0)
            self._foreach_add_scalar_(denom, self.epsilon)
        else:
            denom = self._foreach_add_scalar(v, self.epsilon)
        torch._foreach_sqrt_(denom)
        if self.momentum > 0:
            mom = self._pick(self._momentums, idx)
            self._foreach_mul_scalar_(mom, self.momentum)
            torch._foreach_addcdiv_(mom, grads, denom, value=lr)
            torch._foreach_sub_(variables, mom)
        else:
            torch._foreach_addcdiv_(variables, grads, denom, value=-lr)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
