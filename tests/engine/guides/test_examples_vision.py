"""keras.io vision examples on the engine and on Keras 3 (torch backend) in the same test, datasets
replaced by small arrays of the same kind: "Simple MNIST convnet" (mnist_convnet) and "Image
classification from scratch" (image_classification_from_scratch: augmentation layers and the small
Xception-like network, at a smaller image size and width). Shapes, parameter counts, outputs on the same
weights, and a couple of training steps from the same weights giving the same losses."""
import numpy as np
import pytest

import engine

from ._compare import fit_both, pair, same


def _mnist_convnet(K, num_classes=10, input_shape=(28, 28, 1)):
    layers = K.layers
    return K.Sequential([
        K.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def test_mnist_convnet(keras):
    ours, theirs = pair(keras, _mnist_convnet)
    assert ours.count_params() == 34826
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1)).astype("float32")
    y = engine.utils.to_categorical(rng.integers(10, size=32), 10)
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    # Dropout draws differ between the libraries' streams, so training is compared with it at rate 0.
    for model in (ours, theirs):
        model.get_layer(index=5).rate = 0.0
    fit_both(keras, ours, theirs, lambda K: dict(loss="categorical_crossentropy", optimizer="adam",
                                                 metrics=["accuracy"]),
             x, y, batch_size=16, epochs=1, validation_split=0.25)
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4)


def _xception_like(K, input_shape=(32, 32, 3), num_classes=2, widths=(16, 32, 64), top=48, augment=True,
                   dropout=0.25):
    layers = K.layers
    data_augmentation_layers = [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    inputs = K.Input(shape=input_shape)
    x = data_augmentation(inputs) if augment else inputs
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(widths[0], 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for size in widths[1:]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.SeparableConv2D(top, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    units = 1 if num_classes == 2 else num_classes
    x = layers.Dropout(dropout)(x)
    return K.Model(inputs, layers.Dense(units, activation=None)(x))


def test_image_classification_from_scratch_model(keras):
    ours, theirs = pair(keras, _xception_like)
    images = (np.random.default_rng(1).random((4, 32, 32, 3)) * 255).astype("float32")
    # Inference: the augmentation layers pass images through; BatchNormalization uses moving statistics.
    same(ours.predict(images, verbose=0), theirs.predict(images, verbose=0))


@pytest.mark.slow  # 0.3 s alone, 2-13 s on the shared loaded machine: a 30-layer network trained twice
def test_image_classification_from_scratch_trains_alike(keras):
    # Random augmentation and dropout draw from different streams in the two libraries: training is
    # compared on the same network without them.
    ours, theirs = pair(keras, _xception_like, augment=False, dropout=0.0)
    rng = np.random.default_rng(2)
    images = (rng.random((16, 32, 32, 3)) * 255).astype("float32")
    labels = rng.integers(2, size=(16, 1)).astype("float32")
    fit_both(keras, ours, theirs, lambda K: dict(optimizer=K.optimizers.Adam(3e-4),
                                                 loss=K.losses.BinaryCrossentropy(from_logits=True),
                                                 metrics=[K.metrics.BinaryAccuracy(name="acc")]),
             images, labels, batch_size=8, epochs=1, rtol=1e-3)
