"""Image ops (``keras.ops.image``) on channels_last image batches ``(batch, height, width, channels)``
or single images ``(height, width, channels)``."""
from __future__ import annotations

import functools
import itertools

import torch
import torch.nn.functional as F

from engine import backend
from engine.ops._dispatch import keras_op
from engine.ops.core import convert_to_tensor
from engine.ops.nn import conv
from engine.ops.seed_generator import torch_generator

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


@keras_op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """3-d patches of ``(batch, depth, height, width, channels)`` volumes flattened into the channel axis."""
    x = _t(volumes)
    single = x.ndim == 4
    if single:
        x = x[None]
    if isinstance(size, int):
        size = (size,) * 3
    if len(size) != 3:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 3. Received: size={size}")
    strides = size if strides is None else strides
    c = x.shape[-1]
    n = size[0] * size[1] * size[2] * c
    kernel = torch.eye(n, dtype=x.dtype, device=x.device).reshape(*size, c, n)
    y = conv.__wrapped_op__(x, kernel, strides=strides, padding=padding, data_format=data_format,
                            dilation_rate=dilation_rate)
    return y[0] if single else y


def _mirror(index, size):
    s = size - 1
    if s == 0:
        return torch.zeros_like(index)
    return torch.abs((index + s) % (2 * s) - s)


_FIXERS = {
    "constant": lambda i, n: torch.clamp(i, 0, n - 1),
    "nearest": lambda i, n: torch.clamp(i, 0, n - 1),
    "wrap": lambda i, n: torch.remainder(i, n),
    "mirror": _mirror,
    "reflect": lambda i, n: torch.div(_mirror(2 * i + 1, 2 * n + 1) - 1, 2, rounding_mode="floor"),
}


@keras_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Sample ``inputs`` at ``coordinates`` (one array per input axis) with nearest (``order=0``) or
    linear (``order=1``) interpolation; points outside follow ``fill_mode`` as in scipy/JAX."""
    x = _t(inputs)
    coords = [_t(c) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(f"First dim of `coordinates` must be the same as the rank of `inputs`. Received inputs "
                         f"with shape: {tuple(x.shape)} and coordinate leading dim of {len(coords)}")
    if fill_mode not in _FIXERS:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected one of {set(_FIXERS)}. Received: "
                         f"fill_mode={fill_mode}")
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1")
    per_axis = []
    for c, n in zip(coords, x.shape):
        if order == 0:
            idx = (torch.round(c) if c.is_floating_point() else c).long()
            nodes = [(idx, None)]
        else:
            lo = torch.floor(c)
            w_hi = c - lo
            nodes = [(lo.long(), 1 - w_hi), (lo.long() + 1, w_hi)]
        per_axis.append([(_FIXERS[fill_mode](i, n), (i >= 0) & (i < n), w) for i, w in nodes])
    fill = torch.tensor(fill_value, dtype=x.dtype, device=x.device)
    result = None
    for combo in itertools.product(*per_axis):
        idx = tuple(i for i, _, _ in combo)
        vals = x[idx]
        if fill_mode == "constant":
            valid = functools.reduce(torch.logical_and, [v for _, v, _ in combo])
            vals = torch.where(valid, vals, fill)
        weights = [w for _, _, w in combo if w is not None]
        term = functools.reduce(torch.mul, weights) * vals if weights else vals
        result = term if result is None else result + term
    if not x.is_floating_point() and result.is_floating_point():
        result = torch.round(result)
    return result.to(x.dtype)


@keras_op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """Apply projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (output point (x, y) samples
    the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``)."""
    backend.standardize_data_format(data_format)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of {{'nearest', 'bilinear'}}. "
                         f"Received: interpolation={interpolation}")
    x, t = _t(images), _t(transform)
    _check_rank(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    if t.ndim == 1:
        t = t[None]
    b, h, w, c = x.shape
    bs, ys, xs, cs = torch.meshgrid(*(torch.arange(n, dtype=t.dtype, device=x.device) for n in (b, h, w, c)),
                                    indexing="ij")
    t = torch.broadcast_to(t, (b, 8)).reshape(b, 8, 1, 1, 1)
    a0, a1, a2, b0, b1, b2, c0, c1 = t.unbind(1)
    k = c0 * xs + c1 * ys + 1
    # One sampling of the whole batch: the batch and channel coordinates are whole numbers.
    coords = [bs, (b0 * xs + b1 * ys + b2) / k, (a0 * xs + a1 * ys + a2) / k, cs]
    y = map_coordinates.__wrapped_op__(x, coords, 1 if interpolation == "bilinear" else 0, fill_mode, fill_value)
    return y[0] if single else y


@keras_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur each channel with a Gaussian kernel (zero padding)."""
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(int(k) for k in kernel_size)
    sg = (sigma, sigma) if isinstance(sigma, (int, float)) else tuple(float(s) for s in sigma)

    def g1(n, s):
        r = torch.arange(n, dtype=x.dtype, device=x.device) - (n - 1) / 2
        k = torch.exp(-0.5 * (r / s) ** 2)
        return k / k.sum()

    # The same layout as Keras's torch backend (outer(y, x) laid out as (k0, k1)).
    kernel = torch.outer(g1(ks[1], sg[1]), g1(ks[0], sg[0])).reshape(1, 1, ks[0], ks[1])
    c = x.shape[-1]
    y = F.conv2d(x.permute(0, 3, 1, 2), kernel.expand(c, 1, ks[0], ks[1]), padding=ks[0] // 2, groups=c)
    y = y.permute(0, 2, 3, 1)
    return y[0] if single else y


@keras_op
def sobel_edges(images, data_format=None):
    """Sobel gradients: ``(batch, height, width, channels, 2)`` with (dy, dx) in the last axis."""
    backend.standardize_data_format(data_format)
    x = _t(images)
    c = x.shape[-1]
    sx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    kx = sx.reshape(1, 1, 3, 3).repeat(c, 1, 1, 1)
    ky = sx.T.reshape(1, 1, 3, 3).repeat(c, 1, 1, 1)
    nchw = x.permute(0, 3, 1, 2)
    edges = torch.stack([F.conv2d(nchw, ky, padding=1, groups=c), F.conv2d(nchw, kx, padding=1, groups=c)], -1)
    return edges.permute(0, 2, 3, 1, 4)


@keras_op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """Structural similarity of two images (or batches): Gaussian-weighted, 'valid' windows, averaged
    over space and channels."""
    backend.standardize_data_format(data_format)
    a, b = _t(image1), _t(image2)
    for name, img in (("image1", a), ("image2", b)):
        if img.ndim not in (3, 4):
            raise ValueError(f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of images). "
                             f"Received input with shape: {name}.shape={tuple(img.shape)}")
    out_dtype = a.dtype
    compute = a.dtype if a.is_floating_point() else backend.torch_dtype(backend.floatx())
    a, b = a.to(compute), b.to(compute)
    single = a.ndim == 3
    if single:
        a, b = a[None], b[None]
    n, h, w, c = a.shape
    r = torch.arange(filter_size, dtype=compute, device=a.device) - (filter_size - 1) / 2.0
    g = torch.exp(-(r ** 2) / (2.0 * filter_sigma ** 2))
    g = g / g.sum()
    kernel = torch.outer(g, g).reshape(1, 1, filter_size, filter_size)

    def blur(x):  # (N*C, 1, H, W) -> valid Gaussian-weighted means
        return F.conv2d(x, kernel)

    x1 = a.permute(0, 3, 1, 2).reshape(n * c, 1, h, w)
    x2 = b.permute(0, 3, 1, 2).reshape(n * c, 1, h, w)
    mu1, mu2 = blur(x1), blur(x2)
    s11 = blur(x1 * x1) - mu1 * mu1
    s22 = blur(x2 * x2) - mu2 * mu2
    s12 = blur(x1 * x2) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    smap = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2))
    result = smap.mean(dim=(1, 2, 3)).reshape(n, c).mean(-1)
    return (result[0] if single else result).to(out_dtype)


def _homography(start, end):
    """The 8 coefficients mapping each ``end`` point to its ``start`` point (batched ``(B, 4, 2)``)."""
    dt = torch.promote_types(start.dtype, torch.float32)
    start, end = start.to(dt), end.to(dt)
    ex, ey, sx, sy = end[..., 0], end[..., 1], start[..., 0], start[..., 1]
    zero, one = torch.zeros_like(ex), torch.ones_like(ex)
    rows_x = torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1)  # (B, 4, 8)
    rows_y = torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1)
    a = torch.stack([rows_x, rows_y], 2).reshape(start.shape[0], 8, 8)
    b = torch.stack([sx, sy], 2).reshape(start.shape[0], 8)
    return torch.linalg.solve(a, b)


@keras_op
def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                          data_format=None):
    """Warp images so that the four ``start_points`` (x, y) land on ``end_points``."""
    backend.standardize_data_format(data_format)
    x = _t(images)
    _check_rank(x)
    sp, ep = _t(start_points, str(x.dtype).replace("torch.", "")), _t(end_points, str(x.dtype).replace("torch.", ""))
    if tuple(sp.shape[-2:]) != (4, 2) or tuple(sp.shape) != tuple(ep.shape):
        raise ValueError(f"start_points and end_points must both have shape (4, 2) or (batch, 4, 2). Received: "
                         f"start_points.shape={tuple(sp.shape)}, end_points.shape={tuple(ep.shape)}")
    if sp.ndim == 2:
        sp, ep = sp[None], ep[None]
    h = _homography(sp, ep).to(x.dtype)
    return affine_transform.__wrapped_op__(x, h, interpolation=interpolation, fill_mode="constant",
                                           fill_value=fill_value, data_format=data_format)


def _triangle(x):
    return torch.clamp(1 - torch.abs(x), min=0)


def _keys_cubic(x):
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x >= 2.0, torch.zeros_like(x), torch.where(x >= 1.0, far, near))


def _lanczos(radius):
    def kernel(x):
        y = radius * torch.sin(torch.pi * x) * torch.sin(torch.pi * x / radius)
        safe = torch.where(x != 0, torch.pi ** 2 * x ** 2, torch.ones_like(x))
        out = torch.where(x > 1e-3, y / safe, torch.ones_like(x))
        return torch.where(x > radius, torch.zeros_like(x), out)

    return kernel


_SCALE_METHODS = {"linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "triangle": _triangle,
                  "cubic": _keys_cubic, "bicubic": _keys_cubic, "tricubic": _keys_cubic,
                  "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}


def _resample_weights(in_size, out_size, scale, translation, kernel, antialias):
    """(in_size, out_size) weights: output sample j reads input i with weight w[i, j] (jax.image's rule)."""
    inv = 1.0 / scale
    kscale = torch.clamp(inv, min=1.0) if antialias else torch.ones_like(inv)
    centers = (torch.arange(out_size, dtype=scale.dtype, device=scale.device) + 0.5) * inv - translation * inv - 0.5
    dist = torch.abs(centers[None, :] - torch.arange(in_size, dtype=scale.dtype, device=scale.device)[:, None])
    w = kernel(dist / kscale)
    total = w.sum(0, keepdim=True)
    w = torch.where(torch.abs(total) > 1000.0 * float(torch.finfo(torch.float32).eps),
                    w / torch.where(total != 0, total, torch.ones_like(total)), torch.zeros_like(w))
    inside = (centers >= -0.5) & (centers <= in_size - 0.5)
    return torch.where(inside[None, :], w, torch.zeros_like(w))


@keras_op
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """Resample ``images`` to ``output_shape`` along ``spatial_dims``: output = input scaled by ``scale``
    then shifted by ``translation`` (``jax.image.scale_and_translate``)."""
    if method not in _SCALE_METHODS:
        raise ValueError(f"Invalid value for argument `method`. Expected one of {sorted(_SCALE_METHODS)}. "
                         f"Received: method={method}")
    x = _t(images)
    scale, translation = _t(scale), _t(translation)
    dt = torch.promote_types(scale.dtype, translation.dtype)
    if not dt.is_floating_point:
        dt = backend.torch_dtype(backend.floatx())
    scale, translation = scale.to(dt).reshape(-1), translation.to(dt).reshape(-1)
    is_int = not x.is_floating_point()
    out = x.float() if is_int else x.clone()
    for i, d in enumerate(spatial_dims):
        d = d % x.ndim
        w = _resample_weights(x.shape[d], int(output_shape[d]), scale[i], translation[i], _SCALE_METHODS[method],
                              antialias).to(out.dtype)
        out = torch.moveaxis(torch.tensordot(out, w, dims=([d], [0])), -1, d)
    if is_int:
        out = torch.clamp(torch.round(out), x.min(), x.max()).to(x.dtype)
    return out


@keras_op
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                      seed=None, data_format=None):
    """Random elastic distortion: each pixel samples the input at a displacement drawn from a normal
    distribution, smoothed by a Gaussian of ``sigma`` and scaled by ``alpha``. ``seed`` as in
    ``engine.random`` (an int repeats the same distortion)."""
    backend.standardize_data_format(data_format)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of {{'nearest', 'bilinear'}}. "
                         f"Received: interpolation={interpolation}")
    x = _t(images)
    _check_rank(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    b, h, w, c = x.shape
    dt = x.dtype if x.is_floating_point() else backend.torch_dtype(backend.floatx())
    sigma, alpha = float(sigma), float(alpha)
    ks = int(6 * sigma) | 1
    if x.device.type == "meta":
        noise = torch.zeros((2, b, h, w, 1), dtype=dt, device=x.device)
    else:
        gen, dev = torch_generator(seed)
        noise = torch.normal(0.0, 1.0, (2, b, h, w, 1), generator=gen, dtype=dt, device=dev).to(x.device) * sigma
    dy, dx = (gaussian_blur.__wrapped_op__(n, kernel_size=(ks, ks), sigma=(sigma, sigma))[..., 0] for n in noise)
    bs, ys, xs, cs = torch.meshgrid(*(torch.arange(n, dtype=dt, device=x.device) for n in (b, h, w, c)),
                                    indexing="ij")
    order = 1 if interpolation == "bilinear" else 0
    # One sampling of the whole batch: the batch and channel coordinates are whole numbers.
    out = map_coordinates.__wrapped_op__(x, [bs, ys + alpha * dy[..., None], xs + alpha * dx[..., None], cs], order,
                                         fill_mode, fill_value)
    return out[0] if single else out


__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d", "gaussian_blur",
           "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform", "resize", "rgb_to_grayscale",
           "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim"]
