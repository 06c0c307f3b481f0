"""A training script run by test_distribute.py as `python distributed_script.py OUT` and under
`torchrun --nproc_per_node=2`: the same code, with nothing distributed in it.

It records every file it opens for writing (a `sys.addaudithook`) and prints that list, with a
digest of its weights, on one line per process, for the test to compare; a train_on_batch run's
results go to a file per process beside OUT.
"""
import json
import os
import sys

WRITES = []


def _audit(event, args):
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing and isinstance(path, (str, bytes, os.PathLike)):
            WRITES.append(os.path.abspath(os.fsdecode(path)))


sys.addaudithook(_audit)

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine import callbacks, distribute, layers, regularizers  # noqa: E402


def main(out):
    engine.backend.set_seed(7)
    rng = np.random.RandomState(0)
    # 193 = 6 * 32 + 1 training samples before the validation split: ragged last batches, and with
    # the split (154 train) a last batch of 26; the test set's last batch (37 = 4 * 8 + 5) is odd.
    x = rng.rand(193, 8, 8, 1).astype("float32")
    y = (x.reshape(193, -1)[:, :3].argmax(axis=1)).astype("int64")
    x_test = rng.rand(37, 8, 8, 1).astype("float32")
    y_test = (x_test.reshape(37, -1)[:, :3].argmax(axis=1)).astype("int64")

    model = engine.Sequential([
        engine.Input((8, 8, 1)),
        layers.Conv2D(4, 3, use_bias=False),  # a bias before BatchNorm has no gradient but noise, which Adam amplifies
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Flatten(),
        layers.Dense(3, activation="softmax", kernel_regularizer=regularizers.L2(1e-3)),
    ])
    # Adam divides by the gradients' size, so in a long run it also magnifies float rounding where a
    # gradient is nearly zero; the test runs it on the well-conditioned case and SGD on the ragged one.
    optimizer = (engine.optimizers.Adam(1e-2) if os.environ.get("OPTIMIZER", "adam") == "adam"
                 else engine.optimizers.SGD(0.05, momentum=0.9))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=int(os.environ.get("GLOBAL_BATCH", "32")), epochs=3,
                        validation_split=0.2, verbose=1,
                        callbacks=[callbacks.CSVLogger(os.path.join(out, "log.csv")),
                                   callbacks.ModelCheckpoint(os.path.join(out, "best.keras"), monitor="val_loss",
                                                             save_best_only=True)])
    loss, acc = model.evaluate(x_test, y_test, batch_size=8, verbose=0)
    pred = model.predict(x_test, batch_size=8, verbose=0)
    model.save(os.path.join(out, "final.keras"))
    if distribute.is_chief():
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump({"history": history.history, "evaluate": [loss, acc], "predict": pred.tolist(),
                       "world_size": distribute.world_size()}, f)
    digest = float(sum(np.abs(w).sum() for w in model.get_weights()))
    # Beside the output folder, one file per process (too long for a line that two processes print at once).
    with open(os.path.join(os.path.dirname(out), f"on-batch-{os.path.basename(out)}-{distribute.rank()}.json"),
              "w") as f:
        json.dump(train_on_batches(x, y, x_test, y_test), f)
    line = "PROCESS " + json.dumps({"rank": distribute.rank(), "digest": digest, "writes": WRITES,
                                    "evaluate": [loss, acc], "predict_sum": float(pred.sum())}) + "\n"
    # One write(2) of under 4 KiB: a pipe keeps it whole (print may write the text and the newline
    # apart, and the other process's line then lands between them).
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), line.encode())


def train_on_batches(x, y, x_test, y_test):
    """A train_on_batch loop on a model whose starting weights differ per process (seeded by rank):
    under torchrun it must train rank 0's weights on the global batches, as one process would."""
    engine.backend.set_seed(100 + distribute.rank())
    model = engine.Sequential([engine.Input((8, 8, 1)), layers.Conv2D(4, 3, use_bias=False),
                               layers.BatchNormalization(), layers.ReLU(), layers.Flatten(),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer=engine.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rows = []  # the samples each forward pass of this process saw
    conv = model.layers[0]
    conv_call = conv.call

    def counting_call(inputs, *args, **kwargs):
        rows.append(int(inputs.shape[0]))
        return conv_call(inputs, *args, **kwargs)

    conv.call = counting_call
    logs = [model.train_on_batch(x[i:i + 41], y[i:i + 41], return_dict=True) for i in range(0, 123, 41)]
    logs.append(model.train_on_batch(x[:1], y[:1], return_dict=True))  # one process has no share
    test = model.test_on_batch(x_test, y_test, return_dict=True)
    return {"weights": [w.tolist() for w in model.get_weights()], "logs": logs, "test": test, "rows": rows}


if __name__ == "__main__":
    main(sys.argv[1])
