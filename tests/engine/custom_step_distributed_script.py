"""Run by test_custom_step_distributed.py as `python custom_step_distributed_script.py OUT` and under
`torchrun --nproc_per_node=2`: a model with its own train_step (the keras.io "Customizing what happens
in fit() with PyTorch" pattern: zero_grad, backward, optimizer.apply, a Mean tracker) and a
BatchNormalization layer, trained by fit; rank 0 writes the final weights to OUT/weights.npz, each
process a line to OUT/process_<rank>.txt."""
import json
import os
import sys

import numpy as np
import torch

import engine
from engine import distribute, layers


class CustomModel(engine.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = engine.metrics.Mean(name="loss")
        self.loss_fn = engine.losses.MeanSquaredError()

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = list(self.trainable_weights)
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def main(out):
    engine.utils.set_random_seed(3)
    rng = np.random.RandomState(0)
    x = rng.rand(52, 6).astype("float32")  # 52 = 3 * 16 + 4: a small last batch
    y = (x @ rng.rand(6, 2)).astype("float32")
    inputs = engine.Input((6,))
    h = layers.Dense(8, use_bias=False)(inputs)  # a bias before BatchNorm gets only noise, which Adam amplifies
    h = layers.BatchNormalization()(h)
    outputs = layers.Dense(2)(layers.ReLU()(h))
    model = CustomModel(inputs, outputs)
    model.compile(optimizer=engine.optimizers.Adam(0.01))
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    if distribute.rank() == 0:
        np.savez(os.path.join(out, "weights.npz"), *[np.asarray(w) for w in model.get_weights()])
    # One file per process (the processes' stdout lines can interleave on one line).
    with open(os.path.join(out, f"process_{distribute.rank()}.txt"), "w") as f:
        f.write(f"PROCESS rank={distribute.rank()} world={distribute.world_size()} epochs={len(history['loss'])}")
    if distribute.rank() == 0:
        with open(os.path.join(out, "history.json"), "w") as f:
            json.dump(history, f)


if __name__ == "__main__":
    main(sys.argv[1])
