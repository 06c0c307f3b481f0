"""A slice of the real MNIST (the copy shipped in the package) and small models for the training-core tests."""
import pytest

N_TRAIN, N_TEST = 512, 200


@pytest.fixture(scope="session")
def mnist_full():
    from visualkeras_app.training.data import load_dataset

    return load_dataset("mnist")


@pytest.fixture
def mnist_small(mnist_full):
    from visualkeras_app.training.data import Dataset

    d = mnist_full
    return Dataset(d.name, d.x_train[:N_TRAIN], d.y_train[:N_TRAIN], d.x_test[:N_TEST], d.y_test[:N_TEST],
                   list(d.class_names))


def tiny_cnn(units=10, activation="softmax", input_shape=(28, 28, 1)):
    import engine
    from engine import layers

    return engine.Sequential([
        layers.Input(input_shape), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(units, activation=activation)])


def tiny_mlp(units=10, activation="softmax"):
    import engine
    from engine import layers

    return engine.Sequential([layers.Input((784,)), layers.Dense(16, activation="relu"),
                              layers.Dense(units, activation=activation)])
