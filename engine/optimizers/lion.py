"""Lion, as Keras 3's ``Lion`` (EvoLved Sign Momentum)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer


class Lion(Optimizer):
    """Lion: a sign-based update interpolating the momentum and the gradient (Chen et al., 2023).

    Keras's form: `w = w - learning_rate * sign(beta_1 * m + (1 - beta_1) * g)`, then
    `m = beta_2 * m + (1 - beta_2) * g`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        beta_1: Float in (0, 1], interpolation of momentum and gradient in the update. Defaults to `0.9`.
        beta_2: Float, decay rate of the momentum. Defaults to `0.99`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                             f"degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m = self.add_optimizer_variables(var_list, "momentum")

    def _update_all(self, grads, variables, idx, lr):
        m = self._pick(self._m, idx)
        for g, v, mi in zip(grads, variables, m):
            g = g.to(v.dtype)
            v.sub_(lr * torch.sign(mi * self.beta_1 + g * (1.0 - self.beta_1)))
            mi.mul_(self.beta_2).add_(g * (1.0 - self.beta_2))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
