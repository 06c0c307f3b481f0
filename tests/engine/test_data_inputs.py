"""fit/evaluate/predict take what Keras's torch backend takes (NumPy arrays, torch tensors, dicts of
inputs, a PyDataset, a Python generator, a torch DataLoader), with the same losses and predictions as
Keras 3 on the same weights."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

import engine

rng = np.random.default_rng(0)
X = rng.random((40, 4)).astype("float32")
X2 = rng.random((40, 3)).astype("float32")
Y = rng.random((40, 1)).astype("float32")
SW = rng.random((40,)).astype("float32")


def _model(K):
    a, b = K.Input((4,), name="a"), K.Input((3,), name="b")
    out = K.layers.Dense(1, name="out")(K.layers.Concatenate(name="cat")([a, b]))
    model = K.Model({"a": a, "b": b}, out)
    model.set_weights([np.linspace(-1, 1, 7).reshape(7, 1).astype("float32"), np.zeros(1, "float32")])
    model.compile(optimizer=K.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return model


class _Pairs(Dataset):
    """A map-style torch dataset whose items are ({"a", "b"}, y, sample_weight) tuples."""

    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return {"a": torch.from_numpy(X[i]), "b": torch.from_numpy(X2[i])}, torch.from_numpy(Y[i]), torch.tensor(SW[i])


def _sources(K, kind):
    """(fit kwargs, evaluate kwargs, predict kwargs) for one kind of input, built for library K."""
    xs = {"a": X, "b": X2}
    if kind == "numpy":
        return dict(x=xs, y=Y, batch_size=8), dict(x=xs, y=Y, batch_size=8), dict(x=xs, batch_size=8)
    if kind == "torch":
        xt = {"a": torch.from_numpy(X), "b": torch.from_numpy(X2)}
        yt = torch.from_numpy(Y)
        return dict(x=xt, y=yt, batch_size=8), dict(x=xt, y=yt, batch_size=8), dict(x=xt, batch_size=8)
    if kind == "numpy_sample_weight":
        return (dict(x=xs, y=Y, sample_weight=SW, batch_size=8), dict(x=xs, y=Y, sample_weight=SW, batch_size=8),
                dict(x=xs, batch_size=8))

    if kind == "pydataset":
        class Batches(K.utils.PyDataset):
            def __init__(self, with_y=True):
                super().__init__()
                self.with_y = with_y

            def __len__(self):
                return 5

            def __getitem__(self, i):
                s = slice(i * 8, (i + 1) * 8)
                x = {"a": X[s], "b": X2[s]}
                return (x, Y[s]) if self.with_y else (x,)

        return dict(x=Batches()), dict(x=Batches()), dict(x=Batches(False))
    if kind == "generator":
        def gen(with_y=True):
            for s in range(0, 40, 8):
                x = {"a": X[s:s + 8], "b": X2[s:s + 8]}
                yield (x, Y[s:s + 8]) if with_y else (x,)

        return dict(x=gen()), dict(x=gen()), dict(x=gen(False))
    if kind == "dataloader":
        return (dict(x=DataLoader(_Pairs(), batch_size=8)), dict(x=DataLoader(_Pairs(), batch_size=8)),
                dict(x=DataLoader(_Pairs(), batch_size=8)))
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["numpy", "torch", "numpy_sample_weight", "pydataset", "generator", "dataloader"])
def test_each_kind_of_input_trains_evaluates_and_predicts_as_keras(keras, kind):
    results = []
    for K in (engine, keras):
        K.utils.set_random_seed(0)
        model = _model(K)
        fit_kw, eval_kw, pred_kw = _sources(K, kind)
        history = model.fit(epochs=1, shuffle=False, verbose=0, **fit_kw).history
        evaluated = model.evaluate(verbose=0, return_dict=True, **eval_kw)
        predicted = model.predict(verbose=0, **pred_kw)
        results.append((history, evaluated, np.asarray(predicted)))
    (h1, e1, p1), (h2, e2, p2) = results
    assert sorted(h1) == sorted(h2) and sorted(e1) == sorted(e2)
    for key in h2:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5, err_msg=key)
        np.testing.assert_allclose(e1[key], e2[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(p1, p2, rtol=1e-5, atol=1e-6)


def test_a_dataloader_is_a_new_pass_every_epoch_and_validates(keras):
    def run(K):
        K.utils.set_random_seed(0)
        model = _model(K)
        loader = DataLoader(TensorDataset(torch.from_numpy(np.concatenate([X, X2], 1)), torch.from_numpy(Y)),
                            batch_size=16)
        x = K.Input((7,))
        flat = K.Model(x, model.get_layer("out")(x))
        flat.compile(optimizer=K.optimizers.SGD(0.05), loss="mse")
        return flat.fit(loader, epochs=3, validation_data=loader, verbose=0).history

    ours, theirs = run(engine), run(keras)
    assert sorted(ours) == sorted(theirs) and len(ours["loss"]) == 3
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=key)


def test_an_exhausted_generator_stops_training_with_keras_warning():
    model = _model(engine)

    def gen():
        for s in range(0, 40, 8):
            yield {"a": X[s:s + 8], "b": X2[s:s + 8]}, Y[s:s + 8]

    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(gen(), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1
