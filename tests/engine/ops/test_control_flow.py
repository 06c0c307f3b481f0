"""Control flow and function transforms of engine.ops against keras.ops, on the same functions and inputs."""
import numpy as np
import pytest
import torch

import engine
import engine.ops as E


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _same(a, b):
    la = a if isinstance(a, (list, tuple)) else [a]
    lb = b if isinstance(b, (list, tuple)) else [b]
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        assert str(u.dtype) == str(v.dtype)
        np.testing.assert_allclose(_np(u), _np(v), rtol=1e-6, atol=1e-6)


XS = torch.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype("float32"))


@pytest.mark.parametrize("name,call", [
    ("cond", lambda O: O.cond(XS.sum() > 0, lambda: XS * 2, lambda: XS - 1)),
    ("cond-false", lambda O: O.cond(XS.sum() > 100, lambda: XS * 2, lambda: XS - 1)),
    ("while_loop", lambda O: O.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 1.5), (0, XS))),
    ("while_loop-max", lambda O: O.while_loop(lambda s: O.sum(s) < 1e9, lambda s: s * 2.0 + 1.0, XS,
                                              maximum_iterations=3)),
    ("fori_loop", lambda O: O.fori_loop(0, 5, lambda i, v: v + i * 0.5, XS)),
    ("scan", lambda O: O.scan(lambda c, x: (c + x, c * x), torch.zeros(3), XS)),
    ("scan-reverse", lambda O: O.scan(lambda c, x: (c + x, O.sum(x)), torch.zeros(3), XS, reverse=True)),
    ("scan-length", lambda O: O.scan(lambda c, _: (c * 2.0, c), torch.ones(2), None, length=4)),
    ("map", lambda O: O.map(lambda x: O.sum(x * x), XS)),
    ("associative_scan", lambda O: O.associative_scan(lambda a, b: a + b, XS, axis=0)),
    ("associative_scan-rev", lambda O: O.associative_scan(lambda a, b: a * b, XS, reverse=True, axis=1)),
    ("switch", lambda O: O.switch(1, [lambda x: x + 1, lambda x: x * 3, lambda x: -x], XS)),
    ("switch-clamp", lambda O: O.switch(7, [lambda x: x + 1, lambda x: x * 3], XS)),
    ("vectorized_map", lambda O: O.vectorized_map(lambda r: O.sum(r * 2.0), XS)),
    ("vectorize", lambda O: O.vectorize(lambda a, b: a * b + 1.0)(XS, XS[0])),
    # 0.4-0.8 s (torch.func starts up): with the slow tests.
    pytest.param("jvp", lambda O: O.linalg.jvp(lambda x: O.sin(x) * x, (XS,), (torch.ones_like(XS),)),
                 marks=pytest.mark.slow),
    ("svd", lambda O: O.abs(O.linalg.svd(XS)[1])),
])
def test_control_flow_matches_keras(name, call, keras):
    _same(call(E), call(keras.ops))


def test_custom_gradient_like_keras(keras):
    def make(O):
        @O.custom_gradient
        def clipped_square(x):
            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return O.clip(upstream * 2.0 * x, -1.0, 1.0)

            return O.square(x), grad

        return clipped_square

    outs = []
    for O in (E, keras.ops):
        x = XS.clone().requires_grad_(True)
        y = make(O)(x)
        y.sum().backward()
        outs.append((y.detach(), x.grad))
    _same(outs[0][0], outs[1][0])
    _same(outs[0][1], outs[1][1])


def test_eig_reconstructs_the_matrix():
    a = torch.tensor([[2.0, 1.0], [0.5, 3.0]])
    w, v = E.linalg.eig(a)
    np.testing.assert_allclose(_np(v @ torch.diag(w) @ torch.linalg.inv(v)).real, _np(a), atol=1e-5)


def test_cond_on_symbolic_tensors_builds_a_graph():
    x = engine.Input(shape=(3,))
    y = E.cond(True, lambda: E.relu(x), lambda: E.zeros_like(x))
    assert y.shape == (None, 3)
