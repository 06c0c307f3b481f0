"""Deep functional models build and load without recursion (issue 18, "Why" 6): a 3,000-layer chain
ended in RecursionError in the graph walk that orders the layers."""
import sys

import numpy as np
import pytest

import engine
from engine import layers


def chain(n):
    inputs = engine.Input(shape=(2,))
    x = inputs
    for i in range(n):
        x = layers.Identity(name=f"id_{i}")(x) if hasattr(layers, "Identity") else layers.Activation(
            "linear", name=f"id_{i}")(x)
    return engine.Model(inputs, x)


@pytest.mark.slow
def test_a_3000_layer_chain_builds_below_the_recursion_limit():
    assert sys.getrecursionlimit() < 3000 * 2
    model = chain(3000)
    assert len(model.layers) == 3001 and model.layers[-1].name == "id_2999"
    x = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_the_layer_order_of_a_branching_model_is_keras_s():
    # Keras orders by depth from the outputs, ties in depth-first order from the last output: the
    # walk without recursion must keep it (files pair weights with layers by this position).
    a = engine.Input(shape=(3,), name="a")
    b = engine.Input(shape=(3,), name="b")
    left = layers.Dense(2, name="left")(a)
    right = layers.Dense(2, name="right")(b)
    mid = layers.Add(name="add")([left, right])
    out1 = layers.Dense(1, name="out1")(mid)
    out2 = layers.Dense(1, name="out2")(layers.Dense(2, name="deep")(mid))
    model = engine.Model([a, b], [out1, out2])
    assert [layer.name for layer in model.layers] == ["a", "b", "left", "right", "add", "deep", "out1", "out2"]
