"""engine.random against keras.random: the same seeds give the same draws (both seed a torch.Generator
the same way), SeedGenerator advances like Keras's, and the distributions have the right statistics."""
import numpy as np
import pytest
import torch

import engine
from engine import random as R


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


X = torch.tensor(np.random.default_rng(0).standard_normal((6, 5)).astype("float32"))
DRAWS = {
    "normal": lambda M, seed: M.normal((4, 3), mean=1.0, stddev=2.0, seed=seed),
    "uniform": lambda M, seed: M.uniform((4, 3), minval=-1.0, maxval=3.0, seed=seed),
    "uniform-scalar": lambda M, seed: M.uniform((), seed=seed),
    "randint": lambda M, seed: M.randint((10,), 0, 7, seed=seed),
    "truncated_normal": lambda M, seed: M.truncated_normal((5, 4), stddev=0.5, seed=seed),
    "categorical": lambda M, seed: M.categorical(X, 8, seed=seed),
    "dropout": lambda M, seed: M.dropout(X, 0.4, seed=seed),
    "dropout-noise_shape": lambda M, seed: M.dropout(X, 0.5, noise_shape=(None, 1), seed=seed),
    "shuffle": lambda M, seed: M.shuffle(X, seed=seed),
    "shuffle-axis1": lambda M, seed: M.shuffle(X, axis=1, seed=seed),
    "gamma": lambda M, seed: M.gamma((6,), 2.0, seed=seed),
    "beta": lambda M, seed: M.beta((6,), 2.0, 3.0, seed=seed),
    "binomial": lambda M, seed: M.binomial((6,), 10, 0.3, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_int_seed_draws_equal_keras(name, keras):
    draw = DRAWS[name]
    e, k = draw(R, 42), draw(keras.random, 42)
    assert str(e.dtype) == str(k.dtype) and tuple(e.shape) == tuple(k.shape)
    np.testing.assert_array_equal(_np(e), _np(k))
    np.testing.assert_array_equal(_np(draw(R, 42)), _np(e))  # an int seed repeats


@pytest.mark.parametrize("name", ["normal", "uniform", "randint", "dropout", "shuffle"])
def test_seed_generator_sequence_equals_keras(name, keras):
    draw = DRAWS[name]
    eg, kg = R.SeedGenerator(7), keras.random.SeedGenerator(7)
    e = [_np(draw(R, eg)) for _ in range(3)]
    k = [_np(draw(keras.random, kg)) for _ in range(3)]
    for a, b in zip(e, k):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(e[0], e[1])  # a generator advances


def test_unseeded_draws_follow_set_random_seed_like_keras(keras):
    keras.utils.set_random_seed(11)
    k = [_np(keras.random.normal((3,))) for _ in range(3)]
    engine.utils.set_random_seed(11)
    e = [_np(R.normal((3,))) for _ in range(3)]
    for a, b in zip(e, k):
        np.testing.assert_array_equal(a, b)
    engine.utils.set_random_seed(11)
    np.testing.assert_array_equal(_np(R.normal((3,))), e[0])


@pytest.mark.parametrize("name,draw,mean,std", [
    ("normal", lambda M: M.normal((20000,), mean=1.0, stddev=2.0, seed=3), 1.0, 2.0),
    ("uniform", lambda M: M.uniform((20000,), -1.0, 3.0, seed=3), 1.0, 4.0 / np.sqrt(12.0)),
    ("truncated_normal", lambda M: M.truncated_normal((20000,), stddev=1.0, seed=3), 0.0, 0.8796),
    ("gamma", lambda M: M.gamma((20000,), 3.0, seed=3), 3.0, np.sqrt(3.0)),
    ("binomial", lambda M: M.binomial((20000,), 10, 0.3, seed=3), 3.0, np.sqrt(2.1)),
])
def test_statistics_match_keras_and_theory(name, draw, mean, std, keras):
    e, k = _np(draw(R)), _np(draw(keras.random))
    for v in (e, k):
        assert abs(v.mean() - mean) < 0.05 * max(1.0, std) and abs(v.std() - std) < 0.05 * std
    assert abs(e.mean() - k.mean()) < 0.05 and abs(e.std() - k.std()) < 0.05


def test_dropout_keeps_expectation_and_rate():
    x = torch.ones(100000)
    y = R.dropout(x, 0.3, seed=5)
    assert abs(float((y == 0).float().mean()) - 0.3) < 0.01
    assert abs(float(y.mean()) - 1.0) < 0.02


def test_seed_generator_config_and_errors():
    g = R.SeedGenerator(3, name="g")
    assert R.SeedGenerator.from_config(g.get_config()).get_config() == {"seed": 3, "name": "g"}
    with pytest.raises(ValueError, match="seed"):
        R.SeedGenerator("x")
    with pytest.raises(ValueError, match="SeedGenerator"):
        R.normal((2,), seed=1.5)
