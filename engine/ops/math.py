"""Math ops (``keras.ops`` math): segment reductions, top-k, FFTs, STFT, special functions."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.ops._dispatch import keras_op
from engine.ops.core import cast, convert_to_tensor

_t = convert_to_tensor


def _segment(data, segment_ids, num_segments, reduce, init):
    data, ids = _t(data), _t(segment_ids).long()
    n = int(num_segments) if num_segments is not None else int(ids.max().item()) + 1
    ids = torch.where((ids >= 0) & (ids < n), ids, torch.full_like(ids, n))  # out-of-range rows go to a dropped bin
    index = ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    out = torch.full((n + 1,) + tuple(data.shape[1:]), init, dtype=torch.float32, device=data.device)
    out = out.scatter_reduce(0, index, data.float(), reduce, include_self=True)
    return out[:-1].to(data.dtype)


@keras_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment(data, segment_ids, num_segments, "sum", 0.0)


@keras_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment(data, segment_ids, num_segments, "prod", 1.0)


@keras_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment(data, segment_ids, num_segments, "amax", float("-inf"))


@keras_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment(data, segment_ids, num_segments, "amin", float("inf"))


@keras_op
def top_k(x, k, sorted=True):  # noqa: A002
    """The ``k`` largest values along the last axis and their indices: ``(values, indices)``."""
    values, indices = torch.topk(_t(x), k, sorted=sorted)
    return values, indices


@keras_op
def in_top_k(targets, predictions, k):
    targets = _t(targets).long()[:, None]
    predictions = _t(predictions)
    kth = torch.topk(predictions, k).values
    target_values = torch.take_along_dim(predictions, targets, dim=-1)
    return torch.any(target_values >= kth, dim=-1)


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    x = _t(x)
    axis = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


@keras_op
def cdist(x, y):
    x, y = _t(x), _t(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("`cdist` inputs must have rank >= 2")
    d = x.unsqueeze(-2) - y.unsqueeze(-3)
    return torch.sqrt((d * d).sum(dim=-1))


@keras_op
def extract_sequences(x, sequence_length, sequence_stride):
    return _t(x).unfold(-1, sequence_length, sequence_stride)


def _complex(x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary. Received: x={x}")
    real, imag = _t(x[0]), _t(x[1])
    if real.shape != imag.shape:
        raise ValueError("The real and imaginary parts should have the same shape. "
                         f"Received: x[0].shape = {tuple(real.shape)}, x[1].shape = {tuple(imag.shape)}")
    if not real.is_floating_point() or not imag.is_floating_point():
        raise ValueError(f"At least one tensor in input `x` is not of type float. Received: x={x}.")
    return torch.complex(real, imag)


@keras_op
def fft(x):
    out = torch.fft.fft(_complex(x))
    return out.real, out.imag


@keras_op
def fft2(x):
    out = torch.fft.fft2(_complex(x))
    return out.real, out.imag


@keras_op
def ifft2(x):
    out = torch.fft.ifft2(_complex(x))
    return out.real, out.imag


@keras_op
def rfft(x, fft_length=None):
    out = torch.fft.rfft(_t(x), n=fft_length, dim=-1)
    return out.real, out.imag


@keras_op
def irfft(x, fft_length=None):
    return torch.fft.irfft(_complex(x), n=fft_length, dim=-1)


def _window(window, length, dtype, device):
    if window is None:
        return torch.ones((length,), dtype=dtype, device=device)
    if isinstance(window, str):
        if window == "hann":
            return torch.hann_window(length, periodic=True, dtype=dtype, device=device)
        if window == "hamming":
            return torch.hamming_window(length, periodic=True, dtype=dtype, device=device)
        raise ValueError(f'If a string is passed to `window`, it must be one of "hann", "hamming". '
                         f"Received: window={window}")
    win = _t(window, str(dtype).replace("torch.", ""))
    if win.ndim != 1 or win.shape[-1] != length:
        raise ValueError(f"The shape of `window` must be equal to [sequence_length]. Received: window shape="
                         f"{tuple(win.shape)}")
    return win


@keras_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    x = _t(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must equal or larger than `sequence_length`. Received: "
                         f"sequence_length={sequence_length}, fft_length={fft_length}")
    win = _window(window, sequence_length, x.dtype, x.device)
    batch = x.shape[:-1]
    flat = x.reshape((-1, x.shape[-1]))
    out = torch.stft(flat, n_fft=fft_length, hop_length=sequence_stride, win_length=sequence_length, window=win,
                     center=center, return_complex=True)
    out = out.reshape(tuple(batch) + tuple(out.shape[-2:])).transpose(-2, -1)
    return out.real, out.imag


@keras_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    c = _complex(x)
    dtype = c.real.dtype
    win = _window(window, sequence_length, dtype, c.device) if window is not None else None
    frames = torch.fft.irfft(c, n=fft_length, dim=-1)  # (..., frames, fft_length)
    if win is not None:
        lpad = (fft_length - sequence_length) // 2
        win = F.pad(win, (lpad, fft_length - sequence_length - lpad))
        # Divide by the overlap-added squared window so that istft(stft(x)) == x.
        n_over = -(-fft_length // sequence_stride)
        denom = F.pad(win * win, (0, n_over * sequence_stride - fft_length)).reshape(n_over, sequence_stride)
        denom = denom.sum(0, keepdim=True).tile(n_over, 1).reshape(-1)[:fft_length]
        frames = frames * (win / denom)
    batch = frames.shape[:-2]
    nf = frames.shape[-2]
    total = fft_length + sequence_stride * (nf - 1)
    flat = frames.reshape((-1, nf, fft_length)).transpose(1, 2)  # (B, fft_length, frames)
    signal = F.fold(flat, output_size=(1, total), kernel_size=(1, fft_length), stride=(1, sequence_stride))
    signal = signal.reshape(tuple(batch) + (total,))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = total - fft_length // 2
    else:
        end = total
    return signal[..., start:end]


@keras_op
def rsqrt(x):
    x = _t(x)
    return torch.rsqrt(cast(x, "float32") if not x.is_floating_point() else x)


@keras_op
def erf(x):
    return torch.erf(_t(x))


@keras_op
def erfc(x):
    return torch.erfc(_t(x))


@keras_op
def erfinv(x):
    return torch.erfinv(_t(x))


@keras_op
def logdet(x):
    return torch.logdet(_t(x))


@keras_op
def view_as_complex(x):
    x = _t(x)
    if x.shape[-1] != 2:
        raise ValueError(f"Last dimension of input must be 2 (real and imaginary). Received shape: {tuple(x.shape)}")
    return torch.view_as_complex(x.contiguous())


@keras_op
def view_as_real(x):
    x = _t(x)
    if not x.is_complex():
        raise ValueError("Input must be a complex tensor.")
    return torch.view_as_real(x)


__all__ = ["cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k", "irfft",
           "istft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min", "segment_prod",
           "segment_sum", "stft", "top_k", "view_as_complex", "view_as_real"]
