"""``engine.random``: Keras 3's ``keras.random`` with its seeding semantics, on torch.

Every function takes ``seed``: an int (the same draws on every call), a ``SeedGenerator`` (a new draw
on each call, repeatable from its initial seed) or None (the global ``SeedGenerator``, recreated
from Python's ``random`` by ``engine.utils.set_random_seed``). Seeds feed a fresh ``torch.Generator``
exactly as Keras's torch backend does, so on the same device the engine draws the same numbers as
Keras for the same seed.
"""
from __future__ import annotations

import random as _py_random

import numpy as np
import torch

from engine import backend
from engine.ops._dispatch import SHAPES_ONLY as _SHAPES_ONLY, device as _device, keras_op, standardize_dtype
from engine.ops.core import convert_to_tensor

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


def _seed_int(seed):
    first, second = (int(v) for v in draw_seed(seed).tolist())
    return (first + second) & 0xFFFFFFFF


def _generator(seed):
    dev = _device()
    gen = torch.Generator(device=dev)
    gen.manual_seed(_seed_int(seed))
    return gen, dev


def _dtype(dtype):
    return backend.torch_dtype(standardize_dtype(dtype or backend.floatx()))


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from a normal distribution."""
    gen, dev = _generator(seed)
    return torch.normal(mean, stddev, size=_shape(shape), generator=gen, dtype=_dtype(dtype), device=dev)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draws from a uniform distribution on ``[minval, maxval)``."""
    shape = _shape(shape)
    gen, dev = _generator(seed)
    draw = torch.rand(shape or (1,), generator=gen, dtype=_dtype(dtype), device=dev)
    out = (maxval - minval) * draw + minval
    return out[0] if not shape else out


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Draws integers uniformly from ``[minval, maxval)``."""
    gen, dev = _generator(seed)
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=gen, dtype=_dtype(dtype), device=dev)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from a normal distribution with values beyond two standard deviations redrawn."""
    shape = _shape(shape)
    # Four candidates per value; the first inside (-2, 2) is kept (as Keras's torch backend does).
    x = normal(shape + (4,), 0.0, 1.0, dtype=dtype, seed=seed)
    first_valid = ((x > -2) & (x < 2)).to(torch.uint8).argmax(-1, keepdim=True)
    return x.gather(-1, first_valid).squeeze(-1) * stddev + mean


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices per row of ``logits`` (unnormalized log-probabilities)."""
    logits = convert_to_tensor(logits)
    gen, _ = _generator(seed)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples, replacement=True, generator=gen).to(_dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries of ``inputs`` with probability ``rate`` and scales the rest by ``1 / (1 - rate)``."""
    x = convert_to_tensor(inputs)
    if rate == 1.0:
        return torch.zeros_like(x)
    if rate == 0.0:
        return x
    unseeded = seed is None or (isinstance(seed, SeedGenerator) and seed._initial_seed is None)
    if unseeded and noise_shape is None:
        return torch.nn.functional.dropout(x, p=rate, training=True)
    keep = 1.0 - rate
    shape = tuple(x.shape) if noise_shape is None else tuple(
        x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    gen, dev = _generator(seed)
    mask = torch.bernoulli(torch.full(shape, keep, device=dev), generator=gen).bool()
    mask = torch.broadcast_to(mask, x.shape)
    return torch.where(mask, x / keep, torch.zeros_like(x))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    x = convert_to_tensor(x)
    gen, dev = _generator(seed)
    perm = torch.rand(tuple(x.shape[:axis + 1]), generator=gen, device=dev).argsort(axis)
    perm = perm.reshape(tuple(perm.shape) + (1,) * (x.ndim - axis - 1)).expand(x.shape)
    return x.gather(axis, perm.to(x.device))


def _with_global_torch_seed(seed, sample):
    # torch.distributions draws from the global generator: seed it for this draw, then restore it.
    state = torch.random.get_rng_state()
    torch.manual_seed(_seed_int(seed))
    try:
        return sample()
    finally:
        torch.random.set_rng_state(state)


def gamma(shape, alpha, dtype=None, seed=None):
    """Draws from a gamma distribution with concentration ``alpha`` (rate 1)."""
    shape = _shape(shape)
    a = torch.broadcast_to(convert_to_tensor(alpha), shape)
    return _with_global_torch_seed(
        seed, lambda: torch.distributions.Gamma(a, torch.ones(shape, device=a.device)).sample().to(_dtype(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Draws from a beta distribution."""
    shape = _shape(shape)
    a = torch.broadcast_to(convert_to_tensor(alpha), shape)
    b = torch.broadcast_to(convert_to_tensor(beta), shape)
    return _with_global_torch_seed(
        seed, lambda: torch.distributions.Beta(a, b).sample().to(_dtype(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Draws from a binomial distribution."""
    shape = _shape(shape)
    n = torch.broadcast_to(convert_to_tensor(counts), shape)
    p = torch.broadcast_to(convert_to_tensor(probabilities), shape)
    return _with_global_torch_seed(
        seed, lambda: torch.distributions.Binomial(total_count=n, probs=p).sample().to(_dtype(dtype)))


# Random draws whose input is a tensor also work on symbolic tensors (shape inference draws nothing).
dropout = keras_op(dropout)
shuffle = keras_op(shuffle)
categorical = keras_op(categorical)

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint",
           "shuffle", "truncated_normal", "uniform"]
