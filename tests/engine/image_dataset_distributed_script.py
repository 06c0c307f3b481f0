"""Run by test_image_dataset.py under torchrun: an image folder read without a seed must list the same
files in the same order on every process; each then trains on its share of every global batch."""
import json
import os
import sys

import numpy as np
from PIL import Image

from engine import distribute, layers, models
from engine.utils import image_dataset_from_directory

folder = sys.argv[1]
if distribute.rank() == 0 and not os.path.isdir(folder):
    rng = np.random.default_rng(0)
    for i in range(20):
        os.makedirs(os.path.join(folder, f"c{i % 2}"), exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)).save(os.path.join(folder, f"c{i % 2}",
                                                                                           f"{i}.png"))
np.random.seed(1000 + distribute.rank())  # each process's own global generator draws differently
if distribute.launched():
    distribute.initialize()
    distribute.barrier()
ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, verbose=False)
model = models.Sequential([layers.Input((8, 8, 3)), layers.Flatten(), layers.Dense(2, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
model.fit(ds, epochs=1, verbose=0)
# One file per process beside the folder: the processes share one stdout, where two lines can interleave.
with open(f"{folder.rstrip(os.sep)}.rank{distribute.rank()}.json", "w") as f:
    json.dump({"rank": distribute.rank(), "files": ds.file_paths}, f)
