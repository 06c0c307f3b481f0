"""Weight initializers with Keras 3's names, defaults and configs.

Each initializer is called as ``init(shape, dtype)`` and returns a torch tensor. Fan-in and fan-out
follow Keras's convention for kernels stored in Keras layout (``(..., in, out)``).
"""
from __future__ import annotations

import functools
import inspect
import math

import numpy as np
import torch

from engine import backend
from engine.utils import identifiers as _identifiers


def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


@functools.lru_cache(maxsize=None)
def _init_params(cls):
    # inspect.signature is slow and the editor's shape inference rebuilds layers on every edit.
    return frozenset(inspect.signature(cls.__init__).parameters)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        # Keras 3.15 writes keys the engine does not take (VarianceScaling's input_axes/output_axes,
        # which only matter for EinsumDense); drop them while they hold their None default.
        params = _init_params(cls)
        return cls(**{k: v for k, v in config.items() if k in params or v is not None})

    def _generator(self):
        seed = getattr(self, "seed", None)
        if seed is None:
            return None
        g = torch.Generator()
        g.manual_seed(int(seed))
        return g


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return torch.zeros(tuple(shape), dtype=backend.torch_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return torch.ones(tuple(shape), dtype=backend.torch_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return torch.full(tuple(shape), float(self.value), dtype=backend.torch_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        t = torch.empty(tuple(shape), dtype=backend.torch_dtype(dtype))
        return t.normal_(self.mean, self.stddev, generator=self._generator())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        t = torch.empty(tuple(shape), dtype=backend.torch_dtype(dtype))
        return t.uniform_(self.minval, self.maxval, generator=self._generator())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        t = torch.empty(tuple(shape), dtype=backend.torch_dtype(dtype))
        # Keras truncates at two standard deviations.
        torch.nn.init.trunc_normal_(t, self.mean, self.stddev, -2 * self.stddev + self.mean,
                                    2 * self.stddev + self.mean, generator=self._generator())
        return t

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Expected one of fan_in, fan_out, fan_avg.")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        t = torch.empty(tuple(shape), dtype=backend.torch_dtype(dtype))
        g = self._generator()
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            torch.nn.init.trunc_normal_(t, 0.0, stddev, -2 * stddev, 2 * stddev, generator=g)
        elif self.distribution == "untruncated_normal":
            t.normal_(0.0, math.sqrt(scale), generator=g)
        else:
            limit = math.sqrt(3.0 * scale)
            t.uniform_(-limit, limit, generator=g)
        return t

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class _FixedVarianceScaling(VarianceScaling):
    _args: tuple = ()

    def __init__(self, seed=None):
        super().__init__(*self._args, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    _args = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    _args = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    _args = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    _args = (1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2. Received: shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = torch.empty((max(rows, cols), min(rows, cols)), dtype=torch.float32).normal_(generator=self._generator())
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).to(backend.torch_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape. Received: shape={tuple(shape)}")
        return self.gain * torch.eye(*shape, dtype=backend.torch_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


# Windows torch computes itself; any other name needs SciPy (``scipy.signal.get_window``), as in Keras.
_TORCH_WINDOWS = {"hann": torch.hann_window, "hanning": torch.hann_window, "hamming": torch.hamming_window,
                  "blackman": torch.blackman_window, "bartlett": torch.bartlett_window}


def get_window(window, length, periodic=False):
    """``scipy.signal.get_window(window, length, fftbins=periodic)`` as float64 numpy values; the common
    windows (hann, hamming, blackman, bartlett) without SciPy."""
    fn = _TORCH_WINDOWS.get(window) if isinstance(window, str) else None
    if fn is not None:
        return fn(int(length), periodic=bool(periodic), dtype=torch.float64, device="cpu").numpy()
    try:
        import scipy.signal  # optional dependency: SciPy, only for the windows torch lacks
    except ImportError:  # pragma: no cover - SciPy is installed with the test tools
        raise ValueError(f"The window {window!r} needs SciPy (pip install scipy); without it the engine has "
                         f"{sorted(_TORCH_WINDOWS)}, or pass the window's values as a list.") from None
    return np.asarray(scipy.signal.get_window(window, int(length), bool(periodic)), dtype="float64")


class STFT(Initializer):
    """Kernels of a convolution that computes a short-time Fourier transform (Keras's ``STFT``, used by
    ``STFTSpectrogram``): cosines (``side="real"``) or sines (``"imag"``) of shape
    ``(frame_length, 1, fft_length // 2 + 1)``, times a window, divided by its L2 (``scaling="density"``)
    or L1 (``"spectrum"``) norm.

    Args:
        side: ``"real"`` or ``"imag"``.
        window: a window name (``"hann"``, ``"hamming"``, ...), a list of ``frame_length`` values, or None.
        scaling: ``"density"``, ``"spectrum"`` or None.
        periodic: whether the named window is periodic.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            get_window(window, 1)  # an unknown name fails here, as in Keras
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        dtype = backend.torch_dtype(dtype)
        frame_length, _, bins = tuple(shape)
        # Keras computes in the target dtype; so does this, for the same rounding.
        time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        freq = torch.arange(bins, dtype=dtype).reshape(1, 1, bins) / ((bins - 1) * 2)
        args = (-2 * time) * freq * torch.arccos(torch.tensor(-1.0, dtype=dtype))
        kernel = torch.cos(args) if self.side == "real" else torch.sin(args)
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = get_window(win, frame_length, self.periodic)
            win = torch.as_tensor(np.asarray(win), dtype=dtype)
            if win.dim() != 1 or win.shape[-1] != frame_length:
                raise ValueError("The shape of `window` must be equal to [frame_length]."
                                 f"Received: window shape={tuple(win.shape)}")
            win = win.reshape(frame_length, 1, 1)
            scaling = 1
            if self.scaling == "density":
                scaling = torch.sqrt(torch.sum(win * win))
            elif self.scaling == "spectrum":
                scaling = torch.sum(torch.abs(win))
            kernel = kernel * win / scaling
        return kernel

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


_CLASSES = {
    c.__name__: c
    for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
              GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity, STFT)

}
_ALIASES = {backend.to_snake_case(n): c for n, c in _CLASSES.items()}
_ALIASES.update({"zero": Zeros, "one": Ones, "uniform": RandomUniform, "normal": RandomNormal,
                 "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
                 "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
                 "identity": Identity, "orthogonal": Orthogonal,
                 # Keras's names kept for compatibility
                 "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal, "STFTInitializer": STFT})


def serialize(initializer):
    if initializer is None:
        return None
    return {"module": "keras.initializers", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}


def class_named(class_name):
    """The engine's initializer class called ``class_name`` (``"HeNormal"``), or None: only
    this family's own classes, so a name read from a file never picks an arbitrary attribute."""
    return _CLASSES.get(class_name)


def get(identifier):
    """Resolve an initializer from a name, a config dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier) or _ALIASES.get(identifier) or _ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown initializer: {identifier!r}. Valid names: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = _CLASSES.get(name) or _ALIASES.get(name) or _ALIASES.get(backend.to_snake_case(str(name)))
        if cls is None:
            raise ValueError(f"Unknown initializer: {name!r}. Valid names: {sorted(_CLASSES)}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


# Keras's function-style names: engine.initializers.glorot_uniform() etc.
zeros, ones, constant = Zeros, Ones, Constant
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal, orthogonal, identity = LecunUniform, LecunNormal, Orthogonal, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, stft = VarianceScaling, STFT
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT


def deserialize(config, custom_objects=None):
    """The object a ``serialize`` config (or name) describes; your own classes come from the registry or
    ``custom_objects``."""
    return _identifiers.deserialize(config, custom_objects, get)
