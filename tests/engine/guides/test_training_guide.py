"""keras.io "Training & evaluation with the built-in methods" (Keras 3), on the engine and on Keras 3 in
the same test, same weights: a custom loss function, a Loss subclass, a Metric subclass, class weights,
sample weights with validation_split, and an ExponentialDecay learning-rate schedule; the histories
must agree. (The LogisticEndpoint add_loss example is in tests/engine/test_custom_layers.py.)"""
import numpy as np
import pytest

import engine

rng = np.random.default_rng(0)
X = rng.random((64, 8)).astype("float32")
Y_INT = rng.integers(0, 3, size=(64,))
Y_ONE_HOT = np.eye(3, dtype="float32")[Y_INT]


def _guide_objects(K):
    ops = K.ops

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    class CustomMSE(K.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
            reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    class CategoricalTruePositives(K.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(ops.cast(y_true, "int32") == ops.cast(y_pred, "int32"), "float32")
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, "float32"))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    return {
        "loss_function": (custom_mean_squared_error, None, {}),
        "loss_subclass": (CustomMSE(), None, {}),
        "metric_subclass": (K.losses.SparseCategoricalCrossentropy(),
                            [CategoricalTruePositives(), "sparse_categorical_accuracy"], {"y": Y_INT}),
        "class_weight": ("sparse_categorical_crossentropy", ["sparse_categorical_accuracy"],
                         {"y": Y_INT, "class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}),
        "sample_weight_and_validation_split": (
            "categorical_crossentropy", ["accuracy"],
            {"sample_weight": np.linspace(0.5, 1.5, 64).astype("float32"), "validation_split": 0.25}),
    }


def _history(K, case):
    K.utils.set_random_seed(0)
    inputs = K.Input(shape=(8,), name="digits")
    hidden = K.layers.Dense(6, activation="relu", name="dense_1")(inputs)
    model = K.Model(inputs, K.layers.Dense(3, activation="softmax", name="predictions")(hidden))
    weights = np.random.default_rng(5)
    model.set_weights([weights.standard_normal(w.shape).astype("float32") * 0.5 for w in model.get_weights()])
    loss, metrics, fit_kwargs = _guide_objects(K)[case]
    schedule = K.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.9, staircase=True)
    model.compile(optimizer=K.optimizers.SGD(learning_rate=schedule), loss=loss, metrics=metrics)
    fit_kwargs = dict(fit_kwargs)
    y = fit_kwargs.pop("y", Y_ONE_HOT)
    return model.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0, **fit_kwargs).history


@pytest.mark.slow
@pytest.mark.parametrize("case", ["loss_function", "loss_subclass", "metric_subclass", "class_weight",
                                  "sample_weight_and_validation_split"])
def test_training_guide_case_matches_keras(keras, case):
    ours, theirs = _history(engine, case), _history(keras, case)
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, err_msg=key)
