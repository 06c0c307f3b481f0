"""Keras 2 (tf.keras / standalone Keras 2.x) ``.h5`` files load: written here with h5py as Keras 2 wrote them.

Keras 2 differs from Keras 3: ``batch_input_shape``, dtypes as plain strings, initializers without
``module``, list-style inbound nodes ``[[["dense", 0, 0, {}]]]``, weight names ending in ``:0``,
attributes as fixed-length byte strings, ``lr`` for the learning rate, optimizer slots in another order.
The reference predictions come from the same architecture built in Keras 3 with the same weights.
"""
import json

import h5py
import numpy as np
import pytest

import engine
from tests.engine.saving import zoo


def _dense(name, units, activation="linear", **extra):
    cfg = {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
           "use_bias": True,
           "kernel_initializer": {"class_name": "VarianceScaling",
                                  "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
           "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
           "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    cfg.update(extra)
    return {"class_name": "Dense", "config": cfg}


def _bytes_list(names):
    return np.array([n.encode("utf-8") for n in names])  # fixed-length |S, as Keras 2 wrote them


def _write_keras2(path, model_config, layer_weights, training_config=None, chunk_layer_names=False,
                  version="2.2.4"):
    """layer_weights: [(layer name, [(weight name, array)])] in model.layers order."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version.encode()
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode()
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode()
        g = f.create_group("model_weights")
        names = _bytes_list([n for n, _ in layer_weights])
        if chunk_layer_names:
            for i, chunk in enumerate(np.array_split(names, 2)):
                g.attrs[f"layer_names{i}"] = chunk
        else:
            g.attrs["layer_names"] = names
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = version.encode()
        for lname, weights in layer_weights:
            lg = g.create_group(lname)
            lg.attrs["weight_names"] = _bytes_list([w for w, _ in weights]) if weights else np.zeros((0,), "S1")
            for wname, value in weights:
                lg.create_dataset(wname, data=value)
        if training_config is not None:
            # Keras 2 slot order (iterations, then all m, then all v): must be ignored, not misread.
            og = f.create_group("optimizer_weights")
            og.attrs["weight_names"] = _bytes_list(["Adadelta/iterations:0", "Adadelta/dense_1/kernel/accum_grad:0"])
            og.create_dataset("Adadelta/iterations:0", data=np.array(10, dtype="int64"))
            og.create_dataset("Adadelta/dense_1/kernel/accum_grad:0", data=np.zeros((8, 16), "float32"))


def test_keras_2_2_sequential_with_batch_input_shape_and_lr(keras, tmp_path):
    kmodel = zoo.mlp(keras)
    zoo.perturb(kmodel)
    w = kmodel.get_weights()
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        _dense("dense_1", 16, "relu", batch_input_shape=[None, 8]),
        {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": True, "rate": 0.2,
                                             "noise_shape": None, "seed": None}},
        _dense("dense_2", 4, "softmax")]}}
    training = {"optimizer_config": {"class_name": "Adadelta", "config": {"lr": 1.0, "rho": 0.95, "decay": 0.0,
                                                                          "epsilon": 1e-07}},
                "loss": "categorical_crossentropy", "metrics": ["accuracy"], "sample_weight_mode": None,
                "loss_weights": None}
    path = str(tmp_path / "k2.h5")
    _write_keras2(path, config, [("dense_1", [("dense_1/kernel:0", w[0]), ("dense_1/bias:0", w[1])]),
                                 ("dropout_1", []),
                                 ("dense_2", [("dense_2/kernel:0", w[2]), ("dense_2/bias:0", w[3])])], training)
    model = engine.models.load_model(path)
    x = zoo.inputs_for(kmodel, 5)
    np.testing.assert_allclose(model.predict(x, verbose=0), kmodel.predict(x, verbose=0), atol=1e-5)
    assert type(model.optimizer).__name__ == "Adadelta" and model.optimizer.learning_rate == pytest.approx(1.0)
    assert model.optimizer.iterations == 0  # Keras 2 slots are not read as Keras 3 ones
    model.fit(x, np.eye(4, dtype="float32")[[0, 1, 2, 3, 0]], verbose=0)  # compiled: trains
    # load_weights from the same full Keras 2 file into the engine's own model.
    fresh = zoo.mlp(engine)
    fresh.load_weights(path)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), kmodel.predict(x, verbose=0), atol=1e-5)


def test_keras_2_list_config_sequential(keras, tmp_path):
    kmodel = zoo.mlp(keras)
    zoo.perturb(kmodel)
    w = kmodel.get_weights()
    # Keras <= 2.1 wrote a Sequential's "config" as the plain list of layers.
    config = {"class_name": "Sequential", "config": [
        _dense("dense_1", 16, "relu", batch_input_shape=[None, 8]),
        {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": True, "rate": 0.2}},
        _dense("dense_2", 4, "softmax")]}
    path = str(tmp_path / "k21.h5")
    _write_keras2(path, config, [("dense_1", [("dense_1/kernel:0", w[0]), ("dense_1/bias:0", w[1])]),
                                 ("dropout_1", []),
                                 ("dense_2", [("dense_2/kernel:0", w[2]), ("dense_2/bias:0", w[3])])])
    model = engine.models.load_model(path)
    assert not model.compiled
    x = zoo.inputs_for(kmodel, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), kmodel.predict(x, verbose=0), atol=1e-5)


def _rnn_common(name, units, **extra):
    cfg = {"name": name, "trainable": True, "dtype": "float32", "return_sequences": False, "return_state": False,
           "go_backwards": False, "stateful": False, "unroll": False, "time_major": False, "units": units,
           "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
           "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
           "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
           "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
           "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
           "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
           "recurrent_dropout": 0.0, "implementation": 2}
    cfg.update(extra)
    return cfg


# Keras builds the optimizer of a loaded compiled model and then finds the file's unbuilt state (its own
# files behave the same); that warning is Keras's, not ours.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_tf_keras_2_functional_list_nodes_multi_io(keras, tmp_path):
    L = keras.layers
    tok, feat = keras.Input((7,), dtype="int32", name="tokens"), keras.Input((4,), name="features")
    e = L.Embedding(20, 6, name="embedding")(tok)
    s = L.LSTM(5, return_sequences=True, name="lstm")(e)
    g = L.GRU(3, name="gru")(s)
    f = L.BatchNormalization(name="batch_normalization")(L.Dense(3, name="dense")(feat))
    merged = L.Concatenate(name="concatenate")([L.Add(name="add")([g, f]), feat])
    out1 = L.Dense(2, activation="softmax", name="out_1")(merged)
    out2 = L.Dense(1, name="out_2")(merged)
    kmodel = keras.Model([tok, feat], [out1, out2])
    zoo.perturb(kmodel)

    def node(*refs):
        return [[[r, 0, 0, {}] for r in refs]]

    def entry(class_name, config, inbound):
        return {"class_name": class_name, "config": config, "name": config["name"], "inbound_nodes": inbound}

    layers = [
        entry("InputLayer", {"batch_input_shape": [None, 7], "dtype": "int32", "sparse": False, "ragged": False,
                             "name": "tokens"}, []),
        entry("Embedding", {"name": "embedding", "trainable": True, "batch_input_shape": [None, 7],
                            "dtype": "float32", "input_dim": 20, "output_dim": 6,
                            "embeddings_initializer": {"class_name": "RandomUniform",
                                                       "config": {"minval": -0.05, "maxval": 0.05, "seed": None}},
                            "embeddings_regularizer": None, "activity_regularizer": None,
                            "embeddings_constraint": None, "mask_zero": False, "input_length": 7}, node("tokens")),
        entry("LSTM", _rnn_common("lstm", 5, return_sequences=True, unit_forget_bias=True), node("embedding")),
        entry("InputLayer", {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
                             "name": "features"}, []),
        entry("GRU", _rnn_common("gru", 3, reset_after=True), node("lstm")),
        entry("Dense", _dense("dense", 3)["config"], node("features")),
        entry("BatchNormalization", {"name": "batch_normalization", "trainable": True, "dtype": "float32",
                                     "axis": [1], "momentum": 0.99, "epsilon": 0.001, "center": True,
                                     "scale": True,
                                     "beta_initializer": {"class_name": "Zeros", "config": {}},
                                     "gamma_initializer": {"class_name": "Ones", "config": {}},
                                     "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
                                     "moving_variance_initializer": {"class_name": "Ones", "config": {}},
                                     "beta_regularizer": None, "gamma_regularizer": None,
                                     "beta_constraint": None, "gamma_constraint": None}, node("dense")),
        entry("Add", {"name": "add", "trainable": True, "dtype": "float32"}, node("gru", "batch_normalization")),
        entry("Concatenate", {"name": "concatenate", "trainable": True, "dtype": "float32", "axis": -1},
              node("add", "features")),
        entry("Dense", _dense("out_1", 2, "softmax")["config"], node("concatenate")),
        entry("Dense", _dense("out_2", 1)["config"], node("concatenate")),
    ]
    config = {"class_name": "Functional", "config": {
        "name": "model", "layers": layers, "input_layers": [["tokens", 0, 0], ["features", 0, 0]],
        "output_layers": [["out_1", 0, 0], ["out_2", 0, 0]]}, "keras_version": "2.8.0", "backend": "tensorflow"}
    by_name = {l.name: l.get_weights() for l in kmodel.layers}
    suffix = {"embedding": ["embeddings"], "dense": ["kernel", "bias"], "out_1": ["kernel", "bias"],
              "out_2": ["kernel", "bias"], "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"],
              "lstm": ["lstm_cell/kernel", "lstm_cell/recurrent_kernel", "lstm_cell/bias"],
              "gru": ["gru_cell/kernel", "gru_cell/recurrent_kernel", "gru_cell/bias"]}
    # Keras 2's model.layers order for this graph, which is also Keras 3's (the file pairs by position).
    order = [l.name for l in kmodel.layers]
    weights = [(n, [(f"{n}/{s}:0", v) for s, v in zip(suffix.get(n, []), by_name[n])]) for n in order]
    path = str(tmp_path / "k2f.h5")
    training = {"loss": ["categorical_crossentropy", "mse"], "metrics": [
        {"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32",
                                                       "fn": "categorical_accuracy"}}],
        "weighted_metrics": None, "loss_weights": [1.0, 0.5],
        "optimizer_config": {"class_name": "Adam", "config": {
            "name": "Adam", "learning_rate": 0.002, "decay": 0.0, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
            "amsgrad": False}}}
    _write_keras2(path, config, weights, training, chunk_layer_names=True, version="2.8.0")
    model = engine.models.load_model(path)
    assert [l.name for l in model.layers] == order
    x = zoo.inputs_for(kmodel, 5)
    for got, want in zip(model.predict(x, verbose=0), kmodel.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert model.optimizer.learning_rate == pytest.approx(0.002)
    # Saved again by the engine, it is a Keras 3 file that Keras loads.
    model.save(str(tmp_path / "again.keras"))
    back = keras.models.load_model(str(tmp_path / "again.keras"))
    for got, want in zip(back.predict(x, verbose=0), kmodel.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, atol=1e-5)
