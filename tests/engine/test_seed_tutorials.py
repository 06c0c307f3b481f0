"""The two tutorials in ../shared/seeds, with `keras` renamed `engine`.

The MLP tutorial runs on random data of its shapes. The CNN tutorial runs on the real MNIST (the copy
shipped in the package): as written it passes integer labels to categorical_crossentropy, which must be
answered with a message naming the fix; with to_categorical added it trains, and reaches what Keras
reaches with the same code, weights and data.
"""

import numpy as np
import pytest

import engine


@pytest.mark.slow  # a training run: 5 epochs of 1,000 samples (0.1 s alone, 1-2.5 s on busy cores)
def test_mlp_tutorial_runs_as_written():
    from engine.layers import Dense
    from engine.models import Sequential

    model = Sequential()
    model.add(Dense(units=64, activation="relu", input_dim=100))
    model.add(Dense(units=10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    model.compile(loss=engine.losses.categorical_crossentropy,
                  optimizer=engine.optimizers.SGD(lr=0.01, momentum=0.9, nesterov=True))
    rng = np.random.default_rng(0)
    x_train = rng.random((1000, 100), dtype=np.float32)
    y_train = engine.utils.to_categorical(rng.integers(0, 10, 1000), 10)
    hist = model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    assert len(hist.history["loss"]) == 5 and np.isfinite(hist.history["loss"]).all()
    loss = model.train_on_batch(x_train[:32], y_train[:32])
    assert np.isfinite(loss)
    x_test, y_test = x_train[:200], y_train[:200]
    loss_and_metrics = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    assert np.isfinite(loss_and_metrics)
    classes = model.predict(x_test, batch_size=128, verbose=0)
    assert classes.shape == (200, 10)
    np.testing.assert_allclose(classes.sum(axis=1), 1.0, rtol=1e-5)


def _cnn(lib, input_shape, num_classes=10):
    from importlib import import_module

    Sequential = import_module(lib.__name__ + ".models").Sequential
    layers = import_module(lib.__name__ + ".layers")
    model = Sequential()
    model.add(layers.Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes, activation="softmax"))
    model.compile(loss=lib.losses.categorical_crossentropy, optimizer=lib.optimizers.Adadelta(),
                  metrics=["accuracy"])
    return model


def _tutorial_data():
    from engine import backend as K
    from engine.datasets import mnist

    img_rows, img_cols = 28, 28
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert K.image_data_format() == "channels_last"
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    return (x_train, y_train), (x_test, y_test), (img_rows, img_cols, 1)


def test_cnn_tutorial_as_written_gets_a_clear_message():
    (x_train, y_train), (x_test, y_test), input_shape = _tutorial_data()
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    model = _cnn(engine, input_shape)
    with pytest.raises(ValueError) as e:
        model.fit(x_train[:256], y_train[:256], batch_size=128, epochs=1, verbose=0,
                  validation_data=(x_test[:256], y_test[:256]))
    assert "to_categorical" in str(e.value)


@pytest.mark.slow
def test_cnn_tutorial_with_to_categorical_matches_keras(keras):
    (x_train, y_train), (x_test, y_test), input_shape = _tutorial_data()
    y_train = engine.utils.to_categorical(y_train, 10)
    y_test = engine.utils.to_categorical(y_test, 10)
    n = 6000
    e = _cnn(engine, input_shape)
    k = _cnn(keras, input_shape)
    k.set_weights(e.get_weights())
    he = e.fit(x_train[:n], y_train[:n], batch_size=128, epochs=1, verbose=0, validation_data=(x_test[:2000], y_test[:2000]))
    hk = k.fit(x_train[:n], y_train[:n], batch_size=128, epochs=1, verbose=0, validation_data=(x_test[:2000], y_test[:2000]))
    # Only dropout masks differ between the two runs.
    assert he.history["val_accuracy"][0] == pytest.approx(hk.history["val_accuracy"][0], abs=0.05)
    assert he.history["loss"][0] == pytest.approx(hk.history["loss"][0], rel=0.05)
    score = e.evaluate(x_test[:2000], y_test[:2000], verbose=0)
    assert len(score) == 2 and score[1] == pytest.approx(he.history["val_accuracy"][0], abs=1e-6)
