"""``pack_x_y_sample_weight``/``unpack_x_y_sample_weight``: the batch tuples custom train steps handle."""
from __future__ import annotations

from engine.layers.input_layer import InputLayer


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` as Keras packs them (a lone list or tuple ``x``
    stays one element)."""
    if y is None:
        return x if not isinstance(x, (list, tuple)) else (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch: a tuple or list of 1 to 3 items, or ``x`` alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found: {data}")


def get_source_inputs(tensor):
    """The ``Input`` tensors a symbolic tensor is computed from, in the order a walk back finds them
    (Keras's ``get_source_inputs``)."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        h = t.keras_history
        if h is None or id(t) in seen:
            continue
        seen.add(id(t))
        node = h.operation.inbound_nodes[h.node_index]
        if node.is_input or isinstance(h.operation, InputLayer):
            if all(t is not f for f in found):
                found.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return found
