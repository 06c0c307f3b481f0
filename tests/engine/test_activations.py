"""Every activation of ``keras.activations`` exists in ``engine.activations`` and computes what Keras
computes: values and gradients on the same inputs, and the same serialized name."""
import inspect

import numpy as np
import pytest
import torch

from engine import activations as A

# Arguments beyond x for some calls: the defaults first, then non-default values.
_EXTRA_ARGS = {
    "threshold": [dict(threshold=0.3, default_value=-2.0), dict(threshold=-0.5, default_value=0.0)],
    "relu": [{}, dict(negative_slope=0.1, max_value=1.5, threshold=0.2)],
    "leaky_relu": [{}, dict(negative_slope=0.05)],
    "elu": [{}, dict(alpha=0.5)],
    "celu": [{}, dict(alpha=0.7)],
    "gelu": [{}, dict(approximate=True)],
    "glu": [{}, dict(axis=1)],
    "hard_shrink": [{}, dict(threshold=1.2)],
    "soft_shrink": [{}, dict(threshold=0.8)],
    "squareplus": [{}, dict(b=1.5)],
    "softmax": [{}, dict(axis=1)],
    "log_softmax": [{}, dict(axis=1)],
    "sparsemax": [{}, dict(axis=1)],
}

CASES = [(name, kw) for name in A.names() for kw in _EXTRA_ARGS.get(name, [{}])]


def _keras_public_activations(keras):
    return {n for n in dir(keras.activations)
            if not n.startswith("_") and inspect.isfunction(getattr(keras.activations, n))}


def test_every_keras_activation_exists(keras):
    missing = sorted(n for n in _keras_public_activations(keras) if not hasattr(A, n))
    assert not missing, f"keras.activations functions missing from engine.activations: {missing}"
    named = _keras_public_activations(keras) - {"get", "serialize", "deserialize"}
    assert named <= set(A.names()), sorted(named - set(A.names()))


@pytest.mark.parametrize("name,kwargs", CASES, ids=["-".join([n, *sorted(kw)]) for n, kw in CASES])
def test_activation_matches_keras(keras, name, kwargs):
    rng = np.random.default_rng(0)
    # Values around the kinks (+-1, thresholds) and far from them; (3, 4, 6) so glu's axes split evenly.
    x_np = (rng.standard_normal((3, 4, 6)) * 2).astype("float32")
    e_x = torch.tensor(x_np, requires_grad=True)
    k_x = torch.tensor(x_np, requires_grad=True)
    e_fn, k_fn = A.get(name), keras.activations.get(name)
    e_y = e_fn(e_x, **kwargs)
    k_y = k_fn(k_x, **kwargs)
    np.testing.assert_allclose(e_y.detach().numpy(), k_y.detach().numpy(), rtol=1e-5, atol=1e-6)
    cot = torch.tensor(rng.standard_normal(tuple(e_y.shape)).astype("float32"))
    (e_y * cot).sum().backward()
    (k_y * cot).sum().backward()
    np.testing.assert_allclose(e_x.grad.numpy(), k_x.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert A.serialize(e_fn) == keras.activations.serialize(k_fn)
    assert A.deserialize(keras.activations.serialize(k_fn)) is e_fn


@pytest.mark.parametrize("alias,canonical", [("swish", "silu"), ("hard_swish", "hard_silu")])
def test_aliases_serialize_under_keras_name(keras, alias, canonical):
    assert A.get(alias) is A.get(canonical)
    assert A.serialize(A.get(alias)) == keras.activations.serialize(keras.activations.get(alias)) == canonical


def test_activation_layers_take_the_new_names(keras):
    from engine import layers as E
    from tests.engine.layers.harness import check_against_keras

    for name in ("hard_silu", "sparsemax", "celu", "squareplus", "log_sigmoid"):
        layer = check_against_keras(lambda L: L.Dense(5, activation=name), (4, 3), keras=keras)
        assert layer.get_config()["activation"] == name
    assert E.Activation("hard_swish").get_config()["activation"] == "hard_silu"


def test_unknown_activation_names_the_valid_ones():
    with pytest.raises(ValueError, match="hard_silu"):
        A.get("hard_sigmoidd")
    with pytest.raises(ValueError):
        A.deserialize(3)
