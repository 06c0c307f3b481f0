"""Run by test_distribute.py under torchrun: trains a step (DistributedDataParallel) and ends on a
collective, the pattern that aborted at exit about one run in eight when the group was left to the
interpreter's teardown."""
import numpy as np
import torch

import engine
from engine import distribute, layers

model = engine.Sequential([engine.Input((4,)), layers.Dense(2, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
x, y = np.ones((8, 4), "float32"), np.zeros(8, "int64")
model.fit(x, y, batch_size=8, epochs=1, verbose=0)
model.train_on_batch(x, y)
distribute.context().all_reduce_sum(torch.ones(4))  # the last statement: a collective
