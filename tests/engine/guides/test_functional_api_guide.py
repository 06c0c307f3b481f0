"""keras.io "The Functional API" (Keras 3), run on the engine and on Keras 3 (torch backend) in the same
test: models as layers, an ensemble, a multi-input multi-output model trained with dicts, a toy ResNet,
feature extraction; shapes, layer names, parameter counts, outputs and histories compared on the same
weights."""
import numpy as np
import pytest
import torch

import engine


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _autoencoder(K):
    layers = K.layers
    encoder_input = K.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder = K.Model(encoder_input, layers.GlobalMaxPooling2D()(x), name="encoder")
    decoder_input = K.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder = K.Model(decoder_input, layers.Conv2DTranspose(1, 3, activation="relu")(x), name="decoder")
    autoencoder_input = K.Input(shape=(28, 28, 1), name="img")
    return K.Model(autoencoder_input, decoder(encoder(autoencoder_input)), name="autoencoder")


def _ensemble(K):
    def get_model():
        inputs = K.Input(shape=(128,))
        return K.Model(inputs, K.layers.Dense(1)(inputs))

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = K.Input(shape=(128,))
    return K.Model(inputs, K.layers.average([model1(inputs), model2(inputs), model3(inputs)]))


def _ticket_classifier(K, num_tags=12, num_words=100, num_departments=4):
    layers = K.layers
    title_input = K.Input(shape=(None,), name="title")
    body_input = K.Input(shape=(None,), name="body")
    tags_input = K.Input(shape=(num_tags,), name="tags")
    title_features = layers.LSTM(16)(layers.Embedding(num_words, 8)(title_input))
    body_features = layers.LSTM(8)(layers.Embedding(num_words, 8)(body_input))
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    return K.Model(inputs=[title_input, body_input, tags_input],
                   outputs={"priority": priority_pred, "department": department_pred})


def _toy_resnet(K):
    layers = K.layers
    inputs = K.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return K.Model(inputs, layers.Dense(10)(x), name="toy_resnet")


def _pair(keras, build):
    ours, theirs = build(engine), build(keras)
    assert [tuple(t.shape) for t in ours.outputs] == [tuple(t.shape) for t in theirs.outputs]
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    return ours, theirs


def _same(a, b):
    for x, y in zip(a if isinstance(a, (list, tuple)) else [a], b if isinstance(b, (list, tuple)) else [b]):
        np.testing.assert_allclose(_np(x), _np(y), rtol=1e-4, atol=1e-5)


def test_models_used_as_layers_and_an_ensemble(keras):
    rng = np.random.default_rng(0)
    ours, theirs = _pair(keras, _autoencoder)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers] == ["img", "encoder", "decoder"]
    images = rng.random((2, 28, 28, 1)).astype("float32")
    _same(ours.predict(images, verbose=0), theirs.predict(images, verbose=0))
    ours, theirs = _pair(keras, _ensemble)
    data = rng.standard_normal((4, 128)).astype("float32")
    _same(ours.predict(data, verbose=0), theirs.predict(data, verbose=0))


@pytest.mark.slow  # trains both models (0.2-0.5 s, several seconds on a busy machine); the guide's other two tests stay in the fast loop
def test_multi_input_multi_output_model_trains_as_keras(keras):
    ours, theirs = _pair(keras, _ticket_classifier)
    rng = np.random.default_rng(1)
    x = {"title": rng.integers(100, size=(16, 10)), "body": rng.integers(100, size=(16, 20)),
         "tags": rng.integers(2, size=(16, 12)).astype("float32")}
    y = {"priority": rng.random((16, 1)).astype("float32"),
         "department": rng.integers(2, size=(16, 4)).astype("float32")}
    histories = []
    for K, model in ((engine, ours), (keras, theirs)):
        model.compile(optimizer=K.optimizers.RMSprop(1e-3),
                      loss={"priority": K.losses.BinaryCrossentropy(from_logits=True),
                            "department": K.losses.CategoricalCrossentropy(from_logits=True)},
                      loss_weights={"priority": 1.0, "department": 0.2})
        histories.append(model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history)
    assert sorted(histories[0]) == sorted(histories[1])
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4, err_msg=key)
    _same(ours.predict(x, verbose=0)["department"], theirs.predict(x, verbose=0)["department"])


def test_toy_resnet_and_feature_extraction(keras):
    ours, theirs = _pair(keras, _toy_resnet)
    images = np.random.default_rng(2).random((2, 32, 32, 3)).astype("float32")
    _same(ours.predict(images, verbose=0), theirs.predict(images, verbose=0))
    feats = [K.Model(inputs=m.inputs, outputs=[layer.output for layer in m.layers]) for K, m in
             ((engine, ours), (keras, theirs))]
    assert len(feats[0].outputs) == len(feats[1].outputs) == len(theirs.layers)
    _same(feats[0].predict(images, verbose=0), feats[1].predict(images, verbose=0))
