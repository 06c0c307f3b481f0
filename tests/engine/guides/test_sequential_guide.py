"""keras.io "The Sequential model" (Keras 3), on the engine and on Keras 3 (torch backend) in the same
test: building by list and by add()/pop(), deferred building, Input and input_shape, the add() +
summary() downsampling workflow, feature extraction from layer outputs, and freezing all but the last
layer for transfer learning; shapes, weights, parameter counts, summaries and outputs compared."""
import re

import numpy as np
import pytest

import engine

from ._compare import np_, same


def _building(K):
    layers = K.layers
    facts = {}
    model = K.Sequential([layers.Dense(2, activation="relu", name="layer1"),
                          layers.Dense(3, activation="relu", name="layer2"), layers.Dense(4, name="layer3")])
    facts["called"] = tuple(model(np.ones((3, 3), "float32")).shape)
    facts["names"] = [l.name for l in model.layers]
    model = K.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    model.pop()
    facts["after_pop"] = len(model.layers)
    layer = layers.Dense(3)
    facts["unbuilt_weights"] = len(layer.weights)
    layer(np.ones((1, 4), "float32"))
    facts["built_weights"] = [tuple(w.shape) for w in layer.weights]
    model = K.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3, activation="relu"), layers.Dense(4)])
    facts["deferred"] = (model.built, len(model.weights))
    model(np.ones((1, 4), "float32"))
    facts["after_call"] = (model.built, len(model.weights), model.count_params())
    model = K.Sequential()
    model.add(K.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    facts["with_input"] = ([type(l).__name__ for l in model.layers], model.count_params(), tuple(model.output_shape))
    model = K.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))
    facts["input_shape"] = (len(model.weights), model.count_params(), tuple(model.output_shape))
    return facts


def test_building_sequential_models_as_keras_does(keras):
    ours, theirs = _building(engine), _building(keras)
    assert ours == theirs


def _downsampling(K, side=250):
    layers = K.layers
    model = K.Sequential(name="my_sequential")
    model.add(K.Input(shape=(side, side, 3)))
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    shapes = [tuple(model.output_shape)]
    for layer in (layers.Conv2D(32, 3, activation="relu"), layers.Conv2D(32, 3, activation="relu"),
                  layers.MaxPooling2D(3), layers.Conv2D(32, 3, activation="relu"),
                  layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2)):
        model.add(layer)
    shapes.append(tuple(model.output_shape))
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))
    return model, shapes


def _summary_rows(model):
    lines = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line))
    text = "\n".join(lines)
    # Layer rows: "│ conv2d (Conv2D)   │ (None, 123, 123, 32) │   2,432 │" (names carry per-process counters,
    # so only the class, shape and count are compared), then the totals.
    rows = re.findall(r"│ \S+ \((\w+)\)\s*│ (\([^)]*\))\s*│\s*([\d,]+) │", text)
    totals = [line.strip() for line in text.splitlines() if "params:" in line]
    return rows, totals


def test_add_and_summary_workflow_matches_keras(keras):
    (ours, our_shapes), (theirs, their_shapes) = _downsampling(engine), _downsampling(keras)
    assert our_shapes == their_shapes == [(None, 40, 40, 32), (None, 4, 4, 32)]
    assert ours.count_params() == theirs.count_params() == 49002
    assert _summary_rows(ours) == _summary_rows(theirs)
    rows, totals = _summary_rows(ours)
    assert rows[:3] == [("Conv2D", "(None, 123, 123, 32)", "2,432"), ("Conv2D", "(None, 121, 121, 32)", "9,248"),
                        ("MaxPooling2D", "(None, 40, 40, 32)", "0")]
    assert totals[0] == "Total params: 49,002 (191.41 KB)"
    # Outputs on the same weights (a smaller image: the same layers, the shapes scale down).
    (ours, _), (theirs, _) = _downsampling(engine, side=160), _downsampling(keras, side=160)
    ours.set_weights([np_(w) for w in theirs.get_weights()])
    images = np.random.default_rng(0).random((1, 160, 160, 3)).astype("float32")
    same(ours(images), theirs(images))


def _extractors(K):
    layers = K.layers
    initial_model = K.Sequential([
        K.Input(shape=(40, 40, 3)), layers.Conv2D(8, 5, strides=2, activation="relu"),
        layers.Conv2D(8, 3, activation="relu", name="my_intermediate_layer"), layers.Conv2D(8, 3, activation="relu")])
    every = K.Model(inputs=initial_model.inputs, outputs=[layer.output for layer in initial_model.layers])
    one = K.Model(inputs=initial_model.inputs, outputs=initial_model.get_layer(name="my_intermediate_layer").output)
    return initial_model, every, one


def test_feature_extraction_from_a_sequential_model(keras):
    (base, every, one), (their_base, their_every, their_one) = _extractors(engine), _extractors(keras)
    base.set_weights([np_(w) for w in their_base.get_weights()])
    x = np.random.default_rng(1).random((1, 40, 40, 3)).astype("float32")
    ours, theirs = every(x), their_every(x)
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs] == [
        (1, 18, 18, 8), (1, 16, 16, 8), (1, 14, 14, 8)]
    same(ours, theirs)
    same(one(x), their_one(x))
    same(ours[1], one(x))


def _frozen_but_last(K, weights=None):
    layers = K.layers
    model = K.Sequential([K.Input(shape=(784,)), layers.Dense(32, activation="relu"),
                          layers.Dense(32, activation="relu"), layers.Dense(32, activation="relu"), layers.Dense(10)])
    if weights is not None:
        model.set_weights(weights)
    for layer in model.layers[:-1]:
        layer.trainable = False
    model.compile(optimizer="adam", loss=K.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(2)
    x, y = rng.random((32, 784)).astype("float32"), rng.integers(10, size=(32,))
    before = [np_(w) for w in model.get_weights()]
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    return model, before, history


@pytest.mark.slow  # about 2 s on a loaded machine: two fits, Keras's first fit compiles its loop
def test_transfer_learning_freezes_all_but_the_last_layer(keras):
    theirs, start, their_history = _frozen_but_last(keras)
    ours, _, our_history = _frozen_but_last(engine, weights=start)
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 2
    np.testing.assert_allclose(our_history["loss"], their_history["loss"], rtol=1e-4)
    after = [np_(w) for w in ours.get_weights()]
    for a, b in zip(after[:-2], start[:-2]):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(after[-2], start[-2])
    same(ours.get_weights(), theirs.get_weights())
