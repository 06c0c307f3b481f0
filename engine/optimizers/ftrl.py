"""Ftrl, as Keras 3's ``Ftrl`` (Follow The Regularized Leader)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013), with Keras's L2 shrinkage and `beta`.

    Keras's form, per weight: `g' = g + 2 * l2_shrinkage * w`; `n' = n + g**2`;
    `z += g' - (n'**(-p) - n**(-p)) / lr * w` (p = `learning_rate_power`);
    `w = (clip(z, -l1, l1) - z) / (n'**(-p) / lr + 2 * (l2 + beta / (2 * lr)))`; `n = n'`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        learning_rate_power: Float <= 0. Defaults to `-0.5`.
        initial_accumulator_value: Float >= 0, start of the accumulators. Defaults to `0.1`.
        l1_regularization_strength: Float >= 0. Defaults to `0.0`.
        l2_regularization_strength: Float >= 0. Defaults to `0.0`.
        l2_shrinkage_regularization_strength: Float >= 0 (a magnitude penalty). Defaults to `0.0`.
        beta: Float. Defaults to `0.0`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError("`initial_accumulator_value` needs to be positive or zero. "
                             f"Received: initial_accumulator_value={initial_accumulator_value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. "
                             f"Received: learning_rate_power={learning_rate_power}.")
        if l1_regularization_strength < 0.0:
            raise ValueError("`l1_regularization_strength` needs to be positive or zero. "
                             f"Received: l1_regularization_strength={l1_regularization_strength}.")
        if l2_regularization_strength < 0.0:
            raise ValueError("`l2_regularization_strength` needs to be positive or zero. "
                             f"Received: l2_regularization_strength={l2_regularization_strength}.")
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError("`l2_shrinkage_regularization_strength` needs to be positive or zero. "
                             "Received: l2_shrinkage_regularization_strength="
                             f"{l2_shrinkage_regularization_strength}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"], initializer=[float(self.initial_accumulator_value), "zeros"])

    def _update_all(self, grads, variables, idx, lr):
        p = self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        for g, w, accum, linear in zip(grads, variables, self._pick(self._accumulators, idx),
                                       self._pick(self._linears, idx)):
            g = g.to(w.dtype)
            grad_to_use = g + 2 * self.l2_shrinkage_regularization_strength * w
            new_accum = accum + g * g
            new_pow = torch.pow(new_accum, -p)
            linear.add_(grad_to_use - (new_pow - torch.pow(accum, -p)) / lr * w)
            quadratic = new_pow / lr + 2 * l2
            w.copy_((torch.clamp(linear, -l1, l1) - linear) / quadratic)
            accum.copy_(new_accum)

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        })
        return config
