"""Image files and arrays (``keras.utils.load_img`` and friends), decoded and resized with Pillow/NumPy.

``resize`` reproduces ``tf.image.resize(..., antialias=False)``, which is what Keras's
``image_dataset_from_directory`` and ``smart_resize`` use with TensorFlow: half-pixel centres,
bilinear/nearest/area as TensorFlow's resize ops, and bicubic (Keys, a=-0.5), Lanczos 3/5,
Gaussian and Mitchell-Netravali kernels whose taps outside the image get no weight (the rest are
renormalised), as TensorFlow's ``scale_and_translate``. Only the taps each output pixel needs are
read, so a large photo shrinks in a few passes over it instead of one dense matrix product.
"""
from __future__ import annotations

import io
import math
import pathlib
import warnings

import numpy as np
from PIL import Image

from engine import backend

PIL_INTERPOLATION_METHODS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "hamming": Image.Resampling.HAMMING,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                         "mitchellcubic")


def standardize_data_format(data_format):
    """``None`` -> the engine's image data format; otherwise "channels_last" or "channels_first".

    Arrays of images may be either way round (they are only transposed); the engine's layers take
    channels-last.
    """
    if data_format is None:
        return backend.image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format!r}")
    return value


# ------------------------------------------------------------------------------------------------
# Resizing (TensorFlow's semantics, see the module docstring)


def _keys_cubic(x, a=-0.5):
    x = np.abs(x)
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


def _lanczos(radius):
    def kernel(x):
        x = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, v))
    return kernel


def _gaussian(x, radius=1.5):
    sigma = radius / 3.0
    x = np.abs(x)
    return np.where(x < radius, np.exp(-x * x / (2.0 * sigma * sigma)), 0.0)


def _mitchell(x):
    # Mitchell-Netravali with B = C = 1/3.
    x = np.abs(x)
    return np.where(x < 1, (7.0 / 6.0 * x - 2.0) * x * x + 8.0 / 9.0,
                    np.where(x < 2, ((-7.0 / 18.0 * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0, 0.0))


_KERNELS = {  # name -> (kernel, radius in input pixels)
    "bicubic": (_keys_cubic, 2.0),
    "lanczos3": (_lanczos(3.0), 3.0),
    "lanczos5": (_lanczos(5.0), 5.0),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell, 2.0),
}


def _taps(in_size, out_size, interpolation):
    """``(index, weight)``, each ``(out_size, taps)``: output pixel i is sum_t weight[i, t] * x[index[i, t]]."""
    scale = in_size / out_size  # input pixels per output pixel
    i = np.arange(out_size, dtype=np.float64)
    if interpolation == "nearest":
        index = np.minimum(np.floor((i + 0.5) * scale), in_size - 1).astype(np.int64)
        return index[:, None], np.ones((out_size, 1), np.float32)
    if interpolation == "bilinear":
        pos = (i + 0.5) * scale - 0.5
        lower = np.floor(pos)
        frac = pos - lower
        index = np.clip(np.stack([lower, lower + 1], 1), 0, in_size - 1).astype(np.int64)
        return index, np.stack([1.0 - frac, frac], 1).astype(np.float32)
    if interpolation == "area":
        lo, hi = i * scale, (i + 1) * scale
        j = np.floor(lo)[:, None] + np.arange(int(math.ceil(scale)) + 1)
        weight = np.clip(np.minimum(j + 1, hi[:, None]) - np.maximum(j, lo[:, None]), 0.0, None) / scale
        return np.clip(j, 0, in_size - 1).astype(np.int64), weight.astype(np.float32)
    kernel, radius = _KERNELS[interpolation]
    centre = (i + 0.5) * scale  # in continuous coordinates, where input pixel j is centred at j + 0.5
    j = np.ceil(centre - radius - 0.5)[:, None] + np.arange(int(math.ceil(2 * radius)) + 1)
    weight = kernel(j + 0.5 - centre[:, None])
    weight = np.where((j < 0) | (j >= in_size), 0.0, weight)
    total = weight.sum(1, keepdims=True)
    weight = np.where(np.abs(total) > 1e-30, weight / np.where(total == 0, 1.0, total), 0.0)
    return np.clip(j, 0, in_size - 1).astype(np.int64), weight.astype(np.float32)


def _resize_axis(x, axis, out_size, interpolation):
    index, weight = _taps(x.shape[axis], out_size, interpolation)
    shape = [1] * x.ndim
    shape[axis] = out_size
    # The weights spelled out over the axes after ``axis`` (for width: the 3 channels), so that NumPy's
    # inner loop runs over a whole row rather than over 3 values at a time (several times faster).
    trailing = x.shape[axis + 1:]
    spread = int(np.prod(trailing)) < 64
    if interpolation == "nearest":
        return np.take(x, index[:, 0], axis=axis)
    out = term = None
    for t in range(index.shape[1]):
        w = weight[:, t].reshape(shape)
        if spread:
            w = np.ascontiguousarray(np.broadcast_to(w, (1,) * axis + (out_size,) + trailing))
        # uint8 pixels are gathered before they are widened; the product widens them to float32.
        if out is None:
            out = np.multiply(np.take(x, index[:, t], axis=axis), w, dtype=np.float32)
        else:
            term = np.multiply(np.take(x, index[:, t], axis=axis), w, out=term, dtype=np.float32)
            out += term
    return out


_IDENTITY_AT_SAME_SIZE = ("bilinear", "nearest", "area", "bicubic", "lanczos3", "lanczos5")


def resize(image, size, interpolation="bilinear"):
    """Resizes one channels-last image ``(height, width, channels)`` to ``size=(height, width)``.

    As ``tf.image.resize(image, size, method=interpolation, antialias=False)``; returns float32.
    """
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {RESIZE_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation!r}")
    x = np.asarray(image)
    if x.dtype != np.uint8:
        x = x.astype(np.float32, copy=False)
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise ValueError(f"`size` must be two positive integers. Received: size={size}")
    # The axis that shrinks most goes first, so that the second pass reads the fewest pixels.
    axes = [(0, h), (1, w)]
    if w / x.shape[1] < h / x.shape[0]:
        axes.reverse()
    for axis, n in axes:
        if x.shape[axis] != n or interpolation not in _IDENTITY_AT_SAME_SIZE:
            x = _resize_axis(x, axis, n, interpolation)
    return x.astype(np.float32, copy=False)


def crop_box(height, width, size):
    """``(top, left, crop_height, crop_width)``: the largest centred window of ``size``'s aspect ratio."""
    th, tw = size
    ch = max(min(height, int(float(width * th) / tw)), 1)
    cw = max(min(width, int(float(height * tw) / th)), 1)
    return int(float(height - ch) / 2), int(float(width - cw) / 2), ch, cw


def resize_with_pad(image, size, interpolation="bilinear"):
    """Resizes keeping the aspect ratio and pads with zeros to ``size``, as ``tf.image.resize_with_pad``."""
    x = np.asarray(image)
    # In float32, as TensorFlow computes it, so that the sizes round the same way.
    f32 = np.float32
    height, width, th, tw = f32(x.shape[0]), f32(x.shape[1]), f32(size[0]), f32(size[1])
    ratio = max(width / tw, height / th)
    rh_f, rw_f = height / ratio, width / ratio
    rh, rw = max(1, int(np.floor(rh_f))), max(1, int(np.floor(rw_f)))
    top = max(0, int(np.floor((th - rh_f) / f32(2))))
    left = max(0, int(np.floor((tw - rw_f) / f32(2))))
    th, tw = int(size[0]), int(size[1])
    out = np.zeros((th, tw, x.shape[2]), np.float32)
    out[top:top + rh, left:left + rw] = resize(x, (rh, rw), interpolation)[:th - top, :tw - left]
    return out


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resizes images to ``size`` without distorting them: crops the largest centred window of the
    target aspect ratio, then resizes it (``keras.preprocessing.image.smart_resize``).

    Args:
        x: An image ``(height, width, channels)`` or a batch ``(batch, height, width, channels)``
            (channels first with ``data_format="channels_first"``), array-like.
        size: ``(height, width)``.
        interpolation: One of ``RESIZE_INTERPOLATIONS``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A float32 NumPy array.
    """
    kwargs.pop("backend_module", None)  # Keras's internal argument: accepted and ignored
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs)}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    data_format = standardize_data_format(data_format)
    img = np.asarray(x, dtype=np.float32)
    if img.ndim not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or `(batch_size, height, "
                         f"width, channels)`, but got input with incorrect rank, of shape {img.shape}.")
    batch = img if img.ndim == 4 else img[None]
    if data_format == "channels_first":
        batch = batch.transpose(0, 2, 3, 1)
    top, left, ch, cw = crop_box(batch.shape[1], batch.shape[2], size)
    out = np.stack([resize(b[top:top + ch, left:left + cw], size, interpolation) for b in batch])
    if data_format == "channels_first":
        out = out.transpose(0, 3, 1, 2)
    return out if img.ndim == 4 else out[0]


# ------------------------------------------------------------------------------------------------
# Files and PIL images


def _to_mode(img, color_mode):
    """``img`` converted to Keras's mode for ``color_mode`` (grayscale keeps 16- and 32-bit images)."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode == "rgba":
        return img if img.mode == "RGBA" else img.convert("RGBA")
    if color_mode == "rgb":
        return img if img.mode == "RGB" else img.convert("RGB")
    raise ValueError(f'color_mode must be "grayscale", "rgb", or "rgba". Received: color_mode={color_mode!r}')


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image into a PIL image (``keras.utils.load_img``).

    Args:
        path: Path to the image file (str or ``pathlib.Path``) or an ``io.BytesIO``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``None`` (the file's size) or ``(height, width)``.
        interpolation: Pillow's resampling when resizing: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"hamming"``, ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: Crop the largest centred window of the target aspect ratio before resizing.

    Returns:
        A PIL Image instance.
    """
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:  # read at once, so the file is not left open behind the image
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    img = _to_mode(img, color_mode)
    if target_size is not None:
        wh = (int(target_size[1]), int(target_size[0]))
        if img.size != wh:
            if interpolation not in PIL_INTERPOLATION_METHODS:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                                 f"{', '.join(PIL_INTERPOLATION_METHODS)}")
            resample = PIL_INTERPOLATION_METHODS[interpolation]
            box = None
            if keep_aspect_ratio:
                width, height = img.size
                ch = min(height, (width * wh[1]) // wh[0])
                cw = min(width, (height * wh[0]) // wh[1])
                top, left = (height - ch) // 2, (width - cw) // 2
                box = (left, top, left + cw, top + ch)
            img = img.resize(wh, resample, box=box)
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or array-like) as a 3D NumPy array, ``(height, width, channels)`` or channels first."""
    data_format = standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1,) + x.shape if data_format == "channels_first" else x.shape + (1,))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3D array as a PIL image (``keras.utils.array_to_img``).

    Args:
        x: ``(height, width, channels)`` (or channels first) with 1, 3 or 4 channels.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` is channels last.
        scale: Rescale the values to 0-255 (min to 0, max to 255) first.
        dtype: The dtype the array is read as (default float32).
    """
    data_format = standardize_data_format(data_format)
    x = np.array(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x /= peak
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # a 16/32-bit gray image
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image array to a file (``keras.utils.save_img``); the format from ``path``'s extension
    unless ``file_format`` is given. ``kwargs`` go to ``PIL.Image.save`` (e.g. ``quality=95``)."""
    data_format = standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def decode_image_file(path, num_channels):
    """The pixels of an image file as a uint8 ``(height, width, num_channels)`` array.

    Decodes the whole file (a cut-short file raises here, not later); the first frame of an
    animation; 16-bit gray images are reduced to 8 bits (their high byte), as TensorFlow decodes them.
    """
    with Image.open(path) as img, warnings.catch_warnings():
        # Pillow warns that a palette image's transparency is lost in RGB; TensorFlow drops it too.
        warnings.filterwarnings("ignore", "Palette images with Transparency", UserWarning)
        img.load()
        if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
            gray = np.asarray(img).astype(np.int64)
            img = Image.fromarray(np.clip(gray >> 8, 0, 255).astype(np.uint8), "L")
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[num_channels]
        if img.mode != mode:
            img = img.convert(mode)
        x = np.asarray(img)
    return x[:, :, None] if x.ndim == 2 else x


def load_and_resize(path, image_size, num_channels, interpolation="bilinear", data_format="channels_last",
                    crop_to_aspect_ratio=False, pad_to_aspect_ratio=False):
    """One image of ``image_dataset_from_directory``: decoded, resized as Keras does with TensorFlow."""
    x = decode_image_file(path, num_channels)
    if crop_to_aspect_ratio:
        top, left, ch, cw = crop_box(x.shape[0], x.shape[1], image_size)
        x = resize(x[top:top + ch, left:left + cw], image_size, interpolation)
    elif pad_to_aspect_ratio:
        x = resize_with_pad(x, image_size, interpolation)
    else:
        x = resize(x, image_size, interpolation)
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    return np.ascontiguousarray(x)
