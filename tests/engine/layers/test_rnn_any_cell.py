"""keras.layers.RNN with any cell (the engine's, stacked, or a user's own) and StackedRNNCells,
against Keras: outputs, gradients, weights, masks, configs and files."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from tests.engine.layers.harness import check_against_keras


def _minimal_cell(lib):
    """The keras.io RNN guide's MinimalRNNCell, written against ``lib`` (engine or keras)."""

    class MinimalRNNCell(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            prev_output = states[0]
            output = lib.ops.tanh(lib.ops.matmul(inputs, self.kernel)
                                  + lib.ops.matmul(prev_output, self.recurrent_kernel))
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return MinimalRNNCell


def _lib(L):
    import keras

    return engine if L is E else keras


CASES = [
    ("lstm_cell", lambda L: L.RNN(L.LSTMCell(4)), {}),
    ("gru_cell_seq", lambda L: L.RNN(L.GRUCell(3), return_sequences=True), {}),
    ("simple_cell_back", lambda L: L.RNN(L.SimpleRNNCell(5), go_backwards=True), {}),
    ("stacked_list", lambda L: L.RNN([L.SimpleRNNCell(4), L.GRUCell(3)], return_sequences=True), {}),
    ("stacked_lstm", lambda L: L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.LSTMCell(2)])), {}),
    ("user_cell", lambda L: L.RNN(_minimal_cell(_lib(L))(4), return_sequences=True), {}),
    ("user_cell_state", lambda L: L.RNN(_minimal_cell(_lib(L))(3), return_state=True), {}),
    ("user_cell_stacked", lambda L: L.RNN([_minimal_cell(_lib(L))(3), L.LSTMCell(2)]), {}),
]


@pytest.mark.slow
@pytest.mark.parametrize("factory,opts", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rnn_matches_keras(keras, factory, opts):
    check_against_keras(factory, (2, 5, 3), keras=keras, **opts)


@pytest.mark.parametrize("factory", [CASES[0][1], CASES[3][1], CASES[5][1]], ids=["lstm", "stacked", "user"])
def test_rnn_masks_match_keras(keras, factory):
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    check_against_keras(factory, (2, 5, 3), keras=keras, mask=mask)


@pytest.mark.parametrize("factory", [
    lambda L: L.RNN(L.LSTMCell(4, name="c"), return_sequences=True, name="probe"),
    lambda L: L.RNN(L.StackedRNNCells([L.SimpleRNNCell(4, name="a"), L.GRUCell(3, name="b")], name="s"),
                    name="probe"),
    lambda L: L.StackedRNNCells([L.LSTMCell(4, name="a"), L.LSTMCell(2, name="b")], name="probe"),
], ids=["lstm", "stacked_list", "stacked_cells"])
def test_rnn_config_matches_keras(keras, factory):
    # (Nested cell configs compared after the harness's normalization of initializer entries.)
    import json

    def canon(cfg):
        text = json.dumps(cfg, sort_keys=True, default=list)
        return json.loads(text.replace(', "input_axes": null', "").replace(', "output_axes": null', "")
                          .replace('"input_axes": null, ', "").replace('"output_axes": null, ', ""))

    e, k = factory(E), factory(keras.layers)
    assert canon(e.get_config()) == canon(k.get_config())
    for cfg in (e.get_config(), k.get_config()):
        assert canon(type(e).from_config(cfg).get_config()) == canon(e.get_config())


def test_user_cell_model_files_go_both_ways(keras, tmp_path):
    def build(lib):
        inp = lib.Input(shape=(6, 3))
        h = lib.layers.Masking()(inp)
        h = lib.layers.RNN(_minimal_cell(lib)(4, name="cell"), return_sequences=True, name="rnn")(h)
        return lib.Model(inp, lib.layers.RNN([lib.layers.GRUCell(3), lib.layers.LSTMCell(2)], name="stack")(h))

    x = np.random.default_rng(0).standard_normal((3, 6, 3)).astype("float32")
    x[1, 4:] = 0.0
    e, k = build(engine), build(keras)
    k.set_weights(e.get_weights())
    want = k.predict(x, verbose=0)
    np.testing.assert_allclose(e.predict(x, verbose=0), want, atol=1e-5)
    e.save(str(tmp_path / "e.keras"))
    kcls, ecls = _minimal_cell(keras), _minimal_cell(engine)
    back = keras.models.load_model(str(tmp_path / "e.keras"), custom_objects={"MinimalRNNCell": kcls})
    np.testing.assert_allclose(back.predict(x, verbose=0), want, atol=1e-5)
    k.save(str(tmp_path / "k.keras"))
    mine = engine.models.load_model(str(tmp_path / "k.keras"), custom_objects={"MinimalRNNCell": ecls})
    np.testing.assert_allclose(mine.predict(x, verbose=0), want, atol=1e-5)


def test_rnn_shapes_and_errors():
    out = E.RNN(E.LSTMCell(4), return_sequences=True)(engine.Input(shape=(7, 3)))
    assert tuple(out.shape) == (None, 7, 4)
    outs = E.RNN([E.LSTMCell(4), E.GRUCell(2)], return_state=True)(engine.Input(shape=(7, 3)))
    assert [tuple(t.shape) for t in outs] == [(None, 2), (None, 4), (None, 4), (None, 2)]
    with pytest.raises(ValueError, match="state_size"):
        E.RNN(E.Dense(3))
    with pytest.raises(ValueError, match="3-D input"):
        E.RNN(E.LSTMCell(2))(torch.zeros(2, 3))
