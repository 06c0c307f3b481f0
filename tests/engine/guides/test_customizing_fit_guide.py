"""keras.io "Customizing what happens in fit() with PyTorch" (Keras 3), the GAN example: a subclassed
Model with its own compile(), metrics and train_step (zero_grad, backward, optimizer.apply on two
optimizers, keras.random with a SeedGenerator), fitted on a torch DataLoader; run on the engine and on
Keras 3 with the same weights, the same random streams and the same history. (The guide's other
examples are in tests/engine/test_custom_layers.py.)"""
import numpy as np
import pytest
import torch

import engine


def _gan_history(K, weights=None, latent_dim=8):
    layers = K.layers
    K.utils.set_random_seed(0)
    discriminator = K.Sequential([
        K.Input(shape=(8, 8, 1)), layers.Conv2D(4, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2), layers.GlobalMaxPooling2D(), layers.Dense(1)], name="discriminator")
    generator = K.Sequential([
        K.Input(shape=(latent_dim,)), layers.Dense(4 * 4 * 8), layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((4, 4, 8)), layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2), layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid")],
        name="generator")

    class GAN(K.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = K.metrics.Mean(name="d_loss")
            self.g_loss_tracker = K.metrics.Mean(name="g_loss")
            self.seed_generator = K.random.SeedGenerator(1337)
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, (tuple, list)):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            random_latent_vectors = K.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            generated_images = self.generator(random_latent_vectors)
            combined_images = torch.concat([generated_images, torch.as_tensor(real_images)], axis=0)
            labels = torch.concat([torch.ones((batch_size, 1)), torch.zeros((batch_size, 1))], axis=0)
            labels += 0.05 * K.random.uniform(labels.shape, seed=self.seed_generator)
            self.zero_grad()
            d_loss = self.loss_fn(labels, self.discriminator(combined_images))
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            random_latent_vectors = K.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            self.zero_grad()
            g_loss = self.loss_fn(torch.zeros((batch_size, 1)), self.discriminator(self.generator(random_latent_vectors)))
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    if weights is not None:
        discriminator.set_weights(weights[0])
        generator.set_weights(weights[1])
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(d_optimizer=K.optimizers.Adam(learning_rate=0.0003), g_optimizer=K.optimizers.Adam(learning_rate=0.0003),
                loss_fn=K.losses.BinaryCrossentropy(from_logits=True))
    digits = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(digits)), batch_size=8)
    start = (discriminator.get_weights(), generator.get_weights())
    history = gan.fit(loader, epochs=2, verbose=0).history
    return start, history, (discriminator.count_params(), generator.count_params()), generator.get_weights()


@pytest.mark.slow  # about 4 s: two GAN fits
def test_gan_train_step_matches_keras(keras):
    start, theirs, their_params, their_weights = _gan_history(keras)
    _, ours, our_params, our_weights = _gan_history(engine, weights=start)
    assert our_params == their_params
    assert sorted(ours) == sorted(theirs) == ["d_loss", "g_loss"]
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, err_msg=key)
    for a, b in zip(our_weights, their_weights):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-5)
