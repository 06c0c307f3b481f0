import numpy as np
import pytest
import torch

from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras


# ---------------------------------------------------------------- BatchNormalization against Keras
@pytest.mark.parametrize("shape", [(4, 5, 5, 3), (6, 7), (3, 4, 5)])
@pytest.mark.parametrize("training", [False, True])
def test_batchnorm_matches_keras(keras, shape, training):
    check_against_keras(lambda L: L.BatchNormalization(), shape, keras=keras, training=training)


@pytest.mark.parametrize("kwargs", [dict(center=False), dict(scale=False), dict(center=False, scale=False),
                                    dict(momentum=0.9, epsilon=1e-5)])
def test_batchnorm_options_match_keras(keras, kwargs):
    check_against_keras(lambda L: L.BatchNormalization(**kwargs), (4, 3, 3, 2), keras=keras, training=True)
    check_against_keras(lambda L: L.BatchNormalization(**kwargs), (4, 3, 3, 2), keras=keras, training=False)


@pytest.mark.parametrize("axis", [1, 2, -2])
def test_batchnorm_other_axis_matches_keras(keras, axis):
    check_against_keras(lambda L: L.BatchNormalization(axis=axis), (4, 3, 5, 2), keras=keras, training=True)
    check_against_keras(lambda L: L.BatchNormalization(axis=axis), (4, 3, 5, 2), keras=keras, training=False)


@pytest.mark.parametrize("shape", [(8, 4, 4, 3), (5, 6), (1, 6), (4, 6, 3)])
def test_batchnorm_moving_statistics_follow_keras(keras, shape):
    rng = np.random.default_rng(1)
    e = E.BatchNormalization(momentum=0.8)
    k = keras.layers.BatchNormalization(momentum=0.8)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype("float32")
        e(torch.tensor(x), training=True)
        k(torch.tensor(x), training=True)
    for a, b in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # The moving variance really moved (a bug leaving it at 1 would pass the loop above only if Keras did too).
    assert not np.allclose(e.get_weights()[3], 1.0)
    # Inference now uses the moving statistics.
    x = rng.standard_normal(shape).astype("float32")
    np.testing.assert_allclose(e(torch.tensor(x)).detach().numpy(),
                               k(torch.tensor(x), training=False).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_batchnorm_moving_variance_is_biased():
    x = torch.tensor([[1.0], [3.0]])  # biased variance 1, unbiased 2
    bn = E.BatchNormalization(momentum=0.0)
    bn(x, training=True)
    np.testing.assert_allclose(bn.moving_mean.detach().numpy(), [2.0])
    np.testing.assert_allclose(bn.moving_variance.detach().numpy(), [1.0], rtol=1e-6)


def test_batchnorm_inference_and_frozen_leave_moving_stats():
    bn = E.BatchNormalization()
    x = torch.randn(8, 3) * 5 + 2
    bn(x)
    bn(x, training=False)
    np.testing.assert_array_equal(bn.get_weights()[2], np.zeros(3, "float32"))
    bn.trainable = False
    y = bn(x, training=True)  # a frozen BatchNormalization runs in inference mode, as in Keras
    np.testing.assert_array_equal(bn.get_weights()[2], np.zeros(3, "float32"))
    np.testing.assert_allclose(y.detach().numpy(), (x / np.sqrt(1 + 1e-3)).numpy(), rtol=1e-6)


def test_batchnorm_weights_order_and_trainability():
    bn = E.BatchNormalization()
    bn(torch.zeros(2, 4, 4, 5))
    assert [w.keras_name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.keras_name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.keras_name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert len(dict(bn.named_parameters())) == 4
    bn2 = E.BatchNormalization(center=False)
    bn2(torch.zeros(2, 5))
    assert [w.keras_name for w in bn2.weights] == ["gamma", "moving_mean", "moving_variance"]


def test_batchnorm_nhwc_output_is_contiguous():
    bn = E.BatchNormalization()
    y = bn(torch.randn(2, 5, 5, 4), training=True)
    assert y.shape == (2, 5, 5, 4) and y.is_contiguous()


def _grad_fns(t):
    names, fn = [], t.grad_fn
    while fn is not None:
        names.append(type(fn).__name__)
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("channels, one_thread", [(8, True), (24, True), (16, False), (48, False)])
def test_batchnorm_training_on_false_sharing_channel_counts_runs_on_one_thread(two_threads, channels, one_thread):
    """Channel counts that are not a multiple of 16 make torch's CPU kernels false-share between threads
    (2x slower on 2 threads than on one): they run on one thread, with torch's results (outputs, gradients,
    moving statistics) and the thread count given back after the forward and the backward."""
    torch.manual_seed(0)
    x = (torch.randn(6, 5, 5, channels) * 3 + 1).requires_grad_()
    g = torch.randn(6, 5, 5, channels)
    bn = E.BatchNormalization(momentum=0.9, gamma_initializer="random_uniform", beta_initializer="random_normal")
    bn.build(x.shape)
    y = bn(x, training=True)
    assert ("_OneThreadBatchNormBackward" in _grad_fns(y)) is one_thread
    assert torch.get_num_threads() == 2
    dx, dgamma, dbeta = torch.autograd.grad(y, (x, bn.gamma, bn.beta), g)
    assert torch.get_num_threads() == 2

    x2 = x.detach().permute(0, 3, 1, 2).requires_grad_()
    gamma, beta = bn.gamma.detach().clone().requires_grad_(), bn.beta.detach().clone().requires_grad_()
    mean, var = torch.zeros(channels), torch.ones(channels)
    y2 = torch.nn.functional.batch_norm(x2, mean, var, gamma, beta, True, 0.1, 1e-3)
    rx, rgamma, rbeta = torch.autograd.grad(y2, (x2, gamma, beta), g.permute(0, 3, 1, 2))
    np.testing.assert_allclose(y.detach().numpy(), y2.detach().permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx.numpy(), rx.permute(0, 2, 3, 1).numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dgamma.numpy(), rgamma.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(dbeta.numpy(), rbeta.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(bn.moving_mean.detach().numpy(), mean.numpy(), rtol=1e-5, atol=1e-6)
    n = x.numel() // channels  # torch's running variance is the unbiased one; Keras's the biased one
    np.testing.assert_allclose(bn.moving_variance.detach().numpy(), (0.9 + (var.numpy() - 0.9) * (n - 1) / n),
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_one_thread_path_keeps_double_backward_and_the_thread_count_on_errors(two_threads):
    torch.manual_seed(1)
    x = torch.randn(4, 3, 3, 8, requires_grad=True)
    bn = E.BatchNormalization()
    (dx,) = torch.autograd.grad(bn(x, training=True).pow(3).sum(), x, create_graph=True)
    (ddx,) = torch.autograd.grad(dx.sum(), x)
    x2 = x.detach().clone().requires_grad_()  # gamma 1 and beta 0, as the layer's initial ones
    y2 = torch.nn.functional.batch_norm(x2.permute(0, 3, 1, 2), None, None, None, None, True,
                                        eps=1e-3).permute(0, 2, 3, 1)
    (dx2,) = torch.autograd.grad(y2.pow(3).sum(), x2, create_graph=True)
    (ddx2,) = torch.autograd.grad(dx2.sum(), x2)
    np.testing.assert_allclose(ddx.numpy(), ddx2.numpy(), rtol=1e-3, atol=1e-3)

    from engine.layers.normalization import batch_norm_train
    with pytest.raises(RuntimeError, match="Long"):  # torch's kernel refuses integers
        batch_norm_train(torch.ones(4, 8, 3, 3, dtype=torch.long), None, None, None, None, 0.1, 1e-3)
    assert torch.get_num_threads() == 2


def test_batchnorm_config_matches_keras(keras):
    for kwargs in [{}, dict(axis=1, momentum=0.9, epsilon=1e-5, center=False, gamma_initializer="zeros",
                            beta_regularizer="l2", gamma_constraint="non_neg")]:
        e = E.BatchNormalization(name="bn", **kwargs).get_config()
        k = keras.layers.BatchNormalization(name="bn", **kwargs).get_config()
        assert e == k
        assert E.BatchNormalization.from_config(k).get_config() == e  # a Keras config loads


def test_batchnorm_config_round_trip():
    bn = E.BatchNormalization(axis=1, momentum=0.5, epsilon=1e-4, scale=False, beta_initializer="ones")
    clone = E.BatchNormalization.from_config(bn.get_config())
    assert clone.get_config() == bn.get_config()
    clone(torch.zeros(2, 3))
    np.testing.assert_array_equal(clone.get_weights()[0], np.ones(3, "float32"))  # beta from its initializer


def test_batchnorm_accepts_keras2_list_axis():
    assert E.BatchNormalization(axis=[3]).axis == 3


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="momentum"):
        E.BatchNormalization(momentum=2)
    with pytest.raises(ValueError, match="renorm"):
        E.BatchNormalization(renorm=True)
    bn = E.BatchNormalization(axis=3)
    with pytest.raises(ValueError, match=r"batch_normalization.*axis 3.*\(None, 4\)"):
        bn.compute_output_shape((None, 4))
    bn = E.BatchNormalization()
    bn(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"built for 4 features.*\(None, 5\)"):
        bn.compute_output_shape((None, 5))


def test_batchnorm_symbolic_shape():
    x = E.Input(shape=(6, 6, 3))
    y = E.BatchNormalization()(x)
    assert y.shape == (None, 6, 6, 3)


# ---------------------------------------------------------------- LayerNormalization
@pytest.mark.parametrize("shape,kwargs", [
    ((3, 5), {}),
    ((2, 3, 4), {}),
    ((2, 3, 4, 5), dict(axis=[2, 3])),
    ((2, 3, 4, 5), dict(axis=[1, 3])),
    ((3, 5), dict(center=False)),
    ((3, 5), dict(scale=False, epsilon=1e-5)),
    ((2, 3, 4), dict(rms_scaling=True)),
])
def test_layernorm_matches_keras(keras, shape, kwargs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_against_keras(lambda L: L.LayerNormalization(**kwargs), shape, keras=keras)


@pytest.mark.parametrize("axis", [1, [1, 2], -2])
def test_layernorm_inner_axes_match_numpy(axis):
    # Keras 3.15 on torch fails on a single non-last axis (it hands it to F.layer_norm), so numpy is the
    # reference here.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    ln = E.LayerNormalization(axis=axis)
    ln(torch.tensor(x))
    gamma = rng.standard_normal(ln.gamma.shape).astype("float32")
    beta = rng.standard_normal(ln.beta.shape).astype("float32")
    ln.set_weights([gamma, beta])
    axes = tuple(a % 4 for a in (axis if isinstance(axis, list) else [axis]))
    bshape = [x.shape[d] if d in axes else 1 for d in range(4)]
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    want = (x - mean) / np.sqrt(var + 1e-3) * gamma.reshape(bshape) + beta.reshape(bshape)
    np.testing.assert_allclose(ln(torch.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)


def test_layernorm_config_matches_keras(keras):
    for kwargs in [{}, dict(axis=[1, 2], epsilon=1e-6, center=False)]:
        e = E.LayerNormalization(name="ln", **kwargs)
        k = keras.layers.LayerNormalization(name="ln", **kwargs)
        assert e.get_config() == k.get_config()
        assert E.LayerNormalization.from_config(k.get_config()).get_config() == e.get_config()
    # Once built, Keras stores the axis as a list.
    e = E.LayerNormalization()
    k = keras.layers.LayerNormalization()
    e(torch.zeros(2, 3))
    k(torch.zeros(2, 3))
    assert e.get_config()["axis"] == k.get_config()["axis"] == [-1]


def test_layernorm_round_trip_and_errors():
    ln = E.LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False)
    assert E.LayerNormalization.from_config(ln.get_config()).get_config() == ln.get_config()
    with pytest.raises(TypeError, match="axis"):
        E.LayerNormalization(axis="x")
    with pytest.raises(ValueError, match=r"layer_normalization.*axis 3.*\(None, 4\)"):
        E.LayerNormalization(axis=3).compute_output_shape((None, 4))


def test_registered_in_normalization_category():
    assert registry.category_of("BatchNormalization") == "Normalization"
    assert registry.category_of("LayerNormalization") == "Normalization"


def test_layernorm_negative_axis_works_on_another_rank():
    ln = E.LayerNormalization()
    ln(torch.randn(2, 5))
    y = ln(torch.randn(3, 4, 5) * 3 + 1)
    np.testing.assert_allclose(y.mean(dim=-1).detach().numpy(), np.zeros((3, 4)), atol=1e-5)
