"""``model.summary()``: Keras 3's table (layer (type), output shape, params, connected to) and totals.

``summary_rows`` gives the same facts as data, for the editor and the command line.
"""
from __future__ import annotations

import math
import shutil
import textwrap

from engine.layers.input_layer import InputLayer


def _file_class(model):
    """The class a file names the model by: "Sequential", "Functional" (their subclasses too) or None."""
    return getattr(type(model), "keras_class_name", None)


def _fmt_shape(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def readable_memory_size(nbytes):
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"]:
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


def _weights_size(weights):
    seen = {id(w): w for w in weights}.values()
    count = sum(math.prod(w.shape) for w in seen)
    size = sum(math.prod(w.shape) * w.element_size() for w in seen)
    return int(count), size


def _layer_output_shape(layer):
    nodes = layer.inbound_nodes
    if not nodes:
        return "?"
    node = nodes[-1]
    shapes = [t.shape for t in node.outputs]
    return _fmt_shape(shapes[0]) if len(shapes) == 1 else _fmt_shape(shapes)


def _is_sequential_like(model):
    if _file_class(model) == "Sequential":
        return True
    layers = model.layers
    for layer in layers:
        if len(layer.inbound_nodes) > 1:
            return False
        for node in layer.inbound_nodes:
            if len(node.input_tensors) > 1:
                return False
    non_input = [l for l in layers if not isinstance(l, InputLayer)]
    return False if len(non_input) != len(layers) else True


def summary_rows(model):
    """One dict per layer: name, class_name, output_shape (text), params, trainable, connected_to."""
    rows = []
    graph_nodes = None
    if _file_class(model) == "Functional":
        graph_nodes = set()
        for layer in model.layers:
            graph_nodes.update(id(n) for n in layer.inbound_nodes)
    for layer in model.layers:
        conns = []
        for node in layer.inbound_nodes:
            if graph_nodes is not None and id(node) not in graph_nodes:
                continue
            for t in node.input_tensors:
                h = t.keras_history
                conns.append(f"{h.operation.name}[{h.node_index}][{h.tensor_index}]")
        params = layer.count_params() if layer.built else 0
        rows.append({
            "name": layer.name,
            "class_name": type(layer).__name__,
            "output_shape": _layer_output_shape(layer),
            "params": params,
            "built": bool(layer.built),
            "trainable": bool(layer.trainable),
            "connected_to": conns,
            "is_input": isinstance(layer, InputLayer),
        })
    return rows


def totals(model):
    trainable = model.trainable_weights
    all_w = model.weights
    tr_ids = {id(w) for w in trainable}
    non_tr = [w for w in all_w if id(w) not in tr_ids]
    return {"total": _weights_size(all_w), "trainable": _weights_size(trainable), "non_trainable": _weights_size(non_tr)}


def render_table(header, rows, widths, align):
    def cell_lines(text, width, al):
        inner = width - 2
        lines = []
        for para in str(text).split("\n"):
            lines.extend(textwrap.wrap(para, inner, break_long_words=True, break_on_hyphens=False) or [""])
        if al == "right":
            return [" " + l.rjust(inner) + " " for l in lines]
        return [" " + l.ljust(inner) + " " for l in lines]

    def row_text(cells, bar):
        cols = [cell_lines(c, w, a) for c, w, a in zip(cells, widths, align)]
        height = max(len(c) for c in cols)
        out = []
        for i in range(height):
            parts = [c[i] if i < len(c) else " " * w for c, w in zip(cols, widths)]
            out.append(bar + bar.join(parts) + bar)
        return out

    out = ["┏" + "┳".join("━" * w for w in widths) + "┓"]
    out += row_text(header, "┃")
    out.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for i, r in enumerate(rows):
        if i:
            out.append("├" + "┼".join("─" * w for w in widths) + "┤")
        out += row_text(r, "│")
    out.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return out


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False):
    # An unbuilt model prints "?" shapes and "0 (unbuilt)" parameters, as Keras does.
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        default, positions = 88, positions or [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["left", "left", "right", "left"]
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("left")
    default = min(default, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default
    ncols = len(header)
    usable = line_length - (ncols + 1)
    widths, current = [], 0
    for pos in positions:
        w = int(pos * usable) - current
        widths.append(max(4, w))
        current += w

    rows = []
    for r in summary_rows(model):
        if sequential_like and r["is_input"]:
            continue
        params = f"{r['params']:,}" if r["built"] else "0 (unbuilt)"
        cells = [f"{r['name']} ({r['class_name']})", r["output_shape"], params]
        if not sequential_like:
            cells.append(",\n".join(r["connected_to"]) if r["connected_to"] else "-")
        if show_trainable:
            cells.append(("Y" if r["trainable"] else "N") if not r["is_input"] else "-")
        rows.append(cells)
    t = totals(model)
    lines = [f'Model: "{model.name}"'] + render_table(header, rows, widths, align)
    lines.append(f" Total params: {t['total'][0]:,} ({readable_memory_size(t['total'][1])})")
    lines.append(f" Trainable params: {t['trainable'][0]:,} ({readable_memory_size(t['trainable'][1])})")
    lines.append(f" Non-trainable params: {t['non_trainable'][0]:,} ({readable_memory_size(t['non_trainable'][1])})")
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "variables", None):
        try:
            n, size = _weights_size(opt.variables) if not isinstance(opt.variables[0], type(None)) else (0, 0)
            if n:
                lines.append(f" Optimizer params: {n:,} ({readable_memory_size(size)})")
        except Exception:  # the summary must never fail on optimizer internals
            pass
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:
        for l in lines:
            print_fn(l)
    return text
