"""keras.io generative example "Variational AutoEncoder" (vae) on the engine and on Keras 3 (torch
backend) in the same test, MNIST replaced by small random images: the Sampling layer drawing from
keras.random with a SeedGenerator, the encoder with three outputs, the decoder, and the VAE model whose
train_step (written for torch here: zero_grad, backward, optimizer.apply, as the example's TensorFlow
GradientTape step does) adds the reconstruction and KL losses and tracks them with Mean metrics.
Shapes, parameter counts, the same draws, and the same losses over a few steps from the same weights."""
import numpy as np
import pytest
import torch

import engine

from ._compare import np_, same

LATENT = 2


def _vae(K):
    layers, ops = K.layers, K.ops

    class Sampling(layers.Layer):
        """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = K.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = ops.shape(z_mean)[0]
            dim = ops.shape(z_mean)[1]
            epsilon = K.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    encoder_inputs = K.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(LATENT, name="z_mean")(x)
    z_log_var = layers.Dense(LATENT, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = K.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    latent_inputs = K.Input(shape=(LATENT,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = K.Model(latent_inputs, decoder_outputs, name="decoder")

    class VAE(K.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.total_loss_tracker = K.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = K.metrics.Mean(name="reconstruction_loss")
            self.kl_loss_tracker = K.metrics.Mean(name="kl_loss")
            self.built = True  # Keras on torch would otherwise try to build the VAE by calling it (no call())

        @property
        def metrics(self):
            return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

        def train_step(self, data):
            if isinstance(data, (tuple, list)):
                data = data[0]
            self.zero_grad()
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(K.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
            total_loss.backward()
            trainable_weights = list(self.trainable_weights)
            grads = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(grads, trainable_weights)
            self.total_loss_tracker.update_state(total_loss)
            self.reconstruction_loss_tracker.update_state(reconstruction_loss)
            self.kl_loss_tracker.update_state(kl_loss)
            return {"loss": self.total_loss_tracker.result(),
                    "reconstruction_loss": self.reconstruction_loss_tracker.result(),
                    "kl_loss": self.kl_loss_tracker.result()}

    return encoder, decoder, VAE(encoder, decoder)


def test_vae_shapes_params_and_sampling(keras):
    (enc, dec, _), (their_enc, their_dec, _) = _vae(engine), _vae(keras)
    assert [tuple(t.shape) for t in enc.outputs] == [tuple(t.shape) for t in their_enc.outputs]
    assert (enc.count_params(), dec.count_params()) == (their_enc.count_params(), their_dec.count_params()) \
        == (69076, 65089)
    enc.set_weights([np_(w) for w in their_enc.get_weights()])
    dec.set_weights([np_(w) for w in their_dec.get_weights()])
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    ours, theirs = enc(images), their_enc(images)
    same(ours, theirs)  # z included: the Sampling layers draw the same normal numbers from seed 1337
    same(dec(ours[2]), their_dec(theirs[2]))


@pytest.mark.slow  # several seconds on the shared machine: two VAE fits
def test_vae_custom_train_step_matches_keras(keras):
    (enc, dec, ours), (their_enc, their_dec, theirs) = _vae(engine), _vae(keras)
    enc.set_weights([np_(w) for w in their_enc.get_weights()])
    dec.set_weights([np_(w) for w in their_dec.get_weights()])
    digits = (np.random.default_rng(1).random((16, 28, 28, 1)) > 0.7).astype("float32")
    histories = []
    for K, vae in ((engine, ours), (keras, theirs)):
        vae.compile(optimizer=K.optimizers.Adam())
        histories.append(vae.fit(digits, epochs=2, batch_size=8, shuffle=False, verbose=0).history)
    assert sorted(histories[0]) == sorted(histories[1]) == ["kl_loss", "loss", "reconstruction_loss"]
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4, err_msg=key)
    same(dec.get_weights(), their_dec.get_weights(), atol=1e-4)
