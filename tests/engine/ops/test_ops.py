"""Every engine op against keras.ops on the same inputs (values, shapes, dtypes), and the same op on
symbolic tensors (shapes and dtypes without running)."""
import numpy as np
import pytest
import torch

import engine
import engine.ops as E
from tests.engine.ops.cases import CASES, DTYPE_CASES
from tests.engine.ops.harness import check_against_keras, check_symbolic


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_op_matches_keras(case, keras):
    out = check_against_keras(case, keras)
    if case.symbolic:
        check_symbolic(case, out)
        if case.batch_none:
            check_symbolic(case, out, batch_none=True)


# ~1600 small cases: quick one by one, ~15 s together, so outside the fast loop.
@pytest.mark.slow
@pytest.mark.parametrize("case", DTYPE_CASES, ids=[c.id for c in DTYPE_CASES])
def test_op_dtypes_match_keras(case, keras):
    out = check_against_keras(case, keras)
    check_symbolic(case, out)


def test_every_keras_op_has_an_engine_op_and_a_case(keras):
    keras_names = {n for n in dir(keras.ops) if not n.startswith("_")}
    engine_names = {n for n in dir(E) if not n.startswith("_")}
    tested = {c.name.split(".")[-1] for c in CASES} | {c.name.split(".")[0] for c in CASES}
    # Control flow and function transforms are tested by their own tests in test_control_flow.py.
    own_tests = {"cond", "while_loop", "fori_loop", "scan", "map", "associative_scan", "switch", "vectorized_map",
                 "vectorize", "custom_gradient", "jvp", "eig", "svd", "image", "linalg", "nn", "numpy"}
    missing = keras_names - engine_names
    assert not missing, f"keras.ops names with no engine op: {sorted(missing)}"
    untested = (keras_names & engine_names) - tested - own_tests
    assert not untested, f"ops without a harness case: {sorted(untested)}"


def test_ops_in_a_functional_model_run_and_match_eager(keras):
    inp = engine.Input(shape=(4,))
    h = engine.layers.Dense(3)(inp)
    y = E.concatenate([E.relu(h), E.sum(E.square(inp), axis=-1, keepdims=True)], axis=-1)
    out = E.softmax(y * 2.0 if False else E.multiply(y, 2.0))
    assert out.shape == (None, 4) and out.dtype == "float32"
    model = engine.Model(inp, out)
    assert sorted(type(layer).__name__ for layer in model.layers[2:]) == ["Concatenate", "Multiply", "Relu",
                                                                          "Softmax", "Square", "Sum"]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    got = model.predict(x, verbose=0)
    xt = torch.tensor(x)
    hv = model.layers[1](xt)
    want = E.softmax(E.multiply(E.concatenate([E.relu(hv), E.sum(E.square(xt), axis=-1, keepdims=True)], -1), 2.0))
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_symbolic_unknown_sizes_stay_unknown():
    x = engine.Input(shape=(None, 3))
    y = E.reshape(E.transpose(x, (0, 2, 1)), (-1, 3))
    assert y.shape == (None, 3)
    z = E.matmul(x, E.ones((3, 5)))
    assert z.shape == (None, None, 5) and z.dtype == "float32"
    v, i = E.top_k(x, 2)
    assert v.shape == (None, None, 2) and i.dtype == "int64"


def test_keras_tensor_operators_build_the_same_model_as_keras(keras):
    """Arithmetic and indexing on symbolic tensors, as Keras code writes them, in a functional model."""
    def build(K):
        inp = K.Input(shape=(6,))
        h = (inp * 2.0 + 1.0) / 3.0 - inp ** 2
        h = K.ops.where(h > 0.5, h, -h)
        out = K.ops.concatenate([h[:, :3], (1.0 - inp)[:, 3:], abs(-inp[:, :1]) @ K.ops.ones((1, 2))], axis=-1)
        return K.Model(inp, out)

    e_model, k_model = build(engine), build(keras)
    assert e_model.output_shape == tuple(k_model.output.shape) == (None, 8)
    x = np.random.default_rng(1).standard_normal((4, 6)).astype("float32")
    np.testing.assert_allclose(e_model.predict(x, verbose=0), keras.ops.convert_to_numpy(k_model(x)), rtol=1e-6,
                               atol=1e-6)


def test_elastic_transform_like_keras(keras):
    """Random, so compared by what does not depend on the draw: shapes, dtypes, alpha=0 is the identity,
    and an int seed repeats the same distortion (Keras 3.15 ignores the seed on torch)."""
    x = torch.tensor(np.random.default_rng(2).uniform(size=(2, 9, 8, 3)).astype("float32"))
    e = E.image.elastic_transform(x, alpha=3.0, sigma=1.0, seed=4)
    k = keras.ops.image.elastic_transform(x, alpha=3.0, sigma=1.0, seed=4)
    assert e.shape == k.shape and e.dtype == k.dtype
    assert not torch.allclose(e, x)
    np.testing.assert_array_equal(E.image.elastic_transform(x, alpha=3.0, sigma=1.0, seed=4).numpy(), e.numpy())
    for fn in (E.image.elastic_transform, keras.ops.image.elastic_transform):
        np.testing.assert_allclose(_np(fn(x, alpha=0.0, sigma=1.0, seed=1)), x.numpy(), atol=1e-6)
    spec = E.image.elastic_transform(engine.Input(shape=(9, 8, 3)), alpha=3.0, sigma=1.0)
    assert spec.shape == (None, 9, 8, 3)


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def test_signatures_match_keras(keras):
    """Every op takes the same parameters, in the same order, with the same defaults, as in Keras."""
    import inspect
    import types

    import engine.random as engine_random

    def params(fn):
        return [(p.name, p.kind, None if p.default is inspect.Parameter.empty else repr(p.default))
                for p in inspect.signature(fn).parameters.values()]

    differ = []
    for k_mod, e_mod in [(keras.ops, E), (keras.ops.image, E.image), (keras.ops.linalg, E.linalg),
                         (keras.ops.nn, E.nn), (keras.ops.numpy, E.numpy), (keras.random, engine_random)]:
        for name in dir(k_mod):
            k_fn = getattr(k_mod, name)
            if name.startswith("_") or isinstance(k_fn, (types.ModuleType, type)):
                continue
            e_fn = getattr(e_mod, name, None)
            assert e_fn is not None, f"{k_mod.__name__}.{name} has no engine counterpart"
            if params(k_fn) != params(e_fn):
                differ.append(f"{name}: keras {inspect.signature(k_fn)} vs engine {inspect.signature(e_fn)}")
    assert not differ, "\n".join(differ)


def test_data_dependent_sizes_are_unknown_symbolically():
    x = engine.Input(batch_shape=(2, 3), dtype="int32")
    assert E.nonzero(x).shape == (2, None) and E.nonzero(x).dtype == "int32"
    assert E.unique(x).shape == (None,)
    assert E.where(E.greater(x, 1)).shape == (2, None)
    assert E.bincount(E.reshape(x, (-1,))).shape == (None,)
    assert E.bincount(E.reshape(x, (-1,)), minlength=9).shape[0] in (None, 9)
