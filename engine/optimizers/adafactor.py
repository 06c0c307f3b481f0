"""Adafactor, as Keras 3's ``Adafactor`` (factored second moments)."""
from __future__ import annotations

import math

import torch

from engine.optimizers.base_optimizer import Optimizer


def _rms(x):
    return torch.sqrt(torch.mean(x * x))


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): the second moment of a weight with 2 or more dimensions is kept
    as row and column statistics of its last two axes.

    Keras's form, at step t: `rho = min(lr, 1 / sqrt(t))`, `alpha = max(epsilon_2, rms(w)) * rho`,
    `beta_2 = 1 - t**beta_2_decay`, `s = g**2 + epsilon_1`; for weights of rank >= 2 `r` and `c` are running
    means of `s` over the last and second-to-last axis and `v = (r / mean(r)) outer c`, else `v` is the
    running mean of `s`; `u = g / sqrt(v)`, `w = w - alpha * u / max(1, rms(u) / clip_threshold)`.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        beta_2_decay: Float. Defaults to `-0.8`.
        epsilon_1: Float, added to the squared gradient. Defaults to `1e-30`.
        epsilon_2: Float, lower bound of the weight's RMS in the step size. Defaults to `1e-3`.
        clip_threshold: Float. Defaults to `1.0`.
        relative_step: Bool: with a constant learning rate, cap it at `1 / sqrt(t)`. Defaults to `True`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            name = str(getattr(var, "keras_path", None) or getattr(var, "keras_name", None) or "variable")
            name = name.replace("/", "_")
            if var.dim() < 2:
                # Keras keeps two scalar placeholders (saved with the state) for weights it does not factor.
                self._r.append(self.add_variable((), dtype=var.dtype, name=name, device=var.device))
                self._c.append(self.add_variable((), dtype=var.dtype, name=name, device=var.device))
            else:
                shape = tuple(var.shape)
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=name, device=var.device))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype, name=name,
                                                 device=var.device))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def _update_all(self, grads, variables, idx, lr):
        t = float(self.iterations + 1)
        rho = min(float(lr), 1.0 / math.sqrt(t))
        beta_2 = 1.0 - t ** self.beta_2_decay
        for g, w, r, c, v in zip(grads, variables, self._pick(self._r, idx), self._pick(self._c, idx),
                                 self._pick(self._v, idx)):
            g = g.to(w.dtype)
            alpha = torch.clamp(_rms(w), min=self.epsilon_2) * rho
            sq = g * g + self.epsilon_1
            if w.dim() >= 2:
                r.copy_(beta_2 * r + (1.0 - beta_2) * torch.mean(sq, dim=-1))
                c.copy_(beta_2 * c + (1.0 - beta_2) * torch.mean(sq, dim=-2))
                v.copy_((r / torch.mean(r, dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.copy_(beta_2 * v + (1.0 - beta_2) * sq)
            u = g / torch.sqrt(v)
            u_hat = u / torch.clamp(_rms(u) / self.clip_threshold, min=1.0)
            w.sub_(alpha * u_hat)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config
