"""``engine.random``: Keras 3's ``keras.random`` with its seeding semantics, on torch.

Every function takes ``seed``: an int (the same draws on every call), a ``SeedGenerator`` (a new draw
on each call, repeatable from its initial seed) or None (the global ``SeedGenerator``, recreated
from Python's ``random`` by ``engine.utils.set_random_seed``). Seeds feed a fresh ``torch.Generator``
exactly as Keras's torch backend does, so on the same device the engine draws the same numbers as
Keras for the same seed.
"""
from __future__ import annotations

import numpy as np
import torch

from engine import backend
from engine.ops._dispatch import keras_op, standardize_dtype
from engine.ops.core import convert_to_tensor
# The seed state lives with the ops, which draw from it too (engine.ops.image's elastic_transform).
from engine.ops.seed_generator import SeedGenerator, draw_seed, global_seed_generator  # noqa: F401
from engine.ops.seed_generator import reset_global_seed_generator  # noqa: F401
from engine.ops.seed_generator import seed_int as _seed_int, torch_generator as _generator


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
    unseeded = seed is None or (isinstance(seed, SeedGenerator) and seed.initial_seed is None)
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
