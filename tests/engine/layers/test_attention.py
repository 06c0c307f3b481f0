"""Attention layers against Keras: EinsumDense, MultiHeadAttention, Attention, AdditiveAttention
(outputs, gradients, weight names/layout, masks, configs, files both ways)."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras


# ---------------------------------------------------------------------------- EinsumDense
@pytest.mark.parametrize("equation,output_shape,bias_axes,shape", [
    ("ab,bc->ac", 4, "c", (3, 5)),
    ("abc,cd->abd", (None, 6), "d", (2, 3, 5)),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 4, 5)),
    ("...b,bc->...c", 4, None, (2, 3, 5)),
    ("abc,cd->abd", (3, 6), "b", (2, 3, 5)),
])
def test_einsum_dense_matches_keras(keras, equation, output_shape, bias_axes, shape):
    check_against_keras(lambda L: L.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="relu"),
                        shape, keras=keras)
    check_config_against_keras(lambda L: L.EinsumDense(equation, output_shape, bias_axes=bias_axes, name="e"),
                               keras=keras)


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        E.EinsumDense("ab->b", 3).build((None, 4))
    with pytest.raises(ValueError, match="Bias dimension 'z'"):
        E.EinsumDense("ab,bc->ac", 3, bias_axes="z").build((None, 4))


# ---------------------------------------------------------------------------- MultiHeadAttention
def _pair(keras, kwargs, q, v, k=None):
    e, kl = E.MultiHeadAttention(**kwargs), keras.layers.MultiHeadAttention(**kwargs)
    args = [torch.tensor(q), torch.tensor(v)] + ([torch.tensor(k)] if k is not None else [])
    e(*args)
    kl(*[torch.tensor(a.numpy()) for a in args])
    assert all(w.keras_path for w in e.weights)
    e_names = [w.keras_name for w in e.weights]
    k_names = [w.name for w in kl.weights]
    assert e_names == k_names
    assert [w.shape for w in e.get_weights()] == [w.shape for w in kl.get_weights()]
    rng = np.random.default_rng(5)
    e.set_weights([w + rng.uniform(-0.3, 0.3, w.shape).astype("float32") for w in e.get_weights()])
    kl.set_weights(e.get_weights())
    return e, kl


MHA_CASES = [
    (dict(num_heads=2, key_dim=3), (2, 4, 5), (2, 6, 7), None, {}),
    (dict(num_heads=3, key_dim=2, value_dim=4, use_bias=False), (2, 4, 5), (2, 6, 5), (2, 6, 3), {}),
    (dict(num_heads=2, key_dim=3, output_shape=(4,)), (2, 5, 6), (2, 5, 6), None, dict(use_causal_mask=True)),
    (dict(num_heads=2, key_dim=3, use_gate=True), (2, 4, 5), (2, 6, 7), None, {}),
    (dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), (2, 3, 4, 5), (2, 3, 4, 5), None, {}),
    (dict(num_heads=2, key_dim=3, sliding_window=2), (2, 5, 4), (2, 5, 4), None, {}),
]


@pytest.mark.parametrize("kwargs,qs,vs,ks,call", MHA_CASES)
def test_multi_head_attention_matches_keras(keras, kwargs, qs, vs, ks, call):
    rng = np.random.default_rng(0)
    q, v = rng.standard_normal(qs).astype("float32"), rng.standard_normal(vs).astype("float32")
    k = rng.standard_normal(ks).astype("float32") if ks else None
    e, kl = _pair(keras, kwargs, q, v, k)
    ins = [torch.tensor(a, requires_grad=True) for a in (q, v, k) if a is not None]
    kins = [torch.tensor(a, requires_grad=True) for a in (q, v, k) if a is not None]
    e_out, e_scores = e(*ins[:2], **({"key": ins[2]} if k is not None else {}), return_attention_scores=True, **call)
    k_out, k_scores = kl(*kins[:2], **({"key": kins[2]} if k is not None else {}), return_attention_scores=True,
                         **call)
    np.testing.assert_allclose(e_out.detach().numpy(), k_out.detach().numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(e_scores.detach().numpy(), k_scores.detach().numpy(), atol=1e-5, rtol=1e-5)
    cot = torch.tensor(rng.standard_normal(tuple(e_out.shape)).astype("float32"))
    (e_out * cot).sum().backward()
    (k_out * cot).sum().backward()
    for a, b in zip(ins, kins):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-4, rtol=1e-4)
    for a, b in zip(e.trainable_weights, kl.trainable_weights):
        np.testing.assert_allclose(a.grad.numpy(), b.value.grad.numpy(), atol=1e-4, rtol=1e-4)
    # Symbolic shapes, with and without the scores.
    sym = [engine.Input(shape=s[1:]) for s in (qs, vs) + ((ks,) if ks else ())]
    out = E.MultiHeadAttention(**kwargs)(*sym[:2], **({"key": sym[2]} if ks else {}))
    assert tuple(out.shape) == (None,) + tuple(e_out.shape[1:])


def test_multi_head_attention_masks_match_keras(keras):
    rng = np.random.default_rng(1)
    q, v = rng.standard_normal((2, 4, 5)).astype("float32"), rng.standard_normal((2, 6, 5)).astype("float32")
    e, kl = _pair(keras, dict(num_heads=2, key_dim=3), q, v)
    qm = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    vm = np.array([[1, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 0]], bool)
    am = rng.uniform(size=(2, 4, 6)) > 0.3
    am[:, :, 0] = True
    kw = dict(query_mask=torch.tensor(qm), value_mask=torch.tensor(vm), attention_mask=torch.tensor(am))
    a = e(torch.tensor(q), torch.tensor(v), **kw)
    b = kl(torch.tensor(q), torch.tensor(v), **kw)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)


def test_multi_head_attention_config_matches_keras(keras):
    check_config_against_keras(lambda L: L.MultiHeadAttention(4, 8, value_dim=6, dropout=0.1, output_shape=(3,),
                                                              attention_axes=(1,), name="m"), keras=keras)


def _transformer(lib, mask_zero):
    inp = lib.Input(shape=(7,), dtype="int32")
    x = lib.layers.Embedding(20, 8, mask_zero=mask_zero)(inp)
    att = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    x = lib.layers.LayerNormalization()(lib.layers.Add()([x, att]))
    x = lib.layers.GlobalAveragePooling1D()(x)
    return lib.Model(inp, lib.layers.Dense(3)(x))


@pytest.mark.slow
@pytest.mark.parametrize("mask_zero", [False, True])
def test_transformer_block_matches_keras_and_files_go_both_ways(keras, tmp_path, mask_zero):
    x = np.random.default_rng(0).integers(1, 20, size=(4, 7)).astype("int32")
    x[0, 5:] = 0
    x[2, 3:] = 0
    e, k = _transformer(engine, mask_zero), _transformer(keras, mask_zero)
    k.set_weights(e.get_weights())
    want = k.predict(x, verbose=0)
    np.testing.assert_allclose(e.predict(x, verbose=0), want, atol=1e-5)
    for ext in ("keras", "h5"):
        e.save(str(tmp_path / f"e.{ext}"))
        np.testing.assert_allclose(keras.models.load_model(str(tmp_path / f"e.{ext}")).predict(x, verbose=0), want,
                                   atol=1e-5)
        k.save(str(tmp_path / f"k.{ext}"))
        np.testing.assert_allclose(engine.models.load_model(str(tmp_path / f"k.{ext}")).predict(x, verbose=0),
                                   want, atol=1e-5)


def test_cross_attention_with_a_key_saves_both_ways(keras, tmp_path):
    def build(lib):
        q, v, k = lib.Input(shape=(3, 4)), lib.Input(shape=(5, 6)), lib.Input(shape=(5, 2))
        return lib.Model([q, v, k], lib.layers.MultiHeadAttention(2, 3, name="mha")(q, v, key=k))

    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype("float32") for s in ((2, 3, 4), (2, 5, 6), (2, 5, 2))]
    e = build(engine)
    e.save(str(tmp_path / "e.keras"))
    k = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(k.predict(xs, verbose=0), e.predict(xs, verbose=0), atol=1e-5)
    k.save(str(tmp_path / "k.keras"))
    back = engine.models.load_model(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(back.predict(xs, verbose=0), e.predict(xs, verbose=0), atol=1e-5)


# ---------------------------------------------------------------------------- Attention / AdditiveAttention
DENSE_ATTENTION = [
    lambda L: L.Attention(),
    lambda L: L.Attention(use_scale=True),
    lambda L: L.Attention(use_scale=True, score_mode="concat"),
    lambda L: L.AdditiveAttention(),
    lambda L: L.AdditiveAttention(use_scale=False),
]


@pytest.mark.parametrize("factory", DENSE_ATTENTION)
@pytest.mark.parametrize("with_key", [False, True])
def test_dense_attention_matches_keras(keras, factory, with_key):
    shapes = [(2, 3, 4), (2, 5, 4)] + ([(2, 5, 4)] if with_key else [])
    check_against_keras(factory, shapes, keras=keras)


@pytest.mark.parametrize("factory", DENSE_ATTENTION)
def test_dense_attention_masks_and_causal_match_keras(keras, factory):
    qm = np.array([[1, 1, 0], [1, 0, 1]], bool)
    vm = np.array([[1, 1, 0, 1, 0], [1, 0, 1, 1, 1]], bool)
    check_against_keras(factory, [(2, 3, 4), (2, 5, 4)], keras=keras, mask=[qm, vm])
    check_against_keras(factory, [(2, 4, 4), (2, 4, 4)], keras=keras, call_kwargs=dict(use_causal_mask=True))


@pytest.mark.parametrize("factory", DENSE_ATTENTION)
def test_dense_attention_config_matches_keras(keras, factory):
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    check_config_against_keras(named, keras=keras)


def test_attention_scores_and_symbolic_shapes():
    q, v = engine.Input(shape=(3, 4)), engine.Input(shape=(5, 4))
    out, scores = E.Attention()([q, v], return_attention_scores=True)
    assert tuple(out.shape) == (None, 3, 4) and tuple(scores.shape) == (None, 3, 5)
    with pytest.raises(ValueError, match="list of inputs"):
        E.Attention()(engine.Input(shape=(3, 4)))
    for name in ("MultiHeadAttention", "Attention", "AdditiveAttention"):
        assert registry.category_of(name) == "Attention"
    assert registry.category_of("EinsumDense") == "Core"


# ---------------------------------------------------------------------------- GroupQueryAttention
GQA_CASES = [
    (dict(head_dim=3, num_query_heads=4, num_key_value_heads=2), (2, 4, 5), (2, 6, 7), None, {}, True),
    (dict(head_dim=2, num_query_heads=4, num_key_value_heads=1, use_bias=False), (2, 4, 5), (2, 6, 5), (2, 6, 3),
     {}, False),
    (dict(head_dim=3, num_query_heads=2, num_key_value_heads=2, use_gate=True), (2, 5, 4), (2, 5, 4), None,
     dict(use_causal_mask=True), False),
    (dict(head_dim=2, num_query_heads=6, num_key_value_heads=3, sliding_window=2), (2, 5, 4), (2, 5, 4), None,
     {}, True),
]


@pytest.mark.parametrize("kwargs,qs,vs,ks,call,scores", GQA_CASES)
def test_group_query_attention_matches_keras(keras, kwargs, qs, vs, ks, call, scores):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype("float32") for s in (qs, vs) + ((ks,) if ks else ())]
    e, kl = E.GroupQueryAttention(**kwargs), keras.layers.GroupQueryAttention(**kwargs)
    e(*[torch.tensor(a) for a in arrays[:2]], **({"key": torch.tensor(arrays[2])} if ks else {}))
    kl(*[torch.tensor(a) for a in arrays[:2]], **({"key": torch.tensor(arrays[2])} if ks else {}))
    assert [w.keras_name for w in e.weights] == [w.name for w in kl.weights]
    e.set_weights([w + rng.uniform(-0.3, 0.3, w.shape).astype("float32") for w in e.get_weights()])
    kl.set_weights(e.get_weights())
    qm = np.ones(qs[:2], bool)
    qm[0, -1] = False
    vm = np.ones(vs[:2], bool)
    vm[1, 0] = False
    masks = dict(query_mask=torch.tensor(qm), value_mask=torch.tensor(vm))
    kw = dict(call, return_attention_scores=scores, **masks, **({"key": None} if not ks else {}))
    kw.pop("key", None)
    ins = [torch.tensor(a) for a in arrays]
    a = e(*ins[:2], **({"key": ins[2]} if ks else {}), **kw)
    b = kl(*ins[:2], **({"key": ins[2]} if ks else {}), **kw)
    for x, y in zip(a if scores else [a], b if scores else [b]):
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), atol=1e-5)


def test_group_query_attention_config_and_files(keras, tmp_path):
    check_config_against_keras(lambda L: L.GroupQueryAttention(4, 4, 2, dropout=0.1, name="g"), keras=keras)
    assert registry.get_class("GroupedQueryAttention") is E.GroupQueryAttention

    def build(lib):
        inp = lib.Input(shape=(5, 8))
        return lib.Model(inp, lib.layers.GroupQueryAttention(4, 4, 2, name="gqa")(inp, inp))

    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
    e = build(engine)
    e.save(str(tmp_path / "e.keras"))
    k = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(k.predict(x, verbose=0), e.predict(x, verbose=0), atol=1e-5)
    k.save(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(engine.models.load_model(str(tmp_path / "k.keras")).predict(x, verbose=0),
                               e.predict(x, verbose=0), atol=1e-5)
