"""Architectures for the saving tests, written once for any Keras-like module ``K`` (keras or engine)."""
import numpy as np


def mlp(K):
    L = K.layers
    return K.Sequential([K.Input((8,)), L.Dense(16, activation="relu"), L.Dropout(0.2),
                         L.Dense(4, activation="softmax")])


def seed_cnn(K):
    L = K.layers
    return K.Sequential([K.Input((12, 12, 1)), L.Conv2D(4, (3, 3), activation="relu"),
                         L.Conv2D(8, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)), L.Dropout(0.25),
                         L.Flatten(), L.Dense(16, activation="relu"), L.Dropout(0.5),
                         L.Dense(3, activation="softmax")])


def strided_same(K):
    # Even (8x8) and odd (9x9) sizes: "same" padding with stride 2 puts the extra pixel at the end.
    L = K.layers
    a, b = K.Input((8, 8, 2)), K.Input((9, 9, 2))
    conv_a = L.Conv2D(3, 3, strides=2, padding="same")(a)
    conv_b = L.Conv2D(3, 3, strides=2, padding="same")(b)
    pa = L.Flatten()(L.AveragePooling2D(2, padding="same")(conv_a))
    pb = L.Flatten()(L.MaxPooling2D(2, padding="same")(conv_b))
    return K.Model([a, b], L.Dense(2)(L.Concatenate()([pa, pb])))


def batchnorm(K):
    L = K.layers
    return K.Sequential([K.Input((6,)), L.Dense(8), L.BatchNormalization(), L.Activation("relu"), L.Dense(1)])


def embedding_lstm_gru(K):
    L = K.layers
    return K.Sequential([K.Input((7,), dtype="int32"), L.Embedding(20, 6), L.LSTM(5, return_sequences=True),
                         L.GRU(4), L.Dense(2)])


def simple_rnn(K):
    L = K.layers
    return K.Sequential([K.Input((5, 3)), L.SimpleRNN(4, return_sequences=True),
                         L.Bidirectional(L.LSTM(3)), L.Dense(1)])


def branches(K):
    L = K.layers
    a = K.Input((6,))
    b1 = L.Dense(4)(a)
    b2 = L.Dense(4, activation="relu")(a)
    c = L.Concatenate()([L.Add()([b1, b2]), a])
    return K.Model(a, L.Dense(2)(c))


def two_in_two_out(K):
    L = K.layers
    a, b = K.Input((5,), name="in_a"), K.Input((3,), name="in_b")
    x = L.Concatenate()([L.Dense(4, activation="tanh")(a), b])
    out1 = L.Dense(2, name="out_1")(x)
    out2 = L.Dense(1, name="out_2")(L.Dense(3)(x))
    return K.Model([a, b], [out1, out2])


def shared_layer(K):
    L = K.layers
    a, b = K.Input((4,)), K.Input((4,))
    shared = L.Dense(3)
    y = L.Add()([shared(a), shared(b)])
    return K.Model([a, b], L.Dense(1)(y))


ZOO = {f.__name__: f for f in (mlp, seed_cnn, strided_same, batchnorm, embedding_lstm_gru, simple_rnn, branches,
                               two_in_two_out, shared_layer)}


def inputs_for(model, n=4, seed=0):
    """Random data for the model's inputs: token ids for int inputs, floats otherwise."""
    rng = np.random.default_rng(seed)
    out = []
    for t in model.inputs:
        shape = (n,) + tuple(t.shape[1:])
        if "int" in str(t.dtype):
            out.append(rng.integers(0, 20, size=shape).astype("int32"))
        else:
            out.append(rng.normal(size=shape).astype("float32"))
    return out[0] if len(out) == 1 else out


def targets_for(model, n=4, seed=1):
    rng = np.random.default_rng(seed)
    ys = [rng.normal(size=(n,) + tuple(t.shape[1:])).astype("float32") for t in model.outputs]
    return ys[0] if len(ys) == 1 else ys


def as_list(y):
    return [np.asarray(v) for v in y] if isinstance(y, (list, tuple)) else [np.asarray(y)]


def perturb(model):
    """Give every weight distinct random values (biases and BN statistics too), so order errors show."""
    rng = np.random.default_rng(7)
    ws = []
    for w in model.get_weights():
        w = np.asarray(w)
        v = rng.uniform(0.5, 1.5, size=w.shape) if w.ndim == 1 else rng.normal(scale=0.5, size=w.shape)
        ws.append(v.astype(w.dtype))
    model.set_weights(ws)
