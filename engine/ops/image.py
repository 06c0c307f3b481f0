"""Image ops (``keras.ops.image``) on channels_last image batches ``(batch, height, width, channels)``
or single images ``(height, width, channels)``."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine import backend
from engine.ops._dispatch import keras_op
from engine.ops.core import convert_to_tensor

_t = convert_to_tensor
_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def _check_rank(images):
    if images.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={tuple(images.shape)}")


@keras_op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize to ``size=(height, width)`` (bilinear/bicubic with half-pixel centers, as Keras on torch)."""
    backend.standardize_data_format(data_format)
    if interpolation not in _MODES:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of {sorted(_MODES)}. "
                         f"Received: interpolation={interpolation}")
    if fill_mode != "constant":
        raise ValueError(f"Invalid value for argument `fill_mode`. Only 'constant' is supported. Received: "
                         f"fill_mode={fill_mode}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if len(size) != 2:
        raise ValueError(f"Argument `size` must be a tuple of two elements (height, width). Received: size={size}")
    x = _t(images)
    _check_rank(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    out_dtype = x.dtype
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    x = x.permute(0, 3, 1, 2)
    th, tw = int(size[0]), int(size[1])
    h, w = x.shape[-2], x.shape[-1]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        x = x[:, :, top:top + ch, left:left + cw]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
        x = F.pad(x, (left, left, top, top), value=fill_value)
    anti = antialias and interpolation in ("bilinear", "bicubic")
    align = False if interpolation in ("bilinear", "bicubic") else None
    y = F.interpolate(x, size=(th, tw), mode=_MODES[interpolation], align_corners=align, antialias=anti)
    if interpolation == "bicubic" and out_dtype == torch.uint8:
        y = y.clamp(0, 255)
    y = y.permute(0, 2, 3, 1)
    if single:
        y = y[0]
    if y.dtype != out_dtype:
        if not out_dtype.is_floating_point:
            y = torch.round(y)
        y = y.to(out_dtype)
    return y


@keras_op
def rgb_to_grayscale(images, data_format=None):
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    if x.shape[-1] not in (1, 3):
        raise ValueError(f"Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input with shape: "
                         f"images.shape={tuple(x.shape)}")
    if x.shape[-1] == 1:
        return x.clone()
    r, g, b = x.unbind(-1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(x.dtype).unsqueeze(-1)


def _check_float(x):
    if not x.is_floating_point():
        raise ValueError(f"Invalid images dtype: expected float dtype. Received: images.dtype="
                         f"{str(x.dtype).replace('torch.', '')}")


@keras_op
def rgb_to_hsv(images, data_format=None):
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    _check_float(x)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    one = torch.ones((), dtype=x.dtype, device=x.device)
    x = torch.where(torch.abs(x) < torch.finfo(x.dtype).eps, zero, x)
    r, g, b = x.unbind(-1)
    v = torch.maximum(torch.maximum(r, g), b)
    rng = v - torch.minimum(torch.minimum(r, g), b)
    s = torch.where(v > 0, rng / torch.where(v > 0, v, one), zero)
    norm = 1.0 / (6.0 * torch.where(rng > 0, rng, one))
    h = torch.where(v == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    h = torch.where(v == r, norm * (g - b), h)
    h = torch.where(rng > 0, h, zero) + (h < 0).to(h.dtype)
    return torch.stack([h, s, v], dim=-1)


@keras_op
def hsv_to_rgb(images, data_format=None):
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    _check_float(x)
    h, s, v = x.unbind(-1)
    dh = torch.remainder(h, 1.0) * 6.0
    dr = torch.clip(torch.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = torch.clip(2.0 - torch.abs(dh - 2.0), 0.0, 1.0)
    db = torch.clip(2.0 - torch.abs(dh - 4.0), 0.0, 1.0)
    return torch.stack([v * (1 - s + s * dr), v * (1 - s + s * dg), v * (1 - s + s * db)], dim=-1)


def _resolve_box(name, size, start, end, target):
    """Two of (start, end, target) given -> (start, end); Keras's rule for pad_images/crop_images."""
    given = [v is not None for v in (start, end, target)]
    if sum(given) != 2:
        raise ValueError(f"Must specify exactly two of {name[0]}, {name[1]}, {name[2]}. Received: "
                         f"{name[0]}={start}, {name[1]}={end}, {name[2]}={target}")
    if start is None:
        start = target - end - size
    elif end is None:
        end = target - start - size
    return int(start), int(end)


@keras_op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    h, w = x.shape[-3], x.shape[-2]
    top, bottom = _resolve_box(("top_padding", "bottom_padding", "target_height"), h, top_padding,
                               bottom_padding, target_height)
    left, right = _resolve_box(("left_padding", "right_padding", "target_width"), w, left_padding,
                               right_padding, target_width)
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"Padding must be non-negative. Received: top={top}, bottom={bottom}, left={left}, "
                         f"right={right}")
    return F.pad(x, (0, 0, left, right, top, bottom))


@keras_op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    h, w = x.shape[-3], x.shape[-2]
    if top_cropping is not None and target_height is not None:
        top, th = int(top_cropping), int(target_height)
    else:
        top, bottom = _resolve_box(("top_cropping", "bottom_cropping", "target_height"), -h, top_cropping,
                                   bottom_cropping, None if target_height is None else -target_height)
        top, th = int(top), h - int(top) - int(bottom)
    if left_cropping is not None and target_width is not None:
        left, tw = int(left_cropping), int(target_width)
    else:
        left, right = _resolve_box(("left_cropping", "right_cropping", "target_width"), -w, left_cropping,
                                   right_cropping, None if target_width is None else -target_width)
        left, tw = int(left), w - int(left) - int(right)
    if top < 0 or left < 0 or th <= 0 or tw <= 0 or top + th > h or left + tw > w:
        raise ValueError(f"Crop box out of range for images of size {(h, w)}: top={top}, left={left}, "
                         f"height={th}, width={tw}")
    return x[..., top:top + th, left:left + tw, :]


@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` flattened into the channel axis, in (row, column, channel) order."""
    from engine.ops.nn import conv

    x = _t(images)
    _check_rank(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    ph, pw = (size, size) if isinstance(size, int) else tuple(size)
    strides = (ph, pw) if strides is None else strides
    c = x.shape[-1]
    kernel = torch.eye(ph * pw * c, dtype=x.dtype, device=x.device).reshape(ph, pw, c, ph * pw * c)
    y = conv.__wrapped_op__(x, kernel, strides=strides, padding=padding, data_format=data_format,
                            dilation_rate=dilation_rate)
    return y[0] if single else y


__all__ = ["crop_images", "extract_patches", "hsv_to_rgb", "pad_images", "resize", "rgb_to_grayscale",
           "rgb_to_hsv"]
