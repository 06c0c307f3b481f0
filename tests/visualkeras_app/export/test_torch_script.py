"""The ``_torch.py`` export: a standalone torch module, run where ``engine`` cannot be imported."""
import numpy as np
import pytest

from tests.visualkeras_app.export.conftest import MODELS, build, predict, run_script, run_scripts
from visualkeras_app.export import ExportError, export_model

_CALL = "model(*[__import__('torch').from_numpy(x) for x in xs]).detach().numpy()"


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

    inp = engine.Input(shape=(8, 8, 3))
    x = layers.Conv2DTranspose(2, 3, name="up")(inp)
    model = engine.Model(inputs=inp, outputs=x)
    with pytest.raises(ExportError, match=r"'up'.*Conv2DTranspose"):
        export_model(model, tmp_path / "m_torch.py")
    assert not (tmp_path / "m_torch.py").exists()
