"""Lamb, as Keras 3's ``Lamb`` (layer-wise adaptive moments)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer


class Lamb(Optimizer):
    """Lamb: Adam's step rescaled per weight by the trust ratio `||w|| / ||update||` (You et al., 2019).

    Keras's form: `m`, `v` as Adam's moments; `update = (m / (1 - beta_1**t)) /
    (sqrt(v / (1 - beta_2**t)) + epsilon)`; `ratio = ||w|| / ||update||` (1 when either norm is 0);
    `w = w - ratio * learning_rate * update`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        beta_1: Float, decay rate of the first moment. Defaults to `0.9`.
        beta_2: Float, decay rate of the second moment. Defaults to `0.999`.
        epsilon: Float. Defaults to `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._v = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def _update_all(self, grads, variables, idx, lr):
        t = self.iterations + 1
        c1 = 1.0 - self.beta_1 ** t
        c2 = 1.0 - self.beta_2 ** t
        for g, w, m, v in zip(grads, variables, self._pick(self._m, idx), self._pick(self._v, idx)):
            g = g.to(w.dtype)
            m.add_((g - m) * (1.0 - self.beta_1))
            v.add_((g * g - v) * (1.0 - self.beta_2))
            update = (m / c1) / (torch.sqrt(v / c2) + self.epsilon)
            w_norm = torch.sqrt(torch.sum(w * w))
            g_norm = torch.sqrt(torch.sum(update * update))
            one = torch.ones((), dtype=w.dtype, device=w.device)
            ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, w_norm / g_norm, one), one)
            w.sub_(ratio * lr * update)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
