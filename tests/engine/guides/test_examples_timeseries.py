"""keras.io timeseries examples on the engine and on Keras 3 (torch backend) in the same test, the data
sets replaced by small synthetic series of the same shapes: "Timeseries classification from scratch"
(a Conv1D/BatchNormalization network on FordA-shaped series), "Timeseries forecasting for weather
prediction" (timeseries_dataset_from_array windows into an LSTM) and "Timeseries anomaly detection
using an Autoencoder" (Conv1D/Conv1DTranspose). Shapes, parameter counts, outputs on the same weights,
and training steps from the same weights."""
import numpy as np
import pytest

import engine

from ._compare import fit_both, np_, pair, same


def _fcn(K, input_shape=(50, 1), num_classes=2, filters=64):
    layers = K.layers
    input_layer = K.layers.Input(input_shape)
    x = input_layer
    for _ in range(3):
        x = layers.Conv1D(filters=filters, kernel_size=3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    gap = layers.GlobalAveragePooling1D()(x)
    return K.Model(inputs=input_layer, outputs=layers.Dense(num_classes, activation="softmax")(gap))


@pytest.mark.slow  # several seconds on the shared 2-core machine: models trained in both libraries
def test_timeseries_classification_from_scratch(keras):
    ours, theirs = pair(keras, _fcn, filters=16)
    assert _fcn(engine, input_shape=(500, 1)).count_params() == 25858  # the example's FordA model
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 50, 1)).astype("float32")
    y = rng.integers(2, size=16)
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    fit_both(keras, ours, theirs, lambda K: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                                 metrics=["sparse_categorical_accuracy"]),
             x, y, batch_size=8, epochs=2, validation_split=0.25, rtol=1e-3)


def _weather_windows(K, features, past=24, step=6, batch_size=8):
    train = features[:-past]
    targets = features[past:, 1]
    return K.utils.timeseries_dataset_from_array(train, targets, sequence_length=past // step,
                                                 sampling_rate=step, batch_size=batch_size)


def _weather_model(K, steps=4, features=7):
    inputs = K.layers.Input(shape=(steps, features))
    lstm_out = K.layers.LSTM(32)(inputs)
    return K.Model(inputs=inputs, outputs=K.layers.Dense(1)(lstm_out))


@pytest.mark.slow  # several seconds on the shared 2-core machine: models trained in both libraries
def test_timeseries_weather_forecasting(keras):
    rng = np.random.default_rng(1)
    raw = rng.standard_normal((120, 7)).astype("float32")
    mean, std = raw[:80].mean(axis=0), raw[:80].std(axis=0)
    features = (raw - mean) / std
    # Keras's timeseries_dataset_from_array needs TensorFlow: the engine's windows are checked against
    # the windows the example describes (4 steps of every 6th hour, the target `past` hours later).
    windows = [(np_(x), np_(y)) for x, y in _weather_windows(engine, features)]
    starts = np.arange(0, len(features) - 24 - 18)
    expected_x = np.stack([features[i: i + 24: 6] for i in starts])
    np.testing.assert_array_equal(np.concatenate([w[0] for w in windows]), expected_x)
    np.testing.assert_array_equal(np.concatenate([w[1] for w in windows]), features[24 + starts, 1])
    assert [w[0].shape[0] for w in windows][:-1] == [8] * (len(windows) - 1)
    x = np.concatenate([w[0] for w in windows])
    y = np.concatenate([w[1] for w in windows])
    assert x.shape[1:] == (4, 7)
    ours, theirs = pair(keras, _weather_model)
    assert ours.count_params() == 5153
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    fit_both(keras, ours, theirs, lambda K: dict(optimizer=K.optimizers.Adam(learning_rate=0.001), loss="mse"),
             x, y, batch_size=16, epochs=2)


def _anomaly_autoencoder(K, steps=288):
    layers = K.layers
    return K.Sequential([
        layers.Input(shape=(steps, 1)),
        layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Dropout(rate=0.2),
        layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ])


@pytest.mark.slow  # several seconds on the shared 2-core machine: models trained in both libraries
def test_timeseries_anomaly_detection_autoencoder(keras):
    ours, theirs = pair(keras, _anomaly_autoencoder, steps=64)
    assert ours.count_params() == 9505
    assert tuple(ours.output_shape) == (None, 64, 1)
    t = np.arange(64 * 8, dtype="float32")
    series = np.sin(t / 8.0).reshape(8, 64, 1)
    same(ours.predict(series, verbose=0), theirs.predict(series, verbose=0))
    # The example's threshold: the largest training reconstruction error, then anomalies above it.
    errors = [np.mean(np.abs(np_(m.predict(series, verbose=0)) - series), axis=1) for m in (ours, theirs)]
    np.testing.assert_allclose(errors[0], errors[1], rtol=1e-4)
    for model in (ours, theirs):
        for layer in model.layers:
            if hasattr(layer, "rate"):
                layer.rate = 0.0  # the libraries draw different dropout masks
    fit_both(keras, ours, theirs, lambda K: dict(optimizer=K.optimizers.Adam(learning_rate=0.001), loss="mse"),
             series, series, batch_size=4, epochs=1)
