"""Initializers Keras 3 added or renamed: STFT (STFTSpectrogram's kernels) and the compatibility names."""
import numpy as np
import pytest

from engine import initializers as I


@pytest.mark.slow  # Keras's STFT initializer imports scipy.signal: seconds
@pytest.mark.parametrize("kwargs", [
    {}, {"side": "imag"}, {"window": "hamming", "scaling": "spectrum"}, {"window": None},
    {"window": "hann", "periodic": True}, {"window": "blackman", "scaling": None},
    {"window": [0.1, 0.5, 1.0, 0.5, 0.2, 0.3, 0.9, 0.4]},
])
def test_stft_initializer_matches_keras(keras, kwargs):
    e = I.STFT(**kwargs)((8, 1, 5))
    k = keras.initializers.STFT(**kwargs)((8, 1, 5))
    np.testing.assert_allclose(e.numpy(), np.asarray(k.cpu()), atol=1e-6)
    assert tuple(e.shape) == (8, 1, 5)
    again = I.get({"class_name": "STFTInitializer", "config": keras.initializers.STFT(**kwargs).get_config()})
    np.testing.assert_allclose(again((8, 1, 5)).numpy(), e.numpy())


def test_stft_initializer_is_the_windowed_fourier_basis():
    k = I.STFT("imag", window="hann", scaling="spectrum", periodic=True)((8, 1, 5)).numpy()[:, 0, :]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8)  # periodic Hann
    t, f = np.arange(8)[:, None], np.arange(5)[None, :]
    np.testing.assert_allclose(k, np.sin(-2 * np.pi * t * f / 8) * window[:, None] / window.sum(), atol=1e-6)


def test_stft_initializer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'real' or 'imag'"):
        I.STFT(side="both")
    with pytest.raises(ValueError, match="Scaling is invalid"):
        I.STFT(scaling="l2")
    with pytest.raises(ValueError, match=r"equal to \[frame_length\]"):
        I.STFT(window=[1.0, 2.0])((8, 1, 5))


def test_compatibility_names_resolve_as_in_keras(keras):
    for name, cls in (("IdentityInitializer", I.Identity), ("OrthogonalInitializer", I.Orthogonal),
                      ("STFTInitializer", I.STFT), ("stft", I.STFT), ("variance_scaling", I.VarianceScaling)):
        assert type(I.get(name)) is cls
        if cls is not I.STFT:  # Keras's STFT imports scipy.signal (seconds); compared in the slow test above
            assert type(keras.initializers.get(name)).__name__ == cls.__name__
    assert I.variance_scaling is I.VarianceScaling and I.IdentityInitializer is I.Identity
    w = I.get({"class_name": "OrthogonalInitializer", "config": {"gain": 2.0, "seed": 1}})((4, 4)).numpy()
    np.testing.assert_allclose(w.T @ w, 4.0 * np.eye(4), atol=1e-5)
