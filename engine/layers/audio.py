"""Audio layers: ``STFTSpectrogram`` (a short-time Fourier transform as a trainable convolution) and
``MelSpectrogram`` (a fixed mel-scaled power spectrogram), with Keras 3's arguments, weights and
outputs."""
from __future__ import annotations

import math
import warnings

import torch

from engine import backend, initializers
from engine.layers.core import describe
from engine.layers.layer import Layer
from engine.layers.registry import register
from engine.ops import math as math_ops

__all__ = ["STFTSpectrogram", "MelSpectrogram"]

_STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def _conv_length(length, kernel, stride, padding):
    if length is None:
        return None
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - kernel) // stride + 1


@register("Audio")
class STFTSpectrogram(Layer):
    """The spectrogram of signals by a short-time Fourier transform, computed as a 1D convolution whose
    kernels (``real_kernel``, ``imag_kernel``: windowed cosines and sines, ``initializers.STFT``) are
    weights, so they can be fine-tuned.

    Args:
        mode: ``"log"`` (default; log magnitude), ``"magnitude"``, ``"psd"`` (power spectral density),
            ``"real"``, ``"imag"``, ``"angle"`` or ``"stft"`` (real and imaginary parts stacked).
        frame_length: samples per frame (default 256).
        frame_step: samples between frames (default ``frame_length // 2``).
        fft_length: FFT size, at least ``frame_length`` (default the next power of two).
        window: a window name (``"hann"``...), a list of ``frame_length`` values, or None.
        periodic: whether the window is periodic.
        scaling: ``"density"`` (default), ``"spectrum"`` or None: how the window is normalized.
        padding: ``"valid"`` (default) or ``"same"``.
        expand_dims: keep the input channels on their own axis (``(batch, time, freq, channels)``).
        data_format: only ``"channels_last"`` (signals ``(batch, samples, channels)``), as everywhere in
            the engine.

    Input shape:
        ``(batch, samples, channels)`` (channels_last).

    Output shape:
        ``(batch, frames, channels * freq)`` (``freq = fft_length // 2 + 1``, doubled for ``"stft"``), or
        ``(batch, frames, freq, channels)`` with ``expand_dims``.
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann",
                 periodic=False, scaling="density", padding="valid", expand_dims=False, data_format=None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError("`frame_step` should be a positive integer not greater than `frame_length`. "
                             f"Received frame_step={frame_step}, frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError("`fft_length` should be not less than `frame_length`. "
                             f"Received fft_length={fft_length}, frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}")
        if mode not in _STFT_MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(_STFT_MODES)}. "
                             f"Received: mode={mode}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        if padding not in ("valid", "same"):
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")
        if isinstance(window, str):
            initializers.get_window(window, 1)  # an unknown window name fails here
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = backend.standardize_data_format(data_format)

    def _check(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{describe(self)} expects signals of shape (batch, samples, channels); for mono "
                             f"audio (batch, samples) add a channel axis (Reshape((samples, 1))). Received: input "
                             f"shape {tuple(input_shape)}")

    def build(self, input_shape):
        self._check(input_shape)
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape, initializer=initializers.STFT(
                "real", self.window, self.scaling, self.periodic))
        if self.mode != "real":
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape, initializer=initializers.STFT(
                "imag", self.window, self.scaling, self.periodic))
        self.built = True

    def _conv(self, signals, kernel):
        """``signals`` (batch, channels, samples) -> (batch, channels, freq, frames)."""
        batch, channels, samples = signals.shape
        x = signals.reshape(batch * channels, 1, samples)
        k = kernel.to(x.dtype).permute(2, 1, 0)  # (freq, 1, frame_length)
        if self.padding == "same":  # Keras's (TensorFlow's) "same": the extra sample goes at the end
            out_len = (samples + self._frame_step - 1) // self._frame_step
            total = max((out_len - 1) * self._frame_step + self.frame_length - samples, 0)
            x = torch.nn.functional.pad(x, (total // 2, total - total // 2))
        out = torch.nn.functional.conv1d(x, k, stride=self._frame_step)
        return out.reshape(batch, channels, out.shape[1], out.shape[2])

    def _adjust(self, outputs):
        batch, channels, freq, frames = outputs.shape
        if self.expand_dims:
            return outputs.permute(0, 3, 2, 1)
        return outputs.reshape(batch, channels * freq, frames).transpose(1, 2)

    def call(self, inputs):
        if inputs.dtype not in (torch.float16, torch.float32, torch.float64):
            raise TypeError("Invalid input type. Expected `float16`, `float32` or `float64`. "
                            f"Received: input type={backend.standardize_dtype(inputs.dtype)}")
        self._check(inputs.shape)
        signals = inputs.transpose(1, 2)  # (batch, channels, samples)
        real = self._conv(signals, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(signals, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._adjust(real)
        if self.mode == "imag":
            return self._adjust(imag)
        if self.mode == "angle":
            return self._adjust(torch.atan2(imag, real))
        if self.mode == "stft":
            return self._adjust(torch.cat([real, imag], dim=2))
        power = real * real + imag * imag
        if self.mode == "psd":
            # the one-sided spectrum: every bin but the first and last counts twice
            return self._adjust(power + torch.nn.functional.pad(power[:, :, 1:-1, :], (0, 0, 1, 1)))
        magnitude = self._adjust(torch.sqrt(torch.clamp(power, min=backend.epsilon())))
        if self.mode == "magnitude":
            return magnitude
        return torch.log(torch.clamp(magnitude, min=backend.epsilon()))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        batch, samples, channels = input_shape
        freq = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq *= 2
        frames = _conv_length(samples, self.frame_length, self._frame_step, self.padding)
        if self.expand_dims:
            return (batch, frames, freq, channels)
        return (batch, frames, None if channels is None else channels * freq)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "frame_length": self.frame_length, "frame_step": self.frame_step,
                       "fft_length": self.fft_length, "window": self.window, "periodic": self.periodic,
                       "scaling": self.scaling, "padding": self.padding, "data_format": self.data_format,
                       "expand_dims": self.expand_dims})
        return config


_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(hz):
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + hz / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sampling_rate=8000,
                                lower_edge_hertz=125.0, upper_edge_hertz=3800.0, dtype=torch.float32):
    """The ``(num_spectrogram_bins, num_mel_bins)`` matrix of triangular HTK mel filters (the DC bin
    left out), as Keras's and TensorFlow's ``linear_to_mel_weight_matrix``."""
    nyquist = torch.tensor(float(sampling_rate), dtype=dtype) / 2.0
    linear = torch.linspace(0.0, float(nyquist), num_spectrogram_bins, dtype=dtype)[1:]
    bins_mel = _hertz_to_mel(linear).unsqueeze(1)
    lo = _hertz_to_mel(torch.tensor(float(lower_edge_hertz), dtype=dtype))
    hi = _hertz_to_mel(torch.tensor(float(upper_edge_hertz), dtype=dtype))
    edges = torch.linspace(float(lo), float(hi), num_mel_bins + 2, dtype=dtype)
    lower, center, upper = (edges[i:i + num_mel_bins].reshape(1, num_mel_bins) for i in range(3))
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = torch.clamp(torch.minimum(lower_slopes, upper_slopes), min=0.0)
    return torch.nn.functional.pad(weights, (0, 0, 1, 0))


@register("Audio")
class MelSpectrogram(Layer):
    """The mel-scaled power spectrogram of raw audio, in decibels by default (no weights).

    Args:
        fft_length: FFT size (default 2048).
        sequence_stride: samples between frames (default 512).
        sequence_length: samples per frame (default ``fft_length``; at most ``fft_length``).
        window: ``"hann"`` (default), ``"hamming"`` or None.
        sampling_rate: the signal's sample rate in Hz (default 16000).
        num_mel_bins: mel bands (default 128).
        min_freq, max_freq: the band edges in Hz (default 20 and ``sampling_rate / 2``).
        power_to_db: convert the power to decibels (default True).
        top_db: the dB range kept below the loudest value (default 80).
        mag_exp: exponent of the magnitude (2 gives power, the default).
        min_power, ref_power: the floor and the reference of the dB conversion.

    Input shape:
        ``(batch, samples)`` or ``(samples,)``.

    Output shape:
        ``(batch, num_mel_bins, frames)`` with ``frames = 1 + samples // sequence_stride`` (frames are
        centred, as Keras's).
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True,
                 top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0, **kwargs):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("`fft_length` must be greater than or equal to `sequence_length`. Received: "
                             f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}.")
        if window not in (None, "hann", "hamming"):
            raise ValueError(f"MelSpectrogram: `window` must be 'hann', 'hamming' or None. Received: window={window!r}")
        super().__init__(**kwargs)
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self.built = True

    def _check(self, input_shape):
        if len(input_shape) not in (1, 2):
            raise ValueError(f"{describe(self)} expects raw audio of shape (batch, samples) or (samples,). "
                             f"Received: input shape {tuple(input_shape)}")

    def call(self, inputs):
        self._check(inputs.shape)
        compute = backend.torch_dtype(self._dtype)
        dtype = compute if compute in (torch.float32, torch.float64) else torch.float32
        x = inputs.to(dtype)
        real, imag = math_ops.stft(x, sequence_length=self.sequence_length, sequence_stride=self.sequence_stride,
                                   fft_length=self.fft_length, window=self.window, center=True)
        spec = torch.pow(torch.sqrt(real * real + imag * imag), self.mag_exp)
        matrix = linear_to_mel_weight_matrix(self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq,
                                             self.max_freq, dtype=torch.float32).to(device=spec.device,
                                                                                    dtype=spec.dtype)
        out = torch.tensordot(spec, matrix, dims=1)
        if self.power_to_db:
            log_spec = 10.0 * torch.log10(torch.clamp(out, min=self.min_power))
            ref = abs(float(self.ref_power))
            log_spec = log_spec - 10.0 * math.log10(max(ref, self.min_power))
            out = torch.maximum(log_spec, log_spec.max() - self.top_db)
        return out.transpose(-1, -2).to(compute)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        frames = None if input_shape[-1] is None else 1 + input_shape[-1] // self.sequence_stride
        return (self.num_mel_bins, frames) if len(input_shape) == 1 else (input_shape[0], self.num_mel_bins, frames)

    def get_config(self):
        config = super().get_config()
        config.update({"fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                       "sequence_length": self.sequence_length, "window": self.window,
                       "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                       "min_freq": self.min_freq, "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                       "top_db": self.top_db, "mag_exp": self.mag_exp, "min_power": self.min_power,
                       "ref_power": self.ref_power})
        return config
