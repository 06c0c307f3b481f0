"""keras.io "Making new layers and models via subclassing" (Keras 3), run on the engine and on Keras 3
(torch backend) in the same test: the same code with `keras` -> `engine`, small arrays instead of
MNIST; shapes, parameter counts, losses and outputs compared on the same weights."""
import numpy as np
import torch

import engine


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _guide(K):
    """The guide's classes, written once against library K."""
    layers, ops = K.layers, K.ops

    class Linear(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                     trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    class ComputeSum(layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    class MLPBlock(layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = K.activations.relu(x)
            x = self.linear_2(x)
            x = K.activations.relu(x)
            return self.linear_3(x)

    class ActivityRegularizationLayer(layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class OuterLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    class OuterLayerWithKernelRegularizer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(32, kernel_regularizer=K.regularizers.l2(1e-3))

        def call(self, inputs):
            return self.dense(inputs)

    class CustomDropout(layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = K.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return K.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
            return inputs

    class Sampling(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = K.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch, dim = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
            epsilon = K.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            return self.dense_output(self.dense_proj(inputs))

    class VariationalAutoEncoder(K.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    return dict(Linear=Linear, ComputeSum=ComputeSum, MLPBlock=MLPBlock, OuterLayer=OuterLayer,
                OuterLayerWithKernelRegularizer=OuterLayerWithKernelRegularizer, CustomDropout=CustomDropout,
                Encoder=Encoder, Decoder=Decoder, VAE=VariationalAutoEncoder)


def _both(keras):
    return _guide(engine), _guide(keras)


def test_linear_layer_weights_and_outputs(keras):
    e, k = _both(keras)
    x = np.ones((2, 2), "float32")
    ours, theirs = e["Linear"](4), k["Linear"](4)
    ours(x), theirs(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 2
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)), rtol=1e-6)


def test_non_trainable_state_and_nested_layers(keras):
    e, k = _both(keras)
    x = np.ones((2, 2), "float32")
    sums = []
    for lib in (e, k):
        layer = lib["ComputeSum"](2)
        sums.append([_np(layer(x)).tolist(), _np(layer(x)).tolist(), len(layer.weights),
                     len(layer.non_trainable_weights), len(layer.trainable_weights)])
    assert sums[0] == sums[1]
    ours, theirs = e["MLPBlock"](), k["MLPBlock"]()
    ours(np.ones((3, 64), "float32")), theirs(np.ones((3, 64), "float32"))
    assert len(ours.weights) == len(theirs.weights) == 6
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 6
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    data = np.random.default_rng(0).standard_normal((3, 64)).astype("float32")
    np.testing.assert_allclose(_np(ours(data)), _np(theirs(data)), rtol=1e-5, atol=1e-6)


def test_add_loss_and_regularization_losses(keras):
    e, k = _both(keras)
    counts = []
    for lib in (e, k):
        layer = lib["OuterLayer"]()
        first = len(layer.losses)
        layer(np.zeros((1, 1), "float32"))
        after_one = len(layer.losses)
        layer(np.zeros((1, 1), "float32"))
        after_two = len(layer.losses)  # reset at the start of each top-level call
        reg = lib["OuterLayerWithKernelRegularizer"]()
        reg(np.zeros((1, 1), "float32"))
        counts.append((first, after_one, after_two, len(reg.losses)))
    assert counts[0] == counts[1] == (0, 1, 1, 1)


def test_training_argument(keras):
    e, k = _both(keras)
    x = np.ones((4, 100), "float32")
    for lib in (e, k):
        layer = lib["CustomDropout"](0.5)
        np.testing.assert_array_equal(_np(layer(x)), x)  # inference: unchanged
        dropped = _np(layer(x, training=True))
        assert set(np.unique(dropped)) <= {0.0, 2.0} and 0.3 < (dropped == 0).mean() < 0.7


def test_variational_autoencoder_end_to_end(keras):
    rng = np.random.default_rng(0)
    x_train = rng.random((128, 48)).astype("float32")
    results = []
    for K, lib in ((engine, _guide(engine)), (keras, _guide(keras))):
        K.utils.set_random_seed(0)
        vae = lib["VAE"](48, 16, 4)
        vae(x_train[:2])
        results.append(vae)
    ours, theirs = results
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    # The deterministic parts on the same weights: the encoder's mean and log-variance, the decoder.
    for a, b in zip(ours.encoder(x_train[:8])[:2], theirs.encoder(x_train[:8])[:2]):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)
    z = rng.standard_normal((8, 4)).astype("float32")
    np.testing.assert_allclose(_np(ours.decoder(z)), _np(theirs.decoder(z)), rtol=1e-5, atol=1e-6)
    ours(x_train[:8])
    assert len(ours.losses) == 1 and len(theirs.losses) == 1
    ours.compile(engine.optimizers.Adam(learning_rate=1e-3), loss=engine.losses.MeanSquaredError())
    history = ours.fit(x_train, x_train, epochs=3, batch_size=32, verbose=0).history
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
