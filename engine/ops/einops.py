"""``rearrange``: einops-style axis reordering, splitting and merging (``keras.ops.rearrange``)."""
from __future__ import annotations

import math
import re

from engine.ops._dispatch import keras_op
from engine.ops.core import convert_to_tensor


def _parse(side):
    """``"b (h w) c"`` -> ``[["b"], ["h", "w"], ["c"]]``."""
    groups = []
    for match in re.finditer(r"\(([^)]*)\)|(\S+)", side):
        if match.group(1) is not None:
            groups.append(match.group(1).split())
        else:
            groups.append([match.group(2)])
    return groups


@keras_op
def rearrange(tensor, pattern, **axes_lengths):
    """Rearrange axes by an einops pattern, e.g. ``rearrange(x, "b (h w) c -> b h w c", h=4)``.

    Names on the left split grouped axes (sizes from the tensor or ``axes_lengths``); names on the
    right give the order, and parentheses there merge axes.
    """
    x = convert_to_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"Pattern must contain '->'. Received: pattern={pattern!r}")
    left, right = (_parse(s) for s in pattern.split("->"))
    if len(left) != x.ndim:
        raise ValueError(f"Pattern {pattern!r} has {len(left)} input axes but the tensor has {x.ndim}: "
                         f"shape {tuple(x.shape)}")
    sizes = {}
    for group, size in zip(left, x.shape):
        unknown = [n for n in group if n not in axes_lengths]
        known = math.prod(int(axes_lengths[n]) for n in group if n in axes_lengths)
        if len(unknown) > 1:
            raise ValueError(f"Cannot split axis of size {size} into {group}: give the sizes of all but one.")
        for n in group:
            sizes[n] = int(axes_lengths[n]) if n in axes_lengths else size // known
        if math.prod(sizes[n] for n in group) != size:
            raise ValueError(f"Axis of size {size} cannot be split into {group} with sizes {axes_lengths}.")
    elementary = [n for g in left for n in g]
    x = x.reshape([sizes[n] for n in elementary])
    order = [n for g in right for n in g]
    if sorted(order) != sorted(elementary):
        raise ValueError(f"Pattern {pattern!r}: the two sides must name the same axes.")
    x = x.permute([elementary.index(n) for n in order])
    return x.reshape([math.prod(sizes[n] for n in g) for g in right])


__all__ = ["rearrange"]
