"""Adamax, as Keras 3's ``Adamax`` (Adam with the infinity norm)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range, _epsilon


class Adamax(Optimizer):
    """Adamax: a variant of Adam based on the infinity norm (Kingma & Ba, 2014, section 7).

    Keras's form: `m = beta_1 * m + (1 - beta_1) * g`, `u = max(beta_2 * u, |g|)`,
    `w = w - learning_rate * m / ((1 - beta_1**t) * (u + epsilon))`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        beta_1: Float, decay rate of the first moment. Defaults to `0.9`.
        beta_2: Float, decay rate of the infinity norm. Defaults to `0.999`.
        epsilon: Float. Defaults to `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, lr, decay:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = _check_range(beta_1, "beta_1")
        self.beta_2 = _check_range(beta_2, "beta_2")
        self.epsilon = _epsilon(epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def _update_all(self, grads, variables, idx, lr):
        t = self.iterations + 1
        m = self._pick(self._m, idx)
        u = self._pick(self._u, idx)
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        self._foreach_mul_scalar_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denom = self._foreach_add_scalar(u, self.epsilon)
        torch._foreach_addcdiv_(variables, m, denom, value=-lr / (1.0 - self.beta_1 ** t))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
