"""Adam, as Keras 3's ``Adam`` (epsilon added to ``sqrt(v)``, bias correction folded into the step size)."""
from __future__ import annotations

import math

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range, _epsilon


class Adam(Optimizer):
    """Adam: adaptive moment estimation (Kingma & Ba, 2014).

    Keras's form, at step `t` (counting from 1):
    `m = beta_1 * m + (1 - beta_1) * g`, `v = beta_2 * v + (1 - beta_2) * g**2`,
    `w = w - learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)`.
    Note that `epsilon` is added to `sqrt(v)` before bias correction (torch adds it after).

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        beta_1: Float, decay rate of the first moment. Defaults to `0.9`.
        beta_2: Float, decay rate of the second moment. Defaults to `0.999`.
        epsilon: Float, numerical stability constant. Defaults to `1e-7`.
        amsgrad: Bool, whether to use the AMSGrad variant (the running maximum of `v`). Defaults to `False`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, lr, decay:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = _check_range(beta_1, "beta_1")
        self.beta_2 = _check_range(beta_2, "beta_2")
        self.epsilon = _epsilon(epsilon)
        self.amsgrad = bool(amsgrad)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._velocity_hats = (self.add_optimizer_variables(var_list, "velocity_hat")
                               if self.amsgrad else [])
        # torch's fused Adam kernel does the whole update in one call. It reads the step count from a
        # tensor, and its epsilon sits after the bias correction: passing epsilon / sqrt(1 - beta_2**t)
        # gives exactly Keras's rule, m * lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) / (sqrt(v) + epsilon).
        self._use_fused = hasattr(torch, "_fused_adam_") and bool(var_list)
        self._step_tensor = (torch.zeros((), dtype=torch.float32, device=var_list[0].device)
                             if var_list else None)

    def _update_all(self, grads, variables, idx, lr):
        t = self.iterations + 1
        bias_2 = 1.0 - self.beta_2 ** t
        m = self._pick(self._momentums, idx)
        v = self._pick(self._velocities, idx)
        v_hat = self._pick(self._velocity_hats, idx) if self.amsgrad else []
        if self._use_fused and bias_2 > 0.0:
            self._step_tensor.fill_(t)
            try:
                torch._fused_adam_(variables, grads, m, v, v_hat, [self._step_tensor] * len(variables), lr=lr,
                                   beta1=self.beta_1, beta2=self.beta_2, weight_decay=0.0,
                                   eps=self.epsilon / math.sqrt(bias_2), amsgrad=self.amsgrad, maximize=False)
                return
            except (RuntimeError, NotImplementedError):
                # Mixed devices or a dtype the kernel lacks: the checks run before any tensor is written.
                self._use_fused = False
        alpha = lr * math.sqrt(bias_2) / (1.0 - self.beta_1 ** t)
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        self._foreach_mul_scalar_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denom = torch._foreach_sqrt(v)
        self._foreach_add_scalar_(denom, self.epsilon)
        torch._foreach_addcdiv_(variables, m, denom, value=-alpha)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config
