"""keras.io "Working with RNNs" (Keras 3), on the engine and on Keras 3 (torch backend) in the same test:
Embedding + LSTM/GRU/SimpleRNN stacks, an encoder-decoder whose decoder starts from the encoder's
states, cross-batch statefulness with reset_states() and state reuse, Bidirectional, LSTM versus
RNN(LSTMCell) trained on MNIST rows with SGD, and a custom cell in RNN (the guide's nested-input
NestedCell uses tf.TensorShape/tf.nest and is refused by Keras 3 itself, so a flat cell stands in).
Parameter counts, layer classes, output shapes and outputs on the same weights compared."""
import numpy as np
import pytest

import engine

from ._compare import np_, pair, same


def _lstm_stack(K):
    layers = K.layers
    model = K.Sequential([K.Input(shape=(None,), dtype="int32"), layers.Embedding(input_dim=1000, output_dim=64),
                          layers.LSTM(128), layers.Dense(10)])
    return model


def _gru_stack(K):
    layers = K.layers
    return K.Sequential([K.Input(shape=(None,), dtype="int32"), layers.Embedding(input_dim=1000, output_dim=64),
                         layers.GRU(256, return_sequences=True), layers.SimpleRNN(128), layers.Dense(10)])


def _encoder_decoder(K, encoder_vocab=1000, decoder_vocab=2000):
    layers = K.layers
    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)
    decoder_output = layers.LSTM(64, name="decoder")(decoder_embedded, initial_state=[state_h, state_c])
    return K.Model([encoder_input, decoder_input], layers.Dense(10)(decoder_output))


def _bidirectional(K):
    layers = K.layers
    model = K.Sequential()
    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))
    return model


_SLOW = pytest.mark.slow  # over 1 s each on a loaded 2-core machine (Keras's orthogonal initializers)


@pytest.mark.parametrize("build, params", [
    pytest.param(_lstm_stack, 164106, id="lstm"), pytest.param(_gru_stack, 361866, id="gru_simplernn", marks=_SLOW),
    pytest.param(_encoder_decoder, 258698, id="encoder_decoder"),
    pytest.param(_bidirectional, 80266, id="bidirectional", marks=_SLOW)])
def test_built_in_rnn_models_match_keras(keras, build, params):
    ours, theirs = pair(keras, build)
    assert ours.count_params() == params
    rng = np.random.default_rng(0)
    if build is _encoder_decoder:
        x = [rng.integers(1000, size=(3, 7)), rng.integers(2000, size=(3, 4))]
    elif build is _bidirectional:
        x = rng.random((3, 5, 10)).astype("float32")
    else:
        x = rng.integers(1000, size=(3, 6))
    same(ours(x), theirs(x))


def _statefulness(K, weights=None):
    rng = np.random.default_rng(1)
    paragraph1, paragraph2, paragraph3 = (rng.random((20, 10, 50)).astype("float32") for _ in range(3))
    lstm_layer = K.layers.LSTM(16, stateful=True)
    new_lstm_layer = K.layers.LSTM(16)
    for layer, w in zip((lstm_layer, new_lstm_layer), weights or (None, None)):
        layer.build((20, 10, 50))
        if w is not None:
            layer.set_weights(w)
    first = lstm_layer(paragraph1)
    second = lstm_layer(paragraph2)
    existing_state = lstm_layer.states
    reused = new_lstm_layer(paragraph3, initial_state=existing_state)
    continued = lstm_layer(paragraph3)
    lstm_layer.reset_states()
    restarted = lstm_layer(paragraph1)
    weights = [[np_(w) for w in layer.get_weights()] for layer in (lstm_layer, new_lstm_layer)]
    return weights, [np_(t) for t in (first, second, *existing_state, reused, continued, restarted)]


def test_cross_batch_statefulness_and_state_reuse(keras):
    weights, theirs = _statefulness(keras)
    _, ours = _statefulness(engine, weights)
    same(ours, theirs)
    same(ours[-1], ours[0])  # reset_states() starts again from zeros
    assert not np.allclose(ours[1], ours[-1])


def _mnist_rnn(K, allow_cudnn_kernel=True, units=16):
    if allow_cudnn_kernel:
        lstm_layer = K.layers.LSTM(units, input_shape=(None, 28))
    else:
        lstm_layer = K.layers.RNN(K.layers.LSTMCell(units), input_shape=(None, 28))
    return K.models.Sequential([lstm_layer, K.layers.BatchNormalization(), K.layers.Dense(10)])


@pytest.mark.slow  # about 3 s: four short fits on MNIST rows
def test_lstm_and_rnn_of_lstmcell_train_alike_on_mnist_rows(keras):
    (x_train, y_train), _ = engine.datasets.mnist.load_data()
    x_train, y_train = x_train[:128] / 255.0, y_train[:128]
    ours, theirs = pair(keras, _mnist_rnn)
    start = [np_(w) for w in theirs.get_weights()]
    histories = []
    for K, model in ((engine, ours), (keras, theirs)):
        cell_model = _mnist_rnn(K, allow_cudnn_kernel=False)
        cell_model.set_weights(start)
        for m in (model, cell_model):
            m.compile(loss=K.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd",
                      metrics=["accuracy"])
            histories.append(m.fit(x_train, y_train, batch_size=64, epochs=1, shuffle=False, verbose=0).history)
        same(model.predict_on_batch(x_train[:1]), cell_model.predict_on_batch(x_train[:1]))
    for ours_or_cell in histories[:3]:
        np.testing.assert_allclose(ours_or_cell["loss"], histories[3]["loss"], rtol=1e-4)
        np.testing.assert_allclose(ours_or_cell["accuracy"], histories[3]["accuracy"])
    same(ours.get_weights(), theirs.get_weights(), atol=1e-4)


def _custom_cell_model(K):
    class MinimalRNNCell(K.layers.Layer):
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
            output = K.ops.matmul(inputs, self.kernel) + K.ops.matmul(prev_output, self.recurrent_kernel)
            return output, [output]

    inputs = K.Input((None, 5))
    x = K.layers.RNN(MinimalRNNCell(8), return_sequences=True)(inputs)
    return K.Model(inputs, K.layers.RNN([MinimalRNNCell(4), MinimalRNNCell(3)])(x))


def test_custom_cells_in_rnn_match_keras(keras):
    ours, theirs = pair(keras, _custom_cell_model)
    assert ours.count_params() == 5 * 8 + 64 + 8 * 4 + 16 + 4 * 3 + 9
    x = np.random.default_rng(3).random((2, 6, 5)).astype("float32")
    same(ours(x), theirs(x))


def _guide_stack_without_input(K):
    # As the guide writes it: no Input; the model is built by its first call.
    model = K.Sequential()
    model.add(K.layers.Embedding(input_dim=1000, output_dim=8))
    model.add(K.layers.LSTM(6))
    model.add(K.layers.Dense(10))
    model(np.zeros((2, 5), "int32"))
    return model


def test_a_model_built_by_its_first_call_takes_other_sequence_lengths(keras):
    ours, theirs = _guide_stack_without_input(engine), _guide_stack_without_input(keras)
    ours.set_weights([np_(w) for w in theirs.get_weights()])
    x = np.random.default_rng(4).integers(1000, size=(3, 9))
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
