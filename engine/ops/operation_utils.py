"""Arithmetic of convolution padding that the ops and the layers share (Keras keeps such helpers in its
``ops/operation_utils.py``, below the layers); ``engine.layers.convolution`` re-exports them."""
from __future__ import annotations


def same_padding(size, kernel, stride, dilation=1):
    """Keras's (start, end) padding of one axis for ``padding="same"``: the extra pixel goes at the end."""
    effective = (kernel - 1) * dilation + 1
    total = max((-(-size // stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def transpose_crops(kernel, stride, dilation, padding, output_padding):
    """How much of torch's full transposed-convolution output (length ``(n-1)*s + (k-1)*d + 1``) to cut
    from the start and the end to get Keras's output; negative means zeros to add instead."""
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        left, right = effective - 1, effective - 1 + extra
    else:
        if output_padding is None:
            total = stride + effective - 2
        else:
            total = effective + effective % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, effective - 1)
        right = total - left
    return effective - 1 - left, effective - 1 - right
