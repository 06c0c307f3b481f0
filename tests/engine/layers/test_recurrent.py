import json

import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import recurrent, registry
from tests.engine.layers.harness import check_against_keras

SEQ = (3, 5, 4)  # (batch, timesteps, features): short sequences keep float32 error well under 1e-5

RNNS = {
    "SimpleRNN": lambda L, **kw: L.SimpleRNN(3, **kw),
    "LSTM": lambda L, **kw: L.LSTM(3, **kw),
    "GRU": lambda L, **kw: L.GRU(3, **kw),
    "GRU_reset_before": lambda L, **kw: L.GRU(3, reset_after=False, **kw),
}
MODES = [dict(), dict(return_sequences=True), dict(return_state=True, go_backwards=True),
         dict(return_sequences=True, return_state=True, go_backwards=True)]


# ---------------------------------------------------------------- forward, input and weight gradients vs Keras
@pytest.mark.parametrize("kind", list(RNNS))
@pytest.mark.parametrize("mode", MODES, ids=lambda m: "-".join(m) or "default")
def test_rnn_matches_keras(keras, kind, mode):
    check_against_keras(lambda L: RNNS[kind](L, **mode), SEQ, keras=keras)


@pytest.mark.parametrize("factory", [
    lambda L: L.LSTM(3, activation="relu", recurrent_activation="tanh", return_sequences=True),
    lambda L: L.LSTM(3, recurrent_activation="hard_sigmoid"),
    lambda L: L.GRU(3, activation="relu", return_sequences=True),
    lambda L: L.GRU(3, reset_after=False, recurrent_activation="softsign"),
    lambda L: L.SimpleRNN(3, activation="sigmoid", return_sequences=True),
    lambda L: L.SimpleRNN(3, activation="relu", return_sequences=True),  # torch.rnn_relu
], ids=["lstm-relu", "lstm-hard-sigmoid", "gru-relu", "gru-before-softsign", "rnn-sigmoid", "rnn-relu"])
def test_rnn_other_activations_match_keras(keras, factory):
    check_against_keras(factory, SEQ, keras=keras)


@pytest.mark.parametrize("kind", list(RNNS))
def test_rnn_without_bias_matches_keras(keras, kind):
    check_against_keras(lambda L: RNNS[kind](L, use_bias=False, return_sequences=True), SEQ, keras=keras)


@pytest.mark.parametrize("kind", list(RNNS))
def test_rnn_recurrent_dropout_at_inference_matches_keras(keras, kind):
    # Dropout is off outside training, so the result equals Keras's with the same weights.
    check_against_keras(lambda L: RNNS[kind](L, dropout=0.3, recurrent_dropout=0.4), SEQ, keras=keras)


@pytest.mark.parametrize("kind", list(RNNS))
def test_fused_and_loop_paths_agree(kind):
    """The fused torch kernel and the Python loop are two implementations of one layer: same numbers."""
    layer = RNNS[kind](E, return_sequences=True, return_state=True)
    x = torch.randn(*SEQ)
    layer(x)
    with torch.no_grad():
        for w in layer.weights:
            w.add_(torch.empty_like(w).uniform_(-0.3, 0.3))
    fused = layer(x)
    layer.cell._can_fuse = lambda: False
    loop = layer(x)
    for a, b in zip(fused, loop):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)


def test_default_lstm_uses_the_fused_kernel(monkeypatch):
    calls = []
    real = torch.lstm
    monkeypatch.setattr(torch, "lstm", lambda *a: calls.append(1) or real(*a))
    E.LSTM(2)(torch.randn(2, 3, 4))
    assert calls == [1]
    E.LSTM(2, activation="relu")(torch.randn(2, 3, 4))
    assert calls == [1]


# ---------------------------------------------------------------- masks and initial states vs Keras
@pytest.fixture
def mask():
    return torch.tensor([[True, True, True, False, False],
                         [True, True, True, True, True],
                         [True, False, True, True, False]])


@pytest.mark.parametrize("kind", list(RNNS))
@pytest.mark.parametrize("mode", [dict(return_sequences=True, return_state=True), dict(go_backwards=True)],
                         ids=["seq-state", "backwards-last"])
def test_rnn_mask_matches_keras(keras, kind, mode, mask):
    check_against_keras(lambda L: RNNS[kind](L, **mode), SEQ, keras=keras, call_kwargs={"mask": mask})


@pytest.mark.parametrize("kind", list(RNNS))
def test_rnn_initial_state_matches_keras(keras, kind):
    n = 2 if kind == "LSTM" else 1
    states = [torch.randn(3, 3) for _ in range(n)]
    check_against_keras(lambda L: RNNS[kind](L, return_state=True), SEQ, keras=keras,
                        call_kwargs={"initial_state": states})


# ---------------------------------------------------------------- Bidirectional
# Each case compares two LSTMs with Keras (about 0.4 s): the fast loop keeps concat; the other merge modes
# run with the slow tests.
_SLOW = pytest.mark.slow


@pytest.mark.parametrize("merge_mode,return_sequences", [
    pytest.param("concat", False, marks=_SLOW), ("concat", True), pytest.param("sum", True, marks=_SLOW),
    pytest.param("mul", True, marks=_SLOW), pytest.param("ave", False, marks=_SLOW),
    pytest.param(None, True, marks=_SLOW)])
def test_bidirectional_merge_modes_match_keras(keras, merge_mode, return_sequences):
    check_against_keras(lambda L: L.Bidirectional(L.LSTM(3, return_sequences=return_sequences),
                                                  merge_mode=merge_mode), SEQ, keras=keras)


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_return_state_matches_keras(keras, merge_mode):
    check_against_keras(lambda L: L.Bidirectional(L.GRU(3, return_state=True, return_sequences=True),
                                                  merge_mode=merge_mode), SEQ, keras=keras)


def test_bidirectional_with_backward_layer_and_mask_match_keras(keras, mask):
    check_against_keras(lambda L: L.Bidirectional(L.SimpleRNN(3, return_sequences=True),
                                                  backward_layer=L.GRU(2, go_backwards=True, return_sequences=True)),
                        SEQ, keras=keras)
    check_against_keras(lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True)), SEQ, keras=keras,
                        call_kwargs={"mask": mask})


def test_bidirectional_copies_layer_like_keras(keras):
    inner = E.LSTM(4, name="enc")
    bi = E.Bidirectional(inner)
    bi(torch.randn(2, 3, 5))
    assert bi.forward_layer is not inner
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_enc", "backward_enc")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    assert [tuple(w.shape) for w in bi.weights] == [(5, 16), (4, 16), (16,)] * 2
    k = keras.layers.Bidirectional(keras.layers.LSTM(4, name="enc"))
    k.build((None, 3, 5))
    assert [tuple(w.shape) for w in k.weights] == [tuple(w.shape) for w in bi.weights]


def test_bidirectional_rejects_bad_arguments():
    with pytest.raises(ValueError, match="merge_mode='max'"):
        E.Bidirectional(E.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="Dense"):
        E.Bidirectional(E.Dense(2))
    with pytest.raises(ValueError, match="go_backwards"):
        E.Bidirectional(E.LSTM(2), backward_layer=E.LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        E.Bidirectional(E.LSTM(2), backward_layer=E.LSTM(2, go_backwards=True, return_sequences=True))


# ---------------------------------------------------------------- TimeDistributed
def test_time_distributed_dense_matches_keras(keras):
    check_against_keras(lambda L: L.TimeDistributed(L.Dense(3, activation="tanh")), SEQ, keras=keras)
    check_against_keras(lambda L: L.TimeDistributed(L.Dense(2)), (2, 3, 4, 5), keras=keras)


def test_time_distributed_conv2d_matches_keras(keras):
    if not registry.is_registered("Conv2D"):
        pytest.skip("Conv2D is not written yet")
    check_against_keras(lambda L: L.TimeDistributed(L.Conv2D(2, 3, padding="same")), (2, 3, 5, 5, 2), keras=keras)


def test_time_distributed_shape_and_error():
    td = E.TimeDistributed(E.Dense(6), name="td")
    assert td.compute_output_shape((None, 7, 3)) == (None, 7, 6)
    with pytest.raises(ValueError, match=r"'td'.*\(None, 3\)"):
        td.compute_output_shape((None, 3))
    with pytest.raises(ValueError, match="layer instance"):
        E.TimeDistributed("dense")


# ---------------------------------------------------------------- stacks and graphs
def _copy_and_compare(e_model, k_model, x, atol=1e-5):
    e_model.set_weights(k_model.get_weights())
    e_x, k_x = torch.tensor(x), torch.tensor(x)
    e_y, k_y = e_model(e_x), k_model(k_x)
    np.testing.assert_allclose(e_y.detach().numpy(), k_y.detach().numpy(), atol=atol)
    e_y.sum().backward()
    k_y.sum().backward()
    for a, b in zip(e_model.trainable_weights, k_model.trainable_weights):
        np.testing.assert_allclose(a.grad.numpy(), b.value.grad.numpy(), atol=atol * 10)


def test_embedding_lstm_stack_matches_keras(keras):
    def build(pkg):
        return pkg.Sequential([pkg.layers.Embedding(20, 4), pkg.layers.LSTM(5, return_sequences=True),
                               pkg.layers.GRU(3), pkg.layers.Dense(2)])
    e, k = build(engine), build(keras)
    x = np.random.default_rng(0).integers(0, 20, size=(3, 6)).astype("int32")
    k(x)
    e(torch.tensor(x))
    _copy_and_compare(e, k, x)


def test_seq2seq_initial_state_graph_matches_keras(keras):
    def build(pkg):
        enc_in = pkg.Input((4, 3))
        _, h, c = pkg.layers.LSTM(5, return_state=True)(enc_in)
        dec_in = pkg.Input((6, 2))
        y = pkg.layers.LSTM(5, return_sequences=True)(dec_in, initial_state=[h, c])
        return pkg.Model([enc_in, dec_in], pkg.layers.TimeDistributed(pkg.layers.Dense(3))(y))
    e, k = build(engine), build(keras)
    assert e.output_shape == (None, 6, 3)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((2, 4, 3)).astype("float32"), rng.standard_normal((2, 6, 2)).astype("float32")]
    e.set_weights(k.get_weights())
    e_y = e([torch.tensor(a) for a in xs])
    k_y = k([torch.tensor(a) for a in xs])
    np.testing.assert_allclose(e_y.detach().numpy(), k_y.detach().numpy(), atol=1e-5)
    # The decoder really depends on the encoder through the states.
    xs2 = [xs[0] + 1.0, xs[1]]
    assert not np.allclose(e([torch.tensor(a) for a in xs2]).detach().numpy(), e_y.detach().numpy())


def test_symbolic_return_state_shapes():
    x = engine.Input((7, 3))
    out, h, c = E.LSTM(4, return_sequences=True, return_state=True)(x)
    assert (out.shape, h.shape, c.shape) == ((None, 7, 4), (None, 4), (None, 4))
    outs = E.Bidirectional(E.GRU(2, return_state=True), merge_mode=None)(x)
    assert [t.shape for t in outs] == [(None, 2)] * 4


# ---------------------------------------------------------------- errors, weights, stateful, dropout
@pytest.mark.parametrize("cls", [E.SimpleRNN, E.LSTM, E.GRU])
def test_rank_error_names_layer_and_suggests_fix(cls):
    layer = cls(4, name="rnn_x")
    with pytest.raises(ValueError, match=r"'rnn_x'.*\(batch, timesteps, features\).*Reshape.*Embedding"):
        layer.compute_output_shape((None, 10))
    with pytest.raises(ValueError, match="rnn_x"):
        layer(engine.Input((10,)))
    with pytest.raises(ValueError, match="rnn_x"):
        layer(torch.randn(2, 10))


@pytest.mark.parametrize("kwargs,bad", [(dict(units=0), "units=0"), (dict(units=3, dropout=1.5), "dropout=1.5"),
                                        (dict(units=3, recurrent_dropout=-0.1), "recurrent_dropout=-0.1")])
def test_rnn_rejects_bad_arguments(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        E.LSTM(**kwargs)


@pytest.mark.parametrize("kind,cell", [("SimpleRNN", "simple_rnn_cell"), ("LSTM", "lstm_cell"), ("GRU", "gru_cell")])
def test_weights_live_on_a_keras_named_cell(keras, kind, cell):
    layer = RNNS[kind](E)
    layer.build((None, 5, 4))
    assert layer.cell.name == cell
    assert [n for n, _ in layer.named_parameters()] == ["cell.kernel", "cell.recurrent_kernel", "cell.bias"]
    k = RNNS[kind](keras.layers)
    k.build((None, 5, 4))
    assert [w.path.split("/", 1)[1] for w in k.weights] == [f"{cell}/{w.keras_name}" for w in layer.weights]
    assert [tuple(w.shape) for w in k.weights] == [tuple(w.shape) for w in layer.weights]


def test_lstm_unit_forget_bias_and_gru_bias_shapes():
    lstm = E.LSTM(3)
    lstm.build((None, 2, 4))
    np.testing.assert_array_equal(lstm.cell.bias.detach().numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    lstm = E.LSTM(3, unit_forget_bias=False)
    lstm.build((None, 2, 4))
    assert not lstm.cell.bias.detach().numpy().any()
    for reset_after, shape in ((True, (2, 9)), (False, (9,))):
        gru = E.GRU(3, reset_after=reset_after)
        gru.build((None, 2, 4))
        assert tuple(gru.cell.bias.shape) == shape


def test_stateful_carries_state_between_batches():
    layer = E.LSTM(3, stateful=True)
    stateless = E.LSTM(3)
    x1, x2 = torch.randn(2, 4, 5), torch.randn(2, 4, 5)
    layer(x1)
    stateless(x1)
    stateless.set_weights(layer.get_weights())
    y_cont = layer(x2).detach().numpy()
    _, h, c = E.LSTM(3, return_state=True, weights=layer.get_weights())(x1)
    np.testing.assert_allclose(y_cont, stateless(x2, initial_state=[h, c]).detach().numpy(), atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x2).detach().numpy(), stateless(x2).detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="batch"):
        layer(torch.randn(3, 4, 5))


@pytest.mark.parametrize("kind", list(RNNS))
def test_dropout_only_in_training(kind):
    layer = RNNS[kind](E, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=3)
    x = torch.randn(*SEQ)
    ref = layer(x, training=False).detach()
    plain = RNNS[kind](E, return_sequences=True, weights=layer.get_weights())
    np.testing.assert_allclose(ref.numpy(), plain(x).detach().numpy(), atol=1e-6)
    train = layer(x, training=True)
    assert train.shape == ref.shape
    assert not torch.allclose(train, ref)
    train.sum().backward()  # the loop with per-gate masks is differentiable
    assert all(w.grad is not None for w in layer.trainable_weights)


@pytest.mark.parametrize("kind", list(RNNS))
@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.5], ids=["input-dropout", "both-dropouts"])
def test_dropout_math_matches_keras_with_the_same_masks(keras, kind, recurrent_dropout):
    """Give both layers the same dropout masks: per-gate masks (recurrent dropout on) or one shared mask."""
    b, t, f = SEQ
    x = torch.randn(b, t, f)
    e = RNNS[kind](E, dropout=0.5, recurrent_dropout=recurrent_dropout, return_sequences=True)
    k = RNNS[kind](keras.layers, dropout=0.5, recurrent_dropout=recurrent_dropout, return_sequences=True)
    e(x)
    k(x)
    e.set_weights([w + np.random.default_rng(1).uniform(-0.3, 0.3, w.shape).astype("float32")
                   for w in e.get_weights()])
    k.set_weights(e.get_weights())
    per_gate = kind != "SimpleRNN" and recurrent_dropout > 0
    gates = {"SimpleRNN": 1, "LSTM": 4}.get(kind, 3) if per_gate else 1
    gen = torch.Generator().manual_seed(0)
    masks = {f: torch.bernoulli(torch.full((gates, b, f), 0.5), generator=gen) * 2.0,
             3: torch.bernoulli(torch.full((gates, b, 3), 0.5), generator=gen) * 2.0}
    e.cell._masks = lambda count, batch, size, rate, like: masks[size][:count]
    k.cell._dropout_mask = list(masks[f]) if per_gate else masks[f][0]
    if recurrent_dropout:
        k.cell._recurrent_dropout_mask = list(masks[3]) if per_gate else masks[3][0]
    np.testing.assert_allclose(e(x, training=True).detach().numpy(), k(x, training=True).detach().numpy(),
                               atol=1e-5)


def test_input_dropout_only_uses_fused_path_and_fixed_mask():
    # With recurrent_dropout=0 dropout keeps the fused kernel: zeroed features stay zeroed at every step.
    layer = E.SimpleRNN(2, dropout=0.5, activation="tanh", use_bias=False, return_sequences=True)
    x = torch.ones(64, 3, 1)
    layer(x)
    with torch.no_grad():
        layer.cell.recurrent_kernel.zero_()
        layer.cell.kernel.fill_(1.0)
    y = layer(x, training=True).detach()
    dropped = y[:, 0, 0] == 0
    assert 0 < int(dropped.sum()) < 64
    assert bool((y[dropped] == 0).all())


# ---------------------------------------------------------------- configs
LAYER_FACTORIES = {
    "SimpleRNN": lambda L: L.SimpleRNN(3, activation="relu", return_sequences=True, name="r"),
    "LSTM": lambda L: L.LSTM(3, return_state=True, dropout=0.1, unit_forget_bias=False, name="r"),
    "GRU": lambda L: L.GRU(3, reset_after=False, go_backwards=True, recurrent_dropout=0.2, name="r"),
    "LSTMCell": lambda L: L.LSTMCell(3, name="c"),
    "GRUCell": lambda L: L.GRUCell(3, name="c"),
    "SimpleRNNCell": lambda L: L.SimpleRNNCell(3, name="c"),
}


def _comparable(value):
    """A config with initializer configs reduced to their class names (Keras adds axis keys of its own)."""
    if isinstance(value, dict):
        if value.get("module") == "keras.initializers":
            return value["class_name"]
        return {k: _comparable(v) for k, v in value.items() if k != "build_config"}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


@pytest.mark.parametrize("name", list(LAYER_FACTORIES))
def test_config_matches_keras(keras, name):
    e, k = LAYER_FACTORIES[name](E), LAYER_FACTORIES[name](keras.layers)
    ec, kc = e.get_config(), k.get_config()
    assert list(ec) == list(kc)
    assert _comparable(ec) == _comparable(kc)
    json.dumps(ec)


@pytest.mark.parametrize("name", list(LAYER_FACTORIES))
def test_from_config_round_trips(keras, name):
    e = LAYER_FACTORIES[name](E)
    cls = type(e)
    assert cls.from_config(e.get_config()).get_config() == e.get_config()
    # Keras's config builds our layer, and ours builds Keras's.
    k = LAYER_FACTORIES[name](keras.layers)
    assert _comparable(cls.from_config(k.get_config()).get_config()) == _comparable(e.get_config())
    assert _comparable(getattr(keras.layers, name).from_config(e.get_config()).get_config()) == _comparable(
        k.get_config())


@pytest.mark.parametrize("make", [
    lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True, name="enc"), merge_mode="sum", name="bi"),
    lambda L: L.Bidirectional(L.SimpleRNN(3, name="a"), backward_layer=L.GRU(2, go_backwards=True, name="b"),
                              name="bi"),
    lambda L: L.TimeDistributed(L.Dense(4, name="d"), name="td"),
], ids=["bidirectional", "bidirectional-backward-layer", "time-distributed"])
def test_wrapper_configs_match_keras_and_round_trip(keras, make):
    e, k = make(E), make(keras.layers)
    e(torch.randn(*SEQ))
    k(torch.randn(*SEQ))
    ec, kc = e.get_config(), k.get_config()
    assert list(ec) == list(kc)
    assert _comparable(ec) == _comparable(kc)
    nested = ec["layer"]
    assert set(nested) >= {"module", "class_name", "config", "registered_name"}
    assert nested["module"] == "keras.layers" and nested["registered_name"] is None
    json.dumps(ec)
    again = type(e).from_config(json.loads(json.dumps(ec)))
    assert _comparable(again.get_config()) == _comparable(ec)
    from_keras = type(e).from_config(kc)
    assert _comparable(from_keras.get_config()) == _comparable(kc)
    # Keras rebuilds ours, and with the same weights computes the same thing.
    k2 = getattr(keras.layers, type(e).__name__).from_config(json.loads(json.dumps(ec)))
    x = torch.randn(*SEQ)
    k2(x)
    k2.set_weights(e.get_weights())
    np.testing.assert_allclose(k2(x).detach().numpy(), e(x).detach().numpy(), atol=1e-5)


def test_keras2_style_arguments():
    # input_dim/input_length meant (features, timesteps) for Keras 2 RNNs.
    model = engine.Sequential([E.LSTM(4, input_dim=3, input_length=6, implementation=2), E.Dense(1)])
    assert model.layers[0].output_shape == (None, 4)
    bi = engine.Sequential([E.Bidirectional(E.GRU(2, return_sequences=True), input_shape=(5, 3))])
    assert bi.output_shape == (None, 5, 4)
    bi2 = engine.Sequential([E.Bidirectional(E.GRU(2, input_shape=(5, 3)))])
    assert bi2.output_shape == (None, 4)
    gru = E.GRU.from_config({"name": "g", "units": 2, "reset_after": False, "implementation": 1,
                             "dtype": "float32", "trainable": True, "unroll": False, "time_major": False})
    assert gru.reset_after is False


def test_registry_categories():
    for name in ("SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "Bidirectional",
                 "TimeDistributed"):
        assert registry.get_class(name) is getattr(recurrent, name)
        assert registry.category_of(name) == "Recurrent"
