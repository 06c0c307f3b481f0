"""ScheduleFreeAdamW, as Keras 3's ``ScheduleFreeAdamW``."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Defazio et al., 2024): no learning-rate schedule is needed; the weights are
    an interpolation (``beta_1``) between an Adam-style iterate and the running average of the iterates.
    Keras's form, step for step (an optional linear ``warmup_steps``).

    Args:
        learning_rate: Float or schedule. Defaults to `0.0025`.
        beta_1: interpolation between the iterate and its average (0.9).
        beta_2: decay of the second-moment estimate (0.999).
        epsilon: added to the denominator (1e-8).
        warmup_steps: steps of linear learning-rate warmup (0).
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
        loss_scale_factor, gradient_accumulation_steps, name: see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        with torch.no_grad():
            for m, var in zip(self._momentums, var_list):
                m.copy_(var)  # the averaged iterate starts at the weights

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        gradient = gradient.to(dtype)
        step = float(self._iterations + 1)
        lr = learning_rate
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        i = self._get_variable_index(variable)
        momentum, velocity = self._momentums[i], self._velocities[i]
        # Keras reads momentum.value before updating it, which on its torch backend is the same tensor:
        # the "old" momentum below is the updated one, as there.
        bias_correction_2 = 1 - self.beta_2 ** step
        velocity.add_((gradient * gradient - velocity) * (1 - self.beta_2))
        denom = torch.sqrt(velocity / bias_correction_2) + self.epsilon
        momentum.sub_(lr * gradient / denom)
        weight = 1.0 / step
        x_old = (variable - (1 - self.beta_1) * momentum) / self.beta_1
        x_new = (1 - weight) * x_old + weight * momentum
        variable.copy_((1 - self.beta_1) * momentum + self.beta_1 * x_new)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "warmup_steps": self.warmup_steps})
        return config
