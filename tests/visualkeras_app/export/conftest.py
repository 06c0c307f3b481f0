"""Models for the export tests: every template and a branching two-input model, with random weights
(so that a wrongly ordered or transposed weight shows up in the predictions)."""
import os
import subprocess
import sys

import numpy as np
import pytest

TEMPLATES = ["seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm", "residual_block"]
MODELS = TEMPLATES + ["two_input"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def two_input_model():
    """Two inputs, two branches, a concatenation: strided "same" convolution and pooling on odd sizes
    (Keras's asymmetric padding), BatchNormalization, a skip-free merge."""
    import engine
    from engine import layers

    image = engine.Input(shape=(8, 8, 3), name="image")
    extra = engine.Input(shape=(5,), name="extra")
    x = layers.Conv2D(4, (3, 3), strides=2, padding="same", activation="relu", name="conv")(image)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.AveragePooling2D((3, 3), strides=2, padding="same", name="avg_pool")(x)  # uneven padding
    x = layers.AveragePooling2D((3, 3), strides=1, padding="same", name="avg_pool_even")(x)
    x = layers.MaxPooling2D((2, 2), strides=1, padding="same", name="max_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    y = layers.Dense(6, activation="tanh", name="extra_dense")(extra)
    z = layers.Concatenate(name="concat")([x, y])
    z = layers.Dense(3, activation="softmax", name="head")(z)
    return engine.Model(inputs=[image, extra], outputs=z, name="two_input")


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if type(layer).__name__ in ("BatchNormalization", "LayerNormalization"):
            new = [rng.uniform(0.5, 1.5, w.shape) for w in weights]
        else:
            new = [rng.normal(0, 0.3, w.shape) for w in weights]
        layer.set_weights([w.astype("float32") for w in new])


def build(key):
    """(engine model, list of NumPy inputs) for a template key or "two_input"."""
    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.document.templates import load_template

    if key == "two_input":
        model = two_input_model()
    else:
        doc = load_template(key)
        if key == "text_lstm":  # 20 steps instead of 200: Keras's step-by-step LSTM would take seconds
            nid = next(n.id for n in doc.nodes.values() if n.is_input)
            doc.set_param(nid, "batch_shape", [None, 20])
        model = document_to_model(doc)
    randomize(model)
    rng = np.random.default_rng(1)
    xs = []
    for t in model.inputs:
        shape = (3,) + tuple(t.shape[1:])
        if "int" in str(t.dtype):
            xs.append(rng.integers(0, 10000, shape).astype("int32"))
        else:
            xs.append(rng.normal(0, 1, shape).astype("float32"))
    return model, xs


def predict(model, xs):
    return np.asarray(model.predict(xs[0] if len(xs) == 1 else xs, verbose=0))


_BLOCKER = (
    "import sys\n"
    "class _Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('engine', 'visualkeras_app', 'keras'):\n"
    "            raise ImportError('blocked: ' + name)\n"
    "sys.meta_path.insert(0, _Block())\n"
)


def run_scripts(jobs, tmp_path, block_engine=False):
    """Run each ``(script, xs, call)`` in its own fresh Python (cwd ``tmp_path``), all at once: feed
    ``xs`` to the script's module-level ``model`` through ``call`` (Python source using ``model`` and
    ``xs``) and return the predictions in order. ``block_engine`` makes ``engine`` unimportable."""
    env = dict(os.environ)
    if block_engine:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    procs = []
    for i, (script, xs, call) in enumerate(jobs):
        in_path = os.path.join(tmp_path, f"inputs_{i}.npz")
        out_path = os.path.join(tmp_path, f"outputs_{i}.npy")
        np.savez(in_path, *xs)
        code = ((_BLOCKER if block_engine else "")
                + "import runpy, numpy as np\n"
                + f"d = np.load({in_path!r}); xs = [d[f'arr_{{i}}'] for i in range(len(d.files))]\n"
                + f"model = runpy.run_path({os.fspath(script)!r})['model']\n"
                + f"y = {call}\n"
                + f"np.save({out_path!r}, np.asarray(y))\n")
        procs.append((subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True), out_path, script))
    outs = []
    for proc, out_path, script in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{script} failed:\n{err[-3000:]}"
        outs.append(np.load(out_path))
    return outs


def run_script(script, xs, tmp_path, call, block_engine=False):
    return run_scripts([(script, xs, call)], tmp_path, block_engine)[0]


@pytest.fixture(params=MODELS)
def model_and_inputs(request):
    return (request.param,) + build(request.param)
