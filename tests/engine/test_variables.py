"""Weights are engine Variables with Keras's surface, and still the parameters torch optimizes;
each check runs the same code on Keras 3 (torch backend) and compares."""
import copy
import pickle

import numpy as np
import pytest
import torch

import engine


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _dense(K):
    layer = K.layers.Dense(3, name="d")
    layer.build((None, 4))
    return layer


def test_weights_have_keras_names_paths_shapes_and_trainable(keras):
    e, k = _dense(engine), _dense(keras)
    assert all(isinstance(w, engine.Variable) for w in e.weights)
    assert [w.name for w in e.weights] == [w.name for w in k.weights]
    assert [w.path for w in e.weights] == [w.path for w in k.weights]
    assert [tuple(w.shape) for w in e.weights] == [tuple(w.shape) for w in k.weights]
    assert [w.trainable for w in e.weights] == [w.trainable for w in k.weights]
    assert [engine.ops.dtype(w) for w in e.weights] == [w.dtype for w in k.weights]
    assert e.kernel.value is e.kernel  # .value is the tensor torch optimizes


def test_assign_family_and_numpy_match_keras(keras):
    e, k = _dense(engine), _dense(keras)
    rng = np.random.default_rng(0)
    start, delta = rng.standard_normal((4, 3)).astype("float32"), rng.standard_normal((4, 3)).astype("float32")
    for layer in (e, k):
        layer.kernel.assign(start)
        layer.kernel.assign_add(delta)
        layer.kernel.assign_sub(delta * 0.5)
        layer.bias.assign(np.ones(3, "float32"))
    np.testing.assert_allclose(e.kernel.numpy(), keras.ops.convert_to_numpy(k.kernel), rtol=1e-6)
    np.testing.assert_array_equal(e.bias.numpy(), keras.ops.convert_to_numpy(k.bias))
    x = rng.standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(_np(e(x)), _np(k(x)), rtol=1e-6, atol=1e-6)
    for layer in (e, k):
        with pytest.raises(ValueError):
            layer.kernel.assign(np.zeros((3, 3), "float32"))


def test_torch_training_loop_over_parameters_matches_keras(keras):
    """The Keras guide 'training loop from scratch in PyTorch': torch.optim over model.parameters()."""
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((8, 4)).astype("float32"))
    y = torch.tensor(rng.standard_normal((8, 2)).astype("float32"))

    def build(K):
        model = K.Sequential([K.Input(shape=(4,)), K.layers.Dense(5, activation="relu"), K.layers.Dense(2)])
        return model

    e_model, k_model = build(engine), build(keras)
    k_model.set_weights(e_model.get_weights())
    grads = []
    for model in (e_model, k_model):
        params = list(model.parameters())
        assert len(params) == 4
        opt = torch.optim.SGD(params, lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        grads.append([_np(v.value.grad) for v in model.trainable_weights])
    for a, b in zip(e_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The engine's weights are the very objects torch optimized.
    assert {id(p) for p in e_model.parameters()} == {id(w) for w in e_model.weights}


def test_freezing_a_layer_freezes_its_variables_like_keras(keras):
    e, k = _dense(engine), _dense(keras)
    for state in (False, True):
        for layer in (e, k):
            layer.trainable = state
        assert [w.trainable for w in e.weights] == [w.trainable for w in k.weights] == [state, state]
        assert [w.requires_grad for w in e.weights] == [state, state]
        assert len(e.trainable_weights) == len(k.trainable_weights)


def test_setting_variable_trainable_moves_it_like_keras(keras):
    e, k = _dense(engine), _dense(keras)
    for layer in (e, k):
        layer.bias.trainable = False
    assert [w.path for w in e.trainable_weights] == [w.path for w in k.trainable_weights]
    assert [w.path for w in e.non_trainable_weights] == [w.path for w in k.non_trainable_weights]
    assert e.bias.requires_grad is False and e.kernel.requires_grad is True


def test_standalone_variable_like_keras(keras):
    for K in (engine, keras):
        v = K.Variable(np.arange(6, dtype="float32").reshape(2, 3), name="state")
        v.assign_add(np.ones((2, 3), "float32"))
        assert v.name == "state" and tuple(v.shape) == (2, 3)
        np.testing.assert_array_equal(_np(v.value), np.arange(1, 7, dtype="float32").reshape(2, 3))
    e = engine.Variable("ones", shape=(2,), dtype="float32", trainable=False)
    k = keras.Variable("ones", shape=(2,), dtype="float32", trainable=False)
    assert e.trainable == k.trainable is False
    np.testing.assert_array_equal(e.numpy(), keras.ops.convert_to_numpy(k))
    with pytest.raises(ValueError, match="shape"):
        engine.Variable("zeros")


def test_metric_state_is_variables_with_assign_add(keras):
    """A Keras-style custom metric that updates its state with assign_add."""
    def make(K):
        class CountPositives(K.metrics.Metric):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.positives = self.add_variable(shape=(), initializer="zeros", name="positives")

            def update_state(self, y_true, y_pred, sample_weight=None):
                self.positives.assign_add(K.ops.sum(K.ops.cast(y_pred > 0.5, "float32")))

            def result(self):
                return self.positives

        return CountPositives(name="count_positives")

    preds = torch.tensor([[0.2, 0.7], [0.9, 0.6]])
    e, k = make(engine), make(keras)
    for m in (e, k):
        m.update_state(None, preds)
        m.update_state(None, preds[:1])
    assert isinstance(e.positives, engine.Variable)
    assert float(_np(e.result())) == float(_np(k.result())) == 4.0
    e.reset_state()
    assert float(e.result()) == 0.0


def test_copy_and_pickle_keep_variables():
    layer = _dense(engine)
    clone = copy.deepcopy(layer)
    assert isinstance(clone.kernel, engine.Variable) and clone.kernel.path == "d/kernel"
    assert clone.kernel is not layer.kernel
    np.testing.assert_array_equal(clone.kernel.numpy(), layer.kernel.numpy())
    v = pickle.loads(pickle.dumps(layer.kernel))
    assert isinstance(v, engine.Variable) and v.path == "d/kernel" and v.requires_grad


def test_guide_custom_layer_and_torch_loop_with_optimizer_apply(keras):
    """The Keras guides' Linear layer (add_weight + ops.matmul) trained by the 'training loop from scratch
    in PyTorch' pattern: zero_grad, backward, v.value.grad, optimizer.apply."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((16, 4)).astype("float32"))
    y = torch.tensor(rng.integers(0, 3, 16))

    def make(K):
        class Linear(K.layers.Layer):
            def __init__(self, units=3, input_dim=4):
                super().__init__()
                self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
                self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

            def call(self, inputs):
                return K.ops.matmul(inputs, self.w) + self.b

        layer = Linear()
        layer(x)
        return layer

    layers = {K: make(K) for K in (engine, keras)}
    layers[keras].set_weights(layers[engine].get_weights())
    for K, layer in layers.items():
        opt = K.optimizers.Adam(1e-2)
        loss_fn = K.losses.SparseCategoricalCrossentropy(from_logits=True)
        for _ in range(3):
            loss = loss_fn(y, layer(x))
            layer.zero_grad()
            loss.backward()
            grads = [v.value.grad for v in layer.trainable_weights]
            with torch.no_grad():
                opt.apply(grads, layer.trainable_weights)
    for a, b in zip(layers[engine].get_weights(), layers[keras].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
