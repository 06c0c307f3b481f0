"""keras.io NLP examples on the engine and on Keras 3 (torch backend) in the same test, IMDB and Nietzsche
replaced by small integer arrays: "Text classification with Transformer" (a TransformerBlock layer with
MultiHeadAttention and a TokenAndPositionEmbedding layer using ops.arange), "Bidirectional LSTM on IMDB",
and "Character-level text generation with LSTM" (its sampling function included). Shapes, parameter
counts, outputs on the same weights, and training steps from the same weights."""
import numpy as np
import pytest

import engine

from ._compare import fit_both, np_, pair, same


def _transformer_classifier(K, maxlen=20, vocab_size=200, embed_dim=32, num_heads=2, ff_dim=32, rate=0.1):
    layers, ops = K.layers, K.ops

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = K.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    inputs = layers.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    x = TransformerBlock(embed_dim, num_heads, ff_dim, rate)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(rate)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    return K.Model(inputs=inputs, outputs=layers.Dense(2, activation="softmax")(x))


@pytest.mark.slow  # 2-10 s on the shared 2-core machine: two full-size models for the parameter count, then training
def test_text_classification_with_transformer(keras):
    ours, theirs = pair(keras, _transformer_classifier)
    # The example's sizes (maxlen 200, vocab 20000, embed 32) give Keras's count too.
    assert (_transformer_classifier(engine, maxlen=200, vocab_size=20000).count_params()
            == _transformer_classifier(keras, maxlen=200, vocab_size=20000).count_params() == 657758)
    rng = np.random.default_rng(0)
    x = engine.utils.pad_sequences([rng.integers(1, 200, size=n) for n in rng.integers(5, 30, size=16)], maxlen=20)
    y = rng.integers(2, size=16)
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    # Training is compared without dropout (the two libraries draw different masks).
    ours, theirs = pair(keras, _transformer_classifier, rate=0.0)
    fit_both(keras, ours, theirs, lambda K: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                                 metrics=["accuracy"]), x, y, batch_size=8, epochs=1)


def _bidirectional_imdb(K, max_features=20000):
    layers = K.layers
    inputs = K.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    return K.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


@pytest.mark.slow  # 2-10 s on the shared 2-core machine: the full-size 2.7M-parameter model, stacked Bidirectional LSTMs trained
def test_bidirectional_lstm_imdb(keras):
    ours, theirs = pair(keras, _bidirectional_imdb, max_features=500)
    assert engine.Model.count_params(_bidirectional_imdb(engine)) == 2757761
    rng = np.random.default_rng(1)
    x = engine.utils.pad_sequences([rng.integers(1, 500, size=n) for n in rng.integers(3, 12, size=8)], maxlen=10)
    y = rng.integers(2, size=8)
    same(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    fit_both(keras, ours, theirs, lambda K: dict(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"]),
             x, y, batch_size=4, epochs=1)


def _char_lstm(K, maxlen=12, chars=17, units=128):
    return K.Sequential([K.Input(shape=(maxlen, chars)), K.layers.LSTM(units),
                         K.layers.Dense(chars, activation="softmax")])


def _sample(preds, temperature=1.0, rng=None):
    # The example's helper: reweight a distribution by a temperature and draw from it.
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    return np.argmax(rng.multinomial(1, preds, 1))


@pytest.mark.slow  # 2-10 s on the shared 2-core machine: an LSTM trained and sampled in both libraries
def test_character_level_text_generation(keras):
    text = "the quick brown fox jumps over the lazy dog. " * 4
    chars = sorted(list(set(text)))
    char_indices = {c: i for i, c in enumerate(chars)}
    maxlen, step = 12, 3
    sentences = [text[i: i + maxlen] for i in range(0, len(text) - maxlen, step)]
    next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
    y = np.zeros((len(sentences), len(chars)), dtype="bool")
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1
    assert (_char_lstm(engine, maxlen, len(chars)).count_params() == _char_lstm(keras, maxlen, len(chars)).count_params()
            == 4 * (len(chars) * 128 + 128 * 128 + 128) + 129 * len(chars))
    ours, theirs = pair(keras, _char_lstm, maxlen=maxlen, chars=len(chars), units=32)  # trained at a quarter width
    fit_both(keras, ours, theirs, lambda K: dict(loss="categorical_crossentropy",
                                                 optimizer=K.optimizers.RMSprop(learning_rate=0.01)),
             x, y, batch_size=32, epochs=1)
    generated = []
    for model in (ours, theirs):
        rng, sentence, out = np.random.default_rng(3), text[:maxlen], ""
        for _ in range(10):
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.0
            preds = np_(model(x_pred))[0]
            next_char = chars[_sample(preds, 0.5, rng)]
            sentence, out = sentence[1:] + next_char, out + next_char
        generated.append(out)
    assert generated[0] == generated[1]
