"""The second seed tutorial, end to end on the real MNIST, as a Keras user runs it (10 epochs,
batch 128, Adadelta with Keras 3 defaults, to_categorical added), on engine and, when installed, on
Keras 3 (torch backend). Prints each library's test accuracy and training time.

    python bench/seed_cnn_tutorial.py [--epochs 10] [--no-keras]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(lib, data, epochs, seed):
    from importlib import import_module

    (x_train, y_train), (x_test, y_test) = data
    if hasattr(lib, "utils") and hasattr(lib.utils, "set_random_seed"):
        lib.utils.set_random_seed(seed)
    Sequential = import_module(lib.__name__ + ".models").Sequential
    L = import_module(lib.__name__ + ".layers")
    model = Sequential()
    model.add(L.Input((28, 28, 1)))
    model.add(L.Conv2D(32, kernel_size=(3, 3), activation="relu"))
    model.add(L.MaxPooling2D(pool_size=(2, 2)))
    model.add(L.Dropout(0.25))
    model.add(L.Flatten())
    model.add(L.Dense(128, activation="relu"))
    model.add(L.Dropout(0.5))
    model.add(L.Dense(10, activation="softmax"))
    model.compile(loss=lib.losses.categorical_crossentropy, optimizer=lib.optimizers.Adadelta(), metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=0, validation_data=(x_test, y_test))
    elapsed = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    return loss, acc, elapsed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-keras", action="store_true")
    ap.add_argument("--only-keras", action="store_true", help="run Keras alone (e.g. to compare with an earlier engine run)")
    args = ap.parse_args(argv)
    import engine
    from engine.datasets import mnist

    engine.backend.set_device("cpu")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
    x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
    data = ((x_train, engine.utils.to_categorical(y_train, 10)), (x_test, engine.utils.to_categorical(y_test, 10)))
    libs = [] if args.only_keras else [engine]
    if not args.no_keras:
        try:
            import keras

            libs.append(keras)
        except Exception:  # Keras missing or failing to load: compared without it
            pass
    for lib in libs:
        loss, acc, t = run(lib, data, args.epochs, args.seed)
        print(f"{lib.__name__:7s} seed CNN tutorial, {args.epochs} epochs: test_loss {loss:.4f}  "
              f"test_accuracy {acc:.4f}  ({t:.0f} s training)", flush=True)


if __name__ == "__main__":
    main()
