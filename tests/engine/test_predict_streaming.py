"""predict() writes each batch's outputs into result arrays made once: the same results as before
(single, several and dict outputs, steps, outputs that are not one row per sample), and a large
predict holds its outputs once."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import engine


def _functional(dict_out=False):
    engine.utils.set_random_seed(0)
    inp = engine.layers.Input((6,))
    a = engine.layers.Dense(3, activation="softmax")(inp)
    b = engine.layers.Dense(2)(inp)
    return engine.Model(inp, {"b": b, "a": a} if dict_out else [a, b])


def _reference(model, x):
    with torch.no_grad():
        return model(torch.as_tensor(x))


def test_predict_results_unchanged():
    x = np.random.default_rng(0).random((70, 6), dtype=np.float32)
    model = _functional()
    a, b = model.predict(x, batch_size=16, verbose=0)
    ra, rb = _reference(model, x)
    assert a.shape == (70, 3) and b.shape == (70, 2) and a.dtype == np.float32
    np.testing.assert_allclose(a, ra.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b, rb.numpy(), rtol=1e-6)
    d = _functional(dict_out=True).predict(x, batch_size=16, verbose=0)
    assert sorted(d) == ["a", "b"] and d["a"].shape == (70, 3)
    one = engine.Sequential([engine.layers.Input((6,)), engine.layers.Dense(4)])
    np.testing.assert_allclose(one.predict(x, batch_size=32, steps=2, verbose=0), _reference(one, x[:64]).numpy(),
                               rtol=1e-6)


def test_outputs_not_one_row_per_sample_are_concatenated():
    class Summary(engine.Model):
        def __init__(self):
            super().__init__()
            self.dense = engine.layers.Dense(2)

        def call(self, x):
            return self.dense(x).sum(dim=0, keepdim=True)  # one row per batch

        def predict_step(self, data):
            return self(data[0] if isinstance(data, tuple) else data)

    x = np.ones((40, 3), dtype=np.float32)
    out = Summary().predict(x, batch_size=16, verbose=0)
    assert out.shape == (3, 2)


@pytest.mark.slow
def test_a_million_rows_are_held_once(tmp_path):
    # A fresh process: peak resident memory (ru_maxrss) before and after predict on 1,000,000 rows.
    script = textwrap.dedent("""
        import resource, numpy as np, torch, engine
        torch.set_num_threads(1)
        model = engine.Sequential([engine.layers.Input((8,)), engine.layers.Dense(10)])
        x = np.ones((1_000_000, 8), dtype=np.float32)
        model.predict(x[:20000], batch_size=10000, verbose=0)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = model.predict(x, batch_size=10000, verbose=0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024 / out.nbytes)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    growth = float(done.stdout.strip().splitlines()[-1])
    assert growth < 1.4, f"predict's peak memory grew by {growth:.2f}x its output (the output held twice?)"
