"""The ``_torch.py`` export: a standalone torch module, run where ``engine`` cannot be imported."""
import numpy as np
import pytest

from tests.visualkeras_app.export.conftest import MODELS, build, predict, run_script, run_scripts
from visualkeras_app.export import ExportError, export_model

_CALL = "model(*[__import__('torch').from_numpy(x) for x in xs]).detach().numpy()"


@pytest.mark.slow
def test_torch_scripts_match_without_engine(tmp_path):
    jobs, expected = [], []
    for key in MODELS:
        model, xs = build(key)
        out = tmp_path / "out"
        report = export_model(model, out / f"{key}_torch.py", weights_format="pt")
        assert report.format == "torch"
        assert (out / f"{key}_torch.pt").is_file()
        text = (out / f"{key}_torch.py").read_text()
        assert "engine" not in text.replace("visualkeras", "")
        assert "weights_only=True" in text
        jobs.append((out / f"{key}_torch.py", xs, _CALL))
        expected.append(predict(model, xs))
    for key, got, want in zip(MODELS, run_scripts(jobs, tmp_path, block_engine=True), expected):
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_torch_script_with_safetensors(tmp_path):
    pytest.importorskip("safetensors")
    model, xs = build("two_input")
    report = export_model(model, tmp_path / "m_torch.py")
    assert report.extra_files[0].endswith("m_torch.safetensors")
    got = run_script(tmp_path / "m_torch.py", xs, tmp_path, _CALL, block_engine=True)
    np.testing.assert_allclose(got, predict(model, xs), atol=1e-5)


def test_auto_weights_format_falls_back_to_pt(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    model, _ = build("seed_mlp")
    report = export_model(model, tmp_path / "m_torch.py")
    assert report.extra_files[0].endswith("m_torch.pt")


@pytest.mark.slow
def test_gru_and_layer_norm_translate(tmp_path):
    import engine
    from engine import layers

    from tests.visualkeras_app.export.conftest import randomize

    inp = engine.Input(shape=(6, 4))
    x = layers.GRU(5, return_sequences=True)(inp)
    x = layers.LayerNormalization()(x)
    x = layers.SimpleRNN(3)(x)
    model = engine.Model(inputs=inp, outputs=x)
    randomize(model)
    xs = [np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")]
    export_model(model, tmp_path / "r_torch.py", weights_format="pt")
    got = run_script(tmp_path / "r_torch.py", xs, tmp_path, _CALL, block_engine=True)
    np.testing.assert_allclose(got, predict(model, xs), atol=1e-5)


def test_unsupported_layer_is_named(tmp_path):
    import engine
    from engine import layers

    inp = engine.Input(shape=(6, 4))
    x = layers.LSTM(3, stateful=True, name="stateful_rnn")(inp)
    model = engine.Model(inputs=inp, outputs=x)
    with pytest.raises(ExportError, match=r"'stateful_rnn'.*LSTM.*stateful=True"):
        export_model(model, tmp_path / "m_torch.py")
    assert not (tmp_path / "m_torch.py").exists()


# ---------------------------------------------------------------- layers that need more than a module call
# Each model puts several settings of one layer kind side by side (branches flattened and concatenated),
# so that one fresh process checks them all; the processes of all kinds run at once (module fixture).

def _branches(inp, outs):
    import engine
    from engine import layers

    flat = [layers.Flatten()(y) for y in outs]
    return engine.Model(inputs=inp, outputs=layers.Concatenate()(flat) if len(flat) > 1 else flat[0])


def _separable():
    import engine
    from engine import layers

    inp = engine.Input(shape=(7, 9, 3))
    return _branches(inp, [
        layers.SeparableConv2D(5, 3, strides=2, padding="same", depth_multiplier=2, activation="relu")(inp),
        layers.SeparableConv2D(4, (3, 2), dilation_rate=2, use_bias=False)(inp),
        layers.SeparableConv2D(2, (2, 4), strides=(1, 3), padding="same", activation="tanh")(inp),
    ])


def _conv_transpose():
    import engine
    from engine import layers

    inp = engine.Input(shape=(5, 6, 3))
    return _branches(inp, [
        layers.Conv2DTranspose(3, 3, strides=2, padding="same")(inp),
        layers.Conv2DTranspose(2, (3, 4), strides=2, padding="same", output_padding=1, activation="relu")(inp),
        layers.Conv2DTranspose(2, 3, strides=(2, 3), output_padding=(1, 2))(inp),  # "valid"
        layers.Conv2DTranspose(2, (2, 5), strides=(3, 2))(inp),  # "valid", kernel smaller than stride
        layers.Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=0)(inp),
        layers.Conv2DTranspose(2, 1, strides=3, padding="same")(inp),
        layers.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", use_bias=False, activation="tanh")(inp),
        layers.Conv2DTranspose(1, (2, 3), dilation_rate=(2, 1))(inp),
    ])


def _dot():
    import engine
    from engine import layers

    a, b = engine.Input(shape=(4,)), engine.Input(shape=(4,))
    c, d, e = engine.Input(shape=(3, 5)), engine.Input(shape=(6, 5)), engine.Input(shape=(3, 4))
    return _branches([a, b, c, d, e], [
        layers.Dot(axes=1)([a, b]),
        layers.Dot(axes=-1, normalize=True)([a, b]),
        layers.Dot(axes=(2, 2))([c, d]),
        layers.Dot(axes=-1, normalize=True)([c, d]),
        layers.Dot(axes=1)([c, e]),
        layers.Dot(axes=(1, 2), normalize=True)([a, e]),
        layers.Dot(axes=(2, 1))([e, a]),
    ])


def _rnn_backwards():
    import engine
    from engine import layers

    inp = engine.Input(shape=(6, 4))
    return _branches(inp, [
        layers.LSTM(3, go_backwards=True, return_sequences=True)(inp),
        layers.GRU(3, go_backwards=True)(inp),
        layers.SimpleRNN(2, go_backwards=True, return_sequences=True, activation="relu")(inp),
    ])


def _bidirectional():
    import engine
    from engine import layers

    inp = engine.Input(shape=(5, 4))
    stacked = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="ave")(inp)
    return _branches(inp, [
        layers.Bidirectional(layers.LSTM(3, return_sequences=True))(inp),
        layers.Bidirectional(layers.GRU(2), merge_mode="sum")(inp),
        layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True), merge_mode="mul")(inp),
        layers.Bidirectional(layers.LSTM(2, use_bias=False), merge_mode="ave")(inp),
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.GRU(3, go_backwards=True))(stacked),
    ])


def _time_distributed():
    import engine
    from engine import layers

    frames = engine.Input(shape=(3, 7, 5, 2))
    x = layers.TimeDistributed(layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"))(frames)
    x = layers.TimeDistributed(layers.MaxPooling2D(2, padding="same"))(x)
    x = layers.TimeDistributed(layers.Flatten())(x)
    x = layers.TimeDistributed(layers.Dense(5, activation="tanh"))(x)
    x = layers.TimeDistributed(layers.LayerNormalization())(x)
    return _branches(frames, [x, layers.TimeDistributed(layers.SeparableConv2D(2, 2))(frames)])


_KINDS = {"SeparableConv2D": _separable, "Conv2DTranspose": _conv_transpose, "Dot": _dot,
          "go_backwards": _rnn_backwards, "Bidirectional": _bidirectional, "TimeDistributed": _time_distributed}


@pytest.fixture(scope="module")
def exported_kinds(tmp_path_factory):
    """{kind: (engine prediction, script prediction) or the ExportError}, the scripts run side by side."""
    from tests.visualkeras_app.export.conftest import randomize

    tmp = tmp_path_factory.mktemp("kinds")
    results, jobs, keys, expected = {}, [], [], []
    for i, (kind, make) in enumerate(_KINDS.items()):
        model = make()
        randomize(model, seed=i)
        rng = np.random.default_rng(i)
        xs = [rng.normal(0, 1, (2,) + tuple(t.shape[1:])).astype("float32") for t in model.inputs]
        try:
            export_model(model, tmp / f"k{i}_torch.py", weights_format="pt")
        except ExportError as e:
            results[kind] = e
            continue
        jobs.append((tmp / f"k{i}_torch.py", xs, _CALL))
        keys.append(kind)
        expected.append(predict(model, xs))
    for kind, want, got in zip(keys, expected, run_scripts(jobs, tmp, block_engine=True)):
        results[kind] = (want, got)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(_KINDS))
def test_layer_kind_exports(exported_kinds, kind):
    result = exported_kinds[kind]
    if isinstance(result, ExportError):
        raise result
    want, got = result
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, err_msg=kind)


def test_bidirectional_with_two_outputs_is_refused(tmp_path):
    import engine
    from engine import layers

    inp = engine.Input(shape=(5, 4))
    y_f, y_b = layers.Bidirectional(layers.LSTM(2), merge_mode=None, name="bi")(inp)
    model = engine.Model(inputs=inp, outputs=layers.Concatenate()([y_f, y_b]))
    with pytest.raises(ExportError, match=r"'bi'.*Bidirectional.*merge_mode=None"):
        export_model(model, tmp_path / "m_torch.py")
