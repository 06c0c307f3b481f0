"""Keras's seed state (its ``random/seed_generator.py``): ``SeedGenerator``, the global one and
``draw_seed``. It lives with the ops, which draw from it (``engine.ops.image.elastic_transform``), and
``engine.random`` re-exports it."""
from __future__ import annotations

import random as _py_random

import numpy as np
import torch

from engine.ops._dispatch import SHAPES_ONLY as _SHAPES_ONLY, device as _device

_GLOBAL = None
_SEED_GENERATOR_UIDS = [0]


class SeedGenerator:
    """A seed state that advances on each use, so that repeated calls draw new numbers.

    Args:
        seed: the initial seed (an int); a random one when None.
        name: an optional name.

    Example::

        gen = engine.random.SeedGenerator(42)
        a = engine.random.normal((2, 3), seed=gen)
        b = engine.random.normal((2, 3), seed=gen)   # different from a; the same a, b on every run
    """

    def __init__(self, seed=None, name=None, **kwargs):
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        if name is None:
            n = _SEED_GENERATOR_UIDS[0]
            _SEED_GENERATOR_UIDS[0] += 1
            name = "seed_generator" if n == 0 else f"seed_generator_{n}"
        self.name = name
        self._initial_seed = seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        # (seed, counter), int32 as in Keras (seeds are uint32 bit patterns stored as int32).
        self.state = torch.tensor([_as_int32(int(seed)), 0], dtype=torch.int32)

    @property
    def initial_seed(self):
        """The seed it was made with; None when it drew a random one."""
        return self._initial_seed

    def next(self, ordered=True):
        """The current state (to seed one draw), advancing the state for the next one."""
        value = self.state.clone()
        if _SHAPES_ONLY.get():
            # A call on placeholders to find output shapes (a layer called on Input tensors) draws
            # nothing real, so it leaves the state as it was, as Keras's symbolic calls do.
            return value
        if ordered:
            self.state = self.state + torch.tensor([0, 1], dtype=torch.int32)
        else:
            # Keras's unordered update: a sequence of near-unique numbers below 933199.
            self.state = (self.state + 1) * 5387 % 933199  # int32 arithmetic, wrapping as Keras's does
        return value

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} seed={self._initial_seed}>"


def _as_int32(seed):
    return (seed & 0xFFFFFFFF ^ 0x80000000) - 0x80000000


def global_seed_generator():
    global _GLOBAL
    if _GLOBAL is None:
        _GLOBAL = SeedGenerator()
    return _GLOBAL


def reset_global_seed_generator():
    """Forget the global SeedGenerator; the next unseeded draw makes one from Python's ``random``."""
    global _GLOBAL
    _GLOBAL = None


def draw_seed(seed):
    """The two-int seed state for one draw (Keras's ``draw_seed``)."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return torch.tensor([_as_int32(int(seed)), 0], dtype=torch.int32)
    if seed is None:
        return global_seed_generator().next(ordered=False)
    raise ValueError(f"Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
                     f"Received: seed={seed} (of type {type(seed)})")


def seed_int(seed):
    """One int seed for a torch generator from ``seed`` (an int, a SeedGenerator or None), as Keras's torch
    backend makes it."""
    first, second = (int(v) for v in draw_seed(seed).tolist())
    return (first + second) & 0xFFFFFFFF


def torch_generator(seed):
    """A ``torch.Generator`` on the ops' device, seeded from ``seed``, and that device."""
    dev = _device()
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed_int(seed))
    return gen, dev
