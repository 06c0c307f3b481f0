"""One generic layer test harness: an engine layer and a real Keras 3 layer get the same weights and
the same input; forward outputs, input gradients and weight gradients must match.

Usage::

    check_against_keras(lambda L: L.Dense(4, activation="relu"), input_shape=(2, 3))

The factory receives a layer module (``engine.layers`` or ``keras.layers``) so one expression builds
both layers. ``input_shape`` includes the batch axis.
"""
from __future__ import annotations

import numpy as np
import torch

from engine import layers as E


def _np_input(shape, dtype, rng, low=None, high=None):
    if isinstance(shape, list):
        return [_np_input(s, dtype, rng, low, high) for s in shape]
    if dtype.startswith("int"):
        return rng.integers(low if low is not None else 0, high if high is not None else 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _torch(x, requires_grad):
    if isinstance(x, list):
        return [_torch(t, requires_grad) for t in x]
    t = torch.tensor(x)
    if requires_grad and t.is_floating_point():
        t.requires_grad_(True)
    return t


def _flat(x):
    if isinstance(x, (list, tuple)):
        out = []
        for t in x:
            out.extend(_flat(t))
        return out
    return [x]


def check_against_keras(factory, input_shape, keras=None, input_dtype="float32", atol=1e-5, rtol=1e-5,
                        training=False, seed=0, int_range=(0, 10), check_grads=True, call_kwargs=None,
                        randomize_weights=True, mask=None, check_weight_names=True, input_values=None):
    """Compare ``factory(engine.layers)`` with ``factory(keras.layers)``; returns the engine layer.

    Weights are taken from the engine layer (randomized a little when ``randomize_weights`` so that
    zero biases and unit gammas do not hide layout bugs) and set on the Keras layer. Weight names and
    order must be Keras's (``check_weight_names``). ``mask`` (a boolean array, or a list of them for
    several inputs) is passed to both calls, and ``compute_mask`` must then agree too.
    ``input_values`` replaces the random input (an array or a list of arrays of ``input_shape``).
    """
    import keras as K  # noqa: F811

    keras = keras or K
    rng = np.random.default_rng(seed)
    x_np = _np_input(input_shape, input_dtype, rng, *int_range)
    if input_values is not None:
        x_np = input_values
    call_kwargs = dict(call_kwargs or {})
    if mask is not None:
        call_kwargs["mask"] = _torch(mask, False)

    e_layer = factory(E)
    k_layer = factory(keras.layers)
    e_x = _torch(x_np, check_grads)
    k_x = _torch(x_np, check_grads)
    # Build both.
    e_layer(_torch(x_np, False), **call_kwargs)
    k_layer(_torch(x_np, False), **call_kwargs)

    e_w = e_layer.get_weights()
    k_w = k_layer.get_weights()
    assert [w.shape for w in e_w] == [w.shape for w in k_w], (
        f"weight shapes differ: engine {[w.shape for w in e_w]} vs keras {[w.shape for w in k_w]}")
    if check_weight_names:
        e_names = [getattr(w, "keras_name", None) for w in e_layer.weights]
        k_names = [w.name for w in k_layer.weights]
        assert e_names == k_names, f"weight names/order differ: engine {e_names} vs keras {k_names}"
        e_tr = [getattr(w, "keras_name", None) for w in e_layer.trainable_weights]
        assert e_tr == [w.name for w in k_layer.trainable_weights], "trainable weights differ"
    if randomize_weights:
        e_w = [w + rng.uniform(-0.3, 0.3, size=w.shape).astype(w.dtype) if w.dtype.kind == "f" else w for w in e_w]
        # Variances must stay positive.
        e_w = [np.abs(w) + 0.1 if "variance" in getattr(p, "keras_name", "") else w
               for w, p in zip(e_w, e_layer.weights)]
        e_layer.set_weights(e_w)
    k_layer.set_weights(e_layer.get_weights())

    e_y = e_layer(e_x, training=training, **call_kwargs)
    k_y = k_layer(k_x, training=training, **call_kwargs)
    e_out, k_out = _flat(e_y), _flat(k_y)
    assert len(e_out) == len(k_out)
    for a, b in zip(e_out, k_out):
        a_np, b_np = a.detach().cpu().numpy(), b.detach().cpu().numpy()
        assert a_np.shape == b_np.shape, f"output shape engine {a_np.shape} vs keras {b_np.shape}"
        np.testing.assert_allclose(a_np, b_np, atol=atol, rtol=rtol, err_msg="forward outputs differ")

    if mask is not None:
        e_in, k_in = _torch(x_np, False), _torch(x_np, False)
        e_m = e_layer.compute_mask(e_in, call_kwargs["mask"])
        k_m = k_layer.compute_mask(k_in, call_kwargs["mask"])
        for a, b in zip(_flat(e_m), _flat(k_m)):
            assert (a is None) == (b is None), f"output mask engine {a} vs keras {b}"
            if a is not None:
                np.testing.assert_array_equal(np.asarray(a.cpu()), np.asarray(b.cpu()), err_msg="masks differ")

    # compute_output_shape must agree with what the layer really returns (batch axis as None).
    def batchless(s):
        return (None,) + tuple(s[1:])
    in_shape = [batchless(s) for s in input_shape] if isinstance(input_shape, list) else batchless(input_shape)
    want = e_layer.compute_output_shape(in_shape)
    want = _flat_shapes(want)
    got = [batchless(tuple(a.shape)) for a in e_out]
    assert [tuple(w) for w in want] == got, f"compute_output_shape {want} but call returned {got}"

    if not check_grads:
        return e_layer
    cot = [torch.tensor(rng.standard_normal(tuple(a.shape)).astype("float32")) for a in e_out]
    sum(((a * c).sum() for a, c in zip(e_out, cot)), torch.zeros(())).backward()
    sum(((b * c).sum() for b, c in zip(k_out, cot)), torch.zeros(())).backward()
    for a, b in zip(_flat(e_x), _flat(k_x)):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol * 10, rtol=rtol * 10,
                                       err_msg="input gradients differ")
    k_vars = [v.value for v in k_layer.trainable_weights]
    e_vars = e_layer.trainable_weights
    assert len(k_vars) == len(e_vars)
    for a, b in zip(e_vars, k_vars):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol * 10, rtol=rtol * 10,
                                       err_msg=f"weight gradients differ ({getattr(a, 'keras_name', '?')})")
    return e_layer


def _flat_shapes(s):
    if isinstance(s, list) or (isinstance(s, tuple) and s and isinstance(s[0], (tuple, list))):
        out = []
        for t in s:
            out.extend(_flat_shapes(t))
        return out
    return [tuple(s)]


def _norm_config(value):
    """A config value in comparable form: tuples as lists; nested Keras objects (initializers,
    regularizers...) as their class name and the config entries that are not None."""
    if isinstance(value, (list, tuple)):
        return [_norm_config(v) for v in value]
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:
            cfg = value.get("config") or {}
            if isinstance(cfg, dict):
                cfg = {k: _norm_config(v) for k, v in cfg.items() if v is not None}
            return {"class_name": value["class_name"], "config": _norm_config(cfg) if not isinstance(cfg, dict)
                    else cfg}
        return {k: _norm_config(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(f"{value:.6g}")  # Keras keeps some hyperparameters as float32
    return value


def check_config_against_keras(factory, keras=None):
    """``factory(engine.layers).get_config()`` must have Keras's keys and values (nested objects compared
    by class name and non-None config), and ``from_config`` must rebuild the layer from either config.
    Give the layer an explicit ``name`` in ``factory``. Returns the engine layer."""
    import keras as K  # noqa: F811

    keras = keras or K
    e_layer, k_layer = factory(E), factory(keras.layers)
    e_cfg, k_cfg = e_layer.get_config(), k_layer.get_config()
    assert set(e_cfg) == set(k_cfg), (
        f"config keys differ: only engine {sorted(set(e_cfg) - set(k_cfg))}, "
        f"only keras {sorted(set(k_cfg) - set(e_cfg))}")
    for key in k_cfg:
        assert _norm_config(e_cfg[key]) == _norm_config(k_cfg[key]), (
            f"config[{key!r}]: engine {e_cfg[key]!r} vs keras {k_cfg[key]!r}")
    for cfg in (e_cfg, k_cfg):
        rebuilt = type(e_layer).from_config(_plain_copy(cfg))
        assert type(rebuilt) is type(e_layer)
        assert _norm_config(rebuilt.get_config()) == _norm_config(e_cfg)
    return e_layer


def _plain_copy(value):
    """A deep copy of a config with plain lists and dicts (Keras's TrackedList cannot be deep-copied)."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain_copy(v) for v in value)
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value
