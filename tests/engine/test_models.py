"""Sequential and functional models: graphs, shapes, layer order, summary, configs and errors."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as L
from engine.models import Model, Sequential


def test_sequential_input_dim_and_add():
    model = Sequential()
    model.add(L.Dense(units=64, activation="relu", input_dim=100))
    model.add(L.Dense(units=10, activation="softmax"))
    assert model.built
    assert model.output_shape == (None, 10)
    assert model.count_params() == 100 * 64 + 64 + 64 * 10 + 10
    assert [l.name for l in model.layers] == ["dense", "dense_1"]


def test_sequential_accepts_input_and_input_shape_forms():
    a = Sequential([engine.Input((5,)), L.Dense(3)])
    b = Sequential([L.Dense(3, input_shape=(5,))])
    c = Sequential([L.InputLayer(shape=(5,)), L.Dense(3)])
    for m in (a, b, c):
        assert m.output_shape == (None, 3)
        assert m.count_params() == 18


def test_sequential_deferred_build_on_data():
    model = Sequential([L.Dense(4), L.Dense(2)])
    assert not model.built
    y = model.predict(np.zeros((3, 7), np.float32), verbose=0)
    assert y.shape == (3, 2)
    assert model.built and model.layers[0].get_weights()[0].shape == (7, 4)


def test_sequential_rejects_non_layers_and_duplicate_names():
    model = Sequential()
    with pytest.raises(TypeError, match="parentheses"):
        model.add(L.Dense)
    model.add(L.Dense(2, name="d", input_dim=3))
    with pytest.raises(ValueError, match="unique names"):
        model.add(L.Dense(2, name="d"))


def test_functional_branches_merge_multi_io_and_shared_layer():
    a = engine.Input((6,), name="a")
    b = engine.Input((6,), name="b")
    shared = L.Dense(4, name="shared")
    ha, hb = shared(a), shared(b)
    merged = L.Concatenate(name="cat")([ha, hb])
    out1 = L.Dense(3, activation="softmax", name="cls")(merged)
    out2 = L.Dense(1, name="reg")(L.Add(name="add")([ha, hb]))
    model = Model([a, b], [out1, out2])
    assert model.output_shape == [(None, 3), (None, 1)]
    assert len(shared._inbound_nodes) == 2
    assert model.count_params() == 6 * 4 + 4 + 8 * 3 + 3 + 4 + 1
    xa = np.random.rand(5, 6).astype("float32")
    xb = np.random.rand(5, 6).astype("float32")
    p1, p2 = model.predict([xa, xb], verbose=0)
    assert p1.shape == (5, 3) and p2.shape == (5, 1)
    np.testing.assert_allclose(p1.sum(-1), 1.0, rtol=1e-5)
    # The shared layer really is one set of weights applied twice.
    w, bias = shared.get_weights()
    ha_np = xa @ w + bias
    hb_np = xb @ w + bias
    rw, rb = model.get_layer("reg").get_weights()
    np.testing.assert_allclose(p2, (ha_np + hb_np) @ rw + rb, rtol=1e-4, atol=1e-5)
    # dict inputs by name
    q1, _ = model.predict({"a": xa, "b": xb}, verbose=0)
    np.testing.assert_allclose(p1, q1)


def test_layer_order_matches_keras(keras):
    def build(lib):
        K = lib.layers
        s = K.Dense(3, name="shared")
        i1, i2 = lib.Input((3,), name="i1"), lib.Input((3,), name="i2")
        h1 = s(i1)
        h2 = s(K.Dense(3, name="pre")(i2))
        c = K.Concatenate(name="cat")([h1, h2])
        x = K.Dense(4, name="mid")(c)
        y = K.Add(name="res")([x, K.Dense(4, name="skip")(c)])
        o1 = K.Dense(1, name="out")(y)
        o2 = K.Dense(2, name="aux")(h2)
        return lib.Model([i1, i2], [o1, o2])

    assert [l.name for l in build(engine).layers] == [l.name for l in build(keras).layers]


def test_cycle_free_graph_disconnected_error():
    a = engine.Input((3,), name="a")
    b = engine.Input((3,), name="b")
    out = L.Add()([L.Dense(2)(a), L.Dense(2)(b)])
    with pytest.raises(ValueError, match="disconnected"):
        Model(a, out)


def test_merge_of_mismatched_shapes_names_layer_and_shapes():
    a = engine.Input((26, 26, 32))
    b = engine.Input((24, 24, 32))
    with pytest.raises(ValueError) as e:
        L.Add(name="my_add")([a, b])
    msg = str(e.value)
    assert "my_add" in msg and "26" in msg and "24" in msg


def test_summary_table_and_totals(capsys):
    model = Sequential([engine.Input((28, 28, 1)), L.Conv2D(8, 3), L.BatchNormalization(), L.Flatten(), L.Dense(10)])
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "sequential"' in out
    assert "conv2d (Conv2D)" in out and "(None, 26, 26, 8)" in out
    assert "Total params: 54,202 (211.73 KB)" in out
    assert "Trainable params: 54,186 (211.66 KB)" in out
    assert "Non-trainable params: 16 (64.00 B)" in out


def test_functional_summary_has_connections(capsys):
    a = engine.Input((8,), name="a")
    b = engine.Input((8,), name="b")
    out = L.Dense(2)(L.Add()([L.Dense(4)(a), L.Dense(4)(b)]))
    Model([a, b], out).summary()
    text = capsys.readouterr().out
    assert "Connected to" in text and "a[0][0]" in text and "dense_1[0][0]," in text and "add[0][0]" in text


def test_unbuilt_summary_prints_question_marks(capsys):
    # As Keras 3: an unbuilt model's table has "?" shapes and "0 (unbuilt)" parameters.
    Sequential([L.Dense(3)]).summary()
    row = [l for l in capsys.readouterr().out.splitlines() if "(Dense)" in l][0]
    assert row.replace("│", " ").split()[2:] == ["?", "0", "(unbuilt)"]


def test_get_set_weights_roundtrip_and_errors():
    model = Sequential([L.Dense(3, input_dim=4), L.Dense(2)])
    w = model.get_weights()
    assert [a.shape for a in w] == [(4, 3), (3,), (3, 2), (2,)]
    w2 = [np.full_like(a, i) for i, a in enumerate(w)]
    model.set_weights(w2)
    for a, b in zip(model.get_weights(), w2):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expected"):
        model.set_weights([np.zeros((5, 3))] + w2[1:])
    with pytest.raises(ValueError, match="4 weight arrays"):
        model.set_weights(w2[:2])


def test_get_layer_errors_list_names():
    model = Sequential([L.Dense(3, input_dim=4, name="first")])
    assert model.get_layer("first") is model.layers[0]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="first"):
        model.get_layer("nope")


def test_config_round_trip_sequential_and_functional():
    seq = Sequential([engine.Input((10,)), L.Dense(4, activation="relu"), L.Dropout(0.2), L.Dense(2)])
    seq2 = Sequential.from_config(seq.get_config())
    assert [type(l).__name__ for l in seq2.layers] == ["Dense", "Dropout", "Dense"]
    assert seq2.output_shape == (None, 2)

    a = engine.Input((6,), name="a")
    b = engine.Input((6,), name="b")
    s = L.Dense(4, name="shared")
    out = L.Dense(1, name="o")(L.Concatenate(name="c")([s(a), s(b)]))
    f = Model([a, b], out)
    f2 = engine.models.model_from_json(f.to_json())
    assert [l.name for l in f2.layers] == [l.name for l in f.layers]
    f2.set_weights(f.get_weights())
    x = [np.random.rand(3, 6).astype("float32"), np.random.rand(3, 6).astype("float32")]
    np.testing.assert_allclose(f.predict(x, verbose=0), f2.predict(x, verbose=0), rtol=1e-6)


def test_model_config_loads_in_keras(keras):
    a = engine.Input((6,), name="a")
    out = L.Dense(2, activation="softmax", name="o")(L.Dense(4, activation="relu", name="h")(a))
    model = Model(a, out)
    k = keras.models.model_from_json(model.to_json())
    k.set_weights(model.get_weights())
    x = np.random.rand(4, 6).astype("float32")
    np.testing.assert_allclose(k.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_unknown_class_in_config_is_refused_with_names():
    cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}},
        {"class_name": "EvilLayer", "config": {}}]}}
    with pytest.raises(engine.saving.ConfigError, match="EvilLayer"):
        engine.models.model_from_config(cfg)
    cfg["config"]["layers"][1] = {"class_name": "Lambda", "config": {"function": "..."}}
    with pytest.raises(engine.saving.ConfigError, match="Lambda"):
        engine.models.model_from_config(cfg)


def test_calling_model_on_tensors_and_nesting():
    inner = Sequential([engine.Input((4,)), L.Dense(3)], name="inner")
    x = engine.Input((4,))
    y = L.Dense(2)(inner(x))
    outer = Model(x, y)
    assert outer.output_shape == (None, 2)
    t = torch.randn(5, 4)
    assert tuple(outer(t).shape) == (5, 2)
    assert outer.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_registry_has_every_layer_of_the_issue():
    wanted = """Input Dense Activation Dropout Flatten Reshape Permute RepeatVector Conv1D Conv2D Conv2DTranspose
    SeparableConv2D DepthwiseConv2D MaxPooling1D MaxPooling2D AveragePooling1D AveragePooling2D GlobalMaxPooling1D
    GlobalMaxPooling2D GlobalAveragePooling1D GlobalAveragePooling2D ZeroPadding2D UpSampling2D Cropping2D
    BatchNormalization LayerNormalization Embedding SimpleRNN LSTM GRU Bidirectional TimeDistributed Add Subtract
    Multiply Average Maximum Minimum Concatenate Dot ReLU LeakyReLU PReLU ELU Softmax Rescaling GaussianNoise
    SpatialDropout2D""".split()
    wanted = ["InputLayer" if w == "Input" else w for w in wanted]
    missing = [w for w in wanted if not L.registry.is_registered(w)]
    assert not missing
    cats = L.registry.by_category()
    assert set(cats) <= set(L.registry.CATEGORIES)
    assert "Conv2D" in cats["Convolution"] and "LSTM" in cats["Recurrent"] and "Add" in cats["Merge"]
    for name in wanted:
        cls = L.registry.get_class(name)
        assert cls.compute_output_shape is not engine.Layer.compute_output_shape or name in (
            "Dropout", "GaussianNoise", "SpatialDropout2D", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
            "Softmax", "Rescaling", "BatchNormalization", "LayerNormalization", "InputLayer"), name
