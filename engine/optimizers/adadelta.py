"""Adadelta, as Keras 3's ``Adadelta`` (learning rate 0.001 by default; Keras 2 used 1.0)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range, _epsilon


class Adadelta(Optimizer):
    """Adadelta: steps scaled by running averages of squared gradients and squared updates (Zeiler, 2012).

    Keras's form: `acc_g = rho * acc_g + (1 - rho) * g**2`,
    `delta = -sqrt(acc_d + epsilon) / sqrt(acc_g + epsilon) * g`,
    `acc_d = rho * acc_d + (1 - rho) * delta**2`, `w = w + learning_rate * delta`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001` (Keras 2 and the paper use `1.0`).
        rho: Float, the decay rate. Defaults to `0.95`.
        epsilon: Float. Defaults to `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, lr, decay:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.rho = _check_range(rho, "rho")
        self.epsilon = _epsilon(epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def _update_all(self, grads, variables, idx, lr):
        rho, eps = self.rho, self.epsilon
        acc_g = self._pick(self._accumulated_grads, idx)
        acc_d = self._pick(self._accumulated_delta_vars, idx)
        self._foreach_mul_scalar_(acc_g, rho)
        torch._foreach_addcmul_(acc_g, grads, grads, value=1.0 - rho)
        neg_delta = self._foreach_add_scalar(acc_d, eps)
        torch._foreach_sqrt_(neg_delta)
        torch._foreach_mul_(neg_delta, grads)
        denom = self._foreach_add_scalar(acc_g, eps)
        torch._foreach_sqrt_(denom)
        torch._foreach_div_(neg_delta, denom)
        self._foreach_mul_scalar_(acc_d, rho)
        torch._foreach_addcmul_(acc_d, neg_delta, neg_delta, value=1.0 - rho)
        torch._foreach_add_(variables, neg_delta, alpha=-lr)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
