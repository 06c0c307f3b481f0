"""Muon, as Keras 3's ``Muon``: momentum orthogonalized by Newton-Schulz for 2D weights, AdamW for the rest."""
from __future__ import annotations

import re

import torch

from engine.optimizers.base_optimizer import Optimizer


class Muon(Optimizer):
    """Muon (Jordan et al., 2024): for each 2D weight, the momentum (Nesterov by default) is replaced by
    an approximately orthogonal matrix (``ns_steps`` Newton-Schulz iterations with coefficients ``muon_a``,
    ``muon_b``, ``muon_c``), scaled by ``sqrt(max(rows, cols)) * rms_rate`` (Moonlight's rule). Weights
    that are not 2D, embeddings (``exclude_embeddings``) and those whose path matches one of
    ``exclude_layers`` get AdamW at ``learning_rate * adam_lr_ratio``.

    Args:
        learning_rate: Float or schedule. Defaults to `0.001`.
        adam_beta_1, adam_beta_2, epsilon: the AdamW part's betas and epsilon.
        adam_weight_decay: decoupled weight decay of the AdamW weights (`0.004`).
        weight_decay: decoupled weight decay of the Muon weights (`0.004`).
        exclude_layers: regular expressions; weights whose path matches one use AdamW.
        exclude_embeddings: whether weights with "embedding" in their path use AdamW (True).
        muon_a, muon_b, muon_c: Newton-Schulz coefficients.
        adam_lr_ratio: the AdamW weights' learning rate relative to `learning_rate` (1).
        momentum: the Muon momentum (0.95).
        ns_steps: Newton-Schulz iterations (5).
        nesterov: Nesterov momentum (True).
        rms_rate: the update scale (0.2); None leaves the orthogonalized update unscaled.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
        loss_scale_factor, gradient_accumulation_steps, name: see `engine.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,
                 epsilon=1e-7, weight_decay=0.004, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, exclude_layers=None, exclude_embeddings=True,
                 muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5,
                 nesterov=True, rms_rate=0.2, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = int(ns_steps)
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        if variable.dim() != 2:
            return True
        path = str(getattr(variable, "path", None) or getattr(variable, "keras_name", None) or "")
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        super().build(var_list)
        self._momentums, self._velocities = [], []
        for var in var_list:  # Keras's order: each weight's momentum, then its velocity if it uses AdamW
            self._momentums.append(self.add_variable_from_reference(var, "momentum"))
            self._velocities.append(self.add_variable_from_reference(var, "velocity")
                                    if self._should_use_adamw(var) else None)

    def _update(self, grads, variables, idx):
        # Keras's Muon decays each weight by its own rate (adam_weight_decay or weight_decay), either set.
        grads = self._clip_gradients(grads)
        lr = self._step_learning_rate()
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            rate = self.adam_weight_decay if self._should_use_adamw(v) else self.weight_decay
            if rate is not None:
                v.sub_(v * rate * lr)
        for g, v in zip(grads, variables):
            self.update_step(g, v, lr)

    def _apply_weight_decay(self, variables, idx, lr):  # done per weight in _update
        return None

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        gradient = gradient.to(variable.dtype)
        if v is not None:
            self._adamw_step(gradient, variable, learning_rate * self.adam_lr_ratio, m, v)
        else:
            self._muon_step(gradient, variable, learning_rate, m)

    def _muon_step(self, gradient, variable, lr, m):
        m.add_(gradient + m * (self.momentum - 1))
        g = gradient + self.momentum * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(g, self.ns_steps)
        variable.sub_(self.lr_adjust(lr * update))

    def _adamw_step(self, gradient, variable, lr, m, v):
        step = float(self._iterations + 1)
        alpha = lr * (1 - self.adam_beta_2 ** step) ** 0.5 / (1 - self.adam_beta_1 ** step)
        m.add_((gradient - m) * (1 - self.adam_beta_1))
        v.add_((gradient * gradient - v) * (1 - self.adam_beta_2))
        variable.sub_(m * alpha / (torch.sqrt(v) + self.epsilon))

    def lr_adjust(self, x):
        """Moonlight's scale of a 2D update: ``sqrt(max(rows, cols)) * rms_rate`` (none when None)."""
        if self.rms_rate is None:
            return x
        return x * max(x.shape[0], x.shape[1]) ** 0.5 * self.rms_rate

    def zeropower_via_newtonschulz5(self, x, steps):
        """An approximately orthogonal matrix with ``x``'s singular vectors (quintic Newton-Schulz)."""
        if x.dim() < 2:
            raise ValueError(f"Expected gradient or momentum to have at least 2 dimensions. Received: "
                             f"shape={tuple(x.shape)}")
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.transpose(-1, -2)
        x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
        for _ in range(steps):
            xx = x @ x.transpose(-1, -2)
            x = a * x + (b * xx + c * xx @ xx) @ x
        return x.transpose(-1, -2) if tall else x

    def get_config(self):
        config = super().get_config()
        config.update({"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                       "exclude_layers": self.exclude_layers, "muon_a": self.muon_a, "muon_b": self.muon_b,
                       "muon_c": self.muon_c, "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                       "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                       "exclude_embeddings": self.exclude_embeddings, "adam_weight_decay": self.adam_weight_decay,
                       "rms_rate": self.rms_rate})
        return config
