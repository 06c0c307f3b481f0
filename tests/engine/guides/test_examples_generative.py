"""keras.io generative examples "Variational AutoEncoder" (vae) and "WGAN-GP overriding Model.train_step"
(wgan_gp) on the engine and on Keras 3 (torch backend) in the same test, MNIST replaced by small random
images. The VAE: the Sampling layer drawing from
keras.random with a SeedGenerator, the encoder with three outputs, the decoder, and the VAE model whose
train_step (written for torch here: zero_grad, backward, optimizer.apply, as the example's TensorFlow
GradientTape step does) adds the reconstruction and KL losses and tracks them with Mean metrics.
The WGAN-GP: critic steps with a gradient penalty (second-order gradients through the layers) and
generator steps in a torch train_step. Shapes, parameter counts, the same draws, and the same losses
over a few steps from the same weights."""
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


def _wgan_gp(K, latent_dim=8, d_steps=2, gp_weight=10.0):
    layers = K.layers
    discriminator = K.Sequential([
        K.Input(shape=(8, 8, 1)), layers.Conv2D(8, 3, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(16, 3, strides=2, padding="same"), layers.LeakyReLU(0.2), layers.Flatten(), layers.Dense(1)],
        name="discriminator")
    generator = K.Sequential([
        K.Input(shape=(latent_dim,)), layers.Dense(4 * 4 * 8, use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(0.2), layers.Reshape((4, 4, 8)), layers.UpSampling2D(),
        layers.Conv2D(1, 3, padding="same", activation="tanh")], name="generator")

    class WGAN(K.Model):
        """The example's WGAN-GP: d_steps critic updates with a gradient penalty on images interpolated
        between real and fake ones, then one generator update (its tf.GradientTape steps written for
        torch: torch.autograd.grad with create_graph for the penalty)."""

        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator, self.generator = discriminator, generator
            self.seed_generator = K.random.SeedGenerator(7)
            self.built = True

        def compile(self, d_optimizer, g_optimizer):
            super().compile()
            self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

        def gradient_penalty(self, batch_size, real_images, fake_images):
            alpha = K.random.uniform((batch_size, 1, 1, 1), seed=self.seed_generator)
            interpolated = (real_images + alpha * (fake_images - real_images)).detach().requires_grad_(True)
            pred = self.discriminator(interpolated, training=True)
            grads, = torch.autograd.grad(pred.sum(), interpolated, create_graph=True)
            norm = torch.sqrt(torch.sum(torch.square(grads), dim=[1, 2, 3]))
            return torch.mean((norm - 1.0) ** 2)

        def _step(self, loss, model, optimizer):
            self.zero_grad()
            loss.backward()
            weights = list(model.trainable_weights)
            with torch.no_grad():
                optimizer.apply([v.value.grad for v in weights], weights)

        def train_step(self, real_images):
            if isinstance(real_images, (tuple, list)):
                real_images = real_images[0]
            real_images = torch.as_tensor(real_images)
            batch_size = real_images.shape[0]
            for _ in range(d_steps):
                noise = K.random.normal((batch_size, latent_dim), seed=self.seed_generator)
                fake_images = self.generator(noise, training=True)
                fake_logits = self.discriminator(fake_images, training=True)
                real_logits = self.discriminator(real_images, training=True)
                d_cost = torch.mean(fake_logits) - torch.mean(real_logits)
                d_loss = d_cost + gp_weight * self.gradient_penalty(batch_size, real_images, fake_images)
                self._step(d_loss, self.discriminator, self.d_optimizer)
            noise = K.random.normal((batch_size, latent_dim), seed=self.seed_generator)
            g_loss = -torch.mean(self.discriminator(self.generator(noise, training=True), training=True))
            self._step(g_loss, self.generator, self.g_optimizer)
            return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}

    return discriminator, generator, WGAN(discriminator, generator)


@pytest.mark.slow  # several seconds on the shared machine: second-order gradients, two libraries
def test_wgan_gp_gradient_penalty_train_step_matches_keras(keras):
    (disc, gen, ours), (their_disc, their_gen, theirs) = _wgan_gp(engine), _wgan_gp(keras)
    assert (disc.count_params(), gen.count_params()) == (their_disc.count_params(), their_gen.count_params())
    disc.set_weights([np_(w) for w in their_disc.get_weights()])
    gen.set_weights([np_(w) for w in their_gen.get_weights()])
    images = (np.random.default_rng(2).random((16, 8, 8, 1)) * 2 - 1).astype("float32")
    histories = []
    for K, wgan in ((engine, ours), (keras, theirs)):
        wgan.compile(d_optimizer=K.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.9),
                     g_optimizer=K.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.9))
        histories.append(wgan.fit(images, batch_size=8, epochs=2, shuffle=False, verbose=0).history)
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4, atol=1e-5, err_msg=key)
    same(disc.get_weights(), their_disc.get_weights(), atol=1e-4)
    same(gen.get_weights(), their_gen.get_weights(), atol=1e-4)
