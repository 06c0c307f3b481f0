"""A tiny CNN trained for a few batches on a slice of the real MNIST, and its test results.

The data goes through the training core as in the app (``load_dataset`` -> ``prepare_for_model`` ->
``evaluate_results``). Session-scoped: trained once for the three files here (the tests only read the
model and its results), which keeps them to a few seconds on a shared 2-core CPU.
"""

import pytest

pytest.importorskip("pytestqt")

N_TRAIN, N_TEST = 512, 200


def small_mnist():
    """MNIST as a training-core ``Dataset``, cut to N_TRAIN/N_TEST samples."""
    from visualkeras_app.training.data import Dataset, load_dataset

    full = load_dataset("mnist")
    return Dataset(full.name, full.x_train[:N_TRAIN], full.y_train[:N_TRAIN], full.x_test[:N_TEST],
                   full.y_test[:N_TEST], list(full.class_names))


def tiny_cnn(input_shape=(28, 28, 1)):
    import engine
    from engine import layers

    return engine.Sequential([
        layers.Input(input_shape), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")])


@pytest.fixture(scope="session")
def trained():
    """``(model, prepared, class_names, results)``; prepared.x_test is (N, 28, 28, 1) in [0, 1]."""
    import engine
    from visualkeras_app.training.data import prepare_for_model
    from visualkeras_app.training.results import evaluate_results

    engine.backend.set_seed(0)
    dataset = small_mnist()
    model = tiny_cnn()
    prepared = prepare_for_model(dataset, model)
    model.compile(optimizer=engine.optimizers.Adam(3e-3), loss=prepared.loss, metrics=["accuracy"])
    model.fit(prepared.x_train, prepared.y_train, batch_size=64, epochs=1, verbose=0)
    results = evaluate_results(model, prepared, dataset.class_names)
    assert len(results.misclassified) > 0, "the tiny model should still make mistakes to show"
    return model, prepared, list(dataset.class_names), results
