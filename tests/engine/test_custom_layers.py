"""Custom layers and models as Keras runs them: each test runs the same code on the engine and on real
Keras 3 (torch backend) and compares shapes, parameter counts, outputs on the same weights, and logs.

No silent shape errors: a subclassed layer in a functional model is called on placeholders to get its
output shape and build its sub-layers; a call that fails names the layer when the model is built.
"""
import numpy as np
import pytest
import torch

import engine


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _copy_weights(src, dst):
    dst.set_weights([_np(w) for w in src.get_weights()])


# ---------------------------------------------------------------------------- layer definitions
# Written once against a library `K` (engine or keras), so both run the very same code.
def _layers(K):
    ops = K.ops

    class CustomDense(K.layers.Layer):
        """Changes the shape and holds two sub-layers, created in __init__, built on first call."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.hidden = K.layers.Dense(32, activation="relu")
            self.out = K.layers.Dense(units)

        def call(self, x):
            return self.out(self.hidden(x))

    class Linear(K.layers.Layer):
        """The guides' Linear: weights made in build()."""

        def __init__(self, units=8, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            return ops.matmul(x, self.w) + self.b

    class SplitHalves(K.layers.Layer):
        """Two outputs of different shapes, one of them an integer tensor."""

        def call(self, x):
            half = x.shape[-1] // 2
            return x[:, :half], ops.cast(ops.argmax(x, axis=-1), "int32")

    class Pairwise(K.layers.Layer):
        """Called on two tensors: layer(a, b)."""

        def call(self, a, b):
            return ops.concatenate([a * b, a - b], axis=-1)

    class Broken(K.layers.Layer):
        def call(self, x):
            return ops.matmul(x, ops.ones((3, 2)))

    class RaisesInCall(K.layers.Layer):
        def call(self, x):
            raise ValueError("this layer refuses every input")

    return CustomDense, Linear, SplitHalves, Pairwise, Broken, RaisesInCall


def _same_model(K, build):
    K.utils.set_random_seed(0)
    return build(K, *_layers(K))


def _shapes(model):
    return [tuple(t.shape) for t in model.outputs]


@pytest.mark.parametrize("case", ["custom_dense", "linear_stack", "two_outputs", "two_arguments"])
def test_functional_models_of_custom_layers_match_keras(keras, case):
    def build(K, CustomDense, Linear, SplitHalves, Pairwise, Broken, RaisesInCall):
        x = K.Input((4,))
        if case == "custom_dense":
            return K.Model(x, CustomDense(10)(x))
        if case == "linear_stack":
            return K.Model(x, Linear(3)(Linear(16)(x)))
        if case == "two_outputs":
            a, b = SplitHalves()(K.layers.Dense(6)(x))
            return K.Model(x, [a, b])
        y = K.Input((4,))
        return K.Model([x, y], K.layers.Dense(2)(Pairwise()(K.layers.Dense(5)(x), K.layers.Dense(1)(y))))

    ours, theirs = _same_model(engine, build), _same_model(keras, build)
    assert _shapes(ours) == _shapes(theirs)
    assert [t.dtype for t in ours.outputs] == [str(t.dtype) for t in theirs.outputs]
    assert ours.count_params() == theirs.count_params()
    assert [l.count_params() for l in ours.layers] == [l.count_params() for l in theirs.layers]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    _copy_weights(theirs, ours)
    rng = np.random.default_rng(0)
    data = [rng.standard_normal((5, 4)).astype("float32") for _ in ours.inputs]
    data = data[0] if len(data) == 1 else data
    got, want = ours.predict(data, verbose=0), theirs.predict(data, verbose=0)
    for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
        np.testing.assert_allclose(_np(g), _np(w), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("which", ["Broken", "RaisesInCall"])
def test_a_failing_call_names_the_layer_when_the_model_is_built(keras, which):
    layers = dict(zip(["CustomDense", "Linear", "SplitHalves", "Pairwise", "Broken", "RaisesInCall"],
                      _layers(engine)))
    x = engine.Input((4,))
    with pytest.raises(Exception) as ours:
        engine.Model(x, layers[which](name="the_culprit")(x))
    klayers = dict(zip(["CustomDense", "Linear", "SplitHalves", "Pairwise", "Broken", "RaisesInCall"],
                       _layers(keras)))
    kx = keras.Input((4,))
    with pytest.raises(Exception) as theirs:  # Keras fails at the same point
        keras.Model(kx, klayers[which](name="the_culprit")(kx))
    assert "the_culprit" in str(ours.value) and which in str(ours.value)
    cause = "refuses every input" if which == "RaisesInCall" else "cannot be multiplied"
    assert cause in str(ours.value) and cause in str(theirs.value)


def test_custom_layer_in_sequential_has_keras_shape_and_params(keras):
    def build(K, CustomDense, *_):
        return K.Sequential([K.Input((4,)), CustomDense(10), K.layers.Dense(1)])

    ours, theirs = _same_model(engine, build), _same_model(keras, build)
    assert tuple(ours.output_shape) == tuple(theirs.output_shape)
    assert ours.count_params() == theirs.count_params()


def test_add_loss_in_a_layer_called_on_targets_and_logits(keras):
    """training_with_built_in_methods: a LogisticEndpoint layer(targets, logits) adds its loss;
    compile() without a loss; fit on a dict. Same layer order, parameters, losses and history."""

    def run(K):
        K.utils.set_random_seed(0)

        class LogisticEndpoint(K.layers.Layer):
            def __init__(self, name=None):
                super().__init__(name=name)
                self.loss_fn = K.losses.BinaryCrossentropy(from_logits=True)

            def call(self, targets, logits):
                self.add_loss(self.loss_fn(targets, logits))
                return K.ops.sigmoid(logits)

        inputs = K.Input(shape=(3,), name="inputs")
        targets = K.Input(shape=(10,), name="targets")
        logits = K.layers.Dense(10, name="logits")(inputs)
        model = K.Model([inputs, targets], LogisticEndpoint(name="predictions")(targets, logits))
        model.layers[2].set_weights([np.linspace(-1, 1, 30).reshape(3, 10).astype("float32"),
                                     np.zeros(10, "float32")])
        model.compile(optimizer=K.optimizers.SGD(0.1))
        rng = np.random.default_rng(0)
        data = {"inputs": rng.random((16, 3)).astype("float32"),
                "targets": (rng.random((16, 10)) > 0.5).astype("float32")}
        history = model.fit(data, epochs=2, batch_size=8, shuffle=False, verbose=0)
        model(data)
        return model, history.history, [float(_np(l)) for l in model.losses]

    (ours, our_hist, our_losses), (theirs, their_hist, their_losses) = run(engine), run(keras)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert our_hist.keys() == their_hist.keys()
    np.testing.assert_allclose(our_hist["loss"], their_hist["loss"], rtol=1e-5)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5)


def test_add_loss_terms_are_kept_until_the_next_call(keras):
    def run(K):
        class ActivityPenalty(K.layers.Layer):
            def call(self, x):
                self.add_loss(0.01 * K.ops.sum(x))
                return x

        layer, counts = ActivityPenalty(), []
        for scale in (1.0, 3.0):
            layer(np.full((2, 2), scale, "float32"))
            counts.append([float(_np(l)) for l in layer.losses])
        return counts

    ours, theirs = run(engine), run(keras)
    assert [len(c) for c in ours] == [len(c) for c in theirs] == [1, 1]
    np.testing.assert_allclose(sum(ours, []), sum(theirs, []), rtol=1e-6)


def _custom_model_classes(K):
    class CustomModel(K.Model):
        """keras.io 'Customizing what happens in fit() with PyTorch', first and test_step examples."""

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name != "loss":
                    metric.update_state(y, y_pred)
                else:
                    metric.update_state(loss)
            return {m.name: m.result() for m in self.metrics}

    class WeightedModel(K.Model):
        """The sample-weight example: compute_loss and compute_metrics."""

        def train_step(self, data):
            x, y, sample_weight = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in trainable_weights], trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    class ManualMetrics(K.Model):
        """The lower-level example: compile() without a loss, metrics of its own via `metrics`."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = K.metrics.Mean(name="loss")
            self.mae_metric = K.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = K.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in trainable_weights], trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    return {"custom": CustomModel, "weighted": WeightedModel, "manual": ManualMetrics}


@pytest.mark.parametrize("kind", ["custom", "weighted", "manual"])
def test_custom_train_step_of_a_functional_subclass_matches_keras(keras, kind):
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 32)).astype("float32"), rng.random((64, 1)).astype("float32")
    sw = rng.random((64,)).astype("float32")

    def run(K):
        K.utils.set_random_seed(0)
        cls = _custom_model_classes(K)[kind]
        inputs = K.Input(shape=(32,))
        model = cls(inputs, K.layers.Dense(1)(inputs))
        assert isinstance(model, cls)
        model.set_weights([np.linspace(-1, 1, 32).reshape(32, 1).astype("float32"), np.zeros(1, "float32")])
        if kind == "manual":
            model.compile(optimizer="adam")
        else:
            model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        # (The manual model has no compiled loss: Keras's default test_step, like ours, would refuse
        # validation data.)
        kwargs = {"sample_weight": sw} if kind == "weighted" else {} if kind == "manual" else \
            {"validation_data": (x, y)}
        hist = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0, **kwargs).history
        return model, hist

    (ours, our_hist), (theirs, their_hist) = run(engine), run(keras)
    assert sorted(our_hist) == sorted(their_hist)
    for key in their_hist:
        np.testing.assert_allclose(our_hist[key], their_hist[key], rtol=1e-4, err_msg=key)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    if kind == "custom":
        np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)


def test_predict_step_override_runs(keras):
    def run(K):
        class Doubled(K.Model):
            def predict_step(self, data):
                x = data[0] if isinstance(data, tuple) else data
                return 2.0 * self(x, training=False)

        inputs = K.Input((3,))
        model = Doubled(inputs, K.layers.Dense(2, kernel_initializer="ones")(inputs))
        return model.predict(np.ones((4, 3), "float32"), verbose=0)

    np.testing.assert_allclose(run(engine), run(keras))


def test_from_config_with_custom_objects_rebuilds_the_custom_layer(keras):
    Linear = _layers(engine)[1]
    x = engine.Input((4,))
    ours = engine.Model(x, Linear(3, name="lin")(x))

    def get_config(self):
        return {**engine.layers.Layer.get_config(self), "units": self.units}

    Linear.get_config = get_config
    with pytest.raises(ValueError, match="Linear"):
        engine.Model.from_config(ours.get_config())  # not passed, not registered: refused
    again = engine.Model.from_config(ours.get_config(), custom_objects={"Linear": Linear})
    assert isinstance(again.get_layer("lin"), Linear)
    assert _shapes(again) == _shapes(ours) == [(None, 3)]
    assert again.count_params() == ours.count_params()


def test_summary_of_an_unbuilt_model_prints_question_marks(keras):
    def text(K):
        lines = []
        K.Sequential([K.layers.Dense(4), K.layers.Dense(2)], name="unbuilt").summary(print_fn=lines.append)
        lines = "\n".join(lines).splitlines()  # Keras passes the whole table at once
        return [l for l in lines if "(Dense)" in l or "params" in l]

    ours, theirs = text(engine), text(keras)
    assert len(ours) == len(theirs) == 5
    for o, t in zip(ours, theirs):
        assert o.replace("│", " ").split()[1:] == t.replace("│", " ").split()[1:]  # names count per session


def test_a_compute_loss_override_runs_in_fit_and_evaluate_with_its_own_metric(keras):
    """Keras's default train/test steps call compute_loss: an override (here one updating a metric kept
    as an attribute, which joins model.metrics and the logs) runs without overriding train_step."""

    def run(K):
        ops = K.ops

        class MyModel(K.Model):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.mse_tracker = K.metrics.Mean(name="raw_mse")

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):  # no `training`
                mse = ops.mean(ops.square(y_pred - y))
                self.mse_tracker.update_state(mse)
                return mse + 0.01 * ops.mean(ops.abs(y_pred))

        K.utils.set_random_seed(0)
        inputs = K.Input((4,))
        model = MyModel(inputs, K.layers.Dense(1)(inputs))
        model.set_weights([np.linspace(-1, 1, 4).reshape(4, 1).astype("float32"), np.zeros(1, "float32")])
        model.compile(optimizer=K.optimizers.SGD(0.1), metrics=["mae"])
        rng = np.random.default_rng(0)
        x, y = rng.random((32, 4)).astype("float32"), rng.random((32, 1)).astype("float32")
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False, validation_data=(x, y)).history
        return history, model.evaluate(x, y, verbose=0, return_dict=True)

    (our_hist, our_eval), (their_hist, their_eval) = run(engine), run(keras)
    assert sorted(our_hist) == sorted(their_hist) and "raw_mse" in our_hist
    for key in their_hist:
        np.testing.assert_allclose(our_hist[key], their_hist[key], rtol=1e-5, err_msg=key)
    assert our_eval.keys() == their_eval.keys()
    np.testing.assert_allclose(list(our_eval.values()), list(their_eval.values()), rtol=1e-5)
