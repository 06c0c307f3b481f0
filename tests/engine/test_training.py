"""compile/fit/evaluate/predict and the *_on_batch methods, checked against real Keras 3 where the
numbers must agree, and for the messages users meet when data does not fit."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as L
from engine.models import Model, Sequential


def blobs(n=512, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (classes, d))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(0, 1, (n, d))).astype("float32")
    return x, y


def mlp(lib, d=8, classes=3):
    return lib.models.Sequential([lib.Input((d,)), lib.layers.Dense(16, activation="relu"),
                                  lib.layers.Dense(classes, activation="softmax")])


def test_fit_learns_and_returns_history():
    x, y = blobs()
    model = mlp(engine)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0, validation_split=0.25)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(hist.history["loss"]) == 8
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.9
    assert model.history is hist


# Two trainings each (0.1 s alone, up to 1 s on busy cores): the fast loop keeps Adam.
@pytest.mark.parametrize("opt", [pytest.param("sgd", marks=pytest.mark.slow), "adam",
                                 pytest.param("rmsprop", marks=pytest.mark.slow)])
def test_fit_matches_keras_step_for_step(keras, opt):
    """Same weights, same batches (no shuffle, no dropout): the weights after an epoch agree."""
    x, y = blobs(256)
    yc = np.eye(3, dtype="float32")[y]
    e = mlp(engine)
    k = mlp(keras)
    k.set_weights(e.get_weights())
    for m in (e, k):
        m.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])
    he = e.fit(x, yc, batch_size=32, epochs=2, shuffle=False, verbose=0)
    hk = k.fit(x, yc, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(he.history["loss"], hk.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(he.history["accuracy"], hk.history["accuracy"], atol=1e-6)
    ev_e = e.evaluate(x, yc, verbose=0)
    ev_k = k.evaluate(x, yc, verbose=0)
    np.testing.assert_allclose(ev_e, ev_k, rtol=1e-5)


def test_sample_and_class_weights_match_keras(keras):
    x, y = blobs(128)
    sw = np.linspace(0.1, 2.0, len(x)).astype("float32")
    e, k = mlp(engine), mlp(keras)
    k.set_weights(e.get_weights())
    for m in (e, k):
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    e.fit(x, y, sample_weight=sw, batch_size=16, shuffle=False, verbose=0)
    k.fit(x, y, sample_weight=sw, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    e.fit(x, y, class_weight=cw, batch_size=16, shuffle=False, verbose=0)
    k.fit(x, y, class_weight=cw, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_evaluate_forms_and_predict():
    x, y = blobs(100)
    model = mlp(engine)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss2, acc = model.evaluate(x, y, verbose=0)
    assert loss2 == pytest.approx(loss, rel=1e-6) and 0 <= acc <= 1
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    p = model.predict(x, batch_size=7, verbose=0)
    assert p.shape == (100, 3) and p.dtype == np.float32


def test_on_batch_methods():
    x, y = blobs(64)
    model = mlp(engine)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()[0].copy()
    loss, acc = model.train_on_batch(x[:32], y[:32])
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert not np.array_equal(before, model.get_weights()[0])
    l2 = model.test_on_batch(x[:32], y[:32])
    assert len(l2) == 2
    assert model.predict_on_batch(x[:5]).shape == (5, 3)


def test_torch_tensors_generators_and_sequences():
    x, y = blobs(96)
    model = mlp(engine)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=1, verbose=0)

    def gen():
        while True:
            for i in range(0, 96, 32):
                yield x[i:i + 32], y[i:i + 32]

    h = model.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2

    class Seq(engine.utils.Sequence):
        def __init__(self):
            self.epochs_seen = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]

        def on_epoch_end(self):
            self.epochs_seen += 1

    seq = Seq()
    h = model.fit(seq, epochs=2, verbose=0)
    assert seq.epochs_seen == 2 and len(h.history["accuracy"]) == 2
    assert model.predict(seq, verbose=0).shape == (96, 3)
    assert len(model.evaluate(seq, verbose=0)) == 2


def test_multi_input_multi_output_with_dict_losses_and_weights():
    rng = np.random.default_rng(0)
    a = engine.Input((4,), name="a")
    b = engine.Input((4,), name="b")
    h = L.Concatenate()([L.Dense(8, activation="relu")(a), L.Dense(8, activation="relu")(b)])
    cls = L.Dense(2, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(h)
    model = Model([a, b], [cls, reg])
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    xa, xb = rng.random((64, 4), dtype=np.float32), rng.random((64, 4), dtype=np.float32)
    yc, yr = rng.integers(0, 2, 64), rng.random((64, 1), dtype=np.float32)
    hist = model.fit({"a": xa, "b": xb}, {"cls": yc, "reg": yr}, epochs=2, batch_size=16, verbose=0)
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy"} <= set(hist.history)
    last = {k: v[-1] for k, v in hist.history.items()}
    assert last["loss"] > 0
    res = model.evaluate([xa, xb], [yc, yr], verbose=0, return_dict=True)
    assert res["loss"] == pytest.approx(res["cls_loss"] + 0.5 * res["reg_loss"], rel=1e-4)


def test_stop_training_is_honoured_between_batches():
    x, y = blobs(320)
    model = mlp(engine)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    seen = []

    class Stopper(engine.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 2:
                self.model.stop_training = True

    hist = model.fit(x, y, batch_size=32, epochs=5, callbacks=[Stopper()], verbose=0)
    assert seen == [0, 1, 2]
    assert len(hist.history["loss"]) == 1


def test_categorical_crossentropy_with_integer_labels_says_what_to_do():
    x, y = blobs(64)
    model = mlp(engine)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError) as e:
        model.fit(x, y, verbose=0)
    msg = str(e.value)
    assert "to_categorical" in msg and "sparse_categorical_crossentropy" in msg


def test_input_shape_mismatch_names_shapes_and_fix():
    model = Sequential([engine.Input((28, 28, 1)), L.Flatten(), L.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((16, 28, 28), "float32")
    with pytest.raises(ValueError) as e:
        model.fit(x, np.zeros(16, "int64"), verbose=0)
    msg = str(e.value)
    assert "(None, 28, 28, 1)" in msg and "(16, 28, 28)" in msg and "reshape" in msg.lower()


def test_missing_flatten_is_explained():
    model = Sequential([engine.Input((28, 28, 1)), L.Conv2D(4, 3), L.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="Flatten"):
        model.fit(np.zeros((8, 28, 28, 1), "float32"), np.eye(10, dtype="float32")[np.arange(8)], verbose=0)


def test_length_mismatch_and_uncompiled_and_unknown_names():
    x, y = blobs(64)
    model = mlp(engine)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error"):
        model.compile(optimizer="sgd", loss="mean_sq_error")


def test_nan_loss_stops_with_a_message():
    x, y = blobs(64)
    x[3, 0] = np.nan
    model = mlp(engine)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.warns(RuntimeWarning, match="learning rate"):
        hist = model.fit(x, y, epochs=5, verbose=0)
    assert len(hist.history["loss"]) == 1


def test_verbose_fit_prints_keras_progress(capsys):
    x, y = blobs(64)
    model = mlp(engine)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2" in out and "accuracy:" in out and "loss:" in out


def test_regularizers_add_to_the_loss():
    x, y = blobs(64)
    plain = Sequential([engine.Input((8,)), L.Dense(3, activation="softmax")])
    reg = Sequential([engine.Input((8,)), L.Dense(3, activation="softmax", kernel_regularizer="l2")])
    reg.set_weights(plain.get_weights())
    for m in (plain, reg):
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    penalty = 0.01 * float((plain.get_weights()[0] ** 2).sum())
    assert reg.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x, y, verbose=0) + penalty, rel=1e-5)


@pytest.mark.parametrize("functional", [False, True])
def test_masks_and_activity_regularizers_match_keras(keras, functional):
    """Embedding(mask_zero=True) masks padded steps for the LSTM; activity penalties join the loss."""
    def build(lib):
        K = lib.layers
        if functional:
            i = lib.Input((6,), dtype="int32")
            h = K.LSTM(3)(K.Embedding(20, 4, mask_zero=True)(i))
            return lib.Model(i, K.Dense(2, activity_regularizer="l2")(h))
        return lib.models.Sequential([lib.Input((6,), dtype="int32"), K.Embedding(20, 4, mask_zero=True),
                                      K.LSTM(3), K.Dense(2, activity_regularizer="l2")])

    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    y = np.array([[0.0, 1], [1, 0], [0, 1]], dtype="float32")
    e, k = build(engine), build(keras)
    k.set_weights(e.get_weights())
    np.testing.assert_allclose(e.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-6)
    for m in (e, k):
        m.compile(optimizer="sgd", loss="mse")
    assert e.evaluate(x, y, verbose=0) == pytest.approx(k.evaluate(x, y, verbose=0), rel=1e-5)
    e.fit(x, y, epochs=2, shuffle=False, verbose=0)
    k.fit(x, y, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_subclassed_model_trains_with_or_without_training_argument():
    x, y = blobs(64)

    class Plain(Model):
        def __init__(self):
            super().__init__()
            self.hidden = L.Dense(8, activation="relu")
            self.out = L.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    class WithDropout(Plain):
        def __init__(self):
            super().__init__()
            self.drop = L.Dropout(0.5)

        def call(self, inputs, training=False):
            return self.out(self.drop(self.hidden(inputs), training=training))

    for cls in (Plain, WithDropout):
        model = cls()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        assert hist.history["loss"][-1] < hist.history["loss"][0]
        assert model.predict(x[:4], verbose=0).shape == (4, 3)
        assert len(model.trainable_weights) >= 4
