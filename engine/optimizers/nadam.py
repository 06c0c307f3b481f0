"""Nadam, as Keras 3's ``Nadam`` (Dozat's momentum schedule, with the running product ``u_product``)."""
from __future__ import annotations

import torch

from engine.optimizers.base_optimizer import Optimizer, _check_range, _epsilon


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat, 2015).

    Keras's form, at step `t`: `u_t = beta_1 * (1 - 0.5 * 0.96**t)`, `u_prod_t = u_t * u_prod_{t-1}`,
    `m_hat = u_{t+1} * m / (1 - u_prod_t * u_{t+1}) + (1 - u_t) * g / (1 - u_prod_t)`,
    `v_hat = v / (1 - beta_2**t)`, `w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)`.
    The running product is saved as the optimizer's last variable, as in Keras.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        beta_1: Float, decay rate of the first moment. Defaults to `0.9`.
        beta_2: Float, decay rate of the second moment. Defaults to `0.999`.
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
        self._u_product = 1.0

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._u_product = 1.0
        self._add_scalar_variable("_u_product", "float32", name="variable")

    def _update_all(self, grads, variables, idx, lr):
        t = self.iterations + 1
        b1, b2 = self.beta_1, self.beta_2
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = self._u_product * u_t
        u_product_t_1 = u_product_t * u_t_1
        self._u_product = u_product_t
        m = self._pick(self._momentums, idx)
        v = self._pick(self._velocities, idx)
        torch._foreach_lerp_(m, grads, 1.0 - b1)
        self._foreach_mul_scalar_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - b2)
        m_hat = torch._foreach_mul(m, self._scalar(u_t_1 / (1.0 - u_product_t_1)))
        torch._foreach_add_(m_hat, grads, alpha=(1.0 - u_t) / (1.0 - u_product_t))
        denom = torch._foreach_div(v, self._scalar(1.0 - b2 ** t))
        torch._foreach_sqrt_(denom)
        self._foreach_add_scalar_(denom, self.epsilon)
        torch._foreach_addcdiv_(variables, m_hat, denom, value=-lr)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
