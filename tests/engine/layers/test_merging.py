import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras

ELEMENTWISE = ["Add", "Multiply", "Average", "Maximum", "Minimum"]


@pytest.mark.parametrize("cls", ELEMENTWISE)
@pytest.mark.parametrize("shapes", [
    [(2, 3, 4), (2, 3, 4)],
    [(2, 5), (2, 5), (2, 5)],
    [(2, 3, 1), (2, 1, 4)],          # size-1 dimensions broadcast
    [(2, 4), (2, 3, 4)],             # a lower rank gets axes after the batch axis
])
def test_elementwise_merges_match_keras(keras, cls, shapes):
    check_against_keras(lambda L: getattr(L, cls)(), shapes, keras=keras)


@pytest.mark.parametrize("shapes", [[(2, 3, 4), (2, 3, 4)], [(2, 1, 4), (2, 3, 1)]])
def test_subtract_matches_keras(keras, shapes):
    check_against_keras(lambda L: L.Subtract(), shapes, keras=keras)


@pytest.mark.parametrize("axis,shapes", [
    (-1, [(2, 3, 4), (2, 3, 5)]),
    (1, [(2, 3, 4), (2, 1, 4), (2, 2, 4)]),
    (-1, [(2, 4, 4, 3), (2, 4, 4, 8)]),
])
def test_concatenate_matches_keras(keras, axis, shapes):
    check_against_keras(lambda L: L.Concatenate(axis=axis), shapes, keras=keras)


@pytest.mark.parametrize("axes,shapes", [
    (1, [(3, 4), (3, 4)]),
    (-1, [(3, 4), (3, 4)]),
    ((1, 2), [(2, 3, 5), (2, 6, 3)]),
    ((2, 1), [(2, 3, 5), (2, 5, 4)]),
    (1, [(2, 4), (2, 4, 6)]),
    ((2, 1), [(2, 3, 4), (2, 4)]),
    ((3, 1), [(2, 3, 2, 4), (2, 4, 2, 5)]),
])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_keras(keras, axes, shapes, normalize):
    check_against_keras(lambda L: L.Dot(axes=axes, normalize=normalize), shapes, keras=keras)


# ---------------------------------------------------------------- shapes and errors
def test_add_shape_error_names_layer_and_shapes():
    a = E.Input(shape=(26, 26, 32))
    b = E.Input(shape=(24, 24, 32))
    with pytest.raises(ValueError) as info:
        E.Add()([a, b])
    msg = str(info.value)
    assert "Add" in msg and "'add'" in msg
    assert "[(None, 26, 26, 32), (None, 24, 24, 32)]" in msg


@pytest.mark.parametrize("cls", ELEMENTWISE + ["Subtract"])
def test_elementwise_shape_errors(cls):
    layer = getattr(E, cls)()
    with pytest.raises(ValueError, match=cls + r".*\[\(None, 3\), \(None, 4\)\]"):
        layer.compute_output_shape([(None, 3), (None, 4)])


def test_elementwise_output_shapes_follow_keras_broadcasting():
    add = E.Add()
    assert add.compute_output_shape([(None, 3, 1), (None, 1, 4)]) == (None, 3, 4)
    assert add.compute_output_shape([(None, None, 4), (None, 5, 4)]) == (None, None, 4)
    assert add.compute_output_shape([(None, 4), (None, 3, 4)]) == (None, 3, 4)
    assert add.compute_output_shape([(8, 4), (None, 4)]) == (8, 4)
    with pytest.raises(ValueError, match="batch size"):
        add.compute_output_shape([(8, 4), (6, 4)])


def test_merge_needs_a_list():
    with pytest.raises(ValueError, match="list"):
        E.Add().compute_output_shape((None, 3))
    with pytest.raises(ValueError, match=r"exactly 2 inputs.*3"):
        E.Subtract().compute_output_shape([(None, 3)] * 3)


def test_concatenate_shapes_and_errors():
    cat = E.Concatenate()
    assert cat.compute_output_shape([(None, 4, 4, 3), (None, 4, 4, 5)]) == (None, 4, 4, 8)
    assert cat.compute_output_shape([(None, 4, None), (None, 4, 5)]) == (None, 4, None)
    assert E.Concatenate(axis=1).compute_output_shape([(None, 2, 3), (None, 4, None)]) == (None, 6, 3)
    with pytest.raises(ValueError, match=r"Concatenate layer 'concatenate.*\[\(None, 4, 4, 3\), \(None, 5, 5, 3\)\]"):
        cat.compute_output_shape([(None, 4, 4, 3), (None, 5, 5, 3)])
    with pytest.raises(ValueError, match="same rank"):
        cat.compute_output_shape([(None, 4, 3), (None, 3)])
    with pytest.raises(ValueError, match="axis 5"):
        E.Concatenate(axis=5).compute_output_shape([(None, 3), (None, 3)])


def test_dot_shapes_and_errors():
    assert E.Dot(axes=1).compute_output_shape([(None, 4), (None, 4)]) == (None, 1)
    assert E.Dot(axes=(1, 2)).compute_output_shape([(None, 3, 5), (None, 10, 3)]) == (None, 5, 10)
    with pytest.raises(ValueError, match=r"Dot layer.*4.*!= 5.*\[\(None, 4\), \(None, 5\)\]"):
        E.Dot(axes=1).compute_output_shape([(None, 4), (None, 5)])
    with pytest.raises(ValueError, match="two elements"):
        E.Dot(axes=(1, 2, 3))
    with pytest.raises(TypeError, match="axes"):
        E.Dot(axes="1")


def test_symbolic_shapes_match_keras(keras):
    cases = [(lambda L: L.Add(), [(5, 1), (1, 7)]), (lambda L: L.Concatenate(axis=1), [(3, 2), (4, 2)]),
             (lambda L: L.Dot(axes=(2, 1)), [(3, 4), (4, 6)]), (lambda L: L.Average(), [(4,), (3, 4)])]
    for factory, shapes in cases:
        e_out = factory(E)([E.Input(shape=s) for s in shapes])
        k_out = factory(keras.layers)([keras.Input(shape=s) for s in shapes])
        assert tuple(e_out.shape) == tuple(k_out.shape)


# ---------------------------------------------------------------- functional forms, configs, registry
def test_functional_aliases():
    a = torch.tensor([[1.0, 2.0]])
    b = torch.tensor([[3.0, 5.0]])
    np.testing.assert_allclose(E.add([a, b]).numpy(), [[4.0, 7.0]])
    np.testing.assert_allclose(E.subtract([a, b]).numpy(), [[-2.0, -3.0]])
    np.testing.assert_allclose(E.multiply([a, b]).numpy(), [[3.0, 10.0]])
    np.testing.assert_allclose(E.average([a, b]).numpy(), [[2.0, 3.5]])
    np.testing.assert_allclose(E.maximum([a, b]).numpy(), [[3.0, 5.0]])
    np.testing.assert_allclose(E.minimum([a, b]).numpy(), [[1.0, 2.0]])
    np.testing.assert_allclose(E.concatenate([a, b]).numpy(), [[1.0, 2.0, 3.0, 5.0]])
    np.testing.assert_allclose(E.concatenate([a, b], axis=1).numpy(), [[1.0, 2.0, 3.0, 5.0]])
    np.testing.assert_allclose(E.dot([a, b], axes=1).numpy(), [[13.0]])
    x = E.Input(shape=(4,))
    y = E.concatenate([x, x], name="cat")
    assert y.shape == (None, 8)


def test_merge_in_functional_model():
    a = E.Input(shape=(3,))
    b = E.Input(shape=(3,))
    model = engine.Model([a, b], E.Add()([a, b]))
    out = model([torch.ones(2, 3), torch.full((2, 3), 2.0)])
    np.testing.assert_allclose(out.detach().numpy(), np.full((2, 3), 3.0))


@pytest.mark.parametrize("cls,kwargs", [("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}),
                                        ("Maximum", {}), ("Minimum", {}), ("Concatenate", {}),
                                        ("Concatenate", dict(axis=1)), ("Dot", dict(axes=1)),
                                        ("Dot", dict(axes=(1, 2), normalize=True))])
def test_configs_match_keras_and_round_trip(keras, cls, kwargs):
    e = getattr(E, cls)(name="m", **kwargs)
    k = getattr(keras.layers, cls)(name="m", **kwargs)
    assert e.get_config() == k.get_config()
    assert getattr(E, cls).from_config(e.get_config()).get_config() == e.get_config()
    assert getattr(E, cls).from_config(k.get_config()).get_config() == e.get_config()  # a Keras config loads
    assert registry.category_of(cls) == "Merge"
