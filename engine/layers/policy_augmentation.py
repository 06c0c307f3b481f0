"""Augmentation policies made of the other augmentation layers: ``RandAugment`` and ``AugMix``.

As Keras's, they draw every sub-layer's transformation from their own seed generator first, then apply
the chosen ones. The engine replays each sub-layer's recorded seed states when it applies it, so a
seeded policy gives Keras's output.
"""
from __future__ import annotations

import random as py_random

import torch

from engine.layers import augmentation as aug
from engine.layers.augmentation import _Augmentation, _symmetric_factor
from engine.layers.color_augmentation import Equalization, RandomSharpness
from engine.layers.registry import register
from engine import random as engine_random

__all__ = ["RandAugment", "AugMix"]


def _recorder(generator, states):
    """A seed generator that draws from ``generator`` and keeps each state it hands out in ``states``."""

    class _Recorder(engine_random.SeedGenerator):
        def __init__(self):  # no new seed: every state comes from ``generator``
            self.name = generator.name

        def next(self, ordered=True):
            state = generator.next(ordered)
            states.append(state.clone())
            return state

    return _Recorder()


def _replayer(states):
    """A seed generator that hands out ``states`` again, in order."""
    queue = list(states)

    class _Replay(engine_random.SeedGenerator):
        def __init__(self):
            self.name = "replay"

        def next(self, ordered=True):
            if not queue:
                raise RuntimeError("an augmentation layer drew more numbers when applied than when drawn")
            return queue.pop(0)

    return _Replay()


def _with_generator(layer, generator, images):
    own = getattr(layer, "generator", None)
    layer.generator = generator
    try:
        return layer._float(layer.call(images, training=True))
    finally:
        layer.generator = own


class _Policy(_Augmentation):
    """Builds the sub-layers Keras's RandAugment and AugMix build, with the same arguments."""

    _ALL = ("random_shear", "random_translation", "random_rotation", "random_brightness",
            "random_color_degeneration", "random_contrast", "random_sharpness", "random_posterization",
            "solarization", "auto_contrast", "equalization")

    def _make_layers(self, names):
        f, vr, interp, seed = self.factor, self.value_range, self.interpolation, self.seed
        makers = {
            "random_shear": lambda: aug.RandomShear(x_factor=f, y_factor=f, interpolation=interp, seed=seed),
            "random_translation": lambda: aug.RandomTranslation(height_factor=f, width_factor=f,
                                                                interpolation=interp, seed=seed),
            "random_rotation": lambda: aug.RandomRotation(factor=f, interpolation=interp, seed=seed),
            "random_brightness": lambda: aug.RandomBrightness(factor=f, value_range=vr, seed=seed),
            "random_color_degeneration": lambda: aug.RandomColorDegeneration(factor=f, value_range=vr, seed=seed),
            "random_contrast": lambda: aug.RandomContrast(factor=f, value_range=vr, seed=seed),
            "random_sharpness": lambda: RandomSharpness(factor=f, value_range=vr, seed=seed),
            "random_posterization": lambda: aug.RandomPosterization(factor=max(1, int(8 * f[1])), value_range=vr,
                                                                    seed=seed),
            "solarization": lambda: aug.Solarization(addition_factor=f, threshold_factor=f, value_range=vr,
                                                     seed=seed),
            "auto_contrast": lambda: aug.AutoContrast(value_range=vr),
            "equalization": lambda: Equalization(value_range=vr),
        }
        # Plain attributes (not sub-modules): they have no weights and are not saved on their own.
        self.__dict__["_ops"] = {name: makers[name]() for name in names}

    def _draw(self, name, images):
        """(the sub-layer's recorded seed states) for one transformation of ``images``' shape."""
        states = []
        _with_generator(self._ops[name], _recorder(self.generator, states), images)
        return states

    def _apply(self, name, states, images):
        return _with_generator(self._ops[name], _replayer(states), images)


@register("Preprocessing")
class RandAugment(_Policy):
    """RandAugment (Cubuk et al., 2019) in training: ``num_ops`` operations picked at random (the same
    for the whole batch) from shear, translation, rotation, brightness, colour degeneration, contrast,
    sharpness, posterization, solarization, auto-contrast and equalization, all of strength ``factor``.

    Args:
        value_range: the range of the pixel values (``(0, 255)``).
        num_ops: operations applied one after the other (2).
        factor: the strength of every operation: a float in [0, 1] or a pair (0.5).
        interpolation: ``"bilinear"`` (default) or ``"nearest"`` for the geometric operations.
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("value_range", "num_ops", "factor", "interpolation", "seed")

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.interpolation = interpolation
        self._make_layers(self._ALL)

    def call(self, inputs, training=False):
        images = self._float(inputs)
        self._batch_size(images)
        if not training:
            return images
        picks = engine_random.randint((self.num_ops,), 0, len(self._ALL), seed=self.generator)
        drawn = {name: self._draw(name, images) for name in self._ALL}
        for i in range(self.num_ops):
            name = self._ALL[int(picks[i])]
            images = self._apply(name, drawn[name], images)
        return images


@register("Preprocessing")
class AugMix(_Policy):
    """AugMix (Hendrycks et al., 2020) in training: ``num_chains`` chains of up to ``chain_depth``
    random operations each are mixed with Dirichlet(``alpha``) weights, and the mix is blended with the
    original by a Beta(``alpha``, ``alpha``) weight; clipped to ``value_range``.

    The operations of each chain step are picked with Python's ``random`` module, as Keras picks them
    (``random.seed`` makes them repeatable); everything else comes from ``seed``.

    Args:
        value_range: the range of the pixel values (``(0, 255)``).
        num_chains: chains mixed together (3).
        chain_depth: the most operations in a chain (3).
        factor: the strength of every operation: a float in [0, 1] or a pair (0.3).
        alpha: the Dirichlet and Beta parameter (1.0).
        all_ops: include brightness, colour degeneration, contrast and sharpness (True).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)``.

    Output shape:
        Same as the input.
    """

    _FEW = ("random_shear", "random_translation", "random_rotation", "random_posterization", "solarization",
            "auto_contrast", "equalization")
    _MANY = _FEW + ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")

    _config_keys = ("value_range", "num_chains", "chain_depth", "factor", "alpha", "all_ops", "interpolation", "seed")

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self._names = list(self._MANY if all_ops else self._FEW)
        self._make_layers(self._names)

    def call(self, inputs, training=False):
        images = self._float(inputs)
        self._batch_size(images)
        if not training:
            return images
        gamma = engine_random.gamma((self.num_chains,), self.alpha, seed=self.generator)
        chain_weights = gamma / gamma.sum(dim=-1, keepdim=True)
        blend = engine_random.beta((), self.alpha, self.alpha, seed=self.generator)
        chains = []
        for _ in range(self.num_chains):
            steps = []
            for _ in range(self.chain_depth):
                name = py_random.choice(self._names + [None])
                if name is not None:
                    steps.append((name, self._draw(name, images)))
            chains.append(steps)
        mixed = torch.zeros_like(images)
        for weight, steps in zip(chain_weights.to(images.dtype), chains):
            x = images.clone()
            for name, states in steps:
                x = self._apply(name, states, x)
            mixed = mixed + x * weight
        blend = blend.to(images.dtype)
        out = blend * images + (1 - blend) * mixed
        return torch.clamp(out, self.value_range[0], self.value_range[1])

