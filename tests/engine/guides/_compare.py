"""Helpers shared by the guide and example tests: build the same code under `engine` and under Keras,
copy Keras's weights into the engine's model, and compare outputs."""
import numpy as np
import torch

import engine


def np_(x):
    """A NumPy array of a torch tensor, a Variable, or anything array-like."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        return np.asarray(x.numpy())
    return np.asarray(x)


def flat(x):
    if isinstance(x, dict):
        return [x[k] for k in sorted(x)]
    return list(x) if isinstance(x, (list, tuple)) else [x]


def same(a, b, rtol=1e-4, atol=1e-5):
    a, b = flat(a), flat(b)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(np_(x), np_(y), rtol=rtol, atol=atol)


def pair(keras, build, **kwargs):
    """`build(K)` under the engine and under Keras: the same output shapes, layer classes and parameter
    counts, and Keras's weights copied into the engine's model."""
    ours, theirs = build(engine, **kwargs), build(keras, **kwargs)
    assert [tuple(t.shape) for t in ours.outputs] == [tuple(t.shape) for t in theirs.outputs]
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    ours.set_weights([np_(w) for w in theirs.get_weights()])
    return ours, theirs


def fit_both(keras, ours, theirs, compile_args, x, y=None, rtol=1e-4, **fit_kwargs):
    """Compile both models with `compile_args(K)` (a dict of compile keywords for library K), fit them
    on the same data without shuffling, and check that the histories agree; returns them."""
    histories = []
    for K, model in ((engine, ours), (keras, theirs)):
        model.compile(**compile_args(K))
        histories.append(model.fit(x, y, shuffle=False, verbose=0, **fit_kwargs).history)
    assert sorted(histories[0]) == sorted(histories[1])
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=rtol, atol=1e-6, err_msg=key)
    return histories
