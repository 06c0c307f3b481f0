"""Audio layers against Keras: STFTSpectrogram (weights, outputs, gradients, shapes, configs, files) and
MelSpectrogram (outputs, shapes, configs)."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras

STFT_CASES = [
    ("log", lambda L: L.STFTSpectrogram(frame_length=32)),
    ("magnitude", lambda L: L.STFTSpectrogram(mode="magnitude", frame_length=24, frame_step=8)),
    ("psd_same", lambda L: L.STFTSpectrogram(mode="psd", frame_length=20, fft_length=32, padding="same")),
    ("stft_expand", lambda L: L.STFTSpectrogram(mode="stft", frame_length=16, expand_dims=True)),
    ("angle", lambda L: L.STFTSpectrogram(mode="angle", frame_length=16, window="hamming", scaling="spectrum")),
    ("real_same", lambda L: L.STFTSpectrogram(mode="real", frame_length=17, frame_step=5, padding="same")),
    ("imag_nowindow", lambda L: L.STFTSpectrogram(mode="imag", frame_length=16, window=None, periodic=True)),
]


# Keras's STFT layer imports scipy.signal (seconds), so its comparisons run with the slow tests; the fast
# loop checks the engine's spectrogram against NumPy's FFT below.
@pytest.mark.slow
@pytest.mark.parametrize("factory", [c[1] for c in STFT_CASES], ids=[c[0] for c in STFT_CASES])
def test_stft_spectrogram_matches_keras(keras, factory):
    # the kernels are weights: the harness perturbs them, sets them on both and compares gradients too
    check_against_keras(factory, (2, 100, 2), keras=keras, atol=1e-4, rtol=1e-4,
                        check_grads=factory(E).mode not in ("angle",))

    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    check_config_against_keras(named, keras=keras)


@pytest.mark.slow
def test_stft_spectrogram_initial_weights_are_keras_kernels(keras):
    e, k = E.STFTSpectrogram(frame_length=16), keras.layers.STFTSpectrogram(frame_length=16)
    x = np.random.default_rng(1).standard_normal((1, 64, 1)).astype("float32")
    np.testing.assert_allclose(e(torch.tensor(x)).detach().numpy(), k(torch.tensor(x)).detach().numpy(), atol=1e-5)
    assert [w.keras_name for w in e.weights] == ["real_kernel", "imag_kernel"]


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_stft_spectrogram_is_numpys_windowed_fft(padding):
    frame, step, fft = 20, 6, 32
    x = np.random.default_rng(4).standard_normal((2, 90, 3))
    layer = E.STFTSpectrogram(mode="stft", frame_length=frame, frame_step=step, fft_length=fft, padding=padding,
                              expand_dims=True, dtype="float64")
    out = layer(torch.tensor(x)).detach().numpy()  # (batch, frames, 2 * bins, channels)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / (frame - 1))  # symmetric Hann
    signal = x
    if padding == "same":  # TensorFlow's rule: the odd padded sample goes at the end
        frames = -(-90 // step)
        total = max((frames - 1) * step + frame - 90, 0)
        signal = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    starts = range(0, signal.shape[1] - frame + 1, step)
    spec = np.stack([np.fft.rfft(signal[:, s:s + frame] * window[None, :, None], n=fft, axis=1) for s in starts], 1)
    spec /= np.sqrt(np.sum(window ** 2))  # scaling="density"
    np.testing.assert_allclose(out, np.concatenate([spec.real, spec.imag], axis=2), atol=1e-9)
    magnitude = E.STFTSpectrogram(mode="magnitude", frame_length=frame, frame_step=step, fft_length=fft,
                                  padding=padding, dtype="float64")(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(magnitude, np.abs(spec).transpose(0, 1, 3, 2).reshape(2, len(starts), -1), atol=1e-6)


MEL_CASES = [
    ("default_db", dict(fft_length=256, sequence_stride=64, num_mel_bins=20)),
    ("hamming_magnitude", dict(fft_length=128, sequence_length=100, sequence_stride=50, window="hamming",
                               power_to_db=False, mag_exp=1.0)),
    ("no_window", dict(fft_length=64, sequence_stride=32, window=None, sampling_rate=8000, min_freq=100,
                       max_freq=3000, top_db=20, num_mel_bins=16)),
]


@pytest.mark.parametrize("kw", [c[1] for c in MEL_CASES], ids=[c[0] for c in MEL_CASES])
@pytest.mark.parametrize("shape", [(2, 1000), (999,)])
def test_mel_spectrogram_matches_keras(keras, kw, shape):
    x = np.random.default_rng(2).standard_normal(shape).astype("float32")
    e, k = E.MelSpectrogram(**kw), keras.layers.MelSpectrogram(**kw)
    a, b = e(torch.tensor(x)).numpy(), np.asarray(k(torch.tensor(x)))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3 if kw.get("power_to_db", True) else 1e-4)
    # Keras's own compute_output_shape is off by one for some lengths; the engine's is what call returns
    assert tuple(e.compute_output_shape((None,) + shape[1:] if len(shape) == 2 else shape)) == (
        (None,) + a.shape[1:] if len(shape) == 2 else a.shape)
    check_config_against_keras(lambda L: L.MelSpectrogram(name="probe", **kw), keras=keras)


def test_audio_layers_refuse_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="Output mode is invalid"):
        E.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="frame_step"):
        E.STFTSpectrogram(frame_length=16, frame_step=20)
    with pytest.raises(ValueError, match="fft_length"):
        E.STFTSpectrogram(frame_length=64, fft_length=32)
    with pytest.raises(ValueError, match=r"\(batch, samples, channels\).*Reshape"):
        E.STFTSpectrogram(frame_length=16)(torch.zeros(2, 100))
    with pytest.raises(TypeError, match="Invalid input type"):
        E.STFTSpectrogram(frame_length=16)(torch.zeros(2, 100, 1, dtype=torch.int32))
    with pytest.raises(ValueError, match="sequence_length"):
        E.MelSpectrogram(fft_length=64, sequence_length=128)
    with pytest.raises(ValueError, match=r"\(batch, samples\)"):
        E.MelSpectrogram()(torch.zeros(2, 100, 1))


def test_audio_layers_in_a_functional_model_and_the_palette():
    inp = engine.Input(shape=(400, 1))
    x = E.STFTSpectrogram(mode="log", frame_length=64, frame_step=32, expand_dims=True)(inp)
    x = E.Conv2D(2, 3)(x)
    model = engine.Model(inp, E.Dense(3)(E.GlobalAveragePooling2D()(x)))
    assert tuple(model.layers[1].output.shape) == (None, 11, 33, 1)
    assert model.predict(np.zeros((2, 400, 1), "float32"), verbose=0).shape == (2, 3)
    mel = engine.Sequential([E.Input((1600,)), E.MelSpectrogram(fft_length=256, sequence_stride=160,
                                                                 num_mel_bins=32)])
    assert tuple(mel.output_shape) == (None, 32, 11)
    assert registry.category_of("STFTSpectrogram") == registry.category_of("MelSpectrogram") == "Audio"


@pytest.mark.slow
def test_stft_model_file_from_keras_loads_and_predicts_alike(keras, tmp_path):
    def build(lib):
        inp = lib.Input(shape=(256, 1))
        x = lib.layers.STFTSpectrogram(mode="magnitude", frame_length=32, frame_step=16)(inp)
        return lib.Model(inp, lib.layers.Dense(2)(lib.layers.GlobalAveragePooling1D()(x)))

    k = build(keras)
    x = np.random.default_rng(3).standard_normal((2, 256, 1)).astype("float32")
    for ext in ("keras", "h5"):
        k.save(str(tmp_path / f"k.{ext}"))
        e = engine.models.load_model(str(tmp_path / f"k.{ext}"))
        np.testing.assert_allclose(e.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-4)
    e.save(str(tmp_path / "e.keras"))
    back = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(back.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-4)
